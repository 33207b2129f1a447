/**
 * `metadata.managedFields`: which field manager owns which fields, kept on every write as the
 * Kubernetes API server's field manager does (structured-merge-diff's Updater), and server-side
 * apply on top of it. Pure functions of (live object, new object or applied configuration,
 * managers); `rest.ts` calls them inside its read-modify-write, so they see one consistent
 * live object.
 *
 * - An Update (create, update, patch; any subresource) gives its manager the fields it added
 *   or changed, and takes them from every other manager; removed fields leave all managers.
 *   Its entry's time moves only when it changed something.
 * - An Apply merges the configuration into the live object (`fieldpath.ts`), removes fields the
 *   same manager applied before and no longer applies (unless another manager owns them),
 *   sets the manager's fields to exactly what it applied, and fails with 409 when that changes
 *   a field another manager owns, unless forced (then the field moves to the applier).
 */
import { ApiError, invalid, type FieldError } from '../api/errors.js';
import { jsonEqual } from '../api/json.js';
import { kindType } from '../api/listtypes.js';
import { apiVersionOf, type ResourceDef } from '../api/resource.js';
import type { KubeObject } from '../api/types.js';
import { compare, fieldSetOf, FieldSet, fromFieldsV1, mergeApplied, pathString, removeFields, toFieldsV1, type FieldPath } from './fieldpath.js';
import type { JsonObject } from './patch.js';


/** One `metadata.managedFields` item, as Kubernetes writes it. */
export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JsonObject;
  subresource?: string;
}

/** Who writes: the field manager and the subresource written through (`''`, `status`, `scale`). */
export interface FieldOwner {
  manager: string;
  subresource: string;
}

interface Manager {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource: string;
  time?: string;
  set: FieldSet;
}

/** Longest field manager name Kubernetes accepts (and the length a User-Agent is cut to). */
export const MAX_MANAGER_LENGTH = 128;

/**
 * The manager of a write without `fieldManager`: the User-Agent up to its first `/`, as the
 * Kubernetes API server derives it (`kubectl/v1.32.0 (linux/amd64) ...` → `kubectl`).
 */
export function managerFromUserAgent(userAgent: string | undefined): string {
  return (userAgent ?? '').split('/')[0].slice(0, MAX_MANAGER_LENGTH);
}

/**
 * Problems with a `fieldManager` query parameter (`PatchOptions`/`CreateOptions`/`UpdateOptions`
 * validation): at most 128 characters, printable.
 */
export function fieldManagerErrors(manager: string): FieldError[] {
  if (manager.length > MAX_MANAGER_LENGTH) {
    return [{ field: 'fieldManager', type: 'FieldValueTooLong', message: `Too long: may not be more than ${MAX_MANAGER_LENGTH} bytes` }];
  }
  if (/[^\x20-\x7e\u00a0-\uffff]/.test(manager)) {
    return [{ field: 'fieldManager', type: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(manager)}: must only contain printable characters` }];
  }
  return [];
}

const identity = (m: { manager: string; operation: string; apiVersion: string; subresource: string }): string =>
  JSON.stringify([m.manager, m.operation, m.operation === 'Apply' ? '' : m.apiVersion, m.subresource]);

/** The managers of an object; 422 (field path `metadata.managedFields[i]...`) when malformed. */
export function decodeManagedFields(obj: KubeObject, def: ResourceDef): Map<string, Manager> {
  const raw = (obj.metadata as { managedFields?: unknown } | undefined)?.managedFields;
  const out = new Map<string, Manager>();
  if (raw === undefined || raw === null) return out;
  const errs: FieldError[] = [];
  const at = (i: number, f: string): string => `metadata.managedFields[${i}].${f}`;
  (Array.isArray(raw) ? raw : []).forEach((e: unknown, i) => {
    const entry = (e ?? {}) as Partial<ManagedFieldsEntry>;
    if (entry.operation !== 'Apply' && entry.operation !== 'Update') {
      errs.push({ field: at(i, 'operation'), type: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(entry.operation ?? '')}: must be \`Apply\` or \`Update\`` });
      return;
    }
    if (entry.fieldsType !== 'FieldsV1') {
      errs.push({ field: at(i, 'fieldsType'), type: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(entry.fieldsType ?? '')}: must be \`FieldsV1\`` });
      return;
    }
    let set: FieldSet;
    try {
      set = fromFieldsV1(entry.fieldsV1 ?? {});
    } catch (err) {
      errs.push({ field: at(i, 'fieldsV1'), type: 'FieldValueInvalid', message: `Invalid value: ${(err as Error).message}` });
      return;
    }
    const m: Manager = {
      manager: String(entry.manager ?? ''), operation: entry.operation, apiVersion: String(entry.apiVersion ?? apiVersionOf(def)),
      subresource: String(entry.subresource ?? ''), time: entry.time, set,
    };
    const prev = out.get(identity(m));
    if (prev) prev.set = prev.set.union(m.set);
    else out.set(identity(m), m);
  });
  if (errs.length) throw invalid(def.kind, obj.metadata?.name ?? '', errs, def.group);
  return out;
}

/**
 * The managers an Update starts from, given the managedFields the request `sent` (undefined
 * when it sent none) and the stored object (`live`, undefined on create). As in Kubernetes,
 * sending none, `[]` or the stored ones keeps the stored managers (clients unaware of the
 * field never strip it); `[{}]` resets them to none; anything else replaces them.
 */
export function managersForUpdate(def: ResourceDef, live: KubeObject | undefined, sent: unknown): Map<string, Manager> {
  const stored = (live?.metadata as { managedFields?: unknown } | undefined)?.managedFields;
  const keep = (): Map<string, Manager> => (live ? decodeManagedFields(live, def) : new Map());
  if (sent === undefined || sent === null || (Array.isArray(sent) && sent.length === 0)) return keep();
  if (Array.isArray(sent) && sent.every((e) => e !== null && typeof e === 'object' && Object.keys(e as object).length === 0)) return new Map();
  if (jsonEqual(sent, stored)) return keep();
  return decodeManagedFields({ ...(live ?? {}), metadata: { ...(live?.metadata ?? {}), managedFields: sent } } as KubeObject, def);
}

/**
 * Kubernetes' order of managedFields: Apply before Update, then by time, manager, apiVersion
 * and subresource.
 */
export function encodeManagedFields(managers: Map<string, Manager>): ManagedFieldsEntry[] {
  const list = [...capUpdateManagers(managers).values()].filter((m) => m.set.size > 0);
  list.sort((p, q) => {
    if (p.operation !== q.operation) return p.operation < q.operation ? -1 : 1;
    const pt = p.time ? Date.parse(p.time) : 0;
    const qt = q.time ? Date.parse(q.time) : 0;
    if (pt !== qt) return pt - qt;
    if (p.manager !== q.manager) return p.manager < q.manager ? -1 : 1;
    if (p.apiVersion !== q.apiVersion) return p.apiVersion < q.apiVersion ? -1 : 1;
    return p.subresource < q.subresource ? -1 : p.subresource > q.subresource ? 1 : 0;
  });
  return list.map((m): ManagedFieldsEntry => ({
    manager: m.manager, operation: m.operation, apiVersion: m.apiVersion, ...(m.time ? { time: m.time } : {}),
    fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(m.set), ...(m.subresource ? { subresource: m.subresource } : {}),
  }));
}

/** Most Update entries an object keeps; older ones merge into `ancient-changes` (Kubernetes' cap). */
export const MAX_UPDATE_MANAGERS = 10;
const ANCIENT_CHANGES = 'ancient-changes';

/**
 * The managers with at most {@link MAX_UPDATE_MANAGERS} Update entries: the oldest are merged,
 * per apiVersion, into an Update entry of `ancient-changes` that keeps the newest time merged.
 */
function capUpdateManagers(managers: Map<string, Manager>): Map<string, Manager> {
  const out = new Map([...managers].filter(([, m]) => m.set.size > 0));
  const updaters = () => [...out].filter(([, m]) => m.operation === 'Update');
  const time = (m: Manager): number => (m.time ? Date.parse(m.time) : 0);
  for (const [key, m] of updaters().filter(([, u]) => u.manager !== ANCIENT_CHANGES).sort(([, a], [, b]) => time(a) - time(b))) {
    if (updaters().length <= MAX_UPDATE_MANAGERS) break;
    const bucket: Manager = { manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: m.apiVersion, subresource: '', set: m.set, time: m.time };
    const bucketKey = identity(bucket);
    const prev = out.get(bucketKey);
    out.delete(key);
    out.set(bucketKey, prev ? { ...prev, set: prev.set.union(m.set), time: time(m) >= time(prev) ? m.time : prev.time } : bucket);
  }
  return out;
}

/** Metadata fields no manager ever owns (the server sets them). */
const SERVER_META = ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'selfLink',
  'managedFields', 'deletionTimestamp', 'deletionGracePeriodSeconds'];

/**
 * The part of `obj` that field managers own through `subresource`: without apiVersion, kind and
 * server-set metadata; for a kind with a status subresource, only `status` through it and
 * everything but `status` otherwise (Kubernetes' reset fields).
 */
export function trackedPart(def: ResourceDef, obj: KubeObject | undefined, subresource: string): JsonObject {
  if (!obj) return {};
  const { apiVersion: _v, kind: _k, ...rest } = obj as unknown as JsonObject;
  const out: JsonObject = { ...rest };
  if (out.metadata !== null && typeof out.metadata === 'object' && !Array.isArray(out.metadata)) {
    const m: JsonObject = { ...out.metadata };
    for (const f of SERVER_META) delete m[f];
    if (Object.keys(m).length) out.metadata = m;
    else delete out.metadata;
  }
  if (def.subresources.includes('status')) {
    if (subresource === 'status') return out.status === undefined ? {} : { status: out.status };
    delete out.status;
  }
  return out;
}

const rootRefOf = (def: ResourceDef): string | undefined => kindType(apiVersionOf(def), def.kind);

/**
 * managedFields after an Update by `owner` turned `live` (undefined on create) into `next`.
 * `base` holds the managers to start from (the live object's, or the ones the request sent).
 */
export function recordUpdate(def: ResourceDef, live: KubeObject | undefined, next: KubeObject, base: Map<string, Manager>, owner: FieldOwner, now: string): ManagedFieldsEntry[] {
  const cmp = compare(trackedPart(def, live, owner.subresource), trackedPart(def, next, owner.subresource), rootRefOf(def));
  const changed = cmp.added.union(cmp.modified).difference(cmp.removed);
  const managers = new Map<string, Manager>();
  for (const [k, m] of base) managers.set(k, { ...m, set: m.set.difference(changed).difference(cmp.removed) });
  const self: Manager = { manager: owner.manager, operation: 'Update', apiVersion: apiVersionOf(def), subresource: owner.subresource, set: new FieldSet() };
  const key = identity(self);
  if (changed.size > 0) {
    const prev = managers.get(key);
    managers.set(key, { ...self, set: (prev?.set ?? new FieldSet()).union(changed), time: now });
  }
  return encodeManagedFields(managers);
}

/** One field another manager owns that an apply would change. */
export interface Conflict {
  manager: Manager;
  path: FieldPath;
}

/** How Kubernetes names a manager in a conflict: `"kubectl-client-side-apply" using apps/v1`, or `"kubectl"` for an applier. */
function printManager(m: Manager): string {
  return m.operation === 'Update' ? `${JSON.stringify(m.manager)} using ${m.apiVersion}` : JSON.stringify(m.manager);
}

/** The 409 of an apply with conflicts, worded as the Kubernetes API server words it. */
export function conflictError(conflicts: Conflict[]): ApiError {
  const causes: FieldError[] = conflicts.map((c) => ({
    type: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: pathString(c.path),
  }));
  if (conflicts.length === 1) {
    const c = conflicts[0];
    return new ApiError(409, 'Conflict', `Apply failed with 1 conflict: conflict with ${printManager(c.manager)}: ${pathString(c.path)}`, causes);
  }
  const by = new Map<string, string[]>();
  for (const c of conflicts) by.set(printManager(c.manager), [...(by.get(printManager(c.manager)) ?? []), pathString(c.path)]);
  const lines: string[] = [];
  for (const name of [...by.keys()].sort()) {
    lines.push(`conflicts with ${name}:`);
    for (const p of by.get(name) ?? []) lines.push(`- ${p}`);
  }
  return new ApiError(409, 'Conflict', `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`, causes);
}

/** What an apply produced: the object to store (managedFields set) and whether it changed. */
export interface ApplyResult {
  object: KubeObject;
  /** False for a no-op apply: the object is the live one, only managedFields may differ. */
  changed: boolean;
}

/**
 * Server-side apply of `config` by `owner` to `live` (undefined when the object does not exist:
 * the configuration itself is then the object). 409 with Kubernetes' message on conflicts
 * unless `force`. The result still needs defaults, validation and the kind's update rules.
 */
export function applyConfiguration(def: ResourceDef, live: KubeObject | undefined, config: KubeObject, owner: FieldOwner, force: boolean, now: string): ApplyResult {
  const rootRef = rootRefOf(def);
  const base = live ? decodeManagedFields(live, def) : new Map<string, Manager>();
  if (live && base.size === 0) {
    // An object nobody manages yet (stored before fields were tracked): as in Kubernetes, its
    // fields count as set by an Update of `before-first-apply`, so the first apply cannot
    // silently change them.
    const existing = compare({}, trackedPart(def, live, owner.subresource), rootRef).added;
    if (existing.size) {
      const m: Manager = { manager: 'before-first-apply', operation: 'Update', apiVersion: apiVersionOf(def), subresource: '', set: existing };
      base.set(identity(m), m);
    }
  }
  const self: Manager = { manager: owner.manager, operation: 'Apply', apiVersion: apiVersionOf(def), subresource: owner.subresource, set: new FieldSet() };
  const key = identity(self);
  const applied = fieldSetOf(trackedPart(def, config, owner.subresource), rootRef);
  const last = base.get(key);
  const liveJson = (live ?? {}) as unknown as JsonObject;
  let merged = mergeApplied(liveJson, config as unknown as JsonObject, rootRef);
  if (last) {
    const keepers = [...base.entries()].filter(([k]) => k !== key).reduce((s, [, m]) => s.union(m.set), applied);
    const drop = new FieldSet(last.set.list().filter((p) => !keepers.hasPathOrBelow(p)));
    if (drop.size) merged = removeFields(merged, drop, rootRef);
  }
  const cmp = compare(trackedPart(def, live, owner.subresource), trackedPart(def, merged as unknown as KubeObject, owner.subresource), rootRef);
  const changed = cmp.added.union(cmp.modified);
  const conflicts: Conflict[] = [];
  for (const [k, m] of base) {
    if (k === key) continue;
    for (const path of m.set.intersection(changed).list()) conflicts.push({ manager: m, path });
  }
  if (conflicts.length && !force) throw conflictError(conflicts);
  const managers = new Map<string, Manager>();
  for (const [k, m] of base) if (k !== key) managers.set(k, { ...m, set: m.set.difference(changed).difference(cmp.removed) });
  const objectChanged = changed.size > 0 || cmp.removed.size > 0;
  managers.set(key, { ...self, set: applied, time: objectChanged || !last ? now : last.time });
  const object = merged as unknown as KubeObject;
  (object.metadata ??= {});
  (object.metadata as { managedFields?: unknown }).managedFields = encodeManagedFields(managers);
  return { object, changed: objectChanged };
}
