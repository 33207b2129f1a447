/**
 * Just enough of Kubernetes' protobuf encoding to read the two request bodies kubectl only ever
 * sends as protobuf (its typed clients default to `application/vnd.kubernetes.protobuf`):
 * TokenRequest (`kubectl create token`) and SelfSubjectAccessReview (`kubectl auth can-i`).
 * A body is the `k8s\0` magic and a `runtime.Unknown` envelope whose `raw` field is the
 * object's message; each known message is decoded into the JSON shape by a small field table.
 * Answers stay JSON (clients decode by the response's Content-Type). Anything else is 415.
 */
import { ApiError, badRequest } from '../api/errors.js';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Wire = { field: number; type: number; value: bigint | Buffer };

/** The fields of one message, in order (varints as bigint, length-delimited as bytes). */
function fields(buf: Buffer): Wire[] {
  const out: Wire[] = [];
  let i = 0;
  const varint = (): bigint => {
    let shift = 0n;
    let v = 0n;
    for (;;) {
      if (i >= buf.length) throw badRequest('protobuf body ends inside a varint');
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
      if (shift > 63n) throw badRequest('protobuf varint too long');
    }
  };
  while (i < buf.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const type = Number(key & 7n);
    if (type === 0) out.push({ field, type, value: varint() });
    else if (type === 2) {
      const n = Number(varint());
      if (i + n > buf.length) throw badRequest('protobuf body ends inside a field');
      out.push({ field, type, value: buf.subarray(i, i + n) });
      i += n;
    } else if (type === 1) i += 8;
    else if (type === 5) i += 4;
    else throw badRequest(`unsupported protobuf wire type ${type}`);
  }
  return out;
}

/** How to read one message: field number → JSON name and kind. */
type Schema = Record<number, [name: string, kind: 'string' | 'int' | 'bool' | 'strings' | Schema]>;

function decode(buf: Buffer, schema: Schema): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (const f of fields(buf)) {
    const spec = schema[f.field];
    if (!spec) continue; // fields we do not read (metadata, status)
    const [name, kind] = spec;
    const bytes = Buffer.isBuffer(f.value) ? f.value : undefined;
    if (kind === 'string' && bytes) obj[name] = bytes.toString('utf8');
    else if (kind === 'strings' && bytes) obj[name] = [...((obj[name] as string[] | undefined) ?? []), bytes.toString('utf8')];
    else if (kind === 'int' && typeof f.value === 'bigint') obj[name] = Number(BigInt.asIntN(64, f.value));
    else if (kind === 'bool' && typeof f.value === 'bigint') obj[name] = f.value !== 0n;
    else if (typeof kind === 'object' && bytes) obj[name] = decode(bytes, kind);
  }
  return obj;
}

const TOKEN_REQUEST: Schema = {
  2: ['spec', {
    1: ['audiences', 'strings'], 4: ['expirationSeconds', 'int'],
    3: ['boundObjectRef', { 1: ['kind', 'string'], 2: ['apiVersion', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'] }],
  }],
};
const SELF_SUBJECT_ACCESS_REVIEW: Schema = {
  2: ['spec', {
    1: ['resourceAttributes', { 1: ['namespace', 'string'], 2: ['verb', 'string'], 3: ['group', 'string'], 4: ['version', 'string'],
      5: ['resource', 'string'], 6: ['subresource', 'string'], 7: ['name', 'string'] }],
    2: ['nonResourceAttributes', { 1: ['path', 'string'], 2: ['verb', 'string'] }],
  }],
};
const SCHEMAS: Record<string, Schema> = {
  'authentication.k8s.io/v1/TokenRequest': TOKEN_REQUEST,
  'authorization.k8s.io/v1/SelfSubjectAccessReview': SELF_SUBJECT_ACCESS_REVIEW,
};

/** Whether a Content-Type header names Kubernetes' protobuf encoding. */
export const isProtobuf = (contentType: string | undefined): boolean =>
  (contentType ?? '').split(';')[0].trim().toLowerCase() === PROTOBUF_CONTENT_TYPE;

/**
 * Decodes a protobuf body into the JSON object it stands for; `expected` is `group/version/Kind`.
 * 415 for kinds this server cannot read as protobuf, 400 for malformed bodies.
 */
export function decodeProtobuf(body: Buffer, expected: string): Record<string, unknown> {
  const schema = SCHEMAS[expected];
  if (!schema) {
    throw new ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml');
  }
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw badRequest('provided object is not a Kubernetes protobuf message (no k8s magic prefix)');
  const unknown = decode(body.subarray(4), { 1: ['typeMeta', { 1: ['apiVersion', 'string'], 2: ['kind', 'string'] }] });
  const raw = fields(body.subarray(4)).find((f) => f.field === 2)?.value;
  const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const obj = Buffer.isBuffer(raw) ? decode(raw, schema) : {};
  return { ...(typeMeta.apiVersion ? { apiVersion: typeMeta.apiVersion } : {}), ...(typeMeta.kind ? { kind: typeMeta.kind } : {}), ...obj };
}
