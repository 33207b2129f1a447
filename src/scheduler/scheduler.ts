/**
 * The scheduler component: watches pods and nodes, and binds each pending pod it is responsible
 * for to a node, one pod at a time (as kube-scheduler's scheduling cycle is sequential).
 *
 * Flow: informer handlers only enqueue pod keys; the single worker re-reads the pod from the
 * cache, builds a snapshot (cache + pods it has bound but not yet seen bound), runs the pure
 * `schedulePod`, then either binds (POST `pods/<name>/binding`) and records `Scheduled`, or marks
 * the pod `PodScheduled=False/Unschedulable`, records `FailedScheduling` and retries after a
 * back-off or as soon as something that could make room changes (a node appears or changes,
 * an assigned pod goes away or finishes).
 */
import { ApiError } from '../api/errors.js';
import type { KubeObject, Node, Pod, PodCondition } from '../api/types.js';
import { NODES, PODS, type ApiClient } from '../client/client.js';
import { EventRecorder, kubeTime } from '../client/events.js';
import { Informer, objectKey } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import { buildSnapshot, isTerminal, type Plugins } from './framework.js';
import { defaultPlugins } from './plugins.js';
import { schedulePod } from './schedule.js';

type PodObject = Pod & KubeObject;
type NodeObject = Node & KubeObject;

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

export interface SchedulerOptions {
  client: ApiClient;
  /** Pods whose `spec.schedulerName` is this (or unset, for the default name) are ours. */
  schedulerName?: string;
  clock?: () => Date;
  /** Where progress and errors go (default: `console.error`). */
  log?: (msg: string) => void;
  plugins?: Plugins;
  /** Events recorder (default: one for component `schedulerName`). */
  recorder?: EventRecorder;
  /** Retry delay of an unschedulable pod: `initialMs` doubling up to `maxMs` (default 1 s → 10 s). */
  backoff?: { initialMs: number; maxMs: number };
  /**
   * How long a bound pod counts as placed without the cache confirming it (default 30 s);
   * after that the cache is believed again.
   */
  assumeTtlMs?: number;
}

/** A pod bound by this scheduler whose binding the cache has not shown yet. */
interface Assumed {
  uid: string;
  node: string;
  /** `clock()` time (ms) of the binding. */
  at: number;
}

export class Scheduler {
  readonly schedulerName: string;
  private readonly client: ApiClient;
  private readonly clock: () => Date;
  private readonly log: (msg: string) => void;
  private readonly plugins: Plugins;
  private readonly recorder: EventRecorder;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly assumeTtlMs: number;
  private readonly queue = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 10_000 });
  private readonly pods: Informer<PodObject>;
  private readonly nodes: Informer<NodeObject>;
  /** Pods bound but not yet seen bound in the cache, by `namespace/name`. */
  private readonly assumed = new Map<string, Assumed>();
  /** Pods that found no node, by key, with the number of attempts so far (for back-off). */
  private readonly unschedulable = new Map<string, number>();
  private running?: Promise<void>;

  constructor(opts: SchedulerOptions) {
    this.client = opts.client;
    this.schedulerName = opts.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    this.clock = opts.clock ?? (() => new Date());
    this.log = opts.log ?? ((m) => console.error(m));
    this.plugins = opts.plugins ?? defaultPlugins();
    this.recorder = opts.recorder ?? new EventRecorder(this.client, this.schedulerName, undefined, { clock: this.clock, log: this.log });
    this.backoff = opts.backoff ?? { initialMs: 1000, maxMs: 10_000 };
    this.assumeTtlMs = opts.assumeTtlMs ?? 30_000;
    const onError = (e: unknown) => this.log(`scheduler: watch error (retrying): ${(e as Error).message}`);
    this.pods = new Informer<PodObject>(this.client, PODS, { onError });
    this.nodes = new Informer<NodeObject>(this.client, NODES, { onError });
  }

  /**
   * Starts the informers and the worker; resolves once both caches are filled and the worker
   * runs. Call once.
   */
  async start(): Promise<void> {
    this.pods.addHandlers({
      onAdd: (p) => this.enqueueIfPending(p),
      onUpdate: (old, p) => {
        this.enqueueIfPending(p);
        if (p.spec?.nodeName && !isTerminal(old) && isTerminal(p)) this.retryUnschedulable();
      },
      onDelete: (p) => {
        const key = objectKey(p);
        if (p.spec?.nodeName || this.assumed.has(key)) this.retryUnschedulable();
        if (this.unschedulable.has(key) || this.assumed.has(key)) this.queue.add(key); // the worker forgets it
      },
    });
    this.nodes.addHandlers({
      onAdd: () => this.retryUnschedulable(),
      onUpdate: (old, n) => {
        if (nodeSchedulingChanged(old, n)) this.retryUnschedulable();
      },
    });
    await Promise.all([this.nodes.start(), this.pods.start()]);
    this.running = this.queue.run(1, (key) => this.sync(key), (key, e) => this.log(`scheduler: ${key}: ${(e as Error).message} (will retry)`));
  }

  /** Stops watching and waits for the pod being scheduled, if any, to finish. */
  async stop(): Promise<void> {
    this.pods.stop();
    this.nodes.stop();
    this.queue.shutdown();
    await this.running;
  }

  /** Whether this scheduler should place the pod now. */
  isPending(pod: Pod): boolean {
    return !pod.spec?.nodeName && !pod.metadata?.deletionTimestamp && !isTerminal(pod)
      && (pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME) === this.schedulerName;
  }

  private enqueueIfPending(pod: Pod): void {
    if (this.isPending(pod)) this.queue.add(objectKey(pod));
  }

  private retryUnschedulable(): void {
    for (const key of this.unschedulable.keys()) this.queue.add(key);
  }

  /** Schedules one pod by key. Idempotent; throws only for errors worth a rate-limited retry. */
  private async sync(key: string): Promise<void> {
    this.expireAssumed();
    const pod = this.pods.get(key);
    if (!pod || !this.isPending(pod)) {
      this.unschedulable.delete(key);
      return;
    }
    if (this.assumed.get(key)?.uid === pod.metadata?.uid) return; // bound; waiting for the cache to say so

    const assumedNodes = new Map([...this.assumed].map(([k, a]) => [k, a.node]));
    const snapshot = buildSnapshot(this.nodes.list(), this.pods.list(), assumedNodes);
    const result = schedulePod(pod, snapshot, this.plugins);
    if ('node' in result) await this.bind(key, pod, result.node);
    else await this.failed(key, pod, result.message);
  }

  private async bind(key: string, pod: PodObject, node: string): Promise<void> {
    const { name = '', namespace = 'default', uid = '' } = pod.metadata ?? {};
    this.assumed.set(key, { uid, node, at: this.clock().getTime() });
    try {
      await this.client.createSubresource({ ...PODS, namespace }, name, 'binding', {
        apiVersion: 'v1', kind: 'Binding',
        metadata: { name, namespace, uid },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      });
    } catch (e) {
      this.assumed.delete(key);
      // 409: someone else bound it first; 404: it is gone. Either way there is nothing to do.
      if (e instanceof ApiError && (e.code === 409 || e.code === 404)) return;
      throw e;
    }
    this.unschedulable.delete(key);
    this.log(`scheduler: bound ${namespace}/${name} to ${node}`);
    await this.recorder.event(podRef(pod), 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${node}`);
  }

  private async failed(key: string, pod: PodObject, message: string): Promise<void> {
    const attempts = (this.unschedulable.get(key) ?? 0) + 1;
    this.unschedulable.set(key, attempts);
    const { name = '', namespace = 'default' } = pod.metadata ?? {};
    this.log(`scheduler: ${namespace}/${name}: ${message}`);
    const conditions = withScheduledFalse(pod.status?.conditions ?? [], message, kubeTime(this.clock()));
    if (conditions) {
      try {
        await this.client.patch({ ...PODS, namespace }, name, { status: { conditions } }, 'status');
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
        return; // deleted meanwhile
      }
    }
    await this.recorder.event(podRef(pod), 'Warning', 'FailedScheduling', message);
    const delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** (attempts - 1));
    this.queue.addAfter(key, delay);
  }

  /** Drops assumptions the cache has caught up with (or that are too old to trust). */
  private expireAssumed(): void {
    const now = this.clock().getTime();
    for (const [key, a] of this.assumed) {
      const cached = this.pods.get(key);
      const confirmed = !cached || cached.metadata?.uid !== a.uid || !!cached.spec?.nodeName;
      if (confirmed || now - a.at > this.assumeTtlMs) this.assumed.delete(key);
    }
  }
}

function podRef(pod: Pod): { kind: string; apiVersion: string; metadata: Pod['metadata'] } {
  return { kind: 'Pod', apiVersion: 'v1', metadata: pod.metadata };
}

/**
 * The pod's conditions with `PodScheduled=False/Unschedulable/<message>` set, keeping the
 * others; `undefined` when that condition is already there with the same message.
 * `lastTransitionTime` only moves when the status changes.
 */
export function withScheduledFalse(conditions: readonly PodCondition[], message: string, now: string): PodCondition[] | undefined {
  const old = conditions.find((c) => c.type === 'PodScheduled');
  if (old && old.status === 'False' && old.reason === 'Unschedulable' && old.message === message) return undefined;
  const cond: PodCondition = {
    type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message,
    lastTransitionTime: old?.status === 'False' && old.lastTransitionTime ? old.lastTransitionTime : now,
  };
  return old ? conditions.map((c) => (c === old ? cond : c)) : [...conditions, cond];
}

/**
 * Whether a node update can change scheduling decisions (labels, taints, cordon, allocatable,
 * readiness), as opposed to a heartbeat.
 */
export function nodeSchedulingChanged(old: Node, cur: Node): boolean {
  const ready = (n: Node) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  return JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(cur.metadata?.labels ?? {})
    || JSON.stringify(old.spec?.taints ?? []) !== JSON.stringify(cur.spec?.taints ?? [])
    || !!old.spec?.unschedulable !== !!cur.spec?.unschedulable
    || JSON.stringify(old.status?.allocatable ?? {}) !== JSON.stringify(cur.status?.allocatable ?? {})
    || ready(old) !== ready(cur);
}
