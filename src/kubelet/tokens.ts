/**
 * Service-account tokens for projected volumes (the kubelet's token manager): asked for through
 * the TokenRequest API (`POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token`, bound to
 * the pod), cached per pod, audience and lifetime, and asked for again once 80 % of the
 * lifetime has passed (or after 24 h), as Kubernetes does — the volume then gets the new token
 * on the pod's next sync.
 */
import type { Pod } from '../api/types.js';
import type { ServiceAccountTokenProjection } from 'kubernetes-types/core/v1.js';
import type { ApiClient } from '../client/client.js';
import { ApiError } from '../api/errors.js';

/** The TokenRequest shape (authentication.k8s.io/v1) the kubelet sends and reads back. */
export interface TokenRequest {
  apiVersion: 'authentication.k8s.io/v1';
  kind: 'TokenRequest';
  metadata?: { name?: string; namespace?: string };
  spec: {
    audiences?: string[];
    expirationSeconds?: number;
    boundObjectRef?: { apiVersion: string; kind: string; name: string; uid: string };
  };
  status?: { token: string; expirationTimestamp: string };
}

interface Cached {
  token: string;
  issuedAt: number;
  expiresAt: number;
}

const DAY_MS = 24 * 3600_000;

/** Whether a token issued at `issuedAt` and expiring at `expiresAt` should be replaced at `now`. */
export function tokenNeedsRefresh(issuedAt: number, expiresAt: number, now: number): boolean {
  const ttl = expiresAt - issuedAt;
  return now >= expiresAt || now - issuedAt > 0.8 * ttl || now - issuedAt > DAY_MS;
}

export class TokenManager {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly client: ApiClient, private readonly now: () => number) {}

  /**
   * A token for the pod's service account with the projection's audience and lifetime. Rejects
   * with `failed to fetch token: <reason>` (the kubelet's words) when the API refuses.
   */
  async get(pod: Pod, source: ServiceAccountTokenProjection): Promise<string> {
    const m = pod.metadata ?? {};
    const sa = pod.spec?.serviceAccountName || 'default';
    const seconds = source.expirationSeconds ?? 3600;
    const key = `${m.uid}/${sa}/${source.audience ?? ''}/${seconds}`;
    const hit = this.cache.get(key);
    const now = this.now();
    if (hit && !tokenNeedsRefresh(hit.issuedAt, hit.expiresAt, now)) return hit.token;
    const body: TokenRequest = {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
      spec: {
        ...(source.audience ? { audiences: [source.audience] } : {}),
        expirationSeconds: seconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: m.name ?? '', uid: m.uid ?? '' },
      },
    };
    let answer: TokenRequest;
    try {
      answer = await this.client.createSubresource<TokenRequest>({ group: '', version: 'v1', resource: 'serviceaccounts', namespace: m.namespace ?? 'default' }, sa, 'token', body);
    } catch (e) {
      if (hit && now < hit.expiresAt) return hit.token; // keep serving a still-valid token
      const why = e instanceof ApiError ? e.message : (e as Error).message;
      throw new Error(`failed to fetch token: ${why}`);
    }
    const token = answer.status?.token;
    if (!token) throw new Error('failed to fetch token: the TokenRequest answer has no status.token');
    const expiresAt = Date.parse(answer.status?.expirationTimestamp ?? '') || now + seconds * 1000;
    this.cache.set(key, { token, issuedAt: now, expiresAt });
    return token;
  }

  /** Forgets the tokens of a pod that is gone. */
  forget(podUid: string): void {
    for (const k of this.cache.keys()) if (k.startsWith(`${podUid}/`)) this.cache.delete(k);
  }
}
