/**
 * Service-account tokens: signing with the cluster key and verifying signature, issuer,
 * audience and time window, with an injected clock.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../src/apiserver/auth/signingkey.js';
import { DEFAULT_ISSUER, TokenIssuer } from '../../src/apiserver/auth/tokens.js';

const key = await generateSigningKey();
const otherKey = await generateSigningKey();
const t0 = new Date('2026-01-01T00:00:00Z');
const request = {
  namespace: 'default', serviceAccount: { name: 'robot', uid: 'sa-uid' }, pod: { name: 'web', uid: 'pod-uid' },
  audiences: [DEFAULT_ISSUER], expirationSeconds: 3600,
};

describe('service-account tokens', () => {
  it('carry the claims Kubernetes issues', async () => {
    const issuer = new TokenIssuer(key, DEFAULT_ISSUER, () => t0);
    const { token, expirationTimestamp } = await issuer.issue(request);
    const c = decodeJwt(token);
    expect(c.iss).toBe('https://kubernetes.default.svc.cluster.local');
    expect(c.sub).toBe('system:serviceaccount:default:robot');
    expect(c.aud).toEqual([DEFAULT_ISSUER]);
    expect(c.iat).toBe(t0.getTime() / 1000);
    expect(c.nbf).toBe(t0.getTime() / 1000);
    expect(c.exp).toBe(t0.getTime() / 1000 + 3600);
    expect(typeof c.jti).toBe('string');
    expect(c['kubernetes.io']).toEqual({ namespace: 'default', serviceaccount: { name: 'robot', uid: 'sa-uid' }, pod: { name: 'web', uid: 'pod-uid' } });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', kid: issuer.keyId });
    expect(expirationTimestamp.toISOString()).toBe('2026-01-01T01:00:00.000Z');
  });

  const cases: { name: string; verifyAt: number; audiences: string[]; key?: string; ok: boolean; reason?: string }[] = [
    { name: 'is accepted within its lifetime by the audience it names', verifyAt: 3599, audiences: [DEFAULT_ISSUER], ok: true },
    { name: 'is refused once expired', verifyAt: 3601, audiences: [DEFAULT_ISSUER], ok: false, reason: 'token has expired' },
    { name: 'is refused by another audience', verifyAt: 10, audiences: ['vault'], ok: false, reason: 'token aud is not valid' },
    { name: 'is refused when signed by another key', verifyAt: 10, audiences: [DEFAULT_ISSUER], key: otherKey, ok: false, reason: 'token signature is invalid' },
  ];
  for (const tc of cases) {
    it(`a token ${tc.name}`, async () => {
      let now = t0;
      const signer = new TokenIssuer(tc.key ?? key, DEFAULT_ISSUER, () => now);
      const verifier = new TokenIssuer(key, DEFAULT_ISSUER, () => now);
      const { token } = await signer.issue(request);
      now = new Date(t0.getTime() + tc.verifyAt * 1000);
      const v = await verifier.verify(token, tc.audiences);
      expect(v.ok).toBe(tc.ok);
      if (!v.ok) expect(v.reason).toBe(tc.reason);
      else expect(v.claims).toMatchObject({ namespace: 'default', serviceAccount: { name: 'robot', uid: 'sa-uid' }, pod: { name: 'web', uid: 'pod-uid' } });
    });
  }

  it('tells its own tokens from other bearer tokens', async () => {
    const issuer = new TokenIssuer(key, DEFAULT_ISSUER, () => t0);
    expect(issuer.claimsToBeOurs((await issuer.issue(request)).token)).toBe(true);
    expect(issuer.claimsToBeOurs('0123456789abcdef')).toBe(false);
    expect(issuer.claimsToBeOurs(await new TokenIssuer(key, 'https://other', () => t0).issue(request).then((r) => r.token))).toBe(false);
  });
});
