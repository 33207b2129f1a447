/**
 * The scheduler component: watches pods and nodes, and binds each pending pod it is responsible
 * for to a node, one pod at a time (as kube-scheduler's scheduling cycle is sequential), while
 * the bindings of earlier pods are still being written (its binding cycles run in parallel).
 *
 * Flow: informer handlers enqueue pod keys and keep the `SchedulerCache` (per-node totals)
 * current; the single worker re-reads the pod, runs the pure `scheduleCycle` on the cache's node
 * infos, then either assumes the pod on the chosen node and starts the binding (POST
 * `pods/<name>/binding`, at most `maxBindsInFlight` at once, not awaited by the cycle; a failure
 * forgets the assumption and requeues the pod) and records `Scheduled` (best effort, never
 * awaited), or parks the pod in the `SchedulingQueue`: it is retried only when something that
 * could make room changes (a node appears or changes, an assigned pod goes away or finishes),
 * after its per-pod back-off, or after 5 minutes parked. `PodScheduled=False/Unschedulable`,
 * the `FailedScheduling` event and the log line are written only when the reason changes, so
 * thousands of pods that do not fit cost no writes and no log lines while nothing changes.
 */
import { ApiError } from '../api/errors.js';
import type { KubeObject, Node, Pod, PodCondition } from '../api/types.js';
import { NODES, PODS, PVCS, PVS, STORAGE_CLASSES, type ApiClient } from '../client/client.js';
import { EventRecorder, kubeTime } from '../client/events.js';
import { Informer, objectKey } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import { SchedulerCache } from './cache.js';
import { isTerminal, type Plugins } from './framework.js';
import { Limiter } from './limiter.js';
import { SchedulingQueue } from './queue.js';
import { defaultPlugins } from './plugins.js';
import { NO_TRACE, type Tracer } from '../trace/recorder.js';
import { traceDecision, traceSeen } from '../trace/scheduler.js';
import { scheduleCycle, type ScheduleResult } from './schedule.js';
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { checkPodClaims, claimBound, preFilterMessage, SELECTED_NODE_ANNOTATION, volumeNodeAffinityFilter } from './volumebinding.js';

type ClaimObject = PersistentVolumeClaim & KubeObject;
type ClassObject = StorageClass & KubeObject;
type VolumeObject = PersistentVolume & KubeObject;

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
  /** Where decisions are traced (default: nowhere; see src/trace). */
  tracer?: Tracer;
  /** Retry delay of an unschedulable pod: `initialMs` doubling up to `maxMs` (default 1 s → 10 s). */
  backoff?: { initialMs: number; maxMs: number };
  /**
   * How long a bound pod counts as placed without the informer confirming it (default 30 s,
   * from the end of its binding); after that the informer is believed again.
   */
  assumeTtlMs?: number;
  /** Bindings written at once while scheduling goes on (default 16). */
  maxBindsInFlight?: number;
  /** `Scheduled`/`FailedScheduling` events written at once; more wait their turn (default 8). */
  maxEventsInFlight?: number;
  /** kube-scheduler's `percentageOfNodesToScore` (default 0: adaptive, see `numFeasibleNodesToFind`). */
  percentageOfNodesToScore?: number;
  /** How long a binding waits for the pod's delayed-binding claims to be bound (default 600 s). */
  volumeBindTimeoutMs?: number;
  /** How often back-offs that ended and long-parked pods are moved back (default 1 s). */
  flushIntervalMs?: number;
  /** A parked pod is retried after this long without an event (default 5 min, as kube-scheduler). */
  maxUnschedulableMs?: number;
}

/** At most one "N pods unschedulable" summary line per this interval. */
const SUMMARY_INTERVAL_MS = 60_000;

export class Scheduler {
  readonly schedulerName: string;
  private readonly client: ApiClient;
  private readonly clock: () => Date;
  private readonly log: (msg: string) => void;
  private readonly plugins: Plugins;
  private readonly recorder: EventRecorder;
  private readonly tracer: Tracer;
  private readonly percentageOfNodesToScore: number;
  private readonly queue = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 10_000 });
  private readonly pods: Informer<PodObject>;
  private readonly nodes: Informer<NodeObject>;
  private readonly claims: Informer<ClaimObject>;
  private readonly classes: Informer<ClassObject>;
  private readonly volumes: Informer<VolumeObject>;
  /** Bindings waiting for claims to be bound, by claim key. */
  private readonly claimWaiters = new Map<string, Set<() => void>>();
  private readonly volumeBindTimeoutMs: number;
  /** Per-node totals, including pods assumed on the node chosen for them. */
  private readonly cache: SchedulerCache;
  private readonly binds: Limiter;
  private readonly events: Limiter;
  /** Where the next cycle starts filtering (kube-scheduler's `nextStartNodeIndex`). */
  private nextStartNodeIndex = 0;
  /** Pods that found no node: parked until an event, or backing off. */
  private readonly parked: SchedulingQueue;
  private readonly flushIntervalMs: number;
  private flushTimer?: NodeJS.Timeout;
  private lastSummary = { at: 0, text: '' };
  private running?: Promise<void>;

  constructor(opts: SchedulerOptions) {
    this.client = opts.client;
    this.schedulerName = opts.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    this.clock = opts.clock ?? (() => new Date());
    this.log = opts.log ?? ((m) => console.error(m));
    this.plugins = opts.plugins ?? defaultPlugins();
    this.recorder = opts.recorder ?? new EventRecorder(this.client, this.schedulerName, undefined, { clock: this.clock, log: this.log });
    this.tracer = opts.tracer ?? NO_TRACE;
    const backoff = opts.backoff ?? { initialMs: 1000, maxMs: 10_000 };
    this.parked = new SchedulingQueue({ initialBackoffMs: backoff.initialMs, maxBackoffMs: backoff.maxMs, maxUnschedulableMs: opts.maxUnschedulableMs });
    this.flushIntervalMs = opts.flushIntervalMs ?? 1000;
    this.cache = new SchedulerCache(opts.assumeTtlMs ?? 30_000);
    this.binds = new Limiter(opts.maxBindsInFlight ?? 16);
    this.events = new Limiter(opts.maxEventsInFlight ?? 8);
    this.percentageOfNodesToScore = opts.percentageOfNodesToScore ?? 0;
    const onError = (e: unknown) => this.log(`scheduler: watch error (retrying): ${(e as Error).message}`);
    this.pods = new Informer<PodObject>(this.client, PODS, { onError });
    this.nodes = new Informer<NodeObject>(this.client, NODES, { onError });
    this.claims = new Informer<ClaimObject>(this.client, PVCS, { onError });
    this.classes = new Informer<ClassObject>(this.client, STORAGE_CLASSES, { onError });
    this.volumes = new Informer<VolumeObject>(this.client, PVS, { onError });
    this.volumeBindTimeoutMs = opts.volumeBindTimeoutMs ?? 600_000;
  }

  /**
   * Starts the informers and the worker; resolves once both caches are filled and the worker
   * runs. Call once.
   */
  async start(): Promise<void> {
    this.pods.addHandlers({
      onAdd: (p) => {
        this.cache.addPod(p);
        if (this.isPending(p)) traceSeen(this.tracer, p);
        this.enqueueIfPending(p);
      },
      onUpdate: (old, p) => {
        this.cache.updatePod(p);
        // A parked pod is retried for a change of its own only when that change could matter
        // (spec, labels); a status write (ours, marking it unschedulable) does not.
        if (!this.parked.has(objectKey(p)) || podSchedulingChanged(old, p)) this.enqueueIfPending(p);
        if (p.spec?.nodeName && !isTerminal(old) && isTerminal(p)) this.retryUnschedulable();
      },
      onDelete: (p) => {
        const key = objectKey(p);
        if (p.spec?.nodeName || this.cache.isAssumed(key)) this.retryUnschedulable();
        this.cache.removePod(p);
        if (this.parked.has(key)) this.queue.add(key); // the worker forgets it
      },
    });
    this.nodes.addHandlers({
      onAdd: (n) => {
        this.cache.addNode(n);
        this.retryUnschedulable();
      },
      onUpdate: (old, n) => {
        this.cache.updateNode(n);
        if (nodeSchedulingChanged(old, n)) this.retryUnschedulable();
      },
      onDelete: (n) => this.cache.removeNode(n),
    });
    // A claim created, bound or changed may make a waiting pod schedulable (or its binding go on).
    const claimChanged = (c: ClaimObject) => {
      const waiters = this.claimWaiters.get(objectKey(c));
      if (waiters && claimBound(c)) for (const w of [...waiters]) w();
      this.retryUnschedulable();
    };
    this.claims.addHandlers({ onAdd: claimChanged, onUpdate: (_o, c) => claimChanged(c) });
    this.classes.addHandlers({ onAdd: () => this.retryUnschedulable() });
    await Promise.all([this.nodes.start(), this.pods.start(), this.claims.start(), this.classes.start(), this.volumes.start()]);
    this.running = this.queue.run(1, (key) => this.sync(key), (key, e) => this.log(`scheduler: ${key}: ${(e as Error).message} (will retry)`));
    this.flushTimer = setInterval(() => this.flush(), this.flushIntervalMs);
    this.flushTimer.unref();
  }

  /** Moves pods whose back-off is over (or parked too long) to the work queue; logs a summary now and then. */
  private flush(): void {
    const now = this.clock().getTime();
    for (const key of this.parked.flush(now)) this.queue.add(key);
    const { unschedulable, backoff } = this.parked.counts();
    const text = `scheduler: ${unschedulable} pods unschedulable (waiting for a cluster change), ${backoff} backing off`;
    if (text !== this.lastSummary.text && (unschedulable + backoff > 0 || this.lastSummary.text) && now - this.lastSummary.at >= SUMMARY_INTERVAL_MS) {
      this.log(text);
      this.lastSummary = { at: now, text };
    }
  }

  /** Stops watching and waits for the pod being scheduled, the bindings and events in flight. */
  async stop(): Promise<void> {
    this.pods.stop();
    this.nodes.stop();
    this.claims.stop();
    this.classes.stop();
    this.volumes.stop();
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.queue.shutdown();
    await this.running;
    await this.binds.idle();
    await this.events.idle();
  }

  /** Whether this scheduler should place the pod now. */
  isPending(pod: Pod): boolean {
    return !pod.spec?.nodeName && !pod.metadata?.deletionTimestamp && !isTerminal(pod)
      && (pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME) === this.schedulerName;
  }

  private enqueueIfPending(pod: Pod): void {
    if (this.isPending(pod)) this.queue.add(objectKey(pod));
  }

  /** A cluster event that could make parked pods fit: they go through their back-off again. */
  private retryUnschedulable(): void {
    for (const key of this.parked.moveAll(this.clock().getTime())) this.queue.add(key);
  }

  /**
   * Schedules one pod by key: one scheduling cycle, then the binding started in the background.
   * Idempotent; throws only for errors worth a rate-limited retry.
   */
  private async sync(key: string): Promise<void> {
    this.cache.cleanupExpired(this.clock().getTime());
    const pod = this.pods.get(key);
    if (!pod || !this.isPending(pod)) {
      this.parked.forget(key);
      return;
    }
    const cycle = this.parked.startAttempt(key);
    if (this.cache.isAssumed(key, pod.metadata?.uid)) return; // binding; waiting for the informer to say so
    const ns = pod.metadata?.namespace ?? 'default';
    const claims = checkPodClaims(pod, (n) => this.claims.get(`${ns}/${n}`), (n) => this.classes.get(n), (n) => this.volumes.get(n));
    if (!claims.ok) {
      await this.failed(key, pod, preFilterMessage(this.nodes.list().length, claims.reason), cycle);
      return;
    }
    // Backpressure: with `maxBindsInFlight` bindings outstanding, wait before choosing, so the
    // choice is made on the freshest cache.
    await this.binds.acquire();
    if (this.pods.get(key) !== pod) {
      // Changed or gone while we waited; a change was enqueued again by the informer handler.
      this.binds.release();
      return;
    }
    let result: ScheduleResult;
    try {
      // From here to `assumePod` nothing awaits: the cycle sees one consistent cache.
      const snapshot = this.cache.snapshot();
      const plugins = claims.nodeAffinity.length
        ? { ...this.plugins, filters: [...this.plugins.filters, volumeNodeAffinityFilter(claims.nodeAffinity)] } : this.plugins;
      const cycle = scheduleCycle(pod, snapshot, plugins, {
        startIndex: this.nextStartNodeIndex, percentageOfNodesToScore: this.percentageOfNodesToScore,
      });
      result = cycle.result;
      traceDecision(this.tracer, pod, cycle);
      if (snapshot.nodes.length) this.nextStartNodeIndex = (this.nextStartNodeIndex + cycle.processed) % snapshot.nodes.length;
    } catch (e) {
      this.binds.release();
      throw e;
    }
    if ('node' in result) {
      this.cache.assumePod(pod, result.node);
      void this.bind(key, pod, result.node, claims.delayed)
        .catch((e: unknown) => this.log(`scheduler: ${key}: binding: ${(e as Error).message}`))
        .finally(() => this.binds.release());
      return;
    }
    this.binds.release();
    await this.failed(key, pod, result.message, cycle);
  }

  /**
   * The binding cycle of one assumed pod, run beside later scheduling cycles. Never rejects: a
   * failure forgets the assumption and requeues the pod (409 already bound / 404 gone: dropped).
   */
  private async bind(key: string, pod: PodObject, node: string, delayedClaims: readonly string[] = []): Promise<void> {
    const { name = '', namespace = 'default', uid = '' } = pod.metadata ?? {};
    try {
      if (delayedClaims.length) await this.bindVolumes(namespace, delayedClaims, node);
      await this.client.createSubresource({ ...PODS, namespace }, name, 'binding', {
        apiVersion: 'v1', kind: 'Binding',
        metadata: { name, namespace, uid },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      });
    } catch (e) {
      this.cache.forgetPod(key);
      // 409: someone else bound it first; 404: it is gone. Either way there is nothing to do.
      if (e instanceof ApiError && (e.code === 409 || e.code === 404)) return;
      this.log(`scheduler: binding ${namespace}/${name} to ${node} failed: ${(e as Error).message} (will retry)`);
      this.queue.addRateLimited(key);
      return;
    }
    this.cache.finishBinding(key, this.clock().getTime());
    this.queue.forget(key);
    this.parked.forget(key);
    this.log(`scheduler: bound ${namespace}/${name} to ${node}`);
    this.recordEvent(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${node}`);
  }

  /**
   * VolumeBinding's PreBind: asks for each delayed-binding claim to be provisioned or bound for
   * `node` (the `volume.kubernetes.io/selected-node` annotation the PV controller and provisioner
   * act on), then waits, by watch, until every claim is bound; rejects after the bind timeout.
   */
  private async bindVolumes(namespace: string, claimNames: readonly string[], node: string): Promise<void> {
    for (const claim of claimNames) {
      const pvc = this.claims.get(`${namespace}/${claim}`);
      if (!pvc || claimBound(pvc) || pvc.metadata?.annotations?.[SELECTED_NODE_ANNOTATION] === node) continue;
      await this.client.patch({ ...PVCS, namespace }, claim, { metadata: { annotations: { [SELECTED_NODE_ANNOTATION]: node } } });
    }
    await Promise.all(claimNames.map((claim) => this.waitForClaim(`${namespace}/${claim}`)));
  }

  /** Resolves when the informer shows the claim bound; rejects after `volumeBindTimeoutMs`. */
  private waitForClaim(key: string): Promise<void> {
    const now = this.claims.get(key);
    if (now && claimBound(now)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiters = this.claimWaiters.get(key) ?? new Set<() => void>();
      this.claimWaiters.set(key, waiters);
      const forget = () => {
        clearTimeout(timer);
        waiters.delete(onBound);
        if (!waiters.size) this.claimWaiters.delete(key);
      };
      const onBound = () => {
        forget();
        resolve();
      };
      const timer = setTimeout(() => {
        forget();
        reject(new Error(`binding volumes: timed out waiting for persistentvolumeclaim ${JSON.stringify(key)} to be bound`));
      }, this.volumeBindTimeoutMs);
      waiters.add(onBound);
    });
  }

  /** Records an event in the background, a few at a time; best effort (the recorder logs failures). */
  private recordEvent(pod: PodObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    void this.events.run(() => this.recorder.event(podRef(pod), type, reason, message));
  }

  /**
   * The attempt found no node: park the pod, and only when the reason is new for this pod
   * write the condition, record FailedScheduling and log it.
   */
  private async failed(key: string, pod: PodObject, message: string, cycle: number): Promise<void> {
    const { changed } = this.parked.failed(key, cycle, message, this.clock().getTime());
    const { name = '', namespace = 'default' } = pod.metadata ?? {};
    const conditions = withScheduledFalse(pod.status?.conditions ?? [], message, kubeTime(this.clock()));
    if (conditions) {
      try {
        await this.client.patch({ ...PODS, namespace }, name, { status: { conditions } }, 'status');
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
        return; // deleted meanwhile
      }
    }
    if (!changed) return;
    this.log(`scheduler: ${namespace}/${name}: ${message}`);
    this.recordEvent(pod, 'Warning', 'FailedScheduling', message);
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

/** Whether a pod update can change where (or whether) it fits: its spec or labels. */
export function podSchedulingChanged(old: Pod, cur: Pod): boolean {
  return JSON.stringify(old.spec ?? {}) !== JSON.stringify(cur.spec ?? {})
    || JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(cur.metadata?.labels ?? {})
    || !!old.metadata?.deletionTimestamp !== !!cur.metadata?.deletionTimestamp;
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
