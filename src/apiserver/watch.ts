/**
 * WATCH over HTTP, as Kubernetes serves it: a chunked `application/json` stream of
 * newline-delimited `{"type":...,"object":...}` events, one write (and flush) per event.
 *
 * - No resourceVersion, or "0": synthetic ADDED events for every current matching object,
 *   then every change after that state.
 * - resourceVersion N: every change after N; N older than the store's history gets a single
 *   ERROR event carrying the 410 Expired Status, then the stream ends.
 * - With a selector, an object that stops matching is sent as DELETED (its previous state at
 *   the new resourceVersion), one that starts matching as ADDED.
 * - BOOKMARK events (kind, apiVersion and resourceVersion only) every `bookmarkIntervalMs` when
 *   the client allows them.
 */
import type { ServerResponse } from 'node:http';
import { ApiError } from '../api/errors.js';
import { apiVersionOf, type ResourceDef } from '../api/resource.js';
import type { KubeObject, WatchEventType } from '../api/types.js';
import { collectionKey, parseResourceVersion, type Store, type StoreWatch, type StoreWatchEvent } from '../store/types.js';
import type { ApiServerLogger } from './http.js';
import type { ObjectFilter } from './selectors.js';

export interface WatchRequest {
  def: ResourceDef;
  /** Empty: all namespaces (or a cluster-scoped kind). */
  namespace: string;
  filter: ObjectFilter;
  resourceVersion?: string;
  timeoutSeconds?: number;
  allowBookmarks: boolean;
  /** `sendInitialEvents=true`: initial ADDED events, then a BOOKMARK marking their end. */
  sendInitialEvents?: boolean;
  /** The Table to send instead of an object, when the client asked for Tables (kubectl get -w). */
  asTable?: (obj: KubeObject) => unknown;
}

export interface WatchConfig {
  store: Store;
  logger: ApiServerLogger;
  bookmarkIntervalMs: number;
  /** Server-side limit when the client gives no timeoutSeconds (Kubernetes: 30-60 min, random). */
  defaultTimeout: () => number;
  /** Registers the watch so that server shutdown can end it; returns the unregister function. */
  track: (end: () => void) => () => void;
}

/** A watcher this far behind (unsent bytes) is cut off, as Kubernetes drops unresponsive watchers. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** Serialized objects, shared by every watcher that sends the same event object. */
const jsonCache = new WeakMap<KubeObject, string>();
function sharedJson(obj: KubeObject): string {
  let s = jsonCache.get(obj);
  if (s === undefined) {
    s = JSON.stringify(obj);
    jsonCache.set(obj, s);
  }
  return s;
}

const line = (type: WatchEventType, objJson: string): string => `{"type":"${type}","object":${objJson}}\n`;

/**
 * Serves one watch until the client leaves, the timeout passes, the store closes or the server
 * shuts down. Errors before the stream starts (bad resourceVersion syntax) are thrown for the
 * caller to answer as a Status; after that, they become an ERROR event.
 */
export async function serveWatch(res: ServerResponse, w: WatchRequest, cfg: WatchConfig): Promise<void> {
  const rvParam = w.resourceVersion ?? '';
  const fromState = rvParam === '' || rvParam === '0' || w.sendInitialEvents === true;
  const from = fromState ? undefined : parseResourceVersion(rvParam);
  const prefix = collectionKey(w.def, w.def.namespaced && w.namespace ? w.namespace : undefined);
  const apiVersion = apiVersionOf(w.def);
  const asTable = w.asTable;
  /** An object as this watcher sends it: shared JSON, or a one-row Table for kubectl. */
  const objectJson = (obj: KubeObject): string => (asTable ? JSON.stringify(asTable(obj)) : sharedJson(obj));

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();

  let ended = false;
  let storeWatch: StoreWatch | undefined;
  let timeoutTimer: NodeJS.Timeout | undefined;
  let bookmarkTimer: NodeJS.Timeout | undefined;
  const end = (): void => {
    if (ended) return;
    ended = true;
    storeWatch?.cancel();
    clearTimeout(timeoutTimer);
    clearInterval(bookmarkTimer);
    untrack();
    if (!res.writableEnded && !res.destroyed) res.end();
  };
  const untrack = cfg.track(end);
  res.on('close', end);

  const send = (text: string): void => {
    if (ended) return;
    res.write(text);
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      cfg.logger.info(`closing watch of ${w.def.resource}: the client is ${res.writableLength} bytes behind`);
      end();
    }
  };
  const sendError = (err: unknown): void => {
    const status = err instanceof ApiError ? err.toStatus()
      : new ApiError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`).toStatus();
    if (!(err instanceof ApiError)) cfg.logger.error(`watch of ${w.def.resource} failed`, err);
    send(line('ERROR', JSON.stringify(status)));
    end();
  };
  const bookmark = (rv: number, initialEventsEnd = false): void => {
    const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
    if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
    send(line('BOOKMARK', JSON.stringify({ kind: w.def.kind, apiVersion, metadata })));
  };

  const onEvent = (e: StoreWatchEvent): void => {
    if (ended) return;
    switch (e.type) {
      case 'CLOSED':
        end();
        return;
      case 'PROGRESS':
        if (w.allowBookmarks) bookmark(e.resourceVersion);
        return;
      case 'ADDED':
        if (w.filter.matches(e.object)) send(line('ADDED', objectJson(e.object)));
        return;
      case 'DELETED':
        if (w.filter.matches(e.object)) send(line('DELETED', objectJson(e.object)));
        return;
      case 'MODIFIED': {
        const now = w.filter.matches(e.object);
        const before = e.prevObject ? w.filter.matches(e.prevObject) : now;
        if (now && before) send(line('MODIFIED', objectJson(e.object)));
        else if (now) send(line('ADDED', objectJson(e.object)));
        else if (before && e.prevObject) {
          const gone = { ...e.prevObject, metadata: { ...e.prevObject.metadata, resourceVersion: String(e.resourceVersion) } };
          send(line('DELETED', asTable ? objectJson(gone) : JSON.stringify(gone)));
        }
        return;
      }
    }
  };

  try {
    let startRv = from;
    if (fromState) {
      const { items, resourceVersion } = await cfg.store.list(prefix);
      for (const obj of items) if (w.filter.matches(obj)) send(line('ADDED', asTable ? objectJson(obj) : JSON.stringify(obj)));
      startRv = resourceVersion;
      if (w.sendInitialEvents && w.allowBookmarks) bookmark(resourceVersion, true);
    }
    if (ended) return;
    const sw = await cfg.store.watch(prefix, { fromResourceVersion: startRv }, onEvent);
    if (ended) {
      sw.cancel();
      return;
    }
    storeWatch = sw;
  } catch (err) {
    sendError(err);
    return;
  }
  // Replayed history may already have ended the watch (client gone, store closed).
  if (ended) return;

  const timeoutMs = (w.timeoutSeconds !== undefined && w.timeoutSeconds > 0 ? w.timeoutSeconds * 1000 : cfg.defaultTimeout());
  timeoutTimer = setTimeout(end, timeoutMs);
  if (w.allowBookmarks && cfg.bookmarkIntervalMs > 0) {
    bookmarkTimer = setInterval(() => storeWatch?.requestProgress(), cfg.bookmarkIntervalMs);
  }
}
