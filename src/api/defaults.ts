/**
 * Kubernetes defaulting for the kinds minikube-lite serves, as `pkg/apis/core/v1/defaults.go`
 * and the create strategies do it: the fields `kubectl get -o yaml` shows that the manifest did
 * not set.
 *
 * Every `apply*Defaults` function changes the object in place, only fills fields that are
 * unset, and is idempotent; the API server calls it on create and on update, before
 * validation. Callers holding a cached (read-only) object must copy it first.
 */
import type {
  Container, Deployment, DeploymentSpec, Namespace, Node, Pod, PodSpec, PodStatus, PodTemplateSpec, Probe, ReplicaSet,
  ReplicaSetSpec, RollingUpdateDeployment, Service, Volume, Lifecycle, LifecycleHandler,
} from './types.js';
import type { KubeObject } from './types.js';
import { parseQuantity } from './quantity.js';

/** The object elements of a list field; malformed JSON must not make defaulting throw. */
const objects = <T>(x: readonly T[] | undefined | null): T[] =>
  (Array.isArray(x) ? x.filter((e): e is T => typeof e === 'object' && e !== null) : []);

/** Pod QoS class, as `status.qosClass` and `kubectl describe` show it. */
export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const NAME = `(?:${HOST}(?::[0-9]+)?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const REFERENCE = new RegExp(`^(${NAME})(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`);

/**
 * Splits an image reference into repository, tag and digest with Docker's reference grammar
 * (the one the kubelet uses). A reference without tag or digest gets the tag `latest`.
 * Returns undefined for a reference Docker would refuse (upper case repository, a bare
 * 64-hex id, bad characters, a name over 255 characters).
 */
export function parseImageReference(image: string): { repository: string; tag: string; digest: string } | undefined {
  if (/^[a-f0-9]{64}$/.test(image)) return undefined;
  const m = REFERENCE.exec(image);
  if (!m || m[1].length > 255) return undefined;
  const tag = m[2] ?? '';
  const digest = m[3] ?? '';
  return { repository: m[1], tag: tag === '' && digest === '' ? 'latest' : tag, digest };
}

/**
 * The `imagePullPolicy` Kubernetes defaults a container to: `Always` when the tag is `latest`
 * (written or implied: `nginx`, `nginx:latest`, even `nginx:latest@sha256:...`), otherwise
 * `IfNotPresent` (`nginx:1.25`, `nginx@sha256:...`, or a reference that does not parse).
 */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  return parseImageReference(image)?.tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(p: Probe | undefined): void {
  if (!p) return;
  if (!p.timeoutSeconds) p.timeoutSeconds = 1;
  if (!p.periodSeconds) p.periodSeconds = 10;
  if (!p.successThreshold) p.successThreshold = 1;
  if (!p.failureThreshold) p.failureThreshold = 3;
  if (p.httpGet) {
    p.httpGet.path ||= '/';
    p.httpGet.scheme ||= 'HTTP';
  }
}

function defaultLifecycleHandler(h: LifecycleHandler | undefined): void {
  if (h?.httpGet) {
    h.httpGet.path ||= '/';
    h.httpGet.scheme ||= 'HTTP';
  }
}

function defaultLifecycle(l: Lifecycle | undefined): void {
  defaultLifecycleHandler(l?.postStart);
  defaultLifecycleHandler(l?.preStop);
}

/** Container defaults: pull policy, termination message, port protocol, probe timings. */
export function applyContainerDefaults(c: Container): void {
  c.imagePullPolicy ||= defaultPullPolicy(c.image ?? '');
  c.terminationMessagePath ||= '/dev/termination-log';
  c.terminationMessagePolicy ||= 'File';
  for (const e of objects(c.env)) {
    if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ||= 'v1';
  }
  for (const p of objects(c.ports)) p.protocol ||= 'TCP';
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  defaultLifecycle(c.lifecycle);
}

/** Fields of `VolumeSource`; a volume that sets none of them becomes an `emptyDir`. */
export const VOLUME_SOURCES = [
  'emptyDir', 'hostPath', 'gitRepo', 'gcePersistentDisk', 'awsElasticBlockStore', 'secret', 'nfs', 'iscsi',
  'glusterfs', 'flocker', 'persistentVolumeClaim', 'rbd', 'cinder', 'cephfs', 'quobyte', 'downwardAPI', 'fc',
  'flexVolume', 'configMap', 'azureFile', 'vsphereVolume', 'photonPersistentDisk', 'portworxVolume', 'azureDisk',
  'storageos', 'projected', 'scaleIO', 'csi', 'ephemeral', 'image',
] as const;

function defaultVolume(v: Volume): void {
  const sources = v as unknown as Record<string, unknown>;
  if (VOLUME_SOURCES.every((s) => sources[s] === undefined || sources[s] === null)) v.emptyDir = {};
  if (v.hostPath && v.hostPath.type === undefined) v.hostPath.type = '';
  for (const item of objects(v.downwardAPI?.items)) {
    if (item.fieldRef) item.fieldRef.apiVersion ||= 'v1';
  }
  // Files of configuration volumes default to 0644, as in Kubernetes.
  for (const src of [v.configMap, v.secret, v.downwardAPI, v.projected]) {
    if (src && (src.defaultMode === undefined || src.defaultMode === null)) src.defaultMode = 0o644;
  }
  for (const p of objects(v.projected?.sources)) {
    for (const item of objects(p.downwardAPI?.items)) {
      if (item.fieldRef) item.fieldRef.apiVersion ||= 'v1';
    }
    if (p.serviceAccountToken && !p.serviceAccountToken.expirationSeconds) p.serviceAccountToken.expirationSeconds = 3600;
  }
}

/**
 * When a container sets a limit but no request for a resource, the request defaults to the
 * limit (pods only, not pod templates).
 */
function defaultRequestsFromLimits(c: Container): void {
  const limits = c.resources?.limits;
  if (!limits || !c.resources) return;
  const requests = (c.resources.requests ??= {});
  for (const [name, value] of Object.entries(limits)) {
    if (!(name in requests)) requests[name] = value;
  }
}

function applyPodSpecDefaults(spec: PodSpec, isPod: boolean): void {
  spec.dnsPolicy ||= 'ClusterFirst';
  spec.restartPolicy ||= 'Always';
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ||= 'default-scheduler';
  for (const v of objects(spec.volumes)) defaultVolume(v);
  for (const c of [...objects(spec.initContainers), ...objects(spec.containers)]) {
    if (isPod) defaultRequestsFromLimits(c);
    applyContainerDefaults(c);
    if (spec.hostNetwork) {
      for (const p of objects(c.ports)) if (!p.hostPort) p.hostPort = p.containerPort;
    }
  }
  // Ephemeral containers get the container defaults too (they may set no resources or ports).
  for (const c of objects(spec.ephemeralContainers)) applyContainerDefaults(c as Container);
}

/** A positive quantity; malformed ones count as absent (validation reports them). */
function positive(q: string | number | undefined): boolean {
  if (q === undefined) return false;
  const r = parseQuantity(q);
  return r.ok && r.quantity.nanos > 0n;
}

/**
 * The QoS class Kubernetes assigns (`qos.GetPodQOS`), from cpu and memory only:
 * - BestEffort: no container requests or limits any cpu or memory;
 * - Guaranteed: every container (init ones too) limits both cpu and memory, and the pod's
 *   summed requests equal its summed limits;
 * - Burstable: anything else.
 * Expects requests already defaulted from limits ({@link applyPodDefaults} does that first).
 */
export function podQOSClass(pod: Pick<Pod, 'spec'>): QOSClass {
  const requests = new Map<string, string[]>();
  const limits = new Map<string, string[]>();
  let guaranteed = true;
  const add = (m: Map<string, string[]>, k: string, v: string): void => { m.set(k, [...(m.get(k) ?? []), v]); };
  for (const c of [...objects(pod.spec?.containers), ...objects(pod.spec?.initContainers)]) {
    for (const [name, q] of Object.entries(c.resources?.requests ?? {})) {
      if ((name === 'cpu' || name === 'memory') && positive(q)) add(requests, name, String(q));
    }
    const found = new Set<string>();
    for (const [name, q] of Object.entries(c.resources?.limits ?? {})) {
      if ((name === 'cpu' || name === 'memory') && positive(q)) { found.add(name); add(limits, name, String(q)); }
    }
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  const sum = (qs: string[]): bigint => qs.reduce((acc, q) => { const r = parseQuantity(q); return r.ok ? acc + r.quantity.nanos : acc; }, 0n);
  if (guaranteed) {
    for (const [name, qs] of requests) {
      const lim = limits.get(name);
      if (!lim || sum(lim) !== sum(qs)) { guaranteed = false; break; }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

/**
 * Pod defaults: spec defaults (restartPolicy Always, terminationGracePeriodSeconds 30,
 * dnsPolicy ClusterFirst, schedulerName default-scheduler, securityContext {}), container
 * defaults, volume defaults (no source → emptyDir {}, hostPath.type ''), requests from
 * limits, and for a pod without status: `status.phase` Pending and `status.qosClass`.
 */
export function applyPodDefaults(pod: Pod): void {
  const spec = (pod.spec ??= { containers: [] });
  applyPodSpecDefaults(spec, true);
  const writable = pod as { status?: PodStatus };
  const status = (writable.status ??= {});
  status.phase ||= 'Pending';
  status.qosClass ||= podQOSClass(pod);
}

/** Node defaults: `status.allocatable` copies `status.capacity` when unset. */
export function applyNodeDefaults(node: Node): void {
  const status = node.status;
  if (status?.capacity && !status.allocatable) {
    (status as { allocatable?: Record<string, string> }).allocatable = { ...status.capacity };
  }
}

/**
 * Namespace defaults: the `kubernetes.io/metadata.name` label (always equal to the name) and
 * `status.phase` Active.
 */
export function applyNamespaceDefaults(ns: Namespace): void {
  const name = ns.metadata?.name;
  if (name) {
    const meta = (ns.metadata ??= {});
    meta.labels = { ...(meta.labels ?? {}), 'kubernetes.io/metadata.name': name };
  }
  // The namespace controller's finalizer: a deleted namespace stays Terminating until emptied.
  const spec = ((ns as { spec?: { finalizers?: string[] } }).spec ??= {});
  if (!ns.metadata?.resourceVersion && !ns.metadata?.deletionTimestamp) spec.finalizers ??= ['kubernetes'];
  const writable = ns as { status?: { phase?: string } };
  const status = (writable.status ??= {});
  status.phase ||= 'Active';
}

/** `v1.DefaultClientIPServiceAffinitySeconds`: three hours. */
export const DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800;

/**
 * Service defaults (`SetDefaults_Service`): type ClusterIP, sessionAffinity None (ClientIP gets a
 * 3-hour timeout), port protocol TCP, targetPort = port, internalTrafficPolicy Cluster,
 * externalTrafficPolicy Cluster for externally reachable types, allocateLoadBalancerNodePorts
 * for LoadBalancers. (ClusterIP, ipFamilies and node ports are the API server's allocation, not
 * defaults.)
 */
export function applyServiceDefaults(svc: Service): void {
  const spec = (svc.spec ??= {});
  spec.sessionAffinity ||= 'None';
  if (spec.sessionAffinity === 'ClientIP' && !spec.sessionAffinityConfig) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_AFFINITY_SECONDS } };
  }
  spec.type ||= 'ClusterIP';
  for (const p of objects(spec.ports)) {
    p.protocol ||= 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  const external = spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && (spec.externalIPs ?? []).length > 0);
  if (external) spec.externalTrafficPolicy ||= 'Cluster';
  if (spec.internalTrafficPolicy === undefined && spec.type !== 'ExternalName') spec.internalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
}

export const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Pod template defaults (`SetDefaults_PodSpec` on `spec.template.spec`): everything a pod's spec
 * gets, except requests copied from limits, which only pods get. A template without `spec` gets
 * one (with no containers, which validation then reports), as Kubernetes' non-optional struct
 * would.
 */
export function applyPodTemplateDefaults(template: PodTemplateSpec): void {
  if (!isObject(template.spec)) template.spec = { containers: [] };
  applyPodSpecDefaults(template.spec, false);
}

/**
 * Deployment defaults (`apps/v1` `SetDefaults_Deployment`): `replicas` 1, strategy
 * `RollingUpdate` with `maxUnavailable` and `maxSurge` `25%` (a `Recreate` strategy gets no
 * `rollingUpdate`), `revisionHistoryLimit` 10, `progressDeadlineSeconds` 600, and pod defaults
 * for the template. `minReadySeconds` stays unset, meaning 0, as Kubernetes omits it. A `spec`
 * that is not an object is left for validation to report.
 */
export function applyDeploymentDefaults(d: Deployment): void {
  const writable = d as { spec?: unknown };
  writable.spec ??= {};
  if (!isObject(writable.spec)) return;
  const spec = writable.spec as unknown as DeploymentSpec;
  spec.replicas ??= 1;
  if (!isObject(spec.strategy)) spec.strategy = {};
  const strategy = spec.strategy;
  strategy.type ||= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rollingUpdate: RollingUpdateDeployment = isObject(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
    rollingUpdate.maxUnavailable ??= '25%';
    rollingUpdate.maxSurge ??= '25%';
    strategy.rollingUpdate = rollingUpdate;
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  if (!isObject(spec.template)) spec.template = {};
  applyPodTemplateDefaults(spec.template);
}

/** ReplicaSet defaults (`apps/v1` `SetDefaults_ReplicaSet`): `replicas` 1, pod defaults for the template. */
export function applyReplicaSetDefaults(rs: ReplicaSet): void {
  const writable = rs as { spec?: unknown };
  writable.spec ??= {};
  if (!isObject(writable.spec)) return;
  const spec = writable.spec as unknown as ReplicaSetSpec;
  spec.replicas ??= 1;
  if (!isObject(spec.template)) spec.template = {};
  applyPodTemplateDefaults(spec.template);
}

/**
 * Cluster-scoped objects have no namespace: the API server drops one sent by a client before
 * validating, and so does this.
 */
export function clearNamespace(obj: KubeObject): void {
  if (obj.metadata?.namespace !== undefined) delete obj.metadata.namespace;
}
