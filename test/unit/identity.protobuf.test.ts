/**
 * The protobuf bodies kubectl sends for `create token` and `auth can-i`, decoded into their
 * JSON shape; other kinds are 415 and malformed bodies 400.
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/errors.js';
import { decodeProtobuf } from '../../src/apiserver/protobuf.js';

// A minimal encoder, the mirror of what client-go writes.
const varint = (n: number): number[] => {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) { out.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
  out.push(v);
  return out;
};
const bytes = (field: number, b: Buffer): Buffer => Buffer.from([...varint((field << 3) | 2), ...varint(b.length), ...b]);
const str = (field: number, s: string): Buffer => bytes(field, Buffer.from(s));
const int = (field: number, n: number): Buffer => Buffer.from([...varint(field << 3), ...varint(n)]);
const msg = (...parts: Buffer[]): Buffer => Buffer.concat(parts);
const envelope = (apiVersion: string, kind: string, raw: Buffer): Buffer =>
  Buffer.concat([Buffer.from('k8s\0', 'latin1'), bytes(1, msg(str(1, apiVersion), str(2, kind))), bytes(2, raw),
    str(3, ''), str(4, 'application/vnd.kubernetes.protobuf')]);

describe('protobuf request bodies', () => {
  it('reads a TokenRequest as kubectl create token sends it', () => {
    const raw = msg(bytes(1, msg(str(1, 'default'))), bytes(2, msg(str(1, 'https://kubernetes.default.svc.cluster.local'), str(1, 'vault'),
      bytes(3, msg(str(1, 'Pod'), str(2, 'v1'), str(3, 'web'), str(4, 'uid-1'))), int(4, 900))));
    expect(decodeProtobuf(envelope('authentication.k8s.io/v1', 'TokenRequest', raw), 'authentication.k8s.io/v1/TokenRequest')).toEqual({
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
      spec: { audiences: ['https://kubernetes.default.svc.cluster.local', 'vault'], expirationSeconds: 900, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web', uid: 'uid-1' } },
    });
  });
  it('reads a SelfSubjectAccessReview as kubectl auth can-i sends it', () => {
    const raw = msg(bytes(1, msg()), bytes(2, msg(bytes(1, msg(str(1, 'default'), str(2, 'list'), str(3, ''), str(5, 'pods'))))));
    expect(decodeProtobuf(envelope('authorization.k8s.io/v1', 'SelfSubjectAccessReview', raw), 'authorization.k8s.io/v1/SelfSubjectAccessReview')).toEqual({
      apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { namespace: 'default', verb: 'list', group: '', resource: 'pods' } },
    });
  });
  it('answers 415 for kinds it cannot read and 400 for bodies without the magic', () => {
    const e415 = (() => { try { decodeProtobuf(Buffer.from('k8s\0'), 'v1/Pod'); } catch (e) { return e as ApiError; } return undefined; })();
    expect(e415?.code).toBe(415);
    expect(() => decodeProtobuf(Buffer.from('{}'), 'authentication.k8s.io/v1/TokenRequest')).toThrow(/not a Kubernetes protobuf message/);
    expect(() => decodeProtobuf(Buffer.from([0x6b, 0x38, 0x73, 0, 0x12, 0x05, 1]), 'authentication.k8s.io/v1/TokenRequest')).toThrow(/ends inside a field/);
  });
});
