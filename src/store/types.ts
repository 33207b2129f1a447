/**
 * The storage contract under the API server: kind-agnostic, versioned object storage keyed by
 * string, with one resourceVersion counter across all keys and a watch that resumes from any
 * retained resourceVersion. It plays the part etcd plays for Kubernetes; `sqlite.ts` is the
 * embedded default, and every implementation passes `test/contract/store.contract.ts`.
 *
 * Errors are `ApiError`s, worded as the Kubernetes API server words them, so the API server can
 * pass them through: NotFound (404), AlreadyExists (409), Conflict (409), Expired (410).
 */
import { ApiError, badRequest, gone } from '../api/errors.js';
import type { KubeObject } from '../api/types.js';

/** A change committed to the store, as a watcher sees it. */
export interface StoreChange {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  key: string;
  /** The resourceVersion of this change; `object.metadata.resourceVersion` carries it too. */
  resourceVersion: number;
  /**
   * The object after the change; for DELETED, its last state, stamped with the deletion's
   * resourceVersion (as Kubernetes does). Shared by every watcher of the change: read-only.
   */
  object: KubeObject;
  /** For MODIFIED: the object before the change (read-only). Lets a filtered watch see an object leave its selector. */
  prevObject?: KubeObject;
}

/**
 * What a watch handler receives: changes in commit order; `PROGRESS` after `requestProgress()`,
 * meaning "every change up to this resourceVersion has been delivered"; `CLOSED` once, when the
 * store closes (no event follows it).
 */
export type StoreWatchEvent =
  | StoreChange
  | { type: 'PROGRESS'; resourceVersion: number }
  | { type: 'CLOSED' };

export interface StoreWatchOptions {
  /**
   * Deliver every change after this resourceVersion first (from retained history), then live
   * changes. Omitted: live changes only, starting now. Older than the retained history: the
   * watch call fails with 410 Expired.
   */
  fromResourceVersion?: number;
}

export interface StoreWatch {
  /** Stops delivery; no event is delivered after it returns. Idempotent. */
  cancel(): void;
  /** Asks for a `PROGRESS` event once every change committed so far has been delivered. */
  requestProgress(): void;
}

export interface Preconditions {
  /** Fail with 409 Conflict unless the stored object still has this resourceVersion. */
  expectedResourceVersion?: number;
}

/**
 * Versioned object storage. All methods may be called concurrently; writes are serialized by
 * the implementation. Objects returned from get/list/create/update/delete are the caller's own
 * copies (safe to change); objects in watch events are shared and must not be changed.
 * `metadata.resourceVersion` is always set by the store, never taken from the caller.
 */
export interface Store {
  /**
   * Why the store cannot take writes now (closed, read-only, disk full, I/O errors), or
   * undefined when it can. Cheap; the API server's `readyz` asks it on every call. Optional:
   * a store without it is taken to be always ready.
   */
  health?(): string | undefined;
  /** The object at `key` with its current resourceVersion, or undefined. */
  get(key: string): Promise<KubeObject | undefined>;
  /**
   * Every object whose key starts with `prefix` (use `collectionKey`, which ends in '/'),
   * ordered by key, and the store's resourceVersion at the time of the read.
   */
  list(prefix: string): Promise<{ items: KubeObject[]; resourceVersion: number }>;
  /**
   * The objects under `prefix` as they were at `resourceVersion` (a snapshot: what `list`
   * returned then), rebuilt from the retained change log, ordered by key. 410 Expired when the
   * log no longer reaches back that far, 504 when `resourceVersion` is ahead of the store.
   */
  listAt(prefix: string, resourceVersion: number): Promise<{ items: KubeObject[]; resourceVersion: number }>;
  /** Stores a new object; 409 AlreadyExists if `key` is taken. Returns the stored object. */
  create(key: string, obj: KubeObject): Promise<KubeObject>;
  /**
   * Replaces the object at `key`; 404 NotFound if absent, 409 Conflict if the precondition
   * does not hold. Returns the stored object with its new resourceVersion.
   */
  update(key: string, obj: KubeObject, pre?: Preconditions): Promise<KubeObject>;
  /**
   * Removes the object at `key`; 404 NotFound if absent, 409 Conflict if the precondition does
   * not hold. Returns the object as it was last stored.
   */
  delete(key: string, pre?: Preconditions): Promise<KubeObject>;
  /**
   * Read-modify-write: calls `fn` with the current object (a private copy it may change) and
   * stores what it returns, retrying with a fresh read on conflict. If `fn` returns an object
   * equal to the current one, nothing is written (no new resourceVersion). `fn` may throw (e.g.
   * an ApiError) to abort; 404 NotFound if the key is absent.
   */
  guaranteedUpdate(key: string, fn: (current: KubeObject) => KubeObject | Promise<KubeObject>): Promise<KubeObject>;
  /**
   * Watches every key starting with `prefix`. Delivery is asynchronous, in commit order, exactly
   * once per change, and only of committed changes. The handler must not throw (if it does, the
   * watch is cancelled and the error rethrown asynchronously). Rejects with 410 Expired
   * (`too old resource version: N (M)`) when `fromResourceVersion` is older than the history
   * kept, and with 504 (`Too large resource version`) when it is ahead of the store.
   */
  watch(prefix: string, opts: StoreWatchOptions, handler: (e: StoreWatchEvent) => void): Promise<StoreWatch>;
  /** Ends every watch (each gets `CLOSED`) and releases the store; later calls fail. */
  close(): Promise<void>;
}

/** Where a kind lives in the store: core kinds under their plural name, others under `plural.group`. */
export interface KeySpace {
  group: string;
  resource: string;
}

/** `pods` for the core group, `deployments.apps` otherwise: the name Kubernetes prints in errors. */
export const qualifiedResource = (r: KeySpace): string => (r.group ? `${r.resource}.${r.group}` : r.resource);

/**
 * The key of one object: `/registry/pods/default/web`, `/registry/nodes/node-1` (cluster-scoped:
 * no namespace), `/registry/deployments.apps/default/web`.
 */
export function objectKey(r: KeySpace, namespace: string | undefined, name: string): string {
  return namespace ? `/registry/${qualifiedResource(r)}/${namespace}/${name}` : `/registry/${qualifiedResource(r)}/${name}`;
}

/**
 * The key prefix of a collection, ending in '/': all namespaces (`/registry/pods/`) or one
 * (`/registry/pods/default/`). Pass it to `list` and `watch`.
 */
export function collectionKey(r: KeySpace, namespace?: string): string {
  return namespace ? `/registry/${qualifiedResource(r)}/${namespace}/` : `/registry/${qualifiedResource(r)}/`;
}

/** Splits a key back into the qualified resource and the object name, for error messages. */
export function describeKey(key: string): { resource: string; group: string; name: string } {
  const parts = key.split('/');
  const qualified = parts[2] ?? key;
  const dot = qualified.indexOf('.');
  return {
    resource: dot < 0 ? qualified : qualified.slice(0, dot),
    group: dot < 0 ? '' : qualified.slice(dot + 1),
    name: parts[parts.length - 1] ?? key,
  };
}

/**
 * Parses a resourceVersion as clients send it (a decimal string). Empty means "none" (undefined).
 * Anything else that is not a non-negative integer is a 400.
 */
export function parseResourceVersion(rv: string | undefined): number | undefined {
  if (rv === undefined || rv === '') return undefined;
  if (!/^\d{1,15}$/.test(rv)) throw badRequest(`invalid resource version: ${JSON.stringify(rv)}`);
  return Number(rv);
}

/**
 * The 504 a watch gets when its resourceVersion is ahead of the store (e.g. a client that kept
 * an RV across a store reset); clients relist, as they do for Kubernetes' watch cache.
 */
export function tooLargeResourceVersion(requested: number, current: number): ApiError {
  return new ApiError(504, 'Timeout', `Too large resource version: ${requested}, current: ${current}`);
}

/** The 410 a watch gets when its resourceVersion has been compacted away. */
export function tooOldResourceVersion(requested: number, compacted: number): ApiError {
  return gone(`too old resource version: ${requested} (${compacted})`);
}
