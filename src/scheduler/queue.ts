/**
 * Where pods wait when they found no node: kube-scheduler's unschedulable pods and back-off
 * queue (`internal/queue/scheduling_queue.go`), without the active queue itself (that is the
 * scheduler's WorkQueue, which this hands keys to).
 *
 * A pod that fails is parked as unschedulable and is NOT retried on a timer: only a cluster
 * event that could make it fit (a node added or changed, an assigned pod deleted or finished)
 * moves it back, through its back-off (1 s doubling to 10 s per failed attempt), and a pod
 * parked for `maxUnschedulableMs` (5 min) is retried anyway. An event that arrives while the
 * pod is being scheduled sends it to back-off instead of parking (it might fit now).
 *
 * Pure and clock-free: every method takes `now` (ms), and `flush(now)` is what a timer calls;
 * tests drive it with numbers. Not safe for concurrent use (the scheduler calls it from one
 * thread of control).
 */

export interface SchedulingQueueOptions {
  /** First back-off after a failure (default 1 s), doubling per attempt... */
  initialBackoffMs?: number;
  /** ...up to this (default 10 s). */
  maxBackoffMs?: number;
  /** A pod parked this long is retried without an event (default 5 min). */
  maxUnschedulableMs?: number;
}

interface Entry {
  attempts: number;
  /** When the last attempt failed. */
  failedAt: number;
  /** Where the pod waits: parked until an event, or backing off until `failedAt + backoff`. */
  where: 'unschedulable' | 'backoff' | 'active';
  /** The scheduling cycle of its last attempt (see `moveCycle`). */
  cycle: number;
  /** The last failure message reported for it (to report only changes). */
  message?: string;
}

export class SchedulingQueue {
  private readonly initial: number;
  private readonly max: number;
  private readonly maxParked: number;
  private readonly pods = new Map<string, Entry>();
  /** Incremented for every scheduling attempt started. */
  private cycle = 0;
  /** The cycle during which the last move event arrived. */
  private moveCycle = -1;

  constructor(opts: SchedulingQueueOptions = {}) {
    this.initial = opts.initialBackoffMs ?? 1000;
    this.max = opts.maxBackoffMs ?? 10_000;
    this.maxParked = opts.maxUnschedulableMs ?? 5 * 60_000;
  }

  /** Back-off after `attempts` failures: initial · 2^(attempts−1), capped. */
  backoffMs(attempts: number): number {
    return Math.min(this.max, this.initial * 2 ** Math.max(0, attempts - 1));
  }

  /** Called when an attempt to schedule `key` starts; returns the attempt's cycle. */
  startAttempt(key: string): number {
    this.cycle++;
    const e = this.pods.get(key);
    if (e) {
      e.where = 'active';
      e.cycle = this.cycle;
    }
    return this.cycle;
  }

  /**
   * The attempt of `cycle` found no node for `key` at `now`. Parks it (or backs it off when a
   * move event came during the attempt). Returns whether `message` differs from the last one
   * reported for this pod: only then are a condition, an event and a log line worth writing.
   */
  failed(key: string, cycle: number, message: string, now: number): { changed: boolean; attempts: number } {
    const e = this.pods.get(key) ?? { attempts: 0, failedAt: now, where: 'unschedulable', cycle };
    e.attempts++;
    e.failedAt = now;
    e.cycle = cycle;
    e.where = this.moveCycle >= cycle ? 'backoff' : 'unschedulable';
    const changed = e.message !== message;
    e.message = message;
    this.pods.set(key, e);
    return { changed, attempts: e.attempts };
  }

  /** The pod was bound, deleted, or is not ours any more: forget its attempts. */
  forget(key: string): void {
    this.pods.delete(key);
  }

  /** Whether `key` is parked or backing off. */
  has(key: string): boolean {
    const e = this.pods.get(key);
    return !!e && e.where !== 'active';
  }

  /** Pods parked (waiting for an event) and backing off, for logs and metrics. */
  counts(): { unschedulable: number; backoff: number } {
    let unschedulable = 0;
    let backoff = 0;
    for (const e of this.pods.values()) {
      if (e.where === 'unschedulable') unschedulable++;
      else if (e.where === 'backoff') backoff++;
    }
    return { unschedulable, backoff };
  }

  /**
   * A cluster event that may let parked pods fit: each moves to back-off, and the keys whose
   * back-off is already over are returned to be scheduled now. Also remembered for attempts in
   * flight (they go to back-off when they fail).
   */
  moveAll(now: number): string[] {
    this.moveCycle = this.cycle;
    const ready: string[] = [];
    for (const [key, e] of this.pods) {
      if (e.where !== 'unschedulable') continue;
      if (now >= e.failedAt + this.backoffMs(e.attempts)) {
        e.where = 'active';
        ready.push(key);
      } else e.where = 'backoff';
    }
    return ready;
  }

  /**
   * What a periodic timer calls (every second): keys whose back-off is over, and keys parked
   * for longer than `maxUnschedulableMs`, to be scheduled now.
   */
  flush(now: number): string[] {
    const ready: string[] = [];
    for (const [key, e] of this.pods) {
      const due = (e.where === 'backoff' && now >= e.failedAt + this.backoffMs(e.attempts))
        || (e.where === 'unschedulable' && now - e.failedAt >= this.maxParked);
      if (due) {
        e.where = 'active';
        ready.push(key);
      }
    }
    return ready;
  }
}
