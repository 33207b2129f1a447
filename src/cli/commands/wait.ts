/**
 * Waiting on the watch stream (never by polling): until an object is gone, or until a
 * caller-supplied check on its latest state says done. Used by `delete` and `debug`. A watch
 * the server closes (its timeout) is reopened from the last resourceVersion seen.
 */
import { ApiError } from '../../api/errors.js';
import type { KubeObject, Status, WatchEvent } from '../../api/types.js';
import type { ResourceRef, WatchHandle } from '../../client/client.js';
import type { Client } from './shared.js';

/** Thrown when a wait runs out of time. */
export class WaitTimeout extends Error {
  constructor() {
    super('timed out waiting for the condition');
    this.name = 'WaitTimeout';
  }
}

/**
 * Watches `name` in `ref` (from `resourceVersion`, or replaying the current state when
 * omitted) and resolves with `check`'s first non-undefined answer. `check` sees every event,
 * DELETED included. Rejects with WaitTimeout after `timeoutMs`, with the server's error on an
 * ERROR event (410 Expired included: the caller re-reads), and with the signal's reason when it
 * aborts. If the server refuses the
 * `metadata.name` field selector (400) the whole collection is watched and filtered here.
 */
export function watchUntil<T extends KubeObject, R>(
  client: Client, ref: ResourceRef, name: string, opts: { resourceVersion?: string; timeoutMs: number; signal?: AbortSignal },
  check: (e: WatchEvent<T>) => R | undefined,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let handle: WatchHandle | undefined;
    let settled = false;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      handle?.stop();
      f();
    };
    const timer = setTimeout(() => finish(() => reject(new WaitTimeout())), opts.timeoutMs);
    opts.signal?.addEventListener('abort', () => finish(() => reject(opts.signal?.reason)), { once: true });
    let lastRV = opts.resourceVersion;
    const start = (withSelector: boolean): void => {
      const startedAt = Date.now();
      const h = client.watch<T>(ref, {
        resourceVersion: lastRV,
        fieldSelector: withSelector ? `metadata.name=${name}` : undefined,
      }, (e) => {
        if (settled) return;
        if (e.type === 'ERROR') {
          const s = e.object as unknown as Status;
          finish(() => reject(ApiError.fromStatus(s, s.code ?? 500)));
          return;
        }
        // Replay mode (no resourceVersion given) restarts by replaying again; otherwise resume.
        if (opts.resourceVersion !== undefined) lastRV = e.object.metadata?.resourceVersion ?? lastRV;
        if (e.type === 'BOOKMARK' || e.object.metadata?.name !== name) return;
        let r: R | undefined;
        try {
          r = check(e);
        } catch (err) {
          finish(() => reject(err));
          return;
        }
        if (r !== undefined) finish(() => resolve(r as R));
      });
      handle = h;
      h.done.then(
        () => {
          // Reopen; back off a second if the server keeps closing the stream at once.
          if (!settled) setTimeout(() => { if (!settled) start(withSelector); }, Date.now() - startedAt < 1000 ? 1000 : 0);
        },
        (err: unknown) => {
          if (withSelector && err instanceof ApiError && err.code === 400 && !settled) {
            start(false);
            return;
          }
          finish(() => reject(err));
        },
      );
    };
    start(true);
  });
}

/**
 * Resolves once `name` no longer exists (or was replaced by an object with another uid).
 * Reads it first, so an object already gone resolves at once, then watches from that read's
 * resourceVersion so no deletion can slip between the two.
 */
export async function waitForDeletion(client: Client, ref: ResourceRef, name: string, uid: string | undefined, timeoutMs: number): Promise<void> {
  let current: KubeObject;
  try {
    current = await client.get(ref, name);
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) return;
    throw e;
  }
  if (uid && current.metadata?.uid && current.metadata.uid !== uid) return;
  const deadline = Date.now() + timeoutMs;
  try {
    await watchUntil(client, ref, name, { resourceVersion: current.metadata?.resourceVersion, timeoutMs }, (e) => {
      if (e.type === 'DELETED') return true;
      if (uid && e.object.metadata?.uid && e.object.metadata.uid !== uid) return true;
      return undefined;
    });
  } catch (e) {
    // The resourceVersion fell out of the watch window: read again and watch from there.
    if (e instanceof ApiError && e.code === 410 && Date.now() < deadline) return waitForDeletion(client, ref, name, uid, deadline - Date.now());
    throw e;
  }
}
