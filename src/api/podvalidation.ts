/**
 * Pod validation, as `pkg/apis/core/validation/validation.go` (`ValidatePodCreate`,
 * `ValidatePodUpdate`) does it, with Kubernetes' field paths and messages, e.g.
 * `spec.containers[1].name: Duplicate value: "web"`.
 *
 * Expects defaults already applied (`applyPodDefaults`), as the API server does: a missing
 * `restartPolicy` or port `protocol` is reported `Required value`, as Kubernetes would.
 * Pure functions; they never throw for user mistakes.
 */
import type { EphemeralContainer } from 'kubernetes-types/core/v1.js';
import type {
  Container, ContainerPort, EnvVar, EnvFromSource, LifecycleHandler, Pod, PodSpec, Probe,
  ResourceRequirements, Toleration, Volume, VolumeMount,
} from './types.js';
import type { FieldError } from './errors.js';
import { duplicate, forbidden, invalidValue, notFoundValue, notSupported, required, requiredWithDetail } from './errors.js';
import {
  inclusiveRangeError, isConfigMapKey, isDNS1123Label, isDNS1123Subdomain, isEnvVarName, isQualifiedName, isValidLabelValue,
  isValidPortName, isValidPortNum, nameIsDNSSubdomain, regexError,
} from './names.js';
import { validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './metavalidation.js';
import { formatQuantity, parseQuantity, type Quantity } from './quantity.js';
import { VOLUME_SOURCES } from './defaults.js';
import { ENV_FIELD_PATHS, validateFieldRef, validateResourceFieldRef, validateVolumeSourceDetail } from './volumevalidation.js';

export { splitSubscriptedPath } from './volumevalidation.js';
import { validatePodDNS } from './dnsvalidation.js';

const MAX_INT32 = 2147483647;
const NEGATIVE = 'must be greater than or equal to 0';

/** The fields of a running pod's spec that an update may change, as Kubernetes lists them. */
export const POD_UPDATE_FORBIDDEN_MESSAGE = 'pod updates may not change fields other than ' + [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
].join(',');

/**
 * The object elements of a list field. Malformed JSON (a string where a list belongs, `null`
 * items) is the decoder's to report; here it must only not crash validation.
 */
const list = <T>(x: readonly T[] | undefined | null): readonly T[] =>
  (Array.isArray(x) ? x.filter((e): e is T => typeof e === 'object' && e !== null) : []);

// ---- volumes ----

const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];
const EMPTY_DIR_MEDIA = ['', 'Memory'];

function validatePathNoBacksteps(target: string, path: string): FieldError[] {
  return target.split('/').includes('..') ? [invalidValue(path, target, "must not contain '..'")] : [];
}

function validateLocalDescendingPath(target: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (target.startsWith('/')) errs.push(invalidValue(path, target, 'must be a relative path'));
  errs.push(...validatePathNoBacksteps(target, path));
  return errs;
}

function validateVolumeSource(vol: Volume, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const sources = vol as unknown as Record<string, unknown>;
  let count = 0;
  for (const source of VOLUME_SOURCES) {
    if (sources[source] === undefined || sources[source] === null) continue;
    if (count > 0) {
      errs.push(forbidden(`${path}.${source}`, 'may not specify more than 1 volume type'));
      continue;
    }
    count++;
    if (source === 'emptyDir' && vol.emptyDir) {
      const p = `${path}.emptyDir`;
      const medium = vol.emptyDir.medium ?? '';
      if (!EMPTY_DIR_MEDIA.includes(medium)) errs.push(notSupported(`${p}.medium`, medium, EMPTY_DIR_MEDIA));
      const limit = vol.emptyDir.sizeLimit;
      if (limit !== undefined) {
        const q = parseQuantity(limit);
        if (!q.ok) errs.push(invalidValue(`${p}.sizeLimit`, limit, q.error));
        else if (q.quantity.nanos < 0n) errs.push(forbidden(`${p}.sizeLimit`, 'SizeLimit field must be a valid resource quantity'));
      }
    } else if (source === 'hostPath' && vol.hostPath) {
      const p = `${path}.hostPath`;
      if (!vol.hostPath.path) {
        errs.push(required(`${p}.path`));
      } else {
        // Kubernetes itself admits relative paths (then resolved by the kubelet's working
        // directory); minikube-lite's kubelet shares this machine's filesystem, so it refuses them.
        if (!vol.hostPath.path.startsWith('/')) errs.push(invalidValue(`${p}.path`, vol.hostPath.path, 'must be an absolute path'));
        errs.push(...validatePathNoBacksteps(vol.hostPath.path, `${p}.path`));
        const type = vol.hostPath.type;
        if (type !== undefined && !HOST_PATH_TYPES.includes(type)) errs.push(notSupported(`${p}.type`, type, HOST_PATH_TYPES));
      }
    } else {
      errs.push(...validateVolumeSourceDetail(source, vol, path));
    }
  }
  if (count === 0) errs.push(requiredWithDetail(path, 'must specify a volume type'));
  return errs;
}

/**
 * Volumes: DNS-1123 label names, no duplicates, exactly one source (hostPath and emptyDir are
 * checked in depth). Returns the names of the valid volumes, which mounts may refer to.
 */
function validateVolumes(volumes: readonly Volume[], path: string): { names: Set<string>; errs: FieldError[] } {
  const names = new Set<string>();
  const errs: FieldError[] = [];
  volumes.forEach((vol, i) => {
    const p = `${path}[${i}]`;
    const el = validateVolumeSource(vol, p);
    const name = vol.name ?? '';
    if (!name) el.push(required(`${p}.name`));
    else for (const msg of isDNS1123Label(name)) el.push(invalidValue(`${p}.name`, name, msg));
    if (names.has(name)) el.push(duplicate(`${p}.name`, name));
    if (el.length === 0) names.add(name);
    else errs.push(...el);
  });
  return { names, errs };
}

function validateVolumeMounts(c: Container, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  list<VolumeMount>(c.volumeMounts).forEach((m, i) => {
    const p = `${path}[${i}]`;
    const name = m.name ?? '';
    const mountPath = m.mountPath ?? '';
    if (!name) errs.push(required(`${p}.name`));
    if (!volumes.has(name)) errs.push(notFoundValue(`${p}.name`, name));
    if (!mountPath) errs.push(required(`${p}.mountPath`));
    if (mountPoints.has(mountPath)) errs.push(invalidValue(`${p}.mountPath`, mountPath, 'must be unique'));
    mountPoints.add(mountPath);
    if (m.subPath) errs.push(...validateLocalDescendingPath(m.subPath, `${p}.subPath`));
    if (m.subPathExpr) {
      if (m.subPath) errs.push(invalidValue(`${p}.subPathExpr`, m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(m.subPathExpr, `${p}.subPathExpr`));
    }
    if (m.mountPropagation !== undefined) {
      const modes = ['Bidirectional', 'HostToContainer', 'None'];
      if (!modes.includes(m.mountPropagation)) errs.push(notSupported(`${p}.mountPropagation`, m.mountPropagation, modes));
      if (m.mountPropagation === 'Bidirectional' && !c.securityContext?.privileged) {
        errs.push(forbidden(`${p}.mountPropagation`, 'Bidirectional mount propagation is available only to privileged containers'));
      }
    }
  });
  return errs;
}

// ---- ports, env, resources ----

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function validateContainerPorts(ports: readonly ContainerPort[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = `${path}[${i}]`;
    if (port.name) {
      const msgs = isValidPortName(port.name);
      if (msgs.length) for (const msg of msgs) errs.push(invalidValue(`${p}.name`, port.name, msg));
      else if (names.has(port.name)) errs.push(duplicate(`${p}.name`, port.name));
      else names.add(port.name);
    }
    if (!port.containerPort) errs.push(required(`${p}.containerPort`));
    else for (const msg of isValidPortNum(port.containerPort)) errs.push(invalidValue(`${p}.containerPort`, port.containerPort, msg));
    if (port.hostPort) for (const msg of isValidPortNum(port.hostPort)) errs.push(invalidValue(`${p}.hostPort`, port.hostPort, msg));
    if (!port.protocol) errs.push(required(`${p}.protocol`));
    else if (!PROTOCOLS.includes(port.protocol)) errs.push(notSupported(`${p}.protocol`, port.protocol, PROTOCOLS));
  });
  return errs;
}

/** Host ports may not collide: `spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"`. */
function checkHostPortConflicts(containers: readonly Container[], path: string, seen = new Set<string>()): FieldError[] {
  const errs: FieldError[] = [];
  containers.forEach((c, ci) => {
    list(c.ports).forEach((port, pi) => {
      if (!port.hostPort) return;
      const key = `${port.protocol ?? ''}/${port.hostIP ?? ''}/${port.hostPort}`;
      if (seen.has(key)) errs.push(duplicate(`${path}[${ci}].ports[${pi}].hostPort`, key));
      else seen.add(key);
    });
  });
  return errs;
}

/**
 * Two ports of the pod's containers declaring the same containerPort and protocol. Kubernetes
 * only warns about this; minikube-lite rejects it, because all containers share the pod's
 * network namespace and the second one could never bind.
 */
function checkDuplicateContainerPorts(containers: readonly Container[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((c, ci) => {
    list(c.ports).forEach((port, pi) => {
      if (!port.containerPort || isValidPortNum(port.containerPort).length) return;
      const key = `${port.containerPort}/${port.protocol || 'TCP'}`;
      if (seen.has(key)) errs.push(duplicate(`${path}[${ci}].ports[${pi}].containerPort`, port.containerPort));
      else seen.add(key);
    });
  });
  return errs;
}

function validateKeySelector(sel: { name?: string; key: string }, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = sel.name ?? '';
  for (const msg of nameIsDNSSubdomain(name, false)) errs.push(invalidValue(`${path}.name`, name, msg));
  if (!sel.key) errs.push(required(`${path}.key`));
  else for (const msg of isConfigMapKey(sel.key)) errs.push(invalidValue(`${path}.key`, sel.key, msg));
  return errs;
}

function validateEnvValueFrom(ev: EnvVar, path: string): FieldError[] {
  const from = ev.valueFrom;
  if (!from) return [];
  const errs: FieldError[] = [];
  let sources = 0;
  if (from.fieldRef) { sources++; errs.push(...validateFieldRef(from.fieldRef, `${path}.fieldRef`, ENV_FIELD_PATHS)); }
  if (from.resourceFieldRef) { sources++; errs.push(...validateResourceFieldRef(from.resourceFieldRef, `${path}.resourceFieldRef`, false)); }
  if (from.configMapKeyRef) { sources++; errs.push(...validateKeySelector(from.configMapKeyRef, `${path}.configMapKeyRef`)); }
  if (from.secretKeyRef) { sources++; errs.push(...validateKeySelector(from.secretKeyRef, `${path}.secretKeyRef`)); }
  if (sources === 0) errs.push(invalidValue(path, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
  else if (ev.value) errs.push(invalidValue(path, '', 'may not be specified when `value` is not empty'));
  else if (sources > 1) errs.push(invalidValue(path, '', 'may not have more than one field specified at a time'));
  return errs;
}

function validateEnv(env: readonly EnvVar[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  env.forEach((ev, i) => {
    const p = `${path}[${i}]`;
    if (!ev.name) errs.push(required(`${p}.name`));
    else for (const msg of isEnvVarName(ev.name)) errs.push(invalidValue(`${p}.name`, ev.name, msg));
    errs.push(...validateEnvValueFrom(ev, `${p}.valueFrom`));
  });
  return errs;
}

function validateEnvFrom(envFrom: readonly EnvFromSource[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  envFrom.forEach((ef, i) => {
    const p = `${path}[${i}]`;
    if (ef.prefix) for (const msg of isEnvVarName(ef.prefix)) errs.push(invalidValue(`${p}.prefix`, ef.prefix, msg));
    let sources = 0;
    for (const [field, ref] of [['configMapRef', ef.configMapRef], ['secretRef', ef.secretRef]] as const) {
      if (!ref) continue;
      sources++;
      if (!ref.name) errs.push(required(`${p}.${field}.name`));
      else for (const msg of nameIsDNSSubdomain(ref.name, true)) errs.push(invalidValue(`${p}.${field}.name`, ref.name, msg));
    }
    if (sources === 0) errs.push(invalidValue(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (sources > 1) errs.push(invalidValue(path, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

const STANDARD_CONTAINER_RESOURCES = ['cpu', 'memory', 'ephemeral-storage'];
const isHugePages = (name: string): boolean => name.startsWith('hugepages-');
const isNative = (name: string): boolean => !name.includes('/') || name.includes('kubernetes.io/');
/** Extended resources (`example.com/gpu`) cannot be overcommitted; neither can huge pages. */
const overcommitAllowed = (name: string): boolean => isNative(name) && !isHugePages(name);

/** Resource names Kubernetes knows without a domain prefix (`IsStandardResourceName`). */
const STANDARD_RESOURCES = [
  'cpu', 'memory', 'ephemeral-storage', 'storage', 'pods', 'services', 'replicationcontrollers', 'resourcequotas',
  'secrets', 'configmaps', 'persistentvolumeclaims', 'services.nodeports', 'services.loadbalancers',
  'requests.cpu', 'requests.memory', 'requests.storage', 'requests.ephemeral-storage',
  'limits.cpu', 'limits.memory', 'limits.ephemeral-storage',
];

function validateResourceName(name: string, path: string): FieldError[] {
  const errs = isQualifiedName(name).map((msg) => invalidValue(path, name, msg));
  if (errs.length === 0 && !name.includes('/') && !STANDARD_RESOURCES.includes(name) && !/^(requests\.)?hugepages-/.test(name)) {
    errs.push(invalidValue(path, name, 'must be a standard resource type or fully qualified'));
  }
  if (!name.includes('/')) {
    if (!STANDARD_CONTAINER_RESOURCES.includes(name) && !isHugePages(name)) errs.push(invalidValue(path, name, 'must be a standard resource for containers'));
  } else if (!isNative(name) && (name.startsWith('requests.') || isQualifiedName(`requests.${name}`).length > 0)) {
    errs.push(invalidValue(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

/** Parses and checks one quantity of a resource list; returns it when well-formed. */
export function checkQuantity(name: string, raw: unknown, path: string, errs: FieldError[]): Quantity | undefined {
  const q = typeof raw === 'string' || typeof raw === 'number' ? parseQuantity(raw) : undefined;
  if (!q || !q.ok) {
    errs.push(invalidValue(path, raw, q && !q.ok ? q.error : 'must be a quantity'));
    return undefined;
  }
  if (q.quantity.nanos < 0n) errs.push(invalidValue(path, formatQuantity(q.quantity), NEGATIVE));
  if (!isNative(name) && q.quantity.nanos % 1_000_000_000n !== 0n) errs.push(invalidValue(path, formatQuantity(q.quantity), 'must be an integer'));
  return q.quantity;
}

/**
 * Resource requests and limits: known names, well-formed non-negative quantities, and
 * requests no larger than limits:
 * `spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1`.
 */
function validateResources(res: ResourceRequirements | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const limPath = `${path}.limits`;
  const reqPath = `${path}.requests`;
  const limits = new Map<string, Quantity>();
  for (const [name, raw] of Object.entries(res?.limits ?? {})) {
    const p = `${limPath}[${name}]`;
    errs.push(...validateResourceName(name, p));
    const q = checkQuantity(name, raw, p, errs);
    if (q) limits.set(name, q);
  }
  for (const [name, raw] of Object.entries(res?.requests ?? {})) {
    const p = `${reqPath}[${name}]`;
    errs.push(...validateResourceName(name, p));
    const q = checkQuantity(name, raw, p, errs);
    if (!q) continue;
    const limit = limits.get(name);
    if (limit) {
      if (q.nanos !== limit.nanos && !overcommitAllowed(name)) {
        errs.push(invalidValue(reqPath, formatQuantity(q), `must be equal to ${name} limit of ${formatQuantity(limit)}`));
      } else if (q.nanos > limit.nanos) {
        errs.push(invalidValue(reqPath, formatQuantity(q), `must be less than or equal to ${name} limit of ${formatQuantity(limit)}`));
      }
    } else if (!overcommitAllowed(name) && !(name in (res?.limits ?? {}))) {
      errs.push(requiredWithDetail(limPath, 'Limit must be set for non overcommitable resources'));
    }
  }
  return errs;
}

// ---- probes and lifecycle hooks ----

function validatePortNumOrName(port: number | string | undefined, path: string): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((m) => invalidValue(path, port, m));
  return isValidPortName(port ?? '').map((m) => invalidValue(path, port ?? '', m));
}

type Handler = Pick<LifecycleHandler, 'exec' | 'httpGet' | 'tcpSocket' | 'sleep'> & { grpc?: Probe['grpc'] };

function validateHandler(h: Handler, gracePeriod: number | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  const one = (field: string, check: () => FieldError[]): void => {
    if (n > 0) { errs.push(forbidden(`${path}.${field}`, 'may not specify more than 1 handler type')); return; }
    n++;
    errs.push(...check());
  };
  if (h.exec) one('exec', () => ((Array.isArray(h.exec?.command) && h.exec.command.length > 0) ? [] : [required(`${path}.exec.command`)]));
  if (h.httpGet) {
    const g = h.httpGet;
    one('httpGet', () => {
      const e: FieldError[] = [];
      if (!g.path) e.push(required(`${path}.httpGet.path`));
      e.push(...validatePortNumOrName(g.port, `${path}.httpGet.port`));
      if (g.scheme !== 'HTTP' && g.scheme !== 'HTTPS') e.push(notSupported(`${path}.httpGet.scheme`, g.scheme ?? '', ['HTTP', 'HTTPS']));
      for (const hdr of list(g.httpHeaders)) {
        if (!/^[-A-Za-z0-9]+$/.test(hdr.name)) e.push(invalidValue(`${path}.httpGet.httpHeaders`, hdr.name, regexError("a valid HTTP header must consist of alphanumeric characters or '-'", '[-A-Za-z0-9]+', 'X-Header-Name')));
      }
      return e;
    });
  }
  if (h.tcpSocket) { const t = h.tcpSocket; one('tcpSocket', () => validatePortNumOrName(t.port, `${path}.tcpSocket.port`)); }
  if (h.grpc) { const g = h.grpc; one('grpc', () => validatePortNumOrName(g.port, `${path}.grpc.port`)); }
  if (h.sleep) {
    const s = h.sleep;
    one('sleep', () => (gracePeriod !== undefined && (s.seconds <= 0 || s.seconds > gracePeriod)
      ? [invalidValue(`${path}.sleep`, s.seconds, `must be greater than 0 and less than terminationGracePeriodSeconds (${gracePeriod})`)]
      : []));
  }
  if (n === 0) errs.push(requiredWithDetail(path, 'must specify a handler type'));
  return errs;
}

type ProbeKind = 'livenessProbe' | 'readinessProbe' | 'startupProbe';

function validateProbe(probe: Probe | undefined, kind: ProbeKind, gracePeriod: number | undefined, path: string): FieldError[] {
  if (!probe) return [];
  const errs = validateHandler({ exec: probe.exec, httpGet: probe.httpGet, tcpSocket: probe.tcpSocket, grpc: probe.grpc }, gracePeriod, path);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    const v = probe[f] ?? 0;
    if (v < 0) errs.push(invalidValue(`${path}.${f}`, v, NEGATIVE));
  }
  const tgps = probe.terminationGracePeriodSeconds;
  if (tgps !== undefined && tgps <= 0) errs.push(invalidValue(`${path}.terminationGracePeriodSeconds`, tgps, 'must be greater than 0'));
  if (kind !== 'readinessProbe' && (probe.successThreshold ?? 0) !== 1) errs.push(invalidValue(`${path}.successThreshold`, probe.successThreshold ?? 0, 'must be 1'));
  if (kind === 'readinessProbe' && tgps !== undefined) errs.push(invalidValue(`${path}.terminationGracePeriodSeconds`, tgps, 'must not be set for readinessProbes'));
  return errs;
}

function validateProbesAndLifecycle(c: Container, gracePeriod: number | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (c.lifecycle?.postStart) errs.push(...validateHandler(c.lifecycle.postStart, gracePeriod, `${path}.lifecycle.postStart`));
  if (c.lifecycle?.preStop) errs.push(...validateHandler(c.lifecycle.preStop, gracePeriod, `${path}.lifecycle.preStop`));
  for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    errs.push(...validateProbe(c[kind], kind, gracePeriod, `${path}.${kind}`));
  }
  return errs;
}

// ---- containers ----

function validateContainerCommon(c: Container, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.name) errs.push(required(`${path}.name`));
  else for (const msg of isDNS1123Label(c.name)) errs.push(invalidValue(`${path}.name`, c.name, msg));
  if (!c.image) errs.push(required(`${path}.image`));
  else if (c.image.trim() !== c.image) errs.push(invalidValue(`${path}.image`, c.image, 'must not have leading or trailing whitespace'));
  const tmp = c.terminationMessagePolicy ?? '';
  if (!tmp) errs.push(required(`${path}.terminationMessagePolicy`));
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError') errs.push(notSupported(`${path}.terminationMessagePolicy`, tmp, ['File', 'FallbackToLogsOnError']));
  errs.push(...validateContainerPorts(list(c.ports), `${path}.ports`));
  errs.push(...validateEnv(list(c.env), `${path}.env`));
  errs.push(...validateEnvFrom(list(c.envFrom), `${path}.envFrom`));
  errs.push(...validateVolumeMounts(c, volumes, `${path}.volumeMounts`));
  const pull = c.imagePullPolicy ?? '';
  if (!pull) errs.push(required(`${path}.imagePullPolicy`));
  else if (!['Always', 'IfNotPresent', 'Never'].includes(pull)) errs.push(notSupported(`${path}.imagePullPolicy`, pull, ['Always', 'IfNotPresent', 'Never']));
  errs.push(...validateResources(c.resources, `${path}.resources`));
  return errs;
}

function validateContainers(containers: readonly Container[], volumes: Set<string>, gracePeriod: number | undefined, path: string): FieldError[] {
  if (containers.length === 0) return [required(path)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(c, volumes, p));
    if (names.has(c.name ?? '')) errs.push(duplicate(`${p}.name`, c.name ?? ''));
    else names.add(c.name ?? '');
    errs.push(...validateProbesAndLifecycle(c, gracePeriod, p));
    if (c.restartPolicy !== undefined) errs.push(forbidden(`${p}.restartPolicy`, 'may not be set for non-init containers'));
  });
  errs.push(...checkHostPortConflicts(containers, path));
  errs.push(...checkDuplicateContainerPorts(containers, path));
  return errs;
}

function validateInitContainers(inits: readonly Container[], regular: readonly Container[], volumes: Set<string>, gracePeriod: number | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set(regular.map((c) => c.name ?? ''));
  inits.forEach((c, i) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(c, volumes, p));
    const restartAlways = c.restartPolicy === 'Always';
    if (c.restartPolicy !== undefined && !restartAlways) errs.push(notSupported(`${p}.restartPolicy`, c.restartPolicy, ['Always']));
    if (names.has(c.name ?? '')) errs.push(duplicate(`${p}.name`, c.name ?? ''));
    else if (c.name) names.add(c.name);
    // Init containers run one at a time, so only their own host ports can collide.
    errs.push(...checkHostPortConflicts([c], path));
    if (restartAlways) {
      errs.push(...validateProbesAndLifecycle(c, gracePeriod, p));
    } else {
      const why = 'may not be set for init containers without restartPolicy=Always';
      if (c.lifecycle) errs.push(forbidden(`${p}.lifecycle`, why));
      for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
        if (c[kind]) errs.push(forbidden(`${p}.${kind}`, why));
      }
    }
  });
  return errs;
}

// ---- ephemeral containers ----

/**
 * The fields of an ephemeral container that may be set (Kubernetes' `allowedEphemeralContainerFields`):
 * ephemeral containers are not relied on for the pod's own work, so ports, probes, lifecycle
 * hooks and resources are refused.
 */
const EPHEMERAL_ALLOWED_FIELDS = new Set([
  'name', 'image', 'command', 'args', 'workingDir', 'envFrom', 'env', 'volumeMounts', 'terminationMessagePath',
  'terminationMessagePolicy', 'imagePullPolicy', 'securityContext', 'stdin', 'stdinOnce', 'tty', 'targetContainerName',
]);
/** Container fields in Kubernetes' declaration order, so refusals come in the order Kubernetes lists them. */
const CONTAINER_FIELD_ORDER = [
  'name', 'image', 'command', 'args', 'workingDir', 'ports', 'envFrom', 'env', 'resources', 'resizePolicy', 'restartPolicy',
  'volumeMounts', 'volumeDevices', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'terminationMessagePath',
  'terminationMessagePolicy', 'imagePullPolicy', 'securityContext', 'stdin', 'stdinOnce', 'tty',
];
const EPHEMERAL_FORBIDDEN = 'cannot be set for an Ephemeral Container';

/** Go's zero value test for a JSON field: absent, null, '', 0, false, [] and {} are unset. */
const isZero = (v: unknown): boolean => v === undefined || v === null || v === '' || v === 0 || v === false ||
  (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

/**
 * Ephemeral containers (`validateEphemeralContainers`): each checked as a container, with a name
 * unique among all the pod's containers, a `targetContainerName` naming an app or init container,
 * and none of the fields outside the allow list (ports, resources, probes, lifecycle...), no
 * `subPath`/`subPathExpr` mounts and no `restartPolicy`.
 */
function validateEphemeralContainers(ephemeral: readonly EphemeralContainer[], containers: readonly Container[], inits: readonly Container[],
  volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const others = new Set([...containers, ...inits].map((c) => c.name ?? ''));
  const all = new Set(others);
  ephemeral.forEach((ec, i) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(ec as Container, volumes, p));
    if (all.has(ec.name ?? '')) errs.push(duplicate(`${p}.name`, ec.name ?? ''));
    else all.add(ec.name ?? '');
    if (ec.targetContainerName && !others.has(ec.targetContainerName)) errs.push(notFoundValue(`${p}.targetContainerName`, ec.targetContainerName));
    const fields = ec as unknown as Record<string, unknown>;
    for (const f of [...CONTAINER_FIELD_ORDER, ...Object.keys(fields).filter((k) => !CONTAINER_FIELD_ORDER.includes(k))]) {
      if (!EPHEMERAL_ALLOWED_FIELDS.has(f) && !isZero(fields[f])) errs.push(forbidden(`${p}.${f}`, EPHEMERAL_FORBIDDEN));
    }
    list<VolumeMount>(ec.volumeMounts).forEach((m, j) => {
      if (m.subPath) errs.push(forbidden(`${p}.volumeMounts[${j}].subPath`, EPHEMERAL_FORBIDDEN));
      if (m.subPathExpr) errs.push(forbidden(`${p}.volumeMounts[${j}].subPathExpr`, EPHEMERAL_FORBIDDEN));
    });
  });
  return errs;
}

// ---- pod spec ----

function validateTolerations(tolerations: readonly Toleration[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const effects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
  tolerations.forEach((t, i) => {
    const p = `${path}[${i}]`;
    const key = t.key ?? '';
    const op = t.operator ?? '';
    const value = t.value ?? '';
    if (key) for (const msg of isQualifiedName(key)) errs.push(invalidValue(`${p}.key`, key, msg));
    if (!key && op !== 'Exists') errs.push(invalidValue(`${p}.operator`, op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') errs.push(invalidValue(`${p}.effect`, t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    if (op === 'Equal' || op === '') {
      const msgs = isValidLabelValue(value);
      if (msgs.length) errs.push(invalidValue(`${p}.operator`, value, msgs.join(';')));
    } else if (op === 'Exists') {
      if (value) errs.push(invalidValue(`${p}.operator`, value, "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(notSupported(`${p}.operator`, op, ['Equal', 'Exists']));
    }
    if (t.effect && !effects.includes(t.effect)) errs.push(notSupported(`${p}.effect`, t.effect, effects));
  });
  return errs;
}

/**
 * A pod spec at `path` (`spec` for pods, `spec.template.spec` for pod templates): grace period,
 * volumes, containers, init containers, policies, node selector, names, deadlines, tolerations.
 */
export function validatePodSpec(spec: PodSpec | undefined, path = 'spec'): FieldError[] {
  const s: Partial<PodSpec> = spec ?? {};
  const errs: FieldError[] = [];
  const grace = s.terminationGracePeriodSeconds;
  if (grace === undefined || grace === null) errs.push(required(`${path}.terminationGracePeriodSeconds`));
  else if (grace < 0) errs.push(invalidValue(`${path}.terminationGracePeriodSeconds`, grace, NEGATIVE));
  const vols = validateVolumes(list(s.volumes), `${path}.volumes`);
  errs.push(...vols.errs);
  const containers = list(s.containers);
  errs.push(...validateContainers(containers, vols.names, grace ?? undefined, `${path}.containers`));
  errs.push(...validateInitContainers(list(s.initContainers), containers, vols.names, grace ?? undefined, `${path}.initContainers`));
  errs.push(...validateEphemeralContainers(list(s.ephemeralContainers), containers, list(s.initContainers), vols.names, `${path}.ephemeralContainers`));
  if (s.hostNetwork) {
    containers.forEach((c, ci) => list(c.ports).forEach((port, pi) => {
      if ((port.hostPort ?? 0) !== port.containerPort) {
        errs.push(invalidValue(`${path}.containers[${ci}].ports[${pi}].hostPort`, port.hostPort ?? 0, 'must match `containerPort` when `hostNetwork` is true'));
      }
    }));
  }
  const restart = s.restartPolicy ?? '';
  if (!restart) errs.push(required(`${path}.restartPolicy`));
  else if (!['Always', 'OnFailure', 'Never'].includes(restart)) errs.push(notSupported(`${path}.restartPolicy`, restart, ['Always', 'OnFailure', 'Never']));
  const dns = s.dnsPolicy ?? '';
  const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
  if (!dns) errs.push(required(`${path}.dnsPolicy`));
  else if (!dnsPolicies.includes(dns)) errs.push(notSupported(`${path}.dnsPolicy`, dns, dnsPolicies));
  errs.push(...validatePodDNS(s, path));
  errs.push(...validateLabels(s.nodeSelector, `${path}.nodeSelector`));
  for (const field of ['serviceAccountName', 'nodeName', 'priorityClassName'] as const) {
    const v = s[field];
    if (v) for (const msg of isDNS1123Subdomain(v)) errs.push(invalidValue(`${path}.${field}`, v, msg));
  }
  if (s.activeDeadlineSeconds !== undefined && (s.activeDeadlineSeconds < 1 || s.activeDeadlineSeconds > MAX_INT32)) {
    errs.push(invalidValue(`${path}.activeDeadlineSeconds`, s.activeDeadlineSeconds, inclusiveRangeError(1, MAX_INT32)));
  }
  for (const field of ['hostname', 'subdomain'] as const) {
    const v = s[field];
    if (v) for (const msg of isDNS1123Label(v)) errs.push(invalidValue(`${path}.${field}`, v, msg));
  }
  errs.push(...validateTolerations(list(s.tolerations), `${path}.tolerations`));
  // Kubernetes keeps both under the pod's security context internally, hence the field path.
  if (s.shareProcessNamespace && s.hostPID) {
    errs.push(invalidValue(`${path}.securityContext.shareProcessNamespace`, true, 'ShareProcessNamespace and HostPID cannot both be enabled'));
  }
  return errs;
}

/**
 * A pod about to be created: metadata (DNS-1123 subdomain name, namespace, labels) and spec.
 * Ephemeral containers may only be added later through their subresource.
 */
export function validatePod(pod: Pod): FieldError[] {
  const errs = [...validateObjectMeta(pod.metadata, true, nameIsDNSSubdomain), ...validatePodSpec(pod.spec)];
  if (list(pod.spec?.ephemeralContainers).length > 0) errs.push(forbidden('spec.ephemeralContainers', 'cannot be set on create'));
  return errs;
}

// ---- updates ----

/**
 * A comparable form of a spec: zero values (`''`, `0`, `false`, `[]`, `{}`) dropped as Go
 * drops them, and quantities in resource lists canonical (`1` equals `1000m`), approximating
 * Kubernetes' semantic equality.
 */
function comparable(value: unknown, quantities = false): unknown {
  if (value === undefined || value === null || value === '' || value === 0 || value === false) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((v) => comparable(v) ?? null);
    return items.length ? items : undefined;
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as object).sort()) {
      const raw = (value as Record<string, unknown>)[k];
      let v: unknown;
      if (quantities && (typeof raw === 'string' || typeof raw === 'number')) {
        const q = parseQuantity(raw);
        v = q.ok ? formatQuantity(q.quantity) : raw;
      } else {
        v = comparable(raw, k === 'limits' || k === 'requests');
      }
      if (v !== undefined) out[k] = v;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return value;
}

const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(comparable(a)) === JSON.stringify(comparable(b));

function validateContainerUpdates(next: readonly Container[], old: readonly Container[], path: string): { errs: FieldError[]; stop: boolean } {
  if (next.length !== old.length) return { errs: [forbidden(path, 'pod updates may not add or remove containers')], stop: true };
  const errs: FieldError[] = [];
  next.forEach((c, i) => {
    if (!c.image) errs.push(required(`${path}[${i}].image`));
  });
  return { errs, stop: false };
}

/**
 * An update to an existing pod. Besides validating the new pod, a pod's spec is immutable except
 * for container images, a shorter `activeDeadlineSeconds`, added tolerations, and
 * `terminationGracePeriodSeconds` going from negative to 1; anything else gives
 * `spec: Forbidden: pod updates may not change fields other than ...`.
 */
export function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = [...validateObjectMetaUpdate(pod.metadata, old.metadata), ...validateObjectMeta(pod.metadata, true, nameIsDNSSubdomain), ...validatePodSpec(pod.spec)];
  const spec: Partial<PodSpec> = pod.spec ?? {};
  const oldSpec: Partial<PodSpec> = old.spec ?? {};

  for (const field of ['containers', 'initContainers'] as const) {
    const r = validateContainerUpdates(list(spec[field]), list(oldSpec[field]), `spec.${field}`);
    errs.push(...r.errs);
    if (r.stop) return errs;
  }

  const ads = spec.activeDeadlineSeconds;
  const oldAds = oldSpec.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null) {
    if (ads < 0 || ads > MAX_INT32) return [...errs, invalidValue('spec.activeDeadlineSeconds', ads, inclusiveRangeError(0, MAX_INT32))];
    if (oldAds !== undefined && oldAds !== null && oldAds < ads) return [...errs, invalidValue('spec.activeDeadlineSeconds', ads, 'must be less than or equal to previous value')];
  } else if (oldAds !== undefined && oldAds !== null) {
    errs.push(invalidValue('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }

  const newTolerations = list(spec.tolerations);
  for (const t of list(oldSpec.tolerations)) {
    const kept = newTolerations.some((n) => sameValue({ ...t, tolerationSeconds: undefined }, { ...n, tolerationSeconds: undefined }));
    if (!kept) { errs.push(forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds')); break; }
  }

  const munged: Partial<PodSpec> = {
    ...spec,
    containers: list(spec.containers).map((c, i) => ({ ...c, image: list(oldSpec.containers)[i]?.image })),
    initContainers: list(spec.initContainers).map((c, i) => ({ ...c, image: list(oldSpec.initContainers)[i]?.image })),
    activeDeadlineSeconds: oldSpec.activeDeadlineSeconds,
    tolerations: oldSpec.tolerations,
  };
  const oldGrace = oldSpec.terminationGracePeriodSeconds;
  if (oldGrace !== undefined && oldGrace < 0 && munged.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = oldGrace;
  if (!sameValue(munged, oldSpec)) errs.push(forbidden('spec', POD_UPDATE_FORBIDDEN_MESSAGE));
  return errs;
}

/**
 * An update through the `ephemeralcontainers` subresource (`ValidatePodEphemeralContainersUpdate`):
 * the pod as a whole must be valid, new ephemeral containers follow the ephemeral rules (checked
 * with the spec), and the ones already there may be neither removed nor changed (matched by
 * name, as a patch may reorder them). `pod` is the stored pod with only the ephemeral
 * containers replaced (see `withEphemeralContainers`).
 */
export function validatePodEphemeralContainersUpdate(pod: Pod, old: Pod): FieldError[] {
  // Static (mirror) pods run from the node's files: nothing can be added to them.
  if (old.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined) return [forbidden('', 'static pods do not support ephemeral containers')];
  const errs = [...validateObjectMetaUpdate(pod.metadata, old.metadata), ...validateObjectMeta(pod.metadata, true, nameIsDNSSubdomain), ...validatePodSpec(pod.spec)];
  const byName = new Map(list(pod.spec?.ephemeralContainers).map((c) => [c.name, c]));
  for (const prev of list(old.spec?.ephemeralContainers)) {
    const next = byName.get(prev.name);
    if (!next) errs.push(forbidden('spec.ephemeralContainers', `existing ephemeral containers ${JSON.stringify(prev.name)} may not be removed\n`));
    else if (!sameValue(prev, next)) {
      const keys = [...new Set([...Object.keys(prev), ...Object.keys(next)])].sort();
      const changed = keys.filter((k) => !sameValue((prev as unknown as Record<string, unknown>)[k], (next as unknown as Record<string, unknown>)[k]));
      errs.push(forbidden('spec.ephemeralContainers', `existing ephemeral containers ${JSON.stringify(prev.name)} may not be changed\n(changed: ${changed.join(', ')})`));
    }
  }
  return errs;
}
