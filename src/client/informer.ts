/**
 * List+watch informer: keeps a read-only local cache of one resource (optionally filtered by
 * label/field selector) in sync with the API server and tells handlers what changed. It
 * relists on 410 Expired and reconnects with back-off on errors. Cached objects are shared:
 * never modify them, copy first (`structuredClone`).
 */
import type { KubeObject, WatchEvent } from '../api/types.js';
import type { ApiClient, ListOptions, ResourceRef } from './client.js';

export interface InformerHandlers<T extends KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions extends ListOptions {
  /** Back-off base for reconnects (ms). */
  backoffMs?: number;
  /** Called with errors that are retried (for logs); never thrown. */
  onError?(e: unknown): void;
}

/** `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(obj: KubeObject): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : (m.name ?? '');
}

export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private stopped = false;
  private current?: { stop(): void };
  private syncedResolve!: () => void;
  /** Resolves after the first LIST has filled the cache. */
  readonly synced: Promise<void> = new Promise((r) => { this.syncedResolve = r; });
  private lastRV = '';
  private isSynced = false;

  constructor(private readonly client: ApiClient, private readonly ref: ResourceRef, private readonly opts: InformerOptions = {}) {}

  /**
   * Adds handlers. Handlers added after the cache was filled are first told about every cached
   * object as an add (client-go's shared informers do the same), so a late handler misses nothing.
   */
  addHandlers(h: InformerHandlers<T>): void {
    this.handlers.push(h);
    if (this.isSynced) for (const obj of this.cache.values()) this.call(h, 'add', obj);
  }

  /** Whether the first LIST has filled the cache. */
  get hasSynced(): boolean {
    return this.isSynced;
  }

  /** Starts list+watch in the background; returns once the first list is cached. */
  async start(): Promise<void> {
    void this.loop();
    await this.synced;
  }

  stop(): void {
    this.stopped = true;
    this.current?.stop();
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  /** The resourceVersion the cache has seen up to. */
  get resourceVersion(): string {
    return this.lastRV;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        // Stopped while listing: no watch may outlive stop() (it would keep the process alive).
        if (this.stopped) return;
        const handle = this.client.watch<T>(this.ref, { ...this.opts, resourceVersion: this.lastRV, allowWatchBookmarks: true }, (e) => {
          if (e.type === 'ERROR') {
            const code = (e.object as { code?: number }).code;
            if (code === 410) needList = true;
            handle.stop();
            return;
          }
          failures = 0;
          this.apply(e);
        });
        this.current = handle;
        await handle.done;
      } catch (e) {
        if (this.stopped) return;
        this.opts.onError?.(e);
        failures++;
        const delay = Math.min(5000, (this.opts.backoffMs ?? 100) * 2 ** Math.min(failures, 6));
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.client.list<T>(this.ref, this.opts);
    const seen = new Set<string>();
    for (const item of list.items) {
      const key = objectKey(item);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, item);
      if (!old) this.emit('add', item);
      else if (old.metadata?.resourceVersion !== item.metadata?.resourceVersion) this.emit('update', item, old);
    }
    for (const [key, old] of this.cache) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit('delete', old);
      }
    }
    this.lastRV = list.metadata.resourceVersion;
    this.isSynced = true;
    this.syncedResolve();
  }

  private apply(e: WatchEvent<T>): void {
    const rv = e.object.metadata?.resourceVersion;
    if (rv) this.lastRV = rv;
    if (e.type === 'BOOKMARK') return;
    const key = objectKey(e.object);
    const old = this.cache.get(key);
    if (e.type === 'DELETED') {
      this.cache.delete(key);
      this.emit('delete', e.object);
      return;
    }
    this.cache.set(key, e.object);
    if (old) this.emit('update', e.object, old);
    else this.emit('add', e.object);
  }

  private emit(kind: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    for (const h of this.handlers) this.call(h, kind, obj, old);
  }

  private call(h: InformerHandlers<T>, kind: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    try {
      if (kind === 'add') h.onAdd?.(obj);
      else if (kind === 'update') h.onUpdate?.(old as T, obj);
      else h.onDelete?.(obj);
    } catch (e) {
      // A handler bug must not stop the informer; handlers only enqueue keys, so this is rare.
      this.opts.onError?.(e);
    }
  }
}
