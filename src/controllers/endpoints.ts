/**
 * The endpoints controller (Kubernetes' `pkg/controller/endpoint`): keeps the core/v1 Endpoints
 * of each Service with a selector equal to {@link planEndpoints} — ready pods in `addresses`,
 * the others in `notReadyAddresses` — and deletes them with their Service. Endpoints of
 * selector-less Services are the user's and are never touched. Handlers only enqueue Service
 * keys (the Service, pods it selects, its Endpoints); a stale cache makes the conditional write
 * fail with 409 and the key is retried with back-off.
 */
import { ApiError } from '../api/errors.js';
import type { Endpoints, KubeObject } from '../api/types.js';
import { ENDPOINTS, PODS, SERVICES } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import { Controller, type ControllerContext } from './base.js';
import { isConflict } from './slicetracker.js';
import { enqueueServicesOfPods, podsSelectedBy, type PodObject, type ServiceObject } from './servicepods.js';
import { planEndpoints } from './endpointsplan.js';
import { splitKey } from './podutil.js';

type EndpointsObject = Endpoints & KubeObject;

export class EndpointsController extends Controller {
  private readonly services: Informer<ServiceObject>;
  private readonly pods: Informer<PodObject>;
  private readonly endpoints: Informer<EndpointsObject>;

  constructor(ctx: ControllerContext) {
    super('endpoint-controller', ctx, { workers: 5, quiet: isConflict });
    this.services = this.informer<ServiceObject>(SERVICES);
    this.pods = this.informer<PodObject>(PODS);
    this.endpoints = this.informer<EndpointsObject>(ENDPOINTS);
    enqueueServicesOfPods(this.services, this.pods, (o) => this.enqueue(o));
    // Endpoints changed or deleted by someone else are put back (only for Services it manages).
    const endpointsChanged = (e: EndpointsObject): void => {
      if (this.services.get(`${e.metadata?.namespace ?? ''}/${e.metadata?.name ?? ''}`)) this.enqueue(e);
    };
    this.endpoints.addHandlers({ onUpdate: (_old, e) => endpointsChanged(e), onDelete: endpointsChanged });
  }

  protected async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.services.get(key);
    const current = this.endpoints.get(key);
    const plan = planEndpoints(svc, svc ? podsSelectedBy(this.pods.list(), svc) : [], current);
    const ref = { ...ENDPOINTS, namespace };
    switch (plan.action) {
      case 'none':
        return;
      case 'delete':
        try {
          await this.client.delete(ref, name);
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) throw e;
        }
        return;
      case 'create':
        await this.client.create(ref, plan.endpoints);
        return;
      case 'update':
        await this.client.update(ref, plan.endpoints);
    }
  }
}
