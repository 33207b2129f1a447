import type { Status, StatusCause } from './types.js';

/** Kubernetes `Status.reason` values used by minikube-lite. */
export type StatusReason =
  | 'BadRequest' | 'Unauthorized' | 'Forbidden' | 'NotFound' | 'AlreadyExists' | 'Conflict'
  | 'Invalid' | 'Gone' | 'MethodNotAllowed' | 'UnsupportedMediaType' | 'InternalError'
  | 'ServiceUnavailable' | 'Timeout' | 'Expired' | 'RequestEntityTooLarge' | 'NotAcceptable' | 'TooManyRequests';

/** One field problem, printed as `spec.containers[0].image: Required value`. */
export interface FieldError {
  /** Field path, e.g. `spec.containers[0].image`. */
  field: string;
  /** Kubernetes cause type, e.g. `FieldValueRequired`, `FieldValueInvalid`, `FieldValueDuplicate`. */
  type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueDuplicate' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueTooMany' | 'FieldValueTooLong'
    | 'FieldManagerConflict';
  /** Human detail, e.g. `Required value` or `Invalid value: "Foo": a lowercase RFC 1123 ...`. */
  message: string;
}

/**
 * The one error class of minikube-lite: carries an HTTP status code and a Kubernetes `Status`
 * reason, so the API server can turn it into a `Status` object and the client can turn a
 * `Status` object back into it. User mistakes are ApiErrors; anything else is a bug.
 */
export class ApiError extends Error {
  /** A `continue` token the Status carries in its list metadata (410 for an expired continue). */
  listContinue?: string;

  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly causes: FieldError[] = [],
    readonly details: { name?: string; group?: string; kind?: string } = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The Kubernetes `Status` object for this error. */
  toStatus(): Status {
    const details: Status['details'] = { ...this.details };
    if (this.causes.length) {
      details.causes = this.causes.map((c): StatusCause => ({ reason: c.type, message: c.message, field: c.field }));
    }
    return {
      kind: 'Status', apiVersion: 'v1', metadata: this.listContinue ? { continue: this.listContinue } : {}, status: 'Failure',
      message: this.message, reason: this.reason, details, code: this.code,
    };
  }

  /** Rebuilds an ApiError from a `Status` body received over HTTP. */
  static fromStatus(s: Status, httpCode: number): ApiError {
    const causes: FieldError[] = (s.details?.causes ?? []).map((c) => ({
      field: c.field ?? '', type: (c.reason ?? 'FieldValueInvalid') as FieldError['type'], message: c.message ?? '',
    }));
    return new ApiError(s.code ?? httpCode, (s.reason ?? 'InternalError') as StatusReason, s.message ?? `HTTP ${httpCode}`, causes,
      { name: s.details?.name, group: s.details?.group, kind: s.details?.kind });
  }
}

export const notFound = (resource: string, name: string, group = '') =>
  new ApiError(404, 'NotFound', `${resource}${group ? '.' + group : ''} "${name}" not found`, [], { name, group, kind: resource });
export const alreadyExists = (resource: string, name: string, group = '') =>
  new ApiError(409, 'AlreadyExists', `${resource}${group ? '.' + group : ''} "${name}" already exists`, [], { name, group, kind: resource });
export const conflict = (resource: string, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": ${why}`, [], { name, kind: resource });
export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);
export const gone = (message: string) => new ApiError(410, 'Expired', message);

/**
 * 422 Invalid, with the message Kubernetes prints, the kind qualified by its group outside the
 * core group: `Pod "x" is invalid: spec.containers[0].image: Required value`,
 * `Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: ...`.
 */
export function invalid(kind: string, name: string, causes: FieldError[], group = ''): ApiError {
  // Like Kubernetes' aggregate error, the message lists each distinct problem once.
  const parts = [...new Set(causes.map((c) => `${c.field}: ${c.message}`))];
  const list = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  const qualified = group ? `${kind}.${group}` : kind;
  return new ApiError(422, 'Invalid', `${qualified} "${name}" is invalid: ${list}`, causes, { name, group, kind });
}

export const required = (field: string): FieldError => ({ field, type: 'FieldValueRequired', message: 'Required value' });
export const invalidValue = (field: string, value: unknown, detail: string): FieldError =>
  ({ field, type: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${detail}` });
/**
 * `Invalid value: <value>: <detail>` with the value already formatted, for values Kubernetes
 * prints with Go's `%#v` (maps, structs): `map[string]string{"app":"web"}`.
 */
export const invalidFormatted = (field: string, formatted: string, detail: string): FieldError =>
  ({ field, type: 'FieldValueInvalid', message: `Invalid value: ${formatted}: ${detail}` });
export const duplicate = (field: string, value: unknown): FieldError =>
  ({ field, type: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(value)}` });
export const notSupported = (field: string, value: unknown, supported: string[]): FieldError =>
  ({ field, type: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}` });

/** `Required value: <detail>`, e.g. `metadata.name: Required value: name or generateName is required`. */
export const requiredWithDetail = (field: string, detail: string): FieldError =>
  ({ field, type: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value' });
/** `Forbidden: <detail>`, e.g. `spec: Forbidden: pod updates may not change fields other than ...`. */
export const forbidden = (field: string, detail: string): FieldError =>
  ({ field, type: 'FieldValueForbidden', message: `Forbidden: ${detail}` });
/**
 * `Not found: "<value>"`, e.g. `spec.containers[0].volumeMounts[0].name: Not found: "html"`.
 * Kubernetes' cause reason is `FieldValueNotFound`, which `FieldError['type']` does not list, so
 * the cause carries `FieldValueInvalid`; the message is Kubernetes' own.
 */
export const notFoundValue = (field: string, value: unknown): FieldError =>
  ({ field, type: 'FieldValueInvalid', message: `Not found: ${JSON.stringify(value)}` });

/** `Too long: must have at most <n> bytes`, e.g. a ConfigMap over 1 MiB (Kubernetes' `field.TooLong`). */
export const tooLong = (field: string, maxBytes: number): FieldError =>
  ({ field, type: 'FieldValueTooLong', message: `Too long: must have at most ${maxBytes} bytes` });

/** `Too many: <n>: must have at most <max> items`, e.g. an EndpointSlice with more than 1000 endpoints. */
export const tooMany = (field: string, actual: number, max: number): FieldError =>
  ({ field, type: 'FieldValueTooMany', message: `Too many: ${actual}: must have at most ${max} items` });
