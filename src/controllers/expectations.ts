/**
 * Controller expectations (Kubernetes' `UIDTrackingControllerExpectations`): what a controller
 * has just asked the API server to create or delete for one of its objects, so that it does not
 * act on that object again until its watch has shown those changes. Without them a cache that
 * lags behind the controller's own writes makes it create (or delete) twice.
 *
 * Expectations expire after `ttlMs` (5 minutes in Kubernetes): a watch event that never comes
 * (a create the server refused after all, a lost event) must not stall the object forever.
 * Not reentrant across awaits by design: callers are the controller's workers and its informer
 * handlers, which run on one thread.
 */

interface Record {
  /** Creations still to be seen. */
  add: number;
  /** `namespace/name` of pods whose deletion is still to be seen. */
  deletes: Set<string>;
  /** `clock()` time (ms) the expectations were set. */
  at: number;
}

/** Kubernetes' `ExpectationsTimeout`. */
export const EXPECTATIONS_TTL_MS = 5 * 60_000;

export class Expectations {
  private readonly records = new Map<string, Record>();

  constructor(private readonly clock: () => Date, private readonly ttlMs = EXPECTATIONS_TTL_MS) {}

  /**
   * Whether the controller may act on `key` again: nothing is expected, everything expected has
   * been seen, or the expectations expired.
   */
  satisfied(key: string): boolean {
    const r = this.records.get(key);
    if (!r) return true;
    if (r.add <= 0 && r.deletes.size === 0) return true;
    return this.clock().getTime() - r.at > this.ttlMs;
  }

  /** Replaces the expectations of `key` with `count` creations. */
  expectCreations(key: string, count: number): void {
    this.records.set(key, { add: count, deletes: new Set(), at: this.clock().getTime() });
  }

  /** Replaces the expectations of `key` with the deletion of these pods. */
  expectDeletions(key: string, podKeys: readonly string[]): void {
    this.records.set(key, { add: 0, deletes: new Set(podKeys), at: this.clock().getTime() });
  }

  /** One creation was seen (or will never happen: the create failed). */
  creationObserved(key: string): void {
    const r = this.records.get(key);
    if (r) r.add--;
  }

  /** The deletion of `podKey` was seen (or will never happen: the delete failed). */
  deletionObserved(key: string, podKey: string): void {
    this.records.get(key)?.deletes.delete(podKey);
  }

  /** Forgets `key` (its object was deleted). */
  delete(key: string): void {
    this.records.delete(key);
  }

  /** What is still expected for `key` (for logs and tests). */
  pending(key: string): { add: number; deletes: number } | undefined {
    const r = this.records.get(key);
    return r ? { add: r.add, deletes: r.deletes.size } : undefined;
  }
}
