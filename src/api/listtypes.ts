/**
 * How the lists and structs of the served kinds merge: the one table behind both strategic
 * merge patch (`x-kubernetes-patch-merge-key`, `x-kubernetes-patch-strategy`) and server-side
 * apply (`x-kubernetes-list-type`, `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`).
 *
 * The values are those of the Kubernetes v1.32 OpenAPI extensions (the `+listType`,
 * `+listMapKey`, `+patchMergeKey`, `+patchStrategy` and `+structType` markers of k8s.io/api).
 * No kept source on npm carries these extensions (@kubernetes/client-node's models and
 * kubernetes-types drop them, and the descriptors embedded in kubectl have no comments), so
 * the table is written out here, keyed by the type names of `schema.data.ts`. A list that is
 * not in the table is atomic, as structured-merge-diff treats lists without a list type.
 */
import { FIELD_TYPES, KIND_TYPES } from './schema.data.js';

/** The semantics of one list field. */
export interface ListType {
  /** `map`: items are identified by `keys`; `set`: scalar items identified by value; `atomic`: replaced whole. */
  readonly type: 'map' | 'set' | 'atomic';
  /** For `map`: the fields that identify an item, in the order Kubernetes declares them. */
  readonly keys?: readonly string[];
  /**
   * For strategic merge patch: the merge key (`x-kubernetes-patch-merge-key`); absent when the
   * list is replaced by a strategic merge patch. For `set` lists a merge strategy without key.
   */
  readonly patchMergeKey?: string;
  /** Strategic merge patch merges this primitive list as a set (`patchStrategy: merge`). */
  readonly patchMergeSet?: boolean;
}

const map = (keys: string[], patchMergeKey: string | undefined = keys[0]): ListType => ({ type: 'map', keys, patchMergeKey });
const ATOMIC: ListType = { type: 'atomic' };
/** Atomic for apply, yet merged by `type` by strategic merge patch (Job conditions). */
const atomicMergedBy = (patchMergeKey: string): ListType => ({ type: 'atomic', patchMergeKey });
const SET: ListType = { type: 'set', patchMergeSet: true };
const byType = map(['type']);
const byName = map(['name']);

/** List semantics by `Type.field` (type names as in `schema.data.ts`). */
export const LIST_TYPES: Readonly<Record<string, ListType>> = {
  'ObjectMeta.finalizers': SET,
  'ObjectMeta.ownerReferences': map(['uid']),
  'PodSpec.containers': byName,
  'PodSpec.initContainers': byName,
  'PodSpec.ephemeralContainers': byName,
  'PodSpec.volumes': byName,
  'PodSpec.imagePullSecrets': byName,
  'PodSpec.hostAliases': map(['ip']),
  'PodSpec.topologySpreadConstraints': map(['topologyKey', 'whenUnsatisfiable']),
  'PodSpec.resourceClaims': byName,
  'PodSpec.schedulingGates': byName,
  'Container.ports': map(['containerPort', 'protocol']),
  'Container.env': byName,
  'Container.volumeMounts': map(['mountPath']),
  'Container.volumeDevices': map(['devicePath']),
  'EphemeralContainer.ports': map(['containerPort', 'protocol']),
  'EphemeralContainer.env': byName,
  'EphemeralContainer.volumeMounts': map(['mountPath']),
  'EphemeralContainer.volumeDevices': map(['devicePath']),
  'ResourceRequirements.claims': byName,
  'PodStatus.conditions': byType,
  'PodStatus.podIPs': map(['ip']),
  'PodStatus.hostIPs': map(['ip']),
  'PodStatus.resourceClaimStatuses': byName,
  'PodStatus.containerStatuses': ATOMIC,
  'PodStatus.initContainerStatuses': ATOMIC,
  'PodStatus.ephemeralContainerStatuses': ATOMIC,
  'NodeSpec.podCIDRs': SET,
  'NodeStatus.addresses': byType,
  'NodeStatus.conditions': byType,
  'NamespaceStatus.conditions': byType,
  'ServiceSpec.ports': map(['port', 'protocol']),
  'ServiceStatus.conditions': byType,
  'ServiceAccount.secrets': byName,
  'PersistentVolumeClaimStatus.conditions': byType,
  'ReplicationControllerStatus.conditions': byType,
  'DeploymentStatus.conditions': byType,
  'ReplicaSetStatus.conditions': byType,
  'DaemonSetStatus.conditions': byType,
  'StatefulSetStatus.conditions': byType,
  'JobStatus.conditions': atomicMergedBy('type'),
  'HorizontalPodAutoscalerStatus.conditions': byType,
  'PodDisruptionBudgetStatus.conditions': byType,
  'Endpoint.addresses': { type: 'set' },
};

/** Structs that apply and managedFields treat as one value (`x-kubernetes-map-type: atomic`). */
export const ATOMIC_STRUCTS: ReadonlySet<string> = new Set([
  'LabelSelector', 'LocalObjectReference', 'ObjectReference', 'NodeSelector', 'ConfigMapKeySelector',
  'SecretKeySelector', 'ObjectFieldSelector', 'ResourceFieldSelector', 'TypedLocalObjectReference', 'SecretReference',
]);

/**
 * Fields Go always writes, even in a zero object: structs declared as values, not pointers
 * (`{}`), and lists without `omitempty` (`null`). A create does not "add" them, so their
 * managedFields entry has no `.`. The kind's `metadata`, `spec` and `status` are always such.
 */
const VALUE_STRUCTS: ReadonlySet<string> = new Set([
  'DeploymentSpec.template', 'DeploymentSpec.strategy', 'ReplicaSetSpec.template', 'DaemonSetSpec.template',
  'DaemonSetSpec.updateStrategy', 'StatefulSetSpec.template', 'StatefulSetSpec.updateStrategy', 'JobSpec.template',
  'CronJobSpec.jobTemplate', 'JobTemplateSpec.metadata', 'JobTemplateSpec.spec', 'PodTemplateSpec.metadata',
  'PodTemplateSpec.spec', 'Container.resources', 'ServiceStatus.loadBalancer', 'PersistentVolumeClaimSpec.resources',
  'PodSpec.containers',
]);

/** The list semantics of `field` in struct type `typeName` (atomic when not declared). */
export function listTypeOf(typeName: string | undefined, field: string): ListType {
  return (typeName && LIST_TYPES[`${typeName}.${field}`]) || ATOMIC;
}

/** Field name → every declared list type with that name, for values of unknown type. */
const BY_FIELD: ReadonlyMap<string, ListType[]> = (() => {
  const out = new Map<string, ListType[]>();
  for (const [k, v] of Object.entries(LIST_TYPES)) {
    const field = k.slice(k.indexOf('.') + 1);
    out.set(field, [...(out.get(field) ?? []), v]);
  }
  return out;
})();

/**
 * The strategic-merge behaviour of a list: its merge key, `set` for primitive lists merged as
 * sets, or neither (replaced). `typeName` is the struct holding it when known; otherwise the
 * field name decides, taking the first declaration of that name whose merge key all `items`
 * have (so `ports` merges by `containerPort` in containers and by `port` in services).
 */
export function patchStrategyOf(typeName: string | undefined, field: string, items: readonly Record<string, unknown>[] = []): { mergeKey?: string; set?: boolean } {
  if (typeName && FIELD_TYPES[typeName]) {
    const t = listTypeOf(typeName, field);
    return { mergeKey: t.patchMergeKey, set: t.patchMergeSet };
  }
  const candidates = BY_FIELD.get(field) ?? [];
  const t = candidates.find((c) => c.patchMergeKey !== undefined && items.every((i) => c.patchMergeKey! in i)) ?? candidates.find((c) => c.patchMergeSet);
  return { mergeKey: t?.patchMergeKey, set: t?.patchMergeSet };
}

/** The struct type name of a kind (`apps/v1`, `Deployment` → `Deployment`), if known. */
export function kindType(apiVersion: string, kind: string): string | undefined {
  return KIND_TYPES[`${apiVersion}/${kind}`];
}

/**
 * What a type reference of `schema.data.ts` denotes: a struct (with its fields), a map of
 * string to `elem`, a list of `elem`, or a scalar/untyped value (`*` and unknown names).
 */
export type TypeShape =
  | { shape: 'struct'; name: string; fields: Readonly<Record<string, string>>; atomic: boolean }
  | { shape: 'map'; elem: string }
  | { shape: 'list'; elem: string }
  | { shape: 'scalar' }
  | { shape: 'untyped' };

export function shapeOf(ref: string | undefined): TypeShape {
  if (ref === undefined || ref === '*') return { shape: 'untyped' };
  if (ref.startsWith('[]')) return { shape: 'list', elem: ref.slice(2) };
  if (ref.startsWith('{}')) return { shape: 'map', elem: ref.slice(2) };
  const fields = FIELD_TYPES[ref];
  if (fields) return { shape: 'struct', name: ref, fields, atomic: ATOMIC_STRUCTS.has(ref) };
  return ['s', 'i32', 'i64', 'f', 'b', 'q', 'io'].includes(ref) ? { shape: 'scalar' } : { shape: 'untyped' };
}

/** Whether `Type.field` is a value struct (present as `{}` in Go's zero object). */
export function isValueStruct(typeName: string, field: string, root: boolean): boolean {
  if (root && (field === 'metadata' || field === 'spec' || field === 'status')) return true;
  return VALUE_STRUCTS.has(`${typeName}.${field}`);
}
