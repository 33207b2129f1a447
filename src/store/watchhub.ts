/**
 * Fan-out of committed changes to store watchers, shared by store implementations. A store
 * calls `publish` right after each commit, in commit order; each watcher gets its own queue,
 * drained asynchronously, so a handler never runs inside a store call and never sees a change
 * twice or out of order.
 */
import type { KubeObject } from '../api/types.js';
import type { StoreChange, StoreWatch, StoreWatchEvent } from './types.js';

/** A committed change in serialized form; objects are parsed only if some watcher wants them. */
export interface RawChange {
  type: StoreChange['type'];
  key: string;
  resourceVersion: number;
  json: string;
  prevJson?: string;
}

/** Parses a raw change into the event every watcher shares. */
export function materialize(c: RawChange): StoreChange {
  const change: StoreChange = { type: c.type, key: c.key, resourceVersion: c.resourceVersion, object: JSON.parse(c.json) as KubeObject };
  if (c.prevJson !== undefined) change.prevObject = JSON.parse(c.prevJson) as KubeObject;
  return change;
}

class Watcher implements StoreWatch {
  private queue: StoreWatchEvent[] = [];
  private scheduled = false;
  /** Set by cancel(): nothing more is delivered. */
  private cancelled = false;
  /** Set once CLOSED is queued: nothing more is queued. */
  private ended = false;

  constructor(
    readonly prefix: string,
    private readonly handler: (e: StoreWatchEvent) => void,
    private readonly hub: WatchHub,
  ) {}

  push(e: StoreWatchEvent): void {
    if (this.cancelled || this.ended) return;
    if (e.type === 'CLOSED') this.ended = true;
    this.queue.push(e);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const e of batch) {
      if (this.cancelled) return;
      try {
        this.handler(e);
      } catch (err) {
        // A throwing handler is a bug in the caller: stop this watch and surface the error
        // instead of swallowing it or letting it break delivery to the other watchers.
        this.cancel();
        queueMicrotask(() => { throw err; });
        return;
      }
    }
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.queue = [];
    this.hub.remove(this);
  }

  requestProgress(): void {
    this.push({ type: 'PROGRESS', resourceVersion: this.hub.currentResourceVersion() });
  }
}

export class WatchHub {
  private readonly watchers = new Set<Watcher>();

  /** `currentResourceVersion` must return the resourceVersion of the last published change. */
  constructor(readonly currentResourceVersion: () => number) {}

  get size(): number {
    return this.watchers.size;
  }

  /**
   * Registers a watcher whose queue starts with `history` (changes already committed, oldest
   * first). Must be called in the same synchronous step as reading that history, so that no
   * change falls between the history and the first live change.
   */
  add(prefix: string, history: RawChange[], handler: (e: StoreWatchEvent) => void): StoreWatch {
    const w = new Watcher(prefix, handler, this);
    for (const c of history) w.push(materialize(c));
    this.watchers.add(w);
    return w;
  }

  remove(w: Watcher): void {
    this.watchers.delete(w);
  }

  /** Queues a committed change for every watcher whose prefix matches its key. */
  publish(c: RawChange): void {
    let shared: StoreChange | undefined;
    for (const w of this.watchers) {
      if (!c.key.startsWith(w.prefix)) continue;
      shared ??= materialize(c);
      w.push(shared);
    }
  }

  /** Sends `CLOSED` to every watcher and forgets them. */
  closeAll(): void {
    const all = [...this.watchers];
    this.watchers.clear();
    for (const w of all) w.push({ type: 'CLOSED' });
  }
}
