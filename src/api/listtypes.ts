/**
 * How the lists and structs of the served kinds merge: the one table behind both strategic
 * merge patch (`x-kubernetes-patch-merge-key`, `x-kubernetes-patch-strategy`) and server-side
 * apply (`x-kubernetes-list-type`, `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`).
 *
 * Patch strategies and merge keys come from the kept OpenAPI definitions (`openapi.data.ts`,
 * generated from kubectl's Go struct tags). From them follows what structured-merge-diff does
 * with a list that declares no list type: a merge key makes it a list-map keyed by it, a merge
 * strategy without key a set, anything else atomic. The list-type markers themselves
 * (`+listType`, `+listMapKey`) are Go comments that no kept source carries, so the lists where
 * Kubernetes v1.32 declares something else (several map keys, atomic despite a merge key, a
 * map or set without patch strategy) are written out in `LIST_TYPES`, keyed by the type names
 * of `schema.data.ts`.
 */
import { DEFINITIONS_JSON } from './openapi.data.js';
import { FIELD_TYPES, KIND_TYPES } from './schema.data.js';

/** The semantics of one list field. */
export interface ListType {
  /** `map`: items are identified by `keys`; `set`: scalar items identified by value; `atomic`: replaced whole. */
  readonly type: 'map' | 'set' | 'atomic';
  /** For `map`: the fields that identify an item, in the order Kubernetes declares them. */
  readonly keys?: readonly string[];
  /** For strategic merge patch: the merge key (`x-kubernetes-patch-merge-key`); absent when a patch replaces the list. */
  readonly patchMergeKey?: string;
  /** Strategic merge patch merges this primitive list as a set (`patchStrategy: merge` without key). */
  readonly patchMergeSet?: boolean;
}

const map = (keys: string[], patchMergeKey?: string): ListType => ({ type: 'map', keys, patchMergeKey });
const ATOMIC: ListType = { type: 'atomic' };

/**
 * List types Kubernetes v1.32 declares that do not follow from the patch strategy, by
 * `Type.field`. A merge key given here is used only where the OpenAPI data has none
 * (EphemeralContainer's fields, which Go declares in an embedded struct, and autoscaling/v2).
 */
export const LIST_TYPES: Readonly<Record<string, ListType>> = {
  'Container.ports': map(['containerPort', 'protocol']),
  'EphemeralContainer.ports': map(['containerPort', 'protocol'], 'containerPort'),
  'EphemeralContainer.env': map(['name'], 'name'),
  'EphemeralContainer.volumeMounts': map(['mountPath'], 'mountPath'),
  'EphemeralContainer.volumeDevices': map(['devicePath'], 'devicePath'),
  'ServiceSpec.ports': map(['port', 'protocol']),
  'PodSpec.topologySpreadConstraints': map(['topologyKey', 'whenUnsatisfiable']),
  'ResourceRequirements.claims': map(['name']),
  'HorizontalPodAutoscalerStatus.conditions': map(['type'], 'type'),
  // +listType=atomic although strategic merge patch merges them by type.
  'JobStatus.conditions': ATOMIC,
  'Endpoint.addresses': { type: 'set' },
};

/** `Type.field` → the patch strategy and merge key of the OpenAPI definitions (parsed on first use). */
let patchExtensions: Map<string, { strategy: string; key?: string }> | undefined;
function patchExtensionsOf(typeName: string, field: string): { strategy: string; key?: string } | undefined {
  if (!patchExtensions) {
    patchExtensions = new Map();
    type Definition = { properties?: Record<string, { 'x-kubernetes-patch-strategy'?: string; 'x-kubernetes-patch-merge-key'?: string }> };
    for (const [name, d] of Object.entries(JSON.parse(DEFINITIONS_JSON) as Record<string, Definition>)) {
      const short = name.slice(name.lastIndexOf('.') + 1);
      for (const [f, prop] of Object.entries(d.properties ?? {})) {
        const strategy = prop['x-kubernetes-patch-strategy'];
        const k = `${short}.${f}`;
        if (strategy && !patchExtensions.has(k)) patchExtensions.set(k, { strategy, key: prop['x-kubernetes-patch-merge-key'] });
      }
    }
  }
  return patchExtensions.get(`${typeName}.${field}`);
}

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

/** The list semantics of `field` in struct type `typeName` (see the file's comment). */
export function listTypeOf(typeName: string | undefined, field: string): ListType {
  if (!typeName) return ATOMIC;
  const explicit = LIST_TYPES[`${typeName}.${field}`];
  const patch = patchExtensionsOf(typeName, field);
  const merges = patch?.strategy.split(',').includes('merge') ?? false;
  const patchMergeKey = (merges ? patch?.key : undefined) ?? explicit?.patchMergeKey;
  const patchMergeSet = merges && !patch?.key ? true : undefined;
  if (explicit) return { ...explicit, patchMergeKey, patchMergeSet };
  if (patchMergeKey) return { type: 'map', keys: [patchMergeKey], patchMergeKey };
  if (patchMergeSet) return { type: 'set', patchMergeSet };
  return ATOMIC;
}

/** Field name → the list types of the structs with a list of that name (filled on use). */
const listsNamed = new Map<string, ListType[]>();

/**
 * The strategic-merge behaviour of a list: its merge key, `set` for primitive lists merged as
 * sets, or neither (replaced). `typeName` is the struct holding it when known; otherwise the
 * field name decides, taking the first struct with such a list whose merge key all `items`
 * have (so `ports` merges by `containerPort` in containers and by `port` in services).
 */
export function patchStrategyOf(typeName: string | undefined, field: string, items: readonly Record<string, unknown>[] = []): { mergeKey?: string; set?: boolean } {
  if (typeName && FIELD_TYPES[typeName]) {
    const t = listTypeOf(typeName, field);
    return { mergeKey: t.patchMergeKey, set: t.patchMergeSet };
  }
  let candidates = listsNamed.get(field);
  if (!candidates) {
    candidates = Object.entries(FIELD_TYPES).filter(([, fields]) => fields[field]?.startsWith('[]')).map(([name]) => listTypeOf(name, field));
    listsNamed.set(field, candidates);
  }
  const t = candidates.find((c) => c.patchMergeKey !== undefined && items.every((i) => (c.patchMergeKey as string) in i)) ?? candidates.find((c) => c.patchMergeSet);
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
