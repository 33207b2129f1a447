/**
 * The kubelet's pod workers (Kubernetes `pod_workers.go`): one serialized worker per pod, and
 * the pod's lifecycle on this node as an explicit state.
 *
 *     syncing ──terminate──▶ terminating ──(containers stopped)──▶ terminated ──(gone)──▶ forgotten
 *
 * - `syncing`: the pod should run; `syncPod` drives it towards its spec.
 * - `terminating`: the pod is being deleted, has finished (Succeeded/Failed), or is gone from
 *   the API; `syncTerminatingPod` stops its containers (preStop hooks, grace periods). A pod never
 *   goes back to syncing (Kubernetes: a terminating pod is never restarted; a new pod has a new uid).
 * - `terminated`: nothing of it runs; `syncTerminatedPod` cleans up (containers, sandboxes, volumes,
 *   the API object of a deleted pod) — and is run again on later updates until it says the pod is
 *   gone, when the worker forgets the pod.
 *
 * Syncs of one pod never overlap; any number of updates that arrive while one runs collapse
 * into one more run afterwards, which reads the newest pod (newest update wins). Pods never wait
 * for each other: there is no global cap around a sync, so a pod that terminates for 30 s (or
 * pulls a large image) holds only its own worker. The one shared limit, {@link PodWorkers.startSlot},
 * bounds the runtime's create/start calls, which are short; the kubelet never holds it across a
 * pull, a hook or a stop.
 *
 * The worker also owns the pod's waiting reasons that only the kubelet knows (image and mount
 * errors) and its wake-up timer (back-off ends, retries), so both die with the pod's record.
 */
import PQueue from 'p-queue';
import type { Clock } from './clock.js';
import type { Waiting } from './status.js';

/** Where a pod is in its life on this node (Kubernetes' `PodWorkerState`). */
export type PodLifecycle = 'syncing' | 'terminating' | 'terminated';

/** What an update asks of the pod's worker. */
export type PodUpdate = 'sync' | 'terminate';

/** The work the kubelet does for each state. Each is called only by the pod's worker, never concurrently for one pod. */
export interface PodSyncHandlers {
  /** Drives a pod that should run towards its spec (re-reads pod and runtime; idempotent). */
  syncPod(uid: string): Promise<void>;
  /** Stops every running container of the pod within its grace period; resolves when they have stopped. */
  syncTerminatingPod(uid: string): Promise<void>;
  /** Cleans up a pod whose containers all stopped; resolves true once nothing of it is left (the worker then forgets it). */
  syncTerminatedPod(uid: string): Promise<boolean>;
}

export interface PodWorkersOptions {
  handlers: PodSyncHandlers;
  clock: Clock;
  /** A failed sync (logged by the caller); the pod is synced again after `retryMs`. */
  onError: (uid: string, state: PodLifecycle, e: unknown) => void;
  /** Concurrent runtime create/start calls across all pods (default 8). */
  startConcurrency?: number;
  /** Delay before a failed sync is retried (default 2 s). */
  retryMs?: number;
}

interface PodWorker {
  state: PodLifecycle;
  /** An update arrived that no run has read yet. */
  pending: boolean;
  running?: Promise<void>;
  waiting: Record<string, Waiting>;
  wakeup?: { at: number; cancel: () => void };
}

export class PodWorkers {
  private readonly workers = new Map<string, PodWorker>();
  private readonly starts: PQueue;
  private readonly retryMs: number;
  private stopped = false;

  constructor(private readonly o: PodWorkersOptions) {
    this.starts = new PQueue({ concurrency: o.startConcurrency ?? 8 });
    this.retryMs = o.retryMs ?? 2000;
  }

  /**
   * Records an update of the pod and makes sure its worker runs (again) after it. `terminate`
   * moves a syncing pod to terminating, for good; `sync` of a terminating or terminated pod only
   * runs the work of the state it is in.
   */
  update(uid: string, kind: PodUpdate = 'sync'): void {
    if (this.stopped) return;
    let w = this.workers.get(uid);
    if (!w) {
      w = { state: 'syncing', pending: false, waiting: {} };
      this.workers.set(uid, w);
    }
    if (kind === 'terminate' && w.state === 'syncing') {
      w.state = 'terminating';
      this.clearWakeup(w);
    }
    w.pending = true;
    if (!w.running) w.running = this.run(uid, w);
  }

  /** The pod's state; undefined for a pod this node has no worker for. */
  state(uid: string): PodLifecycle | undefined {
    return this.workers.get(uid)?.state;
  }

  /** Whether the pod is past syncing (its containers must not start again). */
  isTerminating(uid: string): boolean {
    const s = this.state(uid);
    return s === 'terminating' || s === 'terminated';
  }

  /** Reasons the pod's containers wait that only the kubelet knows, by container name (mutable, owned by the worker). */
  waiting(uid: string): Record<string, Waiting> {
    return this.workers.get(uid)?.waiting ?? {};
  }

  /** Syncs the pod again after `ms` on the clock; the earliest of several requested wake-ups wins. */
  wakeAfter(uid: string, ms: number): void {
    const w = this.workers.get(uid);
    if (!w || this.stopped) return;
    const delay = Math.max(10, ms);
    const at = this.o.clock.now().getTime() + delay;
    if (w.wakeup && w.wakeup.at <= at) return;
    this.clearWakeup(w);
    const cancel = this.o.clock.after(delay, () => {
      if (w.wakeup?.cancel === cancel) w.wakeup = undefined;
      if (this.workers.get(uid) === w) this.update(uid);
    });
    w.wakeup = { at, cancel };
  }

  /**
   * Runs `fn` (a runtime create/start call) in one of the shared start slots. Callers must not
   * pull images, run hooks or stop containers inside it.
   */
  startSlot<T>(fn: () => Promise<T>): Promise<T> {
    return this.starts.add(fn, { throwOnTimeout: true });
  }

  /** Pods with a worker, by state (for tests and the kubelet's logs). */
  counts(): Record<PodLifecycle, number> {
    const out: Record<PodLifecycle, number> = { syncing: 0, terminating: 0, terminated: 0 };
    for (const w of this.workers.values()) out[w.state]++;
    return out;
  }

  /** Resolves when no pod has work queued or running. */
  async idle(): Promise<void> {
    for (;;) {
      const runs = [...this.workers.values()].flatMap((w) => (w.running ? [w.running] : []));
      if (runs.length === 0) return;
      await Promise.all(runs);
    }
  }

  /** Whether any pod has a sync queued or running. */
  get busy(): boolean {
    return [...this.workers.values()].some((w) => w.running !== undefined);
  }

  /** Pods with a worker. */
  get active(): number {
    return this.workers.size;
  }

  /** Cancels every wake-up and accepts no more updates (syncs already running finish). */
  stop(): void {
    this.stopped = true;
    for (const w of this.workers.values()) this.clearWakeup(w);
  }

  /** The pod's worker loop: one run per batch of updates, in the pod's current state. */
  private async run(uid: string, w: PodWorker): Promise<void> {
    // Let the caller's update finish first (and more updates collapse into this run).
    await Promise.resolve();
    while (w.pending && !this.stopped) {
      w.pending = false;
      const state = w.state;
      try {
        if (state === 'syncing') {
          await this.o.handlers.syncPod(uid);
        } else if (state === 'terminating') {
          await this.o.handlers.syncTerminatingPod(uid);
          w.state = 'terminated';
          w.pending = true; // clean up right away
        } else if (await this.o.handlers.syncTerminatedPod(uid)) {
          if (!w.pending) {
            this.clearWakeup(w);
            this.workers.delete(uid);
          }
        }
      } catch (e) {
        this.o.onError(uid, state, e);
        this.wakeAfter(uid, this.retryMs);
      }
    }
    w.running = undefined;
    // An update that arrived as the loop ended (stopped aside) starts a new run.
    if (w.pending && !this.stopped && this.workers.get(uid) === w) w.running = this.run(uid, w);
  }

  private clearWakeup(w: PodWorker): void {
    w.wakeup?.cancel();
    w.wakeup = undefined;
  }
}
