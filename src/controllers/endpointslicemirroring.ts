/**
 * The EndpointSlice mirroring controller (Kubernetes' `pkg/controller/endpointslicemirroring`):
 * for a selector-less Service whose Endpoints a user (or another component) writes, keeps
 * EndpointSlices managed by `endpointslicemirroring-controller.k8s.io` equal to those Endpoints
 * ({@link planMirroredSlices}), so that slice readers (the service proxy, DNS) see them too.
 * Endpoints labelled `endpointslice.kubernetes.io/skip-mirror: "true"` are left alone. Keys are
 * `namespace/name` of the Endpoints (= of the Service).
 */
import type { EndpointSlice, Endpoints, KubeObject, Service } from '../api/types.js';
import { ENDPOINTS, ENDPOINTSLICES, SERVICES } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import { Controller, type ControllerContext } from './base.js';
import { MIRRORING_CONTROLLER, planMirroredSlices } from './endpointsliceplan.js';
import { applySlicePlan, enqueueSliceOwners, isConflict, managedSlices, SliceTracker } from './slicetracker.js';

type ServiceObject = Service & KubeObject;
type EndpointsObject = Endpoints & KubeObject;
type SliceObject = EndpointSlice & KubeObject;

export class EndpointSliceMirroringController extends Controller {
  private readonly services: Informer<ServiceObject>;
  private readonly endpoints: Informer<EndpointsObject>;
  private readonly slices: Informer<SliceObject>;
  private readonly tracker: SliceTracker;

  constructor(ctx: ControllerContext) {
    super('endpointslice-mirroring-controller', ctx, { workers: 5, quiet: isConflict });
    this.tracker = new SliceTracker(this.clock);
    this.services = this.informer<ServiceObject>(SERVICES);
    this.endpoints = this.informer<EndpointsObject>(ENDPOINTS);
    this.slices = this.informer<SliceObject>(ENDPOINTSLICES);
    for (const inf of [this.services, this.endpoints] as Informer<KubeObject>[]) {
      inf.addHandlers({ onAdd: (o) => this.enqueue(o), onUpdate: (_old, o) => this.enqueue(o), onDelete: (o) => this.enqueue(o) });
    }
    enqueueSliceOwners(this.slices, MIRRORING_CONTROLLER, (key) => this.enqueue(key));
  }

  protected async sync(key: string): Promise<void> {
    const existing = managedSlices(this.slices.list(), key, MIRRORING_CONTROLLER);
    if (this.tracker.stale(key, existing)) {
      this.queue.addAfter(key, 1000);
      return;
    }
    const ep = this.endpoints.get(key);
    const plan = planMirroredSlices(ep, this.services.get(key), existing);
    await applySlicePlan(this.client, this.tracker, key, plan);
    if (!ep) this.tracker.forget(key);
  }
}
