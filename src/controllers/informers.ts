/**
 * Shared informers (client-go's `SharedInformerFactory`): one list+watch per resource, however
 * many controllers read it. Controllers ask for an informer and add their handlers before
 * `start`; `start` then starts each informer once and resolves when every cache is filled.
 */
import type { KubeObject } from '../api/types.js';
import type { ApiClient, ResourceRef } from '../client/client.js';
import { Informer } from '../client/informer.js';

const refKey = (r: ResourceRef): string => `${r.group}/${r.version}/${r.resource}/${r.namespace ?? ''}`;

export class SharedInformers {
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private readonly started = new Set<string>();

  /**
   * @param onError where watch errors that are retried go (for logs).
   */
  constructor(readonly client: ApiClient, private readonly onError: (ref: ResourceRef, e: unknown) => void = () => undefined) {}

  /** The informer of `ref` (all namespaces unless `ref.namespace` is set), created on first use. */
  get<T extends KubeObject>(ref: ResourceRef): Informer<T> {
    const k = refKey(ref);
    let inf = this.informers.get(k);
    if (!inf) {
      inf = new Informer<KubeObject>(this.client, ref, { onError: (e) => this.onError(ref, e) });
      this.informers.set(k, inf);
    }
    return inf as unknown as Informer<T>;
  }

  /** Starts every informer not yet started; resolves once all caches have been filled. */
  async start(): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const [k, inf] of this.informers) {
      if (this.started.has(k)) {
        pending.push(inf.synced);
        continue;
      }
      this.started.add(k);
      pending.push(inf.start());
    }
    await Promise.all(pending);
  }

  stop(): void {
    for (const inf of this.informers.values()) inf.stop();
  }
}
