/**
 * The kinds minikube-lite serves, each with its REST names, scope, subresources, defaults,
 * validation and selectable fields. The API server, the client and the CLI are generic over
 * {@link RESOURCES}; serving another kind means adding an entry built with {@link defineResource}.
 */
import type { Deployment, Event, KubeObject, Namespace, Node, Pod, ReplicaSet } from './types.js';
import type { FieldError } from './errors.js';
import type { ResourceDef, UpdateSubresource } from './resource.js';
import { SERVICE_KINDS } from './kinds/services.js';
import { INGRESS_KINDS } from './kinds/ingress.js';
import { apiVersionOf } from './resource.js';
import {
  applyDeploymentDefaults, applyNamespaceDefaults, applyNodeDefaults, applyPodDefaults, applyReplicaSetDefaults, clearNamespace,
} from './defaults.js';
import {
  validateDeployment, validateEvent, validateNamespace, validateNode, validatePod, validateReplicaSet,
} from './validation.js';
import { CONFIG_RESOURCES } from './kinds/config.js';
import { TRACE_RESOURCES } from './kinds/trace.js';
import { newWarnings, podSpecWarnings } from './podwarnings.js';

import { IDENTITY_RESOURCES } from './kinds/identity.js';
import { STORAGE_RESOURCES } from './kinds/storage.js';
import { POLICY_RESOURCES } from './kinds/policy.js';
import { CLIENT_REVIEW_RESOURCES } from './kinds/clients.js';
import { WORKLOAD_RESOURCES } from './kinds/workloads.js';
import { AUTOSCALING_RESOURCES } from './kinds/autoscaling.js';

type Subresource = UpdateSubresource;

/** Builds a ResourceDef from typed strategy functions (the casts from KubeObject live here only). */
export function defineResource<T>(def: Omit<ResourceDef, 'applyDefaults' | 'validate' | 'fieldLabels' | 'listKind' | 'prepareForCreate' | 'prepareForUpdate' | 'warnings'> & {
  listKind?: string;
  applyDefaults?: (obj: T) => void;
  validate: (obj: T, old?: T, subresource?: Subresource) => FieldError[];
  fieldLabels?: (obj: T) => Record<string, string>;
  prepareForCreate?: (obj: T) => void;
  prepareForUpdate?: (obj: T, old: T, requested: T, subresource: Subresource) => void;
  warnings?: (obj: T, old?: T) => string[];
}): ResourceDef {
  const { applyDefaults, validate, fieldLabels, listKind, prepareForCreate, prepareForUpdate, warnings, ...rest } = def;
  const resource: ResourceDef = {
    ...rest,
    listKind: listKind ?? `${def.kind}List`,
    applyDefaults: (obj: KubeObject) => {
      if (!def.namespaced) clearNamespace(obj);
      applyDefaults?.(obj as unknown as T);
    },
    validate: (obj: KubeObject, old?: KubeObject, sub?: Subresource) => validate(obj as unknown as T, old as unknown as T | undefined, sub),
  };
  if (fieldLabels) resource.fieldLabels = (obj: KubeObject) => fieldLabels(obj as unknown as T);
  if (warnings) resource.warnings = (obj: KubeObject, old?: KubeObject) => warnings(obj as unknown as T, old as unknown as T | undefined);
  if (prepareForCreate) resource.prepareForCreate = (obj: KubeObject) => prepareForCreate(obj as unknown as T);
  if (prepareForUpdate) {
    resource.prepareForUpdate = (obj: KubeObject, old: KubeObject, requested: KubeObject, sub: Subresource) =>
      prepareForUpdate(obj as unknown as T, old as unknown as T, requested as unknown as T, sub);
  }
  return resource;
}

/** Maps compared as Kubernetes' semantic equality compares them: absent equals empty. */
function sameStringMap(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b ?? {}).length && ka.every((k) => Object.prototype.hasOwnProperty.call(b ?? {}, k) && (b ?? {})[k] === (a ?? {})[k]);
}

/** Sets (or, when absent in `from`, removes) one metadata map on `obj`, copying it. */
function takeMap(obj: KubeObject, from: KubeObject, field: 'labels' | 'annotations'): void {
  const value = from.metadata?.[field];
  const m = (obj.metadata ??= {});
  if (value === undefined || value === null) delete m[field];
  else m[field] = { ...value };
}

/**
 * Deployment update rules (`deploymentStrategy` / `deploymentStatusStrategy`): a change of
 * annotations bumps the generation too, since they are copied to the ReplicaSets; a status
 * update may also change annotations (the controller records `deployment.kubernetes.io/revision`
 * that way) but nothing else outside status.
 */
function prepareDeploymentUpdate(d: Deployment, old: Deployment, requested: Deployment, sub: Subresource): void {
  if (sub === 'status') {
    takeMap(d, requested, 'annotations');
    return;
  }
  // The server owns metadata.generation; here is where it sets it.
  const m = (d.metadata ??= {}) as { generation?: number; annotations?: Record<string, string> };
  const gen = old.metadata?.generation;
  if (gen !== undefined && m.generation === gen && !sameStringMap(m.annotations, old.metadata?.annotations)) m.generation = gen + 1;
}

/** ReplicaSet status updates may change labels and annotations as well as status (`rsStatusStrategy`). */
function prepareReplicaSetUpdate(rs: ReplicaSet, _old: ReplicaSet, requested: ReplicaSet, sub: Subresource): void {
  if (sub !== 'status') return;
  takeMap(rs, requested, 'labels');
  takeMap(rs, requested, 'annotations');
}

/** The core/v1 and apps/v1 kinds, and the workload kinds of `kinds/workloads.ts`. */
export const RESOURCES: ResourceDef[] = [
  defineResource<Pod>({
    group: '', version: 'v1', resource: 'pods', singular: 'pod', kind: 'Pod', namespaced: true,
    shortNames: ['po'], subresources: ['status', 'ephemeralcontainers', 'binding', 'eviction', 'log', 'exec', 'attach', 'portforward'],
    applyDefaults: applyPodDefaults,
    validate: validatePod,
    warnings: (pod, old) => newWarnings(podSpecWarnings(pod.spec), old && podSpecWarnings(old.spec)),
    fieldLabels: (pod) => ({
      'spec.nodeName': pod.spec?.nodeName ?? '',
      'spec.restartPolicy': pod.spec?.restartPolicy ?? '',
      'spec.schedulerName': pod.spec?.schedulerName ?? '',
      'spec.serviceAccountName': pod.spec?.serviceAccountName ?? '',
      'spec.hostNetwork': String(pod.spec?.hostNetwork ?? false),
      'status.phase': pod.status?.phase ?? '',
      'status.podIP': pod.status?.podIPs?.[0]?.ip ?? pod.status?.podIP ?? '',
      'status.nominatedNodeName': pod.status?.nominatedNodeName ?? '',
    }),
  }),
  defineResource<Node>({
    group: '', version: 'v1', resource: 'nodes', singular: 'node', kind: 'Node', namespaced: false,
    shortNames: ['no'], subresources: ['status'],
    applyDefaults: applyNodeDefaults,
    validate: validateNode,
    fieldLabels: (node) => ({ 'spec.unschedulable': String(node.spec?.unschedulable ?? false) }),
  }),
  defineResource<Namespace>({
    group: '', version: 'v1', resource: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false,
    shortNames: ['ns'], subresources: ['status', 'finalize'],
    applyDefaults: applyNamespaceDefaults,
    // As Kubernetes' namespace strategy: spec.finalizers change only through `finalize`.
    prepareForUpdate(ns, old, _requested, subresource) {
      if (subresource !== '') return;
      const finalizers = old.spec?.finalizers;
      if (finalizers) ns.spec = { ...ns.spec, finalizers };
      else if (ns.spec) delete ns.spec.finalizers;
    },
    validate: validateNamespace,
    fieldLabels: (ns) => ({ 'status.phase': ns.status?.phase ?? '' }),
  }),
  defineResource<Event>({
    group: '', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', namespaced: true,
    shortNames: ['ev'], subresources: [],
    validate: validateEvent,
    fieldLabels: (ev) => ({
      'involvedObject.kind': ev.involvedObject?.kind ?? '',
      'involvedObject.namespace': ev.involvedObject?.namespace ?? '',
      'involvedObject.name': ev.involvedObject?.name ?? '',
      'involvedObject.uid': ev.involvedObject?.uid ?? '',
      'involvedObject.apiVersion': ev.involvedObject?.apiVersion ?? '',
      'involvedObject.resourceVersion': ev.involvedObject?.resourceVersion ?? '',
      'involvedObject.fieldPath': ev.involvedObject?.fieldPath ?? '',
      reason: ev.reason ?? '',
      reportingComponent: ev.reportingComponent ?? '',
      source: ev.source?.component || ev.reportingComponent || '',
      type: ev.type ?? '',
    }),
  }),
  defineResource<Deployment>({
    group: 'apps', version: 'v1', resource: 'deployments', singular: 'deployment', kind: 'Deployment', namespaced: true,
    shortNames: ['deploy'], subresources: ['status', 'scale'],
    applyDefaults: applyDeploymentDefaults,
    // A new Deployment starts with an empty status: only the controller writes it.
    prepareForCreate: (d) => { (d as { status?: object }).status = {}; },
    prepareForUpdate: prepareDeploymentUpdate,
    validate: validateDeployment,
    warnings: (d, old) => newWarnings(podSpecWarnings(d.spec?.template?.spec, 'spec.template.spec'), old && podSpecWarnings(old.spec?.template?.spec, 'spec.template.spec')),
  }),
  defineResource<ReplicaSet>({
    group: 'apps', version: 'v1', resource: 'replicasets', singular: 'replicaset', kind: 'ReplicaSet', namespaced: true,
    shortNames: ['rs'], subresources: ['status', 'scale'],
    applyDefaults: applyReplicaSetDefaults,
    // `status.replicas` is not omitted when 0 in apps/v1, so a new ReplicaSet shows it.
    prepareForCreate: (rs) => { (rs as { status?: object }).status = { replicas: 0 }; },
    prepareForUpdate: prepareReplicaSetUpdate,
    validate: validateReplicaSet,
    warnings: (rs, old) => newWarnings(podSpecWarnings(rs.spec?.template?.spec, 'spec.template.spec'), old && podSpecWarnings(old.spec?.template?.spec, 'spec.template.spec')),
    fieldLabels: (rs) => ({ 'status.replicas': String(rs.status?.replicas ?? 0) }),
  }),
  ...SERVICE_KINDS,
  ...INGRESS_KINDS,
  ...CONFIG_RESOURCES,
  ...IDENTITY_RESOURCES, ...STORAGE_RESOURCES,
  ...POLICY_RESOURCES,
  ...CLIENT_REVIEW_RESOURCES,
  ...TRACE_RESOURCES,
  ...WORKLOAD_RESOURCES,
  ...AUTOSCALING_RESOURCES,
];

/** The kind served at `/api[s]/{group}/{version}/.../{resource}`, if any. */
export function findResource(group: string, version: string, resource: string, resources: readonly ResourceDef[] = RESOURCES): ResourceDef | undefined {
  return resources.find((r) => r.group === group && r.version === version && r.resource === resource);
}

/** The kind a manifest names with `apiVersion` (`v1`, `apps/v1`) and `kind` (`Pod`). */
export function findKind(apiVersion: string, kind: string, resources: readonly ResourceDef[] = RESOURCES): ResourceDef | undefined {
  return resources.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
}

/**
 * Resolves a word typed on the command line as kubectl does, case-insensitively: plural
 * (`pods`), singular (`pod`), short name (`po`), kind (`Pod`), or qualified with a group
 * (`deployments.apps`) or version and group (`deployments.v1.apps`; `pods.v1.` for core).
 */
export function resolveResourceName(name: string, resources: readonly ResourceDef[] = RESOURCES): ResourceDef | undefined {
  const word = name.trim().toLowerCase();
  const names = (r: ResourceDef): string[] => [r.resource, r.singular, r.kind.toLowerCase(), ...r.shortNames];
  const exact = resources.find((r) => names(r).includes(word));
  if (exact || !word.includes('.')) return exact;
  const [head, ...rest] = word.split('.');
  const qualifier = rest.join('.');
  return resources.find((r) => names(r).includes(head) && (
    qualifier === r.group || qualifier === `${r.version}.${r.group}`));
}
