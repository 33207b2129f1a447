/**
 * Service-account tokens: JWTs signed with the cluster's key (RS256, `jose`), carrying the
 * claims Kubernetes' TokenRequest API issues (iss, sub, aud, exp, iat, nbf, jti and the
 * `kubernetes.io` claim naming the namespace, service account and bound pod). The issuer signs
 * and verifies; whether the named objects still exist is the authenticator's question.
 *
 * Stateless and safe for concurrent use; `now` comes from the injected clock.
 */
import { createHash, createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT, jwtVerify, decodeJwt, errors as joseErrors } from 'jose';

/** Kubernetes' default service-account issuer and API audience. */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** The issuer of legacy (Secret-held, non-expiring) service-account tokens. */
export const LEGACY_ISSUER = 'kubernetes/serviceaccount';
const LEGACY = 'kubernetes.io/serviceaccount/';

/** What a legacy token (from a `kubernetes.io/service-account-token` Secret) says. */
export interface LegacyClaims {
  namespace: string;
  serviceAccount: { name: string; uid: string };
  secretName: string;
}

/** TokenRequest defaults and limits (seconds). */
export const DEFAULT_TOKEN_SECONDS = 3600;
export const MIN_TOKEN_SECONDS = 600;
export const MAX_TOKEN_SECONDS = 2 ** 32;


/** What a token says about its holder. */
export interface TokenClaims {
  namespace: string;
  serviceAccount: { name: string; uid: string };
  /** Set when the token is bound to a pod: it dies with that pod. */
  pod?: { name: string; uid: string };
  audiences: string[];
  expiresAt: Date;
}

export interface IssueRequest {
  namespace: string;
  serviceAccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
  audiences: string[];
  expirationSeconds: number;
}

/** The `kubernetes.io` claim as Kubernetes writes it. */
interface KubernetesClaim {
  namespace?: string;
  serviceaccount?: { name?: string; uid?: string };
  pod?: { name?: string; uid?: string };
}

export class TokenIssuer {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  /** Key id: a digest of the public key, as Kubernetes derives `kid`. */
  readonly keyId: string;

  constructor(privateKeyPem: string, readonly issuer = DEFAULT_ISSUER, private readonly clock: () => Date = () => new Date()) {
    this.privateKey = createPrivateKey(privateKeyPem);
    this.publicKey = createPublicKey(this.privateKey);
    const der = this.publicKey.export({ type: 'spki', format: 'der' });
    this.keyId = createHash('sha256').update(der).digest('base64url');
  }

  /** Signs a token; returns it with its expiry. */
  async issue(req: IssueRequest): Promise<{ token: string; expirationTimestamp: Date }> {
    const now = Math.floor(this.clock().getTime() / 1000);
    const exp = now + req.expirationSeconds;
    const k8s: KubernetesClaim = { namespace: req.namespace, serviceaccount: { name: req.serviceAccount.name, uid: req.serviceAccount.uid } };
    if (req.pod) k8s.pod = { name: req.pod.name, uid: req.pod.uid };
    const token = await new SignJWT({ 'kubernetes.io': k8s })
      .setProtectedHeader({ alg: 'RS256', kid: this.keyId })
      .setIssuer(this.issuer)
      .setSubject(`system:serviceaccount:${req.namespace}:${req.serviceAccount.name}`)
      .setAudience(req.audiences)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(this.privateKey);
    return { token, expirationTimestamp: new Date(exp * 1000) };
  }

  /**
   * A legacy token for a `kubernetes.io/service-account-token` Secret: no expiry, no audience,
   * valid while the Secret (holding exactly this token) and its account exist.
   */
  async issueLegacy(c: LegacyClaims): Promise<string> {
    return new SignJWT({
      [`${LEGACY}namespace`]: c.namespace, [`${LEGACY}secret.name`]: c.secretName,
      [`${LEGACY}service-account.name`]: c.serviceAccount.name, [`${LEGACY}service-account.uid`]: c.serviceAccount.uid,
    })
      .setProtectedHeader({ alg: 'RS256', kid: this.keyId })
      .setIssuer(LEGACY_ISSUER)
      .setSubject(`system:serviceaccount:${c.namespace}:${c.serviceAccount.name}`)
      .sign(this.privateKey);
  }

  /** Verifies a legacy token's signature and claims. */
  async verifyLegacy(token: string): Promise<{ ok: true; claims: LegacyClaims } | { ok: false; reason: string }> {
    try {
      const { payload } = await jwtVerify(token, this.publicKey, { issuer: LEGACY_ISSUER, algorithms: ['RS256'], currentDate: this.clock() });
      const get = (k: string): string => (typeof payload[`${LEGACY}${k}`] === 'string' ? payload[`${LEGACY}${k}`] as string : '');
      const claims: LegacyClaims = {
        namespace: get('namespace'), secretName: get('secret.name'), serviceAccount: { name: get('service-account.name'), uid: get('service-account.uid') },
      };
      if (!claims.namespace || !claims.secretName || !claims.serviceAccount.name || payload.sub !== `system:serviceaccount:${claims.namespace}:${claims.serviceAccount.name}`) {
        return { ok: false, reason: 'token claims are inconsistent' };
      }
      return { ok: true, claims };
    } catch (e) {
      if (e instanceof joseErrors.JOSEError) return { ok: false, reason: 'token signature is invalid' };
      throw e;
    }
  }

  /** Which of our issuers `token` claims (before checking it), if any. */
  issuerOf(token: string): 'bound' | 'legacy' | undefined {
    try {
      const iss = decodeJwt(token).iss;
      return iss === this.issuer ? 'bound' : iss === LEGACY_ISSUER ? 'legacy' : undefined;
    } catch {
      return undefined; // not a JWT at all: some other kind of bearer token
    }
  }

  /** Whether `token` looks like one of ours (a JWT with our issuer), before checking it. */
  claimsToBeOurs(token: string): boolean {
    return this.issuerOf(token) === 'bound';
  }

  /**
   * Verifies signature, issuer, time window and that one of `audiences` is in the token's
   * `aud`. Returns the claims, or a reason the token is refused.
   */
  async verify(token: string, audiences: readonly string[]): Promise<{ ok: true; claims: TokenClaims } | { ok: false; reason: string }> {
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        issuer: this.issuer, algorithms: ['RS256'], currentDate: this.clock(), audience: [...audiences],
      });
      const k8s = (payload['kubernetes.io'] ?? {}) as KubernetesClaim;
      const ns = k8s.namespace ?? '';
      const sa = k8s.serviceaccount ?? {};
      if (!ns || !sa.name || !sa.uid || payload.sub !== `system:serviceaccount:${ns}:${sa.name}`) return { ok: false, reason: 'token claims are inconsistent' };
      const aud = Array.isArray(payload.aud) ? payload.aud : payload.aud ? [payload.aud] : [];
      const claims: TokenClaims = {
        namespace: ns, serviceAccount: { name: sa.name, uid: sa.uid }, audiences: aud, expiresAt: new Date((payload.exp ?? 0) * 1000),
      };
      if (k8s.pod?.name && k8s.pod.uid) claims.pod = { name: k8s.pod.name, uid: k8s.pod.uid };
      return { ok: true, claims };
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) return { ok: false, reason: 'token has expired' };
      if (e instanceof joseErrors.JWTClaimValidationFailed) return { ok: false, reason: `token ${e.claim} is not valid` };
      if (e instanceof joseErrors.JOSEError) return { ok: false, reason: 'token signature is invalid' };
      throw e;
    }
  }
}
