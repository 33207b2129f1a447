/**
 * Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`), read and written for
 * every kind in the generated field table `api/protobuf.data.ts` (field numbers from the
 * published `generated.proto` definitions): one table-driven codec, no code per kind.
 *
 * A body is the `k8s\0` magic and a `runtime.Unknown` envelope — `typeMeta` (apiVersion, kind),
 * `raw` (the object's message), `contentEncoding`, `contentType`. Messages map to their JSON
 * shapes as Kubernetes' Go types do: `meta.v1.Time` ⇄ RFC 3339, `MicroTime` with microseconds,
 * `Duration` ⇄ Go's duration string, `resource.Quantity` ⇄ its string, `IntOrString` ⇄ number
 * or string, `RawExtension`/`FieldsV1` ⇄ embedded JSON, `bytes` ⇄ base64, map entries ⇄ objects.
 *
 * Zero values: Go's generated marshallers write non-pointer scalars even when zero, and the JSON
 * encoder then omits them (`omitempty`); pointer scalars are written only when set. The
 * descriptors do not say which fields are pointers, so a zero/empty scalar reads as unset except
 * for the fields in {@link KEEP_ZERO} (pointer fields whose zero means something: `replicas: 0`),
 * named `GoType.field`.
 */
import { ApiError, badRequest } from '../api/errors.js';
import { KINDS, MESSAGES, type ProtoField } from '../api/protobuf.data.js';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/**
 * Pointer fields of the served kinds whose explicit zero (0, false, IntOrString 0) differs from
 * unset: kept when decoding.
 */
/**
 * Go struct fields embedded with `json:",inline"`: protobuf carries them as one nested message,
 * JSON spreads their fields into the parent (a Volume's `secret`, a Probe's `httpGet`, an
 * IngressRule's `http`). By full message name and proto field name.
 */
export const INLINE_FIELDS: ReadonlySet<string> = new Set([
  'core.v1.Volume.volumeSource', 'core.v1.PersistentVolumeSpec.persistentVolumeSource', 'core.v1.Probe.handler',
  'core.v1.EphemeralContainer.ephemeralContainerCommon', 'networking.v1.IngressRule.ingressRuleValue',
  // LocalObjectReference (`name`) embedded in the ConfigMap/Secret references.
  'core.v1.ConfigMapVolumeSource.localObjectReference', 'core.v1.ConfigMapProjection.localObjectReference',
  'core.v1.ConfigMapEnvSource.localObjectReference', 'core.v1.ConfigMapKeySelector.localObjectReference',
  'core.v1.SecretProjection.localObjectReference', 'core.v1.SecretEnvSource.localObjectReference',
  'core.v1.SecretKeySelector.localObjectReference',
]);

export const KEEP_ZERO: ReadonlySet<string> = new Set([
  'DeploymentSpec.replicas', 'ReplicaSetSpec.replicas', 'StatefulSetSpec.replicas', 'ReplicationControllerSpec.replicas', 'ScaleSpec.replicas',
  'DeploymentSpec.revisionHistoryLimit', 'DeploymentSpec.progressDeadlineSeconds', 'StatefulSetSpec.revisionHistoryLimit',
  'DaemonSetSpec.revisionHistoryLimit', 'JobSpec.parallelism', 'JobSpec.completions', 'JobSpec.backoffLimit', 'JobSpec.backoffLimitPerIndex',
  'JobSpec.maxFailedIndexes', 'JobSpec.activeDeadlineSeconds', 'JobSpec.ttlSecondsAfterFinished', 'JobSpec.suspend', 'JobSpec.manualSelector',
  'CronJobSpec.suspend', 'CronJobSpec.startingDeadlineSeconds', 'CronJobSpec.successfulJobsHistoryLimit', 'CronJobSpec.failedJobsHistoryLimit',
  'PodSpec.terminationGracePeriodSeconds', 'PodSpec.activeDeadlineSeconds', 'PodSpec.automountServiceAccountToken', 'PodSpec.enableServiceLinks',
  'PodSpec.hostUsers', 'PodSpec.shareProcessNamespace', 'ServiceAccount.automountServiceAccountToken',
  'PodSecurityContext.runAsUser', 'PodSecurityContext.runAsGroup', 'PodSecurityContext.fsGroup', 'PodSecurityContext.runAsNonRoot',
  'SecurityContext.runAsUser', 'SecurityContext.runAsGroup', 'SecurityContext.runAsNonRoot', 'SecurityContext.privileged',
  'SecurityContext.allowPrivilegeEscalation', 'SecurityContext.readOnlyRootFilesystem',
  'ConfigMapVolumeSource.optional', 'SecretVolumeSource.optional', 'ConfigMapKeySelector.optional', 'SecretKeySelector.optional',
  'ConfigMapEnvSource.optional', 'SecretEnvSource.optional', 'ConfigMapProjection.optional', 'SecretProjection.optional',
  'ConfigMapVolumeSource.defaultMode', 'SecretVolumeSource.defaultMode', 'ProjectedVolumeSource.defaultMode', 'DownwardAPIVolumeSource.defaultMode',
  'KeyToPath.mode', 'DownwardAPIVolumeFile.mode', 'TokenRequestSpec.expirationSeconds', 'ObjectMeta.deletionGracePeriodSeconds',
  'DeleteOptions.gracePeriodSeconds', 'PodDisruptionBudgetSpec.minAvailable', 'PodDisruptionBudgetSpec.maxUnavailable',
  'RollingUpdateDeployment.maxUnavailable', 'RollingUpdateDeployment.maxSurge', 'RollingUpdateDaemonSet.maxUnavailable',
  'RollingUpdateDaemonSet.maxSurge', 'RollingUpdateStatefulSetStrategy.partition', 'RollingUpdateStatefulSetStrategy.maxUnavailable',
  'HorizontalPodAutoscalerSpec.minReplicas', 'EndpointConditions.ready', 'EndpointConditions.serving', 'EndpointConditions.terminating',
  'ServiceSpec.allocateLoadBalancerNodePorts', 'LeaseSpec.leaseDurationSeconds', 'LeaseSpec.leaseTransitions', 'Probe.timeoutSeconds',
]);

type Wire = { field: number; type: number; value: bigint | Buffer };

/** The fields of one message, in order (varints and fixed as bigint, length-delimited as bytes). */
function wireFields(buf: Buffer): Wire[] {
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
  const take = (n: number): Buffer => {
    if (i + n > buf.length) throw badRequest('protobuf body ends inside a field');
    const b = buf.subarray(i, i + n);
    i += n;
    return b;
  };
  while (i < buf.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const type = Number(key & 7n);
    if (type === 0) out.push({ field, type, value: varint() });
    else if (type === 2) out.push({ field, type, value: take(Number(varint())) });
    else if (type === 1) out.push({ field, type, value: take(8) });
    else if (type === 5) out.push({ field, type, value: take(4) });
    else throw badRequest(`unsupported protobuf wire type ${type}`);
  }
  return out;
}

const fieldsOf = (message: string): readonly ProtoField[] => {
  const m = MESSAGES[message];
  if (!m) throw new Error(`protobuf: no message ${message} in the table`);
  return m;
};

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
function rfc3339(seconds: number, nanos: number, micro: boolean): string {
  const d = new Date(seconds * 1000);
  const base = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return micro ? `${base}.${pad(Math.floor(nanos / 1000), 6)}Z` : `${base}Z`;
}
function parseTime(s: string): { seconds: number; nanos: number } {
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw badRequest(`invalid time ${JSON.stringify(s)}`);
  const frac = /\.(\d+)/.exec(s)?.[1] ?? '';
  return { seconds: Math.floor(ms / 1000), nanos: Number((frac + '000000000').slice(0, 9)) };
}

/** Go's time.Duration.String for a count of nanoseconds. */
export function goDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let v = neg ? -ns : ns;
  let out: string;
  if (v < 1_000_000_000n) {
    const [unit, div] = v < 1000n ? ['ns', 1n] : v < 1_000_000n ? ['µs', 1000n] : ['ms', 1_000_000n];
    const whole = v / div;
    const frac = (v % div).toString().padStart(div.toString().length - 1, '0').replace(/0+$/, '');
    out = `${whole}${frac ? `.${frac}` : ''}${unit}`;
  } else {
    const h = v / 3_600_000_000_000n;
    v %= 3_600_000_000_000n;
    const m = v / 60_000_000_000n;
    v %= 60_000_000_000n;
    const s = v / 1_000_000_000n;
    const frac = (v % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
    out = `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}${frac ? `.${frac}` : ''}s`;
  }
  return neg ? `-${out}` : out;
}
function parseGoDuration(s: string): bigint {
  const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  let total = 0;
  let matched = '';
  for (let m = re.exec(s); m; m = re.exec(s)) { total += Number(m[1]) * UNITS[m[2]]; matched += m[0]; }
  const body = s.replace(/^[-+]/, '');
  if (s !== '0' && matched !== body) throw badRequest(`invalid duration ${JSON.stringify(s)}`);
  return BigInt(Math.round(s.startsWith('-') ? -total : total));
}

const isZero = (v: unknown): boolean => v === '' || v === 0 || v === false;

/** Reads one value of `type` from a wire field. */
function readValue(w: Wire, type: string, path: string): unknown {
  const bytes = Buffer.isBuffer(w.value) ? w.value : undefined;
  const bad = (): ApiError => badRequest(`protobuf field ${path}: wire type ${w.type} does not fit ${type}`);
  switch (type) {
    case 's': if (!bytes || w.type !== 2) throw bad(); return bytes.toString('utf8');
    case 'y': if (!bytes || w.type !== 2) throw bad(); return bytes.toString('base64');
    case 'i': if (typeof w.value !== 'bigint') throw bad(); return Number(BigInt.asIntN(64, w.value));
    case 'b': if (typeof w.value !== 'bigint') throw bad(); return w.value !== 0n;
    case 'd': if (!bytes || w.type !== 1) throw bad(); return bytes.readDoubleLE(0);
    case 'f': if (!bytes || w.type !== 5) throw bad(); return bytes.readFloatLE(0);
    default: if (!bytes || w.type !== 2) throw bad(); return decodeMessage(bytes, type, path);
  }
}

/** A message as its JSON value (special well-known types included). */
function decodeMessage(buf: Buffer, message: string, path: string): unknown {
  const obj: Record<string, unknown> = {};
  const table = fieldsOf(message);
  for (const w of wireFields(buf)) {
    const spec = table.find(([n]) => n === w.field);
    if (!spec) continue; // a field newer than our table: ignored, as Go's decoder does
    const [, name, type] = spec;
    const at = path ? `${path}.${name}` : name;
    if (type.startsWith('{}')) {
      const vt = type.slice(2);
      if (!Buffer.isBuffer(w.value)) throw badRequest(`protobuf field ${at}: not a map entry`);
      let key = '';
      let value: unknown = vt === 's' || vt === 'y' ? '' : vt === 'i' || vt === 'd' || vt === 'f' ? 0 : vt === 'b' ? false : undefined;
      for (const e of wireFields(w.value)) {
        if (e.field === 1) key = readValue(e, 's', at) as string;
        else if (e.field === 2) value = readValue(e, vt, `${at}[${key}]`);
      }
      if (value === undefined) value = decodeMessage(Buffer.alloc(0), vt, at);
      obj[name] = { ...(obj[name] as Record<string, unknown> | undefined), [key]: value };
    } else if (type.startsWith('[]')) {
      const et = type.slice(2);
      const list = (obj[name] as unknown[] | undefined) ?? [];
      if (w.type === 2 && (et === 'i' || et === 'b') && Buffer.isBuffer(w.value)) {
        // packed repeated scalars
        for (const p of wireFields(packed(w.value))) list.push(readValue(p, et, at));
      } else list.push(readValue(w, et, at));
      obj[name] = list;
    } else {
      obj[name] = readValue(w, type, at);
    }
  }
  return special(message, obj, path);
}

/** Re-keys packed varints as field-1 varints so wireFields can read them. */
function packed(buf: Buffer): Buffer {
  const out: number[] = [];
  let start = true;
  for (const b of buf) {
    if (start) out.push(0x08);
    out.push(b);
    start = !(b & 0x80);
  }
  return Buffer.from(out);
}

/** JSON forms of the well-known messages; zero scalars of other messages dropped. */
function special(message: string, obj: Record<string, unknown>, path: string): unknown {
  const type = message.slice(message.lastIndexOf('.') + 1);
  switch (message) {
    case 'meta.v1.Time':
    case 'meta.v1.MicroTime': {
      const seconds = (obj.seconds as number | undefined) ?? 0;
      const nanos = (obj.nanos as number | undefined) ?? 0;
      return seconds === 0 && nanos === 0 ? undefined : rfc3339(seconds, nanos, message === 'meta.v1.MicroTime');
    }
    case 'meta.v1.Duration': return goDuration(BigInt((obj.duration as number | undefined) ?? 0));
    case 'api.resource.Quantity': return (obj.string as string | undefined) ?? '0';
    case 'util.intstr.IntOrString': return obj.type === 1 ? (obj.strVal ?? '') : (obj.intVal ?? 0);
    case 'runtime.RawExtension':
    case 'meta.v1.FieldsV1': {
      const raw = (message === 'meta.v1.FieldsV1' ? obj.Raw : obj.raw) as string | undefined;
      if (!raw) return undefined;
      try {
        return JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as unknown;
      } catch {
        throw badRequest(`protobuf field ${path}: embedded object is not JSON`);
      }
    }
    default:
      if (/\.ExtraValue$/.test(message) || message === 'meta.v1.Verbs') return (obj.items as unknown[] | undefined) ?? [];
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    if (INLINE_FIELDS.has(`${message}.${k}`)) {
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, v);
      continue;
    }
    if (isZero(v) && !KEEP_ZERO.has(`${type}.${k}`)) continue;
    out[k] = v;
  }
  return out;
}

/** Whether a Content-Type header names Kubernetes' protobuf encoding. */
export const isProtobuf = (contentType: string | undefined): boolean =>
  (contentType ?? '').split(';')[0].trim().toLowerCase() === PROTOBUF_CONTENT_TYPE;

/**
 * The message of `group/version/Kind` (core kinds as `v1/Kind`), if the table has it. Options
 * kinds are registered in every group version (client-go sends `apps/v1` DeleteOptions through
 * an apps client), all as the one meta.k8s.io message.
 */
export const messageOf = (gvk: string): string | undefined => KINDS[gvk] ?? (gvk.endsWith('/DeleteOptions') ? KINDS['v1/DeleteOptions'] : undefined);

/** Older group versions whose message is field for field the newer one (old clients still send them). */
const OLDER_VERSIONS: Readonly<Record<string, string>> = { 'policy/v1beta1/Eviction': 'policy.v1.Eviction' };

/**
 * Decodes a protobuf body into the JSON object it stands for. The kind is the envelope's
 * (`expected`, `group/version/Kind`, when the envelope names none). 415 for kinds the table
 * does not have, 400 for malformed bodies.
 */
export function decodeProtobuf(body: Buffer, expected?: string): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw badRequest('provided object is not a Kubernetes protobuf message (no k8s magic prefix)');
  const env = wireFields(body.subarray(4));
  const tm = env.find((f) => f.field === 1)?.value;
  const typeMeta: { apiVersion?: string; kind?: string } = {};
  if (Buffer.isBuffer(tm)) {
    for (const f of wireFields(tm)) {
      if (f.field === 1 && Buffer.isBuffer(f.value)) typeMeta.apiVersion = f.value.toString('utf8');
      if (f.field === 2 && Buffer.isBuffer(f.value)) typeMeta.kind = f.value.toString('utf8');
    }
  }
  const enc = env.find((f) => f.field === 3)?.value;
  if (Buffer.isBuffer(enc) && enc.length > 0) throw badRequest(`protobuf content encoding ${JSON.stringify(enc.toString())} is not supported`);
  const gvk = typeMeta.apiVersion && typeMeta.kind ? `${typeMeta.apiVersion}/${typeMeta.kind}` : expected;
  const message = gvk ? messageOf(gvk) ?? OLDER_VERSIONS[gvk] : undefined;
  if (!message) {
    throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, ${PROTOBUF_CONTENT_TYPE} (no protobuf message for ${gvk ?? 'an envelope without apiVersion/kind'})`);
  }
  const raw = env.find((f) => f.field === 2)?.value;
  const obj = (Buffer.isBuffer(raw) ? decodeMessage(raw, message, '') : {}) as Record<string, unknown>;
  return { ...(typeMeta.apiVersion ? { apiVersion: typeMeta.apiVersion } : {}), ...(typeMeta.kind ? { kind: typeMeta.kind } : {}), ...obj };
}

// ---------------------------------------------------------------------------------------------
// Encoding

const varintBytes = (v: bigint): number[] => {
  let x = BigInt.asUintN(64, v);
  const out: number[] = [];
  while (x > 0x7fn) { out.push(Number(x & 0x7fn) | 0x80); x >>= 7n; }
  out.push(Number(x));
  return out;
};
const tag = (field: number, wire: number): number[] => varintBytes(BigInt((field << 3) | wire));
const lenDelimited = (field: number, b: Buffer): Buffer => Buffer.concat([Buffer.from([...tag(field, 2), ...varintBytes(BigInt(b.length))]), b]);

function toInt(v: unknown): bigint {
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.trunc(v));
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  return 0n;
}

function encodeValue(field: number, type: string, v: unknown): Buffer {
  switch (type) {
    case 's': return lenDelimited(field, Buffer.from(String(v), 'utf8'));
    case 'y': return lenDelimited(field, Buffer.from(String(v), 'base64'));
    case 'i': return Buffer.from([...tag(field, 0), ...varintBytes(toInt(v))]);
    case 'b': return Buffer.from([...tag(field, 0), v ? 1 : 0]);
    case 'd': { const b = Buffer.alloc(8); b.writeDoubleLE(Number(v)); return Buffer.concat([Buffer.from(tag(field, 1)), b]); }
    case 'f': { const b = Buffer.alloc(4); b.writeFloatLE(Number(v)); return Buffer.concat([Buffer.from(tag(field, 5)), b]); }
    default: return lenDelimited(field, encodeMessage(v, type));
  }
}

/** Encodes the JSON value of `message` (the inverse of decodeMessage). */
export function encodeMessage(value: unknown, message: string): Buffer {
  let obj: Record<string, unknown>;
  switch (message) {
    case 'meta.v1.Time':
    case 'meta.v1.MicroTime': obj = typeof value === 'string' ? parseTime(value) : {}; break;
    case 'meta.v1.Duration': obj = { duration: typeof value === 'string' ? Number(parseGoDuration(value)) : 0 }; break;
    case 'api.resource.Quantity': obj = { string: String(value) }; break;
    case 'util.intstr.IntOrString': obj = typeof value === 'string' ? { type: 1, strVal: value } : { type: 0, intVal: value }; break;
    case 'runtime.RawExtension': obj = { raw: Buffer.from(JSON.stringify(value)).toString('base64') }; break;
    case 'meta.v1.FieldsV1': obj = { Raw: Buffer.from(JSON.stringify(value)).toString('base64') }; break;
    default:
      obj = /\.ExtraValue$/.test(message) || message === 'meta.v1.Verbs' ? { items: value }
        : value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : {};
  }
  const parts: Buffer[] = [];
  for (const [n, name, type] of [...fieldsOf(message)].sort((a, b) => a[0] - b[0])) {
    // An inline field's message is made from the parent's own JSON fields.
    const v = INLINE_FIELDS.has(`${message}.${name}`) ? obj : obj[name];
    if (v === undefined || v === null) continue;
    if (type.startsWith('{}')) {
      if (typeof v !== 'object' || Array.isArray(v)) continue;
      for (const key of Object.keys(v).sort()) {
        const entry = (v as Record<string, unknown>)[key];
        const parts2 = [encodeValue(1, 's', key)];
        if (entry !== null && entry !== undefined) parts2.push(encodeValue(2, type.slice(2), entry));
        parts.push(lenDelimited(n, Buffer.concat(parts2)));
      }
    } else if (type.startsWith('[]')) {
      if (!Array.isArray(v)) continue;
      for (const e of v) if (e !== null && e !== undefined) parts.push(encodeValue(n, type.slice(2), e));
    } else parts.push(encodeValue(n, type, v));
  }
  return Buffer.concat(parts);
}

/**
 * Encodes an API object (with apiVersion and kind) as a protobuf body: magic and envelope.
 * Undefined when the table has no message for its kind (the caller answers JSON then).
 */
export function encodeProtobuf(obj: Record<string, unknown>): Buffer | undefined {
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const kind = typeof obj.kind === 'string' ? obj.kind : '';
  const message = messageOf(`${apiVersion}/${kind}`);
  if (!message) return undefined;
  const typeMeta = Buffer.concat([encodeValue(1, 's', apiVersion), encodeValue(2, 's', kind)]);
  return Buffer.concat([MAGIC, lenDelimited(1, typeMeta), lenDelimited(2, encodeMessage(obj, message)), encodeValue(3, 's', ''), encodeValue(4, 's', '')]);
}

/**
 * Whether a response should be protobuf: the Accept header's first media type is protobuf
 * (client-go's typed clients send `application/vnd.kubernetes.protobuf, application/json`) and
 * asks for no other shape (`as=Table`...).
 */
export function acceptsProtobufFirst(accept: string | undefined): boolean {
  const first = (accept ?? '').split(',')[0] ?? '';
  const [type, ...params] = first.split(';').map((s) => s.trim().toLowerCase());
  return type === PROTOBUF_CONTENT_TYPE && !params.some((p) => p.startsWith('as='));
}
