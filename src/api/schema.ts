/**
 * The type check every object goes through before anything reads it: the decoded JSON of a
 * request is compared with the field types of its kind (`schema.data.ts`, generated from the
 * Kubernetes OpenAPI models), as Kubernetes' decoder does when it unmarshals JSON into Go
 * structs. Defaulting, validation and the store then only ever see values of the declared
 * types; a wrong type is a 400 naming the field, never a crash.
 *
 * As in Kubernetes, fields the kind does not have are dropped from the object, and reported
 * according to `fieldValidation`: `Strict` refuses them (and duplicate fields) with 400,
 * `Warn` (the default) returns them as warnings, `Ignore` drops them silently.
 */
import { ApiError, type FieldError } from './errors.js';
import { FIELD_TYPES, KIND_TYPES } from './schema.data.js';

/** How unknown and duplicate fields are treated (the `fieldValidation` query parameter). */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';
export const FIELD_VALIDATION_MODES: readonly FieldValidation[] = ['Ignore', 'Strict', 'Warn'];

/** What decoding found besides type errors (which throw). */
export interface DecodeReport {
  /** Paths of the fields dropped because the kind has no such field, e.g. `spec.foo`. */
  unknown: string[];
}

const INT32 = 2 ** 31;
const INT64 = 2 ** 63;

/** Go's name for a JSON value in `cannot unmarshal X into ...`. */
function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  return 'object';
}

/** Go's spelling of a field type reference, for messages (`[]v1.Container`, `map[string]string`). */
function goType(ref: string): string {
  if (ref.startsWith('[]')) return `[]${goType(ref.slice(2))}`;
  if (ref.startsWith('{}')) return `map[string]${goType(ref.slice(2))}`;
  switch (ref) {
    case 's': return 'string';
    case 'i32': return 'int32';
    case 'i64': return 'int64';
    case 'f': return 'float64';
    case 'b': return 'bool';
    case 'q': return 'resource.Quantity';
    case 'io': return 'intstr.IntOrString';
    case '*': return 'interface {}';
    default: return `v1.${ref}`;
  }
}

/** The value Go uses for a null inside an array (a zero value). */
function zero(ref: string): unknown {
  if (ref.startsWith('[]') || ref.startsWith('{}') || ref === '*' || ref === 'q' || ref === 'io') return null;
  switch (ref) {
    case 's': return '';
    case 'i32': case 'i64': case 'f': return 0;
    case 'b': return false;
    default: return {};
  }
}

interface Walk {
  unknown: string[];
  errors: { struct: string; goPath: string; path: string; value: string; type: string }[];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Checks `value` against `ref` in place (pruning unknown fields and null struct fields).
 * `path` is the user-facing path (with indices), `goPath` Go's (without), `struct` the
 * innermost struct type, as Go's UnmarshalTypeError names them.
 */
function check(value: unknown, ref: string, path: string, goPath: string, struct: string, w: Walk): void {
  if (value === null || value === undefined || ref === '*') return;
  const fail = (what = jsonKind(value)): void => {
    if (w.errors.length < 20) w.errors.push({ struct, goPath, path, value: what, type: goType(ref) });
  };
  if (ref.startsWith('[]')) {
    if (!Array.isArray(value)) return fail();
    const inner = ref.slice(2);
    value.forEach((v, i) => {
      if (v === null) value[i] = zero(inner);
      else check(v, inner, `${path}[${i}]`, goPath, struct, w);
    });
    return;
  }
  if (ref.startsWith('{}')) {
    if (!isPlainObject(value)) return fail();
    const inner = ref.slice(2);
    for (const [k, v] of Object.entries(value)) check(v, inner, `${path}.${k}`, goPath, struct, w);
    return;
  }
  switch (ref) {
    case 's':
      if (typeof value !== 'string') fail();
      return;
    case 'b':
      if (typeof value !== 'boolean') fail();
      return;
    case 'f':
      if (typeof value !== 'number') fail();
      return;
    case 'i32':
    case 'i64': {
      if (typeof value !== 'number') return fail();
      const bound = ref === 'i32' ? INT32 : INT64;
      if (!Number.isInteger(value) || value >= bound || value < -bound) fail(`number ${String(value)}`);
      return;
    }
    case 'q':
      if (typeof value !== 'string' && typeof value !== 'number') fail();
      return;
    case 'io':
      if (typeof value === 'string') return;
      if (typeof value !== 'number') return fail();
      if (!Number.isInteger(value) || value >= INT32 || value < -INT32) fail(`number ${String(value)}`);
      return;
    default:
      break;
  }
  const fields = FIELD_TYPES[ref];
  if (!isPlainObject(value)) return fail();
  if (!fields) return;
  for (const k of Object.keys(value)) {
    const p = path ? `${path}.${k}` : k;
    const fieldRef = fields[k];
    if (fieldRef === undefined) {
      w.unknown.push(p);
      delete value[k];
      continue;
    }
    if (value[k] === null) {
      delete value[k];
      continue;
    }
    check(value[k], fieldRef, p, goPath ? `${goPath}.${k}` : k, ref, w);
  }
}

/** The generated type name of a kind, or undefined when the table does not know it. */
export function schemaTypeOf(apiVersion: string, kind: string): string | undefined {
  return KIND_TYPES[`${apiVersion}/${kind}`];
}

/**
 * Type-checks `obj`, a decoded request body for `kind` in `apiVersion`, in place: unknown
 * fields are removed (and returned), null struct fields dropped. Throws a 400 ApiError, worded
 * as Kubernetes' decoder words it (`Pod in version "v1" cannot be handled as a Pod: json:
 * cannot unmarshal array into Go struct field ObjectMeta.metadata.name of type string`), at
 * the first wrong type, with every wrong type found as a cause. Kinds the table does not know
 * get their `metadata` checked only.
 */
export function decodeObject(apiVersion: string, kind: string, obj: Record<string, unknown>): DecodeReport {
  const w: Walk = { unknown: [], errors: [] };
  const type = schemaTypeOf(apiVersion, kind);
  if (type) check(obj, type, '', '', type, w);
  else if (obj.metadata !== undefined) check(obj.metadata, 'ObjectMeta', 'metadata', 'metadata', kind, w);
  if (w.errors.length) {
    const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
    const first = w.errors[0];
    const causes: FieldError[] = w.errors.map((e) => ({
      field: e.path, type: 'FieldValueInvalid', message: `Invalid value: ${e.value}: must be of type ${e.type}`,
    }));
    throw new ApiError(400, 'BadRequest',
      `${kind} in version "${version}" cannot be handled as a ${kind}: json: cannot unmarshal ${first.value} into Go struct field ${first.struct}.${first.goPath} of type ${first.type}`,
      causes);
  }
  return { unknown: w.unknown };
}

/**
 * Applies the `fieldValidation` mode to what decoding and the JSON scan found: Strict throws
 * 400 `<Kind> in version "v1" cannot be handled as a <Kind>: strict decoding error: unknown
 * field "spec.foo", duplicate field "spec.replicas"`; Warn returns those as warnings; Ignore
 * returns none. For a patched object (`patched`) the message is only `strict decoding error: …`,
 * as Kubernetes' patch handler words it (it decodes the patched map, not a request body).
 */
export function fieldProblems(mode: FieldValidation, apiVersion: string, kind: string, unknown: readonly string[], duplicates: readonly string[], patched = false): string[] {
  if (mode === 'Ignore') return [];
  const problems = [...duplicates.map((p) => `duplicate field "${p}"`), ...unknown.map((p) => `unknown field "${p}"`)];
  if (mode === 'Strict' && problems.length) {
    const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
    const prefix = patched ? '' : `${kind} in version "${version}" cannot be handled as a ${kind}: `;
    throw new ApiError(400, 'BadRequest', `${prefix}strict decoding error: ${problems.join(', ')}`);
  }
  return problems;
}
