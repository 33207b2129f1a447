/**
 * `limit` and `continue` on LIST, as Kubernetes pages lists: at most `limit` items, then a
 * `metadata.continue` token and `remainingItemCount`; the next request passes the token back
 * and gets the items after the last one returned, from the same snapshot as the first page
 * (the store rebuilds the list at the token's resourceVersion from its change log). Once the
 * log no longer reaches back that far, 410 Expired with Kubernetes' message and a token that
 * continues from the current state (resourceVersion -1, as Kubernetes' inconsistent continue).
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
 * The resourceVersion a `continue` token's pages are read at, or undefined to read the current
 * state (a token handed out with a 410). 400 for a token this server did not make.
 */
export function continueResourceVersion(token: string): number | undefined {
  const rv = decodeToken(token).rv;
  return rv < 0 ? undefined : rv;
}

/** Kubernetes' 410 for a continue token older than the retained history, with a token to go on inconsistently. */
export function continueExpired(token: string): ApiError {
  const t = decodeToken(token);
  const next: Token = { v: 'meta.k8s.io/v1', rv: -1, start: t.start };
  const e = new ApiError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. ' +
    'You can start a new list without the continue parameter, or use the continue token in this response to retrieve the ' +
    'remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were ' +
    'created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
  e.listContinue = Buffer.from(JSON.stringify(next)).toString('base64url');
  return e;
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
    if (t.rv >= 0) rv = String(t.rv);
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
