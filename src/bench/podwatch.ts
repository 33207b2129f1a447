/**
 * Observing pods the way a user's client would: one LIST, then a watch from its
 * resourceVersion, noting for each pod when (this process's clock, epoch ms) it was first seen
 * bound, with every container running, Ready, and deleted. Waiters are woken by watch events,
 * never by polling.
 */
import type { Pod } from '../api/types.js';
import { PODS, type ApiClient, type WatchHandle } from '../client/client.js';
import { nowMs } from './clock.js';

/** First times (epoch ms) a pod was seen in each state. */
export interface PodMarks {
  name: string;
  uid: string;
  /** First seen (created, or listed when the watch started). */
  seen: number;
  /** `spec.nodeName` set. */
  bound?: number;
  /** Every container in `containerStatuses` has `state.running`. */
  running?: number;
  /** Condition `Ready=True`. */
  ready?: number;
  deleted?: number;
  ip?: string;
  node?: string;
  /** The last object seen. */
  pod: Pod;
}

const allRunning = (p: Pod): boolean => {
  const cs = p.status?.containerStatuses ?? [];
  return cs.length > 0 && cs.length === (p.spec?.containers ?? []).length && cs.every((c) => c.state?.running !== undefined);
};
const isReady = (p: Pod): boolean => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

interface Waiter {
  check: () => boolean;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class PodWatch {
  /** Marks by pod name (the newest pod of a name replaces an older one). */
  readonly marks = new Map<string, PodMarks>();
  private readonly waiters = new Set<Waiter>();
  private readonly listeners: ((m: PodMarks) => void)[] = [];
  private handle?: WatchHandle;
  private failure?: Error;

  constructor(private readonly client: ApiClient, private readonly namespace: string, private readonly labelSelector?: string) {}

  /** Lists, then watches from the list's resourceVersion; resolves once the watch is open. */
  async start(): Promise<void> {
    const ref = { ...PODS, namespace: this.namespace };
    const list = await this.client.list<Pod>(ref, { labelSelector: this.labelSelector });
    for (const p of list.items) this.observe('ADDED', p);
    this.handle = this.client.watch<Pod>(ref, { labelSelector: this.labelSelector, resourceVersion: list.metadata.resourceVersion }, (e) => {
      if (e.type === 'ERROR') {
        this.fail(new Error(`pod watch ended with an error: ${JSON.stringify(e.object)}`));
        return;
      }
      if (e.type === 'BOOKMARK') return;
      this.observe(e.type, e.object);
    });
    this.handle.done.then(
      () => this.fail(new Error('the API server closed the pod watch')),
      (err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))),
    );
  }

  stop(): void {
    const h = this.handle;
    this.handle = undefined;
    h?.stop();
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error('pod watch stopped'));
    }
    this.waiters.clear();
  }

  /** Calls `fn` with a pod's marks after every event about it (after the marks are updated). */
  onChange(fn: (m: PodMarks) => void): void {
    this.listeners.push(fn);
  }

  /** Pods currently known (not deleted). */
  live(): PodMarks[] {
    return [...this.marks.values()].filter((m) => m.deleted === undefined);
  }

  /**
   * Resolves once `pred` holds (checked now and after every event); rejects after `timeoutMs`
   * with `describe()`'s view of the pods, or when the watch fails.
   */
  until<T>(pred: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.failure) {
        reject(this.failure);
        return;
      }
      const first = pred();
      if (first !== undefined) {
        resolve(first);
        return;
      }
      const waiter: Waiter = {
        check: () => {
          const v = pred();
          if (v === undefined) return false;
          resolve(v);
          return true;
        },
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; pods: ${this.describe()}`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Waits for pod `name` to satisfy `pred` on its marks. */
  waitPod(name: string, pred: (m: PodMarks) => boolean, timeoutMs: number, what: string): Promise<PodMarks> {
    return this.until(() => {
      const m = this.marks.get(name);
      return m && pred(m) ? m : undefined;
    }, timeoutMs, `pod ${name} ${what}`);
  }

  /** One line per pod: name, phase, node, and waiting reasons. */
  describe(): string {
    return [...this.marks.values()].slice(0, 40).map((m) => {
      const reasons = (m.pod.status?.containerStatuses ?? []).map((c) => c.state?.waiting?.reason ?? (c.state?.running ? 'running' : 'terminated')).join('/');
      return `${m.name}:${m.pod.status?.phase ?? '?'}:${m.node ?? '-'}:${reasons || '-'}${m.deleted ? ':deleted' : ''}`;
    }).join(' ') || '(none)';
  }

  private observe(type: 'ADDED' | 'MODIFIED' | 'DELETED', p: Pod): void {
    const t = nowMs();
    const name = p.metadata?.name ?? '';
    const uid = p.metadata?.uid ?? '';
    let m = this.marks.get(name);
    if (!m || m.uid !== uid) {
      m = { name, uid, seen: t, pod: p };
      this.marks.set(name, m);
    }
    m.pod = p;
    if (p.spec?.nodeName) {
      m.bound ??= t;
      m.node = p.spec.nodeName;
    }
    if (p.status?.podIP) m.ip = p.status.podIP;
    if (allRunning(p)) m.running ??= t;
    if (isReady(p)) m.ready ??= t;
    if (type === 'DELETED') m.deleted ??= t;
    for (const fn of this.listeners) fn(m);
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) {
      if (w.check()) {
        clearTimeout(w.timer);
        this.waiters.delete(w);
      }
    }
  }

  private fail(e: Error): void {
    if (!this.handle) return; // stopped on purpose
    this.failure = e;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(e);
    }
    this.waiters.clear();
  }
}
