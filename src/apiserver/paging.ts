/**
 * `limit` and `continue` on LIST, as Kubernetes pages lists: at most `limit` items, then a
 * `metadata.continue` token and `remainingItemCount`; the next request passes the token back
 * and gets the items after the last one returned.
 *
 * Deviation: Kubernetes serves every page from the snapshot of the first (etcd keeps old
 * revisions); this store keeps only the current state, so later pages show the objects as they
 * are when each page is read, and carry the first page's resourceVersion.
 */
import { ApiError, badRequest } from '../api/errors.js';
import type { KubeList, KubeObject } from '../api/types.js';

interface Token { v: string; rv: number; start: string }

/** Position of an object in a list (lists are ordered by namespace, then name). */
const position = (o: KubeObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

function decodeToken(token: string): Token {
  let t: unknown;
  try {
    t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badRequest(`continue key is not valid: ${JSON.stringify(token)} is not a token this server gave out`);
  }
  const tok = t as Partial<Token>;
  if (tok?.v !== 'meta.k8s.io/v1' || typeof tok.rv !== 'number' || typeof tok.start !== 'string') {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  return tok as Token;
}

/**
 * One page of `list` (already filtered and ordered): `limit` 0 or undefined means all, and
 * `token` a `continue` value from an earlier page. 400 for a token this server did not make.
 */
export function paginate<T extends KubeObject>(list: KubeList<T>, limit: number | undefined, token: string | undefined): KubeList<T> {
  if (!limit && !token) return list;
  let items = list.items;
  let rv = list.metadata.resourceVersion ?? '';
  if (token) {
    const t = decodeToken(token);
    items = items.filter((o) => position(o) > t.start);
    rv = String(t.rv);
  }
  if (!limit || items.length <= limit) return { ...list, metadata: { resourceVersion: rv }, items };
  const page = items.slice(0, limit);
  const next: Token = { v: 'meta.k8s.io/v1', rv: Number(rv), start: position(page[page.length - 1]) };
  if (!Number.isFinite(next.rv)) throw new ApiError(500, 'InternalError', `list resourceVersion ${rv} is not a number`);
  return {
    ...list,
    metadata: { resourceVersion: rv, continue: Buffer.from(JSON.stringify(next)).toString('base64url'), remainingItemCount: items.length - limit },
    items: page,
  };
}
