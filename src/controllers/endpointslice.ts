/**
 * The EndpointSlice controller (Kubernetes' `pkg/controller/endpointslice`): keeps each
 * Service's EndpointSlices (`endpointslice.kubernetes.io/managed-by:
 * endpointslice-controller.k8s.io`) equal to what {@link planServiceSlices} wants from the pods
 * its selector picks. Handlers only enqueue Service keys: a Service's own changes, pods whose
 * labels match it (before or after the change), and its slices. A worker re-reads the caches,
 * plans, and writes; {@link SliceTracker} keeps it from planning on a cache that has not seen its
 * own writes yet. Pods whose named target port no container declares are reported once per
 * change as a Warning event on the Service (`FailedToResolvePort`).
 */
import type { EndpointSlice, KubeObject } from '../api/types.js';
import { ENDPOINTSLICES, PODS, SERVICES } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import { Controller, type ControllerContext } from './base.js';
import { planServiceSlices, SLICE_CONTROLLER } from './endpointsliceplan.js';
import { hasSelector, unresolvedPorts } from './endpointsplan.js';
import { enqueueServicesOfPods, podsSelectedBy, type PodObject, type ServiceObject } from './servicepods.js';
import { applySlicePlan, enqueueSliceOwners, isConflict, managedSlices, SliceTracker } from './slicetracker.js';

type SliceObject = EndpointSlice & KubeObject;

export class EndpointSliceController extends Controller {
  private readonly services: Informer<ServiceObject>;
  private readonly pods: Informer<PodObject>;
  private readonly slices: Informer<SliceObject>;
  private readonly tracker: SliceTracker;
  /** The last Warning message about unresolved ports, by Service key (to report changes only). */
  private readonly warned = new Map<string, string>();

  constructor(ctx: ControllerContext) {
    super('endpointslice-controller', ctx, { workers: 5, quiet: isConflict });
    this.tracker = new SliceTracker(this.clock);
    this.services = this.informer<ServiceObject>(SERVICES);
    this.pods = this.informer<PodObject>(PODS);
    this.slices = this.informer<SliceObject>(ENDPOINTSLICES);
    enqueueServicesOfPods(this.services, this.pods, (o) => this.enqueue(o));
    enqueueSliceOwners(this.slices, SLICE_CONTROLLER, (key) => this.enqueue(key));
  }

  protected async sync(key: string): Promise<void> {
    const svc = this.services.get(key);
    const existing = managedSlices(this.slices.list(), key, SLICE_CONTROLLER);
    if (this.tracker.stale(key, existing)) {
      // Our last writes are not in the cache yet; their watch events will enqueue the key again.
      this.queue.addAfter(key, 1000);
      return;
    }
    const pods = svc ? podsSelectedBy(this.pods.list(), svc) : [];
    const plan = planServiceSlices(svc, pods, existing);
    await applySlicePlan(this.client, this.tracker, key, plan);
    if (!svc) {
      this.warned.delete(key);
      this.tracker.forget(key);
      return;
    }
    this.reportUnresolved(key, svc, pods);
  }

  /** A Warning on the Service when some selected pods declare none of its named target ports. */
  private reportUnresolved(key: string, svc: ServiceObject, pods: readonly PodObject[]): void {
    const missing = hasSelector(svc) ? unresolvedPorts(svc, pods) : [];
    const message = missing.map((u) => {
      const port = `${u.port.name ? `"${u.port.name}" ` : ''}(${u.port.port}/${u.port.protocol ?? 'TCP'})`;
      return `targetPort ${JSON.stringify(u.port.targetPort)} of service port ${port} matches no container port of pod${u.pods.length > 1 ? 's' : ''} ${u.pods.join(', ')}`;
    }).join('; ');
    if (message === (this.warned.get(key) ?? '')) return;
    this.warned.set(key, message);
    if (message) void this.recorder.event({ kind: 'Service', apiVersion: 'v1', metadata: svc.metadata }, 'Warning', 'FailedToResolvePort', message);
  }
}
