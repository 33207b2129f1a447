/**
 * Validation of the volume sources that carry configuration into pods (`configMap`, `secret`,
 * `downwardAPI`, `projected`) and of the downward-API selectors shared with `env.valueFrom`, as
 * `pkg/apis/core/validation` does it, plus minikube-lite's refusal of every volume type its
 * kubelet does not implement: a volume is never silently dropped.
 *
 * Pure functions returning every problem found with its field path.
 */
import type { DownwardAPIVolumeFile, KeyToPath, ResourceFieldSelector, Volume, VolumeProjection } from './types.js';
import { forbidden, invalidValue, notSupported, required, type FieldError } from './errors.js';
import { isQualifiedName } from './names.js';
import { formatQuantity, parseQuantity } from './quantity.js';

/** The volume sources the kubelet implements (`persistentVolumeClaim` by the storage work). */
export const SUPPORTED_VOLUME_SOURCES = ['configMap', 'downwardAPI', 'emptyDir', 'hostPath', 'persistentVolumeClaim', 'projected', 'secret'] as const;

/** Paths a `fieldRef` in an env var may name. */
export const ENV_FIELD_PATHS = [
  'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName',
  'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs',
];
/** Paths a `fieldRef` in a downwardAPI volume may name (labels/annotations also subscripted). */
export const VOLUME_FIELD_PATHS = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];
/** Field labels the downward API converts (a superset of what env vars and volumes may use). */
const DOWNWARD_LABELS = [...ENV_FIELD_PATHS, 'metadata.annotations', 'metadata.labels', 'spec.restartPolicy', 'spec.schedulerName', 'status.phase'];
const RESOURCE_FIELD_PATHS = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];
const CPU_DIVISORS = ['1m', '1'];
const BYTE_DIVISORS = ['1', '1k', '1M', '1G', '1T', '1P', '1E', '1Ki', '1Mi', '1Gi', '1Ti', '1Pi', '1Ei'];
const FILE_MODE_ERROR = 'must be a number between 0 and 0777 (octal), both inclusive';
/** Kubernetes' shortest projected token lifetime (10 minutes) and its longest (2^32 s). */
const MIN_TOKEN_SECONDS = 600;
const MAX_TOKEN_SECONDS = 2 ** 32;

/** `metadata.labels['app']` → [`metadata.labels`, `app`]. */
export function splitSubscriptedPath(fieldPath: string): [string, string] | undefined {
  if (!fieldPath.endsWith("']")) return undefined;
  const inner = fieldPath.slice(0, -2);
  const at = inner.indexOf("['");
  if (at <= 0) return undefined;
  return [inner.slice(0, at), inner.slice(at + 2)];
}

/** A `fieldRef` (`validateObjectFieldSelector`), with the paths allowed where it appears. */
export function validateFieldRef(ref: { apiVersion?: string; fieldPath: string }, path: string, allowed: readonly string[]): FieldError[] {
  if (!ref.apiVersion) return [required(`${path}.apiVersion`)];
  if (!ref.fieldPath) return [required(`${path}.fieldPath`)];
  const sub = splitSubscriptedPath(ref.fieldPath);
  let convertError: string | undefined;
  if (ref.apiVersion !== 'v1') convertError = `unsupported pod version: ${ref.apiVersion}`;
  else if (sub && sub[0] !== 'metadata.annotations' && sub[0] !== 'metadata.labels') convertError = `field label does not support subscript: ${ref.fieldPath}`;
  else if (!sub && !DOWNWARD_LABELS.includes(ref.fieldPath) && ref.fieldPath !== 'spec.host') convertError = `field label not supported: ${ref.fieldPath}`;
  if (convertError) return [invalidValue(`${path}.fieldPath`, ref.fieldPath, `error converting fieldPath: ${convertError}`)];
  if (sub) {
    const key = sub[0] === 'metadata.annotations' ? sub[1].toLowerCase() : sub[1];
    return isQualifiedName(key).map((msg) => invalidValue(path, key, msg));
  }
  const fieldPath = ref.fieldPath === 'spec.host' ? 'spec.nodeName' : ref.fieldPath;
  return allowed.includes(fieldPath) ? [] : [notSupported(`${path}.fieldPath`, fieldPath, [...allowed])];
}

/**
 * A `resourceFieldRef` (`validateContainerResourceFieldSelector`): in a volume it must name its
 * container; the resource must be a known one; the divisor one Kubernetes allows for it.
 */
export function validateResourceFieldRef(ref: ResourceFieldSelector, path: string, volume: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const r = ref.resource ?? '';
  if (volume && !ref.containerName) errs.push(required(`${path}.containerName`));
  else if (!r) errs.push(required(`${path}.resource`));
  else if (!RESOURCE_FIELD_PATHS.includes(r) && !/^(limits|requests)\.hugepages-/.test(r)) errs.push(notSupported(`${path}.resource`, r, RESOURCE_FIELD_PATHS));
  if (ref.divisor !== undefined && ref.divisor !== null && ref.divisor !== '') {
    const q = parseQuantity(ref.divisor);
    if (!q.ok) errs.push(invalidValue(`${path}.divisor`, ref.divisor, q.error));
    else if (q.quantity.nanos !== 0n) {
      const d = formatQuantity(q.quantity);
      if (/\.cpu$/.test(r) && !CPU_DIVISORS.includes(d)) {
        errs.push(invalidValue(`${path}.divisor`, r, "only divisor's values 1m and 1 are supported with the cpu resource"));
      } else if (/\.memory$/.test(r) && !BYTE_DIVISORS.includes(d)) {
        errs.push(invalidValue(`${path}.divisor`, r, `only divisor's values ${BYTE_DIVISORS.join(', ')} are supported with the memory resource`));
      } else if (/\.ephemeral-storage$/.test(r) && !BYTE_DIVISORS.includes(d)) {
        errs.push(invalidValue(`${path}.divisor`, r, `only divisor's values ${BYTE_DIVISORS.join(', ')} are supported with the local ephemeral storage resource`));
      }
    }
  }
  return errs;
}

/** A file mode (`defaultMode`, `mode`): 0 to 0777. */
function modeErrors(mode: number | undefined | null, path: string): FieldError[] {
  if (mode === undefined || mode === null) return [];
  return Number.isInteger(mode) && mode >= 0 && mode <= 0o777 ? [] : [invalidValue(path, mode, FILE_MODE_ERROR)];
}

/** A relative path inside the volume: not absolute, no `..` element, not starting with `..`. */
function localNonReservedPath(target: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (target.startsWith('/')) errs.push(invalidValue(path, target, 'must be a relative path'));
  if (target.split('/').includes('..')) errs.push(invalidValue(path, target, "must not contain '..'"));
  if (target.startsWith('..')) errs.push(invalidValue(path, target, "must not start with '..'"));
  return errs;
}

function validateKeyToPath(kp: KeyToPath, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!kp.key) errs.push(required(`${path}.key`));
  if (!kp.path) errs.push(required(`${path}.path`));
  errs.push(...localNonReservedPath(kp.path ?? '', `${path}.path`));
  errs.push(...modeErrors(kp.mode, `${path}.mode`));
  return errs;
}

function validateDownwardAPIFile(file: DownwardAPIVolumeFile, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!file.path) errs.push(required(`${path}.path`));
  errs.push(...localNonReservedPath(file.path ?? '', `${path}.path`));
  if (file.fieldRef) {
    errs.push(...validateFieldRef(file.fieldRef, `${path}.fieldRef`, VOLUME_FIELD_PATHS));
    if (file.resourceFieldRef) errs.push(invalidValue(path, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  } else if (file.resourceFieldRef) {
    errs.push(...validateResourceFieldRef(file.resourceFieldRef, `${path}.resourceFieldRef`, true));
  } else {
    errs.push({ field: path, type: 'FieldValueRequired', message: 'Required value: one of fieldRef and resourceFieldRef is required' });
  }
  errs.push(...modeErrors(file.mode, `${path}.mode`));
  return errs;
}

const items = <T>(x: readonly T[] | undefined | null): readonly T[] =>
  (Array.isArray(x) ? x.filter((e): e is T => typeof e === 'object' && e !== null) : []);

/**
 * The sources of a projected volume. Every file path must be unique across sources: a path
 * written twice is refused at the item that writes it again
 * (`…projected.sources[1].configMap.items[0].path: Invalid value: "a": conflicting duplicate paths`).
 * Kubernetes reports this against `…projected` itself; minikube-lite names the exact item.
 */
function validateProjectionSources(sources: readonly VolumeProjection[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const paths = new Set<string>();
  const claim = (p: string | undefined, at: string): void => {
    if (!p) return;
    if (paths.has(p)) errs.push(invalidValue(at, p, 'conflicting duplicate paths'));
    else paths.add(p);
  };
  sources.forEach((src, i) => {
    const sp = `${path}.sources[${i}]`;
    let n = 0;
    if (src.secret) {
      n++;
      if (!src.secret.name) errs.push(required(`${sp}.secret.name`));
      items(src.secret.items).forEach((kp, j) => {
        errs.push(...validateKeyToPath(kp, `${sp}.secret.items[${j}]`));
        claim(kp.path, `${sp}.secret.items[${j}].path`);
      });
    }
    if (src.configMap) {
      n++;
      if (!src.configMap.name) errs.push(required(`${sp}.configMap.name`));
      items(src.configMap.items).forEach((kp, j) => {
        errs.push(...validateKeyToPath(kp, `${sp}.configMap.items[${j}]`));
        claim(kp.path, `${sp}.configMap.items[${j}].path`);
      });
    }
    if (src.downwardAPI) {
      n++;
      items(src.downwardAPI.items).forEach((f, j) => {
        errs.push(...validateDownwardAPIFile(f, `${sp}.downwardAPI.items[${j}]`));
        claim(f.path, `${sp}.downwardAPI.items[${j}].path`);
      });
    }
    if (src.serviceAccountToken) {
      n++;
      const t = src.serviceAccountToken;
      const secs = t.expirationSeconds ?? 3600;
      if (secs < MIN_TOKEN_SECONDS) errs.push(invalidValue(`${sp}.serviceAccountToken.expirationSeconds`, secs, 'may not specify a duration less than 10 minutes'));
      if (secs > MAX_TOKEN_SECONDS) errs.push(invalidValue(`${sp}.serviceAccountToken.expirationSeconds`, secs, 'may not specify a duration larger than 2^32 seconds'));
      if (!t.path) errs.push(required(`${sp}.serviceAccountToken.path`));
      else errs.push(...localNonReservedPath(t.path, `${sp}.serviceAccountToken.path`));
      claim(t.path, `${sp}.serviceAccountToken.path`);
    }
    if ((src as { clusterTrustBundle?: unknown }).clusterTrustBundle) {
      n++;
      errs.push(forbidden(`${sp}.clusterTrustBundle`, 'clusterTrustBundle projections are not supported by minikube-lite'));
    }
    if (n > 1) errs.push(forbidden(sp, 'may not specify more than 1 volume type per source'));
  });
  return errs;
}

/**
 * The checks of one volume source beyond `emptyDir` and `hostPath` (which podvalidation does):
 * the configuration sources in depth; `persistentVolumeClaim` is left to the storage
 * validation; every other type is refused, since the kubelet would not set it up.
 */
export function validateVolumeSourceDetail(source: string, vol: Volume, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const p = `${path}.${source}`;
  if (source === 'configMap' && vol.configMap) {
    if (!vol.configMap.name) errs.push(required(`${p}.name`));
    errs.push(...modeErrors(vol.configMap.defaultMode, `${p}.defaultMode`));
    items(vol.configMap.items).forEach((kp, i) => errs.push(...validateKeyToPath(kp, `${p}.items[${i}]`)));
  } else if (source === 'secret' && vol.secret) {
    if (!vol.secret.secretName) errs.push(required(`${p}.secretName`));
    errs.push(...modeErrors(vol.secret.defaultMode, `${p}.defaultMode`));
    items(vol.secret.items).forEach((kp, i) => errs.push(...validateKeyToPath(kp, `${p}.items[${i}]`)));
  } else if (source === 'downwardAPI' && vol.downwardAPI) {
    errs.push(...modeErrors(vol.downwardAPI.defaultMode, `${p}.defaultMode`));
    items(vol.downwardAPI.items).forEach((f, i) => errs.push(...validateDownwardAPIFile(f, `${p}.items[${i}]`)));
  } else if (source === 'projected' && vol.projected) {
    errs.push(...modeErrors(vol.projected.defaultMode, `${p}.defaultMode`));
    errs.push(...validateProjectionSources(items(vol.projected.sources), p));
  } else if (!(SUPPORTED_VOLUME_SOURCES as readonly string[]).includes(source)) {
    errs.push(forbidden(p, `${source} volumes are not supported by minikube-lite (supported: ${SUPPORTED_VOLUME_SOURCES.join(', ')})`));
  }
  return errs;
}
