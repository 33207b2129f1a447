/**
 * Concurrent calls for one key share one in-flight promise ("single flight"): the runtimes use
 * it so that concurrent pulls of one image are done once. The key is forgotten when the call
 * settles, so a later call starts afresh.
 */
export class SingleFlight<T> {
  private readonly inflight = new Map<string, Promise<T>>();

  do(key: string, fn: () => Promise<T>): Promise<T> {
    let p = this.inflight.get(key);
    if (!p) {
      p = fn().finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }
}
