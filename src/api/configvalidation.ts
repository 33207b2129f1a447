/**
 * ConfigMap and Secret (core/v1): the decoding, defaulting and validation Kubernetes applies
 * (`pkg/apis/core/validation.ValidateConfigMap`, `ValidateSecret` and their updates, the v1
 * conversion that folds `stringData` into `data`).
 *
 * Wire format: `data` of a Secret and `binaryData` of a ConfigMap are base64 (Go's `[]byte` in
 * JSON). A value that is not valid base64 is a decode error (400), as Kubernetes answers it;
 * valid values are stored re-encoded canonically. Pure functions; only the decoding throws.
 */
import { ApiError, forbidden, invalidValue, required, tooLong, type FieldError } from './errors.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './metavalidation.js';
import { isConfigMapKey, nameIsDNSSubdomain } from './names.js';
import type { ConfigMap, Secret } from './types.js';

/** The most bytes a ConfigMap's or Secret's data may hold together (Kubernetes' `MaxSecretSize`). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Secret types Kubernetes defines, with the keys each requires. */
export const SECRET_TYPES = {
  opaque: 'Opaque',
  serviceAccountToken: 'kubernetes.io/service-account-token',
  dockercfg: 'kubernetes.io/dockercfg',
  dockerConfigJson: 'kubernetes.io/dockerconfigjson',
  basicAuth: 'kubernetes.io/basic-auth',
  sshAuth: 'kubernetes.io/ssh-auth',
  tls: 'kubernetes.io/tls',
  bootstrapToken: 'bootstrap.kubernetes.io/token',
} as const;

const B64_ALPHABET = /[A-Za-z0-9+/]/;

/**
 * Decodes standard base64 as Go's `encoding/json` does for `[]byte` (CR and LF ignored, padding
 * required). Returns the bytes, or the index of the first illegal input byte.
 */
export function decodeBase64(value: string): { ok: true; bytes: Buffer } | { ok: false; at: number } {
  const chars: { c: string; i: number }[] = [];
  for (let i = 0; i < value.length; i++) if (value[i] !== '\r' && value[i] !== '\n') chars.push({ c: value[i], i });
  let padding = 0;
  for (let k = 0; k < chars.length; k++) {
    const { c, i } = chars[k];
    if (c === '=') {
      // Padding only in the last one or two places of the final quantum.
      const left = chars.length - k;
      if (chars.length % 4 !== 0 || left > 2 || (left === 2 && chars[k + 1].c !== '=')) return { ok: false, at: i };
      padding++;
      continue;
    }
    if (padding > 0 || !B64_ALPHABET.test(c)) return { ok: false, at: i };
  }
  if (chars.length % 4 !== 0) return { ok: false, at: chars[chars.length - (chars.length % 4)].i };
  return { ok: true, bytes: Buffer.from(chars.map((x) => x.c).join(''), 'base64') };
}

/** A decode error for `kind`, worded as Kubernetes' JSON decoder words it. */
const decodeError = (kind: string, detail: string): ApiError =>
  new ApiError(400, 'BadRequest', `${kind} in version "v1" cannot be handled as a ${kind}: ${detail}`);

/** Checks a map of base64 values and returns it re-encoded canonically; throws 400 for bad input. */
function canonicalBytes(kind: string, field: string, m: unknown): Record<string, string> | undefined {
  if (m === undefined || m === null) return undefined;
  if (typeof m !== 'object' || Array.isArray(m)) throw decodeError(kind, `json: cannot unmarshal ${Array.isArray(m) ? 'array' : typeof m} into Go struct field ${kind}.${field} of type map[string][]uint8`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
    if (v === null) { out[k] = ''; continue; }
    if (typeof v !== 'string') throw decodeError(kind, `json: cannot unmarshal ${typeof v} into Go struct field ${kind}.${field} of type []uint8`);
    const d = decodeBase64(v);
    if (!d.ok) throw decodeError(kind, `illegal base64 data at input byte ${d.at}`);
    out[k] = d.bytes.toString('base64');
  }
  return out;
}

function stringMap(kind: string, field: string, m: unknown): Record<string, string> | undefined {
  if (m === undefined || m === null) return undefined;
  if (typeof m !== 'object' || Array.isArray(m)) throw decodeError(kind, `json: cannot unmarshal ${Array.isArray(m) ? 'array' : typeof m} into Go struct field ${kind}.${field} of type map[string]string`);
  for (const v of Object.values(m as Record<string, unknown>)) {
    if (typeof v !== 'string') throw decodeError(kind, `json: cannot unmarshal ${typeof v} into Go struct field ${kind}.${field} of type string`);
  }
  return m as Record<string, string>;
}

/**
 * What the API server does to a ConfigMap as it decodes it: `binaryData` checked as base64 and
 * stored canonically. Throws a 400 ApiError for malformed data. Changes `cm` in place.
 */
export function normalizeConfigMap(cm: ConfigMap): void {
  const data = stringMap('ConfigMap', 'data', cm.data);
  const binary = canonicalBytes('ConfigMap', 'binaryData', cm.binaryData);
  if (data) cm.data = data; else delete cm.data;
  if (binary) cm.binaryData = binary; else delete cm.binaryData;
}

/**
 * What the API server does to a Secret as it decodes it (the v1 conversion): `data` checked as
 * base64 and stored canonically, then every `stringData` entry written into `data` (base64 of
 * its UTF-8 bytes, replacing a `data` entry of the same key); `stringData` is never stored.
 * Defaults `type` to `Opaque`. Throws a 400 ApiError for malformed data. Changes `s` in place.
 */
export function normalizeSecret(s: Secret): void {
  const data = canonicalBytes('Secret', 'data', s.data) ?? {};
  const stringData = stringMap('Secret', 'stringData', s.stringData) ?? {};
  for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(v, 'utf8').toString('base64');
  delete s.stringData;
  if (Object.keys(data).length) s.data = data; else delete s.data;
  if (!s.type) s.type = SECRET_TYPES.opaque;
}

/** Bytes a base64 value stands for (without decoding it). */
const decodedLength = (b64: string): number => Buffer.byteLength(b64, 'base64');

const keyErrors = (keys: Iterable<string>, path: string): FieldError[] =>
  [...keys].flatMap((k) => isConfigMapKey(k).map((msg) => invalidValue(`${path}[${k}]`, k, msg)));

const sameMap = (a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean => {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b ?? {}).length && ka.every((k) => Object.prototype.hasOwnProperty.call(b ?? {}, k) && (b ?? {})[k] === (a ?? {})[k]);
};

/**
 * A ConfigMap (after {@link normalizeConfigMap}): name, keys that are valid file names, no key
 * in both `data` and `binaryData`, at most 1 MiB in all; on update (`old` given), an
 * `immutable` one keeps its data and stays immutable.
 */
export function validateConfigMap(cm: ConfigMap, old?: ConfigMap): FieldError[] {
  const errs: FieldError[] = [];
  if (old) {
    errs.push(...validateObjectMetaUpdate(cm.metadata, old.metadata));
    if (old.immutable === true) {
      if (cm.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
      if (!sameMap(cm.data, old.data)) errs.push(forbidden('data', 'field is immutable when `immutable` is set'));
      if (!sameMap(cm.binaryData, old.binaryData)) errs.push(forbidden('binaryData', 'field is immutable when `immutable` is set'));
    }
  }
  errs.push(...validateObjectMeta(cm.metadata, true, nameIsDNSSubdomain));
  const data = cm.data ?? {};
  const binary = cm.binaryData ?? {};
  errs.push(...keyErrors(Object.keys(data), 'data'));
  for (const k of Object.keys(data)) {
    if (Object.prototype.hasOwnProperty.call(binary, k)) errs.push(invalidValue(`data[${k}]`, k, 'duplicate of key present in binaryData'));
  }
  errs.push(...keyErrors(Object.keys(binary), 'binaryData'));
  const size = Object.values(data).reduce((n, v) => n + Buffer.byteLength(v, 'utf8'), 0) + Object.values(binary).reduce((n, v) => n + decodedLength(v), 0);
  if (size > MAX_CONFIG_BYTES) errs.push(tooLong('[]', MAX_CONFIG_BYTES));
  return errs;
}

/** Whether a base64 value is well-formed JSON once decoded; the parser's message when not. */
function jsonError(b64: string): string | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return `json: cannot unmarshal ${Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v} into Go value of type map[string]interface {}`;
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The keys a Secret of a well-known type must carry, as `ValidateSecret` checks them. */
function typeErrors(s: Secret): FieldError[] {
  const data = s.data ?? {};
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(data, k);
  const errs: FieldError[] = [];
  switch (s.type) {
    case SECRET_TYPES.serviceAccountToken:
      if (!s.metadata?.annotations?.['kubernetes.io/service-account.name']) errs.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
      break;
    case SECRET_TYPES.dockercfg:
    case SECRET_TYPES.dockerConfigJson: {
      const key = s.type === SECRET_TYPES.dockercfg ? '.dockercfg' : '.dockerconfigjson';
      if (!has(key)) { errs.push(required(`data[${key}]`)); break; }
      const bad = jsonError(data[key]);
      if (bad) errs.push(invalidValue(`data[${key}]`, '<secret contents redacted>', bad));
      break;
    }
    case SECRET_TYPES.basicAuth:
      if (!has('username') && !has('password')) errs.push(required('data[username]'), required('data[password]'));
      break;
    case SECRET_TYPES.sshAuth:
      if (!data['ssh-privatekey']) errs.push(required('data[ssh-privatekey]'));
      break;
    case SECRET_TYPES.tls:
      if (!has('tls.crt')) errs.push(required('data[tls.crt]'));
      if (!has('tls.key')) errs.push(required('data[tls.key]'));
      break;
    default:
      // Opaque, bootstrap tokens and any user-defined type: no required keys (as in Kubernetes).
  }
  return errs;
}

/**
 * A Secret (after {@link normalizeSecret}): name, keys, at most 1 MiB of data, the keys its
 * type requires; on update, `type` is immutable and an `immutable` Secret keeps its data.
 */
export function validateSecret(s: Secret, old?: Secret): FieldError[] {
  const errs: FieldError[] = [];
  if (old) {
    errs.push(...validateObjectMetaUpdate(s.metadata, old.metadata));
    if ((s.type ?? '') !== (old.type ?? '')) errs.push(invalidValue('type', s.type ?? '', 'field is immutable'));
    if (old.immutable === true) {
      if (s.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
      if (!sameMap(s.data, old.data)) errs.push(forbidden('data', 'field is immutable when `immutable` is set'));
    }
  }
  errs.push(...validateObjectMeta(s.metadata, true, nameIsDNSSubdomain));
  const data = s.data ?? {};
  errs.push(...keyErrors(Object.keys(data), 'data'));
  const size = Object.values(data).reduce((n, v) => n + decodedLength(v), 0);
  if (size > MAX_CONFIG_BYTES) errs.push(tooLong('data', MAX_CONFIG_BYTES));
  errs.push(...typeErrors(s));
  return errs;
}
