/**
 * Remembers the EndpointSlices a controller has just written for one owner (Kubernetes'
 * `endpointSliceTracker`), so that it does not plan from a cache that has not yet seen those
 * writes: slices are created with `generateName`, so a lagging cache would otherwise make it
 * create the same slice twice. Also carries a slice plan out ({@link applySlicePlan}).
 *
 * Not reentrant across awaits by design: callers are one controller's workers (never two on
 * one key) and its informer handlers, all on one thread.
 */
import { ApiError } from '../api/errors.js';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../api/endpoints.js';
import type { EndpointSlice, KubeObject } from '../api/types.js';
import { ENDPOINTSLICES, type ApiClient } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import type { SlicePlan } from './endpointsliceplan.js';
import { splitKey } from './podutil.js';

const DELETED = -1;
/** After this long an unseen write no longer holds the owner back (a lost watch event). */
const TRACKER_TTL_MS = 30_000;

const rvOf = (s: KubeObject): number => Number(s.metadata?.resourceVersion ?? 0) || 0;

export class SliceTracker {
  /** owner key → slice name → resourceVersion written (or DELETED), with the time written. */
  private readonly written = new Map<string, Map<string, { rv: number; at: number }>>();

  constructor(private readonly clock: () => Date) {}

  wrote(owner: string, slice: EndpointSlice): void {
    this.entries(owner).set(slice.metadata?.name ?? '', { rv: rvOf(slice), at: this.clock().getTime() });
  }

  deleted(owner: string, name: string): void {
    this.entries(owner).set(name, { rv: DELETED, at: this.clock().getTime() });
  }

  /**
   * Whether `cached` (the owner's slices in the cache) is missing some of this controller's own
   * writes. Writes the cache has caught up with (or that expired) are forgotten.
   */
  stale(owner: string, cached: readonly EndpointSlice[]): boolean {
    const entries = this.written.get(owner);
    if (!entries) return false;
    const byName = new Map(cached.map((s) => [s.metadata?.name ?? '', s]));
    const now = this.clock().getTime();
    let stale = false;
    for (const [name, w] of entries) {
      const seen = byName.get(name);
      const caughtUp = w.rv === DELETED ? !seen : !!seen && rvOf(seen) >= w.rv;
      if (caughtUp || now - w.at > TRACKER_TTL_MS) entries.delete(name);
      else stale = true;
    }
    if (!entries.size) this.written.delete(owner);
    return stale;
  }

  /** Forgets an owner (it was deleted and its slices are gone). */
  forget(owner: string): void {
    this.written.delete(owner);
  }

  private entries(owner: string): Map<string, { rv: number; at: number }> {
    let m = this.written.get(owner);
    if (!m) this.written.set(owner, (m = new Map()));
    return m;
  }
}

/**
 * Writes a slice plan for `owner` (deletes first, then updates, then creates), recording each
 * write in `tracker`. A slice already deleted by someone else counts as deleted; other errors
 * propagate (the worker retries the owner with back-off, planning again from the cache).
 */
export async function applySlicePlan(client: ApiClient, tracker: SliceTracker, owner: string, plan: SlicePlan): Promise<void> {
  for (const s of plan.delete) {
    const name = s.metadata?.name ?? '';
    try {
      await client.delete({ ...ENDPOINTSLICES, namespace: s.metadata?.namespace }, name);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
    tracker.deleted(owner, name);
  }
  for (const s of plan.update) {
    tracker.wrote(owner, await client.update<EndpointSlice>({ ...ENDPOINTSLICES, namespace: s.metadata?.namespace }, s));
  }
  for (const s of plan.create) {
    tracker.wrote(owner, await client.create<EndpointSlice>({ ...ENDPOINTSLICES, namespace: s.metadata?.namespace }, s));
  }
}

/** The slices `manager` manages for the Service (or Endpoints) `key` (`namespace/name`). */
export function managedSlices<T extends EndpointSlice>(slices: readonly T[], key: string, manager: string): T[] {
  const { namespace, name } = splitKey(key);
  return slices.filter((s) => s.metadata?.namespace === namespace &&
    s.metadata?.labels?.[LABEL_SERVICE_NAME] === name && s.metadata?.labels?.[LABEL_MANAGED_BY] === manager);
}

/** Enqueues `namespace/<service-name>` when a slice managed by `manager` changes. */
export function enqueueSliceOwners<T extends EndpointSlice & KubeObject>(slices: Informer<T>, manager: string, enqueue: (key: string) => void): void {
  const changed = (s: T): void => {
    const labels = s.metadata?.labels ?? {};
    if (labels[LABEL_MANAGED_BY] === manager && labels[LABEL_SERVICE_NAME]) enqueue(`${s.metadata?.namespace ?? ''}/${labels[LABEL_SERVICE_NAME]}`);
  };
  slices.addHandlers({ onAdd: changed, onUpdate: (_old, s) => changed(s), onDelete: changed });
}

/** 409s (a stale cache lost a race): retried with back-off, not worth a log line. */
export const isConflict = (e: unknown): boolean => e instanceof ApiError && e.code === 409;
