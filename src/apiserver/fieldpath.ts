/**
 * Field sets of structured-merge-diff (SMD), the model behind server-side apply: which fields of
 * an object a field manager owns, the `FieldsV1` encoding of `metadata.managedFields`, and the
 * typed walks over objects that apply needs (the set of fields an object sets, the comparison of
 * two objects, merging an applied configuration, removing fields). Pure functions over JSON.
 *
 * A path is a list of elements, each as FieldsV1 spells it: `f:name` (a struct field or map
 * key), `k:{"name":"nginx"}` (an item of a list-map, its keys as sorted JSON), `v:"x"` (an item of
 * a set list). Lists and structs are typed by `api/listtypes.ts`; a list without a declared list
 * type, an atomic struct and a scalar are leaves.
 */
import { jsonEqual } from '../api/json.js';
import { isValueStruct, listTypeOf, shapeOf, type ListType } from '../api/listtypes.js';
import type { Json, JsonObject } from './patch.js';

export type { Json };

/** One path element, as in FieldsV1 (`f:spec`, `k:{"name":"a"}`, `v:"x"`, `i:0`). */
export type PathElement = string;
export type FieldPath = readonly PathElement[];

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Go's JSON of a key value, keys sorted (SMD sorts list-map keys by name). */
function sortedJson(v: Record<string, Json>): string {
  return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(v[k])}`).join(',')}}`;
}

/** A set of paths. Paths are stored by their JSON encoding. */
export class FieldSet {
  private readonly paths = new Set<string>();

  constructor(paths: Iterable<FieldPath> = []) {
    for (const p of paths) this.insert(p);
  }

  static ofKeys(keys: Iterable<string>): FieldSet {
    const s = new FieldSet();
    for (const k of keys) s.paths.add(k);
    return s;
  }

  insert(p: FieldPath): void {
    this.paths.add(JSON.stringify(p));
  }

  has(p: FieldPath): boolean {
    return this.paths.has(JSON.stringify(p));
  }

  get size(): number {
    return this.paths.size;
  }

  list(): FieldPath[] {
    return [...this.paths].sort().map((k) => JSON.parse(k) as string[]);
  }

  union(o: FieldSet): FieldSet {
    return FieldSet.ofKeys([...this.paths, ...o.paths]);
  }

  intersection(o: FieldSet): FieldSet {
    return FieldSet.ofKeys([...this.paths].filter((k) => o.paths.has(k)));
  }

  difference(o: FieldSet): FieldSet {
    return FieldSet.ofKeys([...this.paths].filter((k) => !o.paths.has(k)));
  }

  /** Whether some path of the set is `p` or lies below it. */
  hasPathOrBelow(p: FieldPath): boolean {
    return this.list().some((q) => isPrefix(p, q));
  }

  equals(o: FieldSet): boolean {
    return this.size === o.size && [...this.paths].every((k) => o.paths.has(k));
  }
}

const isPrefix = (prefix: FieldPath, p: FieldPath): boolean => prefix.length <= p.length && prefix.every((e, i) => p[i] === e);

// ---------------------------------------------------------------------------------------------
// FieldsV1

/** The FieldsV1 tree of a set: members with children get a `.` entry. */
export function toFieldsV1(set: FieldSet): JsonObject {
  const root: JsonObject = {};
  for (const p of set.list()) {
    let node = root;
    for (const e of p) {
      if (!isObject(node[e])) node[e] = {};
      node = node[e] as JsonObject;
    }
    node['.'] = node['.'] ?? {};
  }
  // A member without children is written `{}`, not `{".": {}}`.
  const tidy = (n: JsonObject): JsonObject => {
    const out: JsonObject = {};
    const keys = Object.keys(n).filter((k) => k !== '.');
    if ('.' in n && keys.length > 0) out['.'] = {};
    for (const k of keys.sort()) out[k] = tidy(n[k] as JsonObject);
    return out;
  };
  return tidy(root);
}

/** The set a FieldsV1 tree encodes; 400-worthy Error on a malformed tree. */
export function fromFieldsV1(tree: unknown): FieldSet {
  const set = new FieldSet();
  const walk = (n: unknown, path: PathElement[]): void => {
    if (!isObject(n)) throw new Error(`expected an object at ${path.join('.') || 'the root'}`);
    const keys = Object.keys(n);
    if (path.length > 0 && (keys.length === 0 || keys.includes('.'))) set.insert(path);
    for (const k of keys) {
      if (k === '.') continue;
      if (!/^[fkvi]:/.test(k)) throw new Error(`unknown path element ${JSON.stringify(k)}`);
      walk(n[k], [...path, k]);
    }
  };
  walk(tree, []);
  return set;
}

/** SMD's printed form of a path: `.spec.containers[name="nginx"].image`. */
export function pathString(p: FieldPath): string {
  return p.map((e) => {
    const body = e.slice(2);
    switch (e[0]) {
      case 'f': return `.${body}`;
      case 'k': {
        const keys = JSON.parse(body) as Record<string, Json>;
        return `[${Object.keys(keys).sort().map((k) => `${k}=${JSON.stringify(keys[k])}`).join(',')}]`;
      }
      case 'v': return `[=${body}]`;
      default: return `[${body}]`;
    }
  }).join('');
}

// ---------------------------------------------------------------------------------------------
// Typed walks

/** A node's type for the walks: its type reference, and the list type when it is a list. */
interface Typed {
  ref: string | undefined;
  list?: ListType;
  /** A value struct of Go's zero object (see `isValueStruct`). */
  valueStruct?: boolean;
}

/** The type of field `k` of a value typed `t`. */
function fieldType(t: Typed, k: string, root: boolean): Typed {
  const s = shapeOf(t.ref);
  if (s.shape === 'struct') {
    const ref = s.fields[k];
    return { ref, list: ref?.startsWith('[]') ? listTypeOf(s.name, k) : undefined, valueStruct: isValueStruct(s.name, k, root) };
  }
  if (s.shape === 'map') return { ref: s.elem, list: s.elem.startsWith('[]') ? { type: 'atomic' } : undefined };
  return { ref: undefined };
}

/** Whether a value of type `t` is one leaf (scalar, atomic list or struct, or untyped non-map). */
function isLeaf(t: Typed, v: Json): boolean {
  if (Array.isArray(v)) return !t.list || t.list.type === 'atomic';
  if (!isObject(v)) return true;
  const s = shapeOf(t.ref);
  if (s.shape === 'struct') return s.atomic;
  return s.shape === 'scalar';
}

/** The path element of list item `item` (index `i`) of a list typed `list`. */
export function itemElement(list: ListType, item: Json, i: number): PathElement {
  if (list.type === 'set') return `v:${JSON.stringify(item)}`;
  if (list.type === 'map' && isObject(item)) {
    const keys: Record<string, Json> = {};
    for (const k of list.keys ?? []) {
      if (item[k] !== undefined) keys[k] = item[k];
      else if (k === 'protocol') keys[k] = 'TCP'; // the OpenAPI default of every protocol key
    }
    return `k:${sortedJson(keys)}`;
  }
  return `i:${i}`;
}

function listItems(t: Typed, v: Json[]): Map<PathElement, Json> {
  const out = new Map<PathElement, Json>();
  v.forEach((item, i) => out.set(itemElement(t.list ?? { type: 'atomic' }, item, i), item));
  return out;
}

const elemType = (t: Typed): Typed => ({ ref: t.ref?.startsWith('[]') ? t.ref.slice(2) : undefined });

/**
 * The fields `v` sets, as SMD's ToFieldSet (used for an applied configuration): every leaf,
 * every list item, every entry of a map, and struct fields whose value is empty or null.
 */
export function fieldSetOf(v: JsonObject, rootRef: string | undefined): FieldSet {
  const set = new FieldSet();
  const walk = (val: Json, t: Typed, path: PathElement[], root: boolean): void => {
    if (isLeaf(t, val)) {
      if (path.length) set.insert(path);
      return;
    }
    if (Array.isArray(val)) {
      for (const [e, item] of listItems(t, val)) {
        const p = [...path, e];
        set.insert(p);
        if (t.list?.type === 'map') walk(item, elemType(t), p, false);
      }
      return;
    }
    const obj = val as JsonObject;
    const struct = shapeOf(t.ref).shape === 'struct';
    for (const [k, child] of Object.entries(obj)) {
      const p = [...path, `f:${k}`];
      const ct = fieldType(t, k, root);
      walk(child, ct, p, false);
      if (child === null || (isObject(child) && Object.keys(child).length === 0) || !struct) set.insert(p);
    }
  };
  walk(v, { ref: rootRef }, [], true);
  return set;
}

/** What changed from one object to another, as SMD's Compare. */
export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/**
 * Compares `lhs` (before) and `rhs` (after). A node only `rhs` has is added with everything
 * below it; one only `lhs` has is removed with everything below it; leaves that differ are
 * modified. Value structs missing on a side count as `{}` (Go's zero object has them).
 */
export function compare(lhs: JsonObject, rhs: JsonObject, rootRef: string | undefined): Comparison {
  const added = new FieldSet();
  const modified = new FieldSet();
  const removed = new FieldSet();
  const all = (val: Json, t: Typed, path: PathElement[], into: FieldSet): void => {
    into.insert(path);
    if (isLeaf(t, val)) return;
    if (Array.isArray(val)) {
      for (const [e, item] of listItems(t, val)) all(item, elemType(t), [...path, e], into);
      return;
    }
    for (const [k, child] of Object.entries(val as JsonObject)) all(child, fieldType(t, k, false), [...path, `f:${k}`], into);
  };
  const walk = (a: Json | undefined, b: Json | undefined, t: Typed, path: PathElement[], root: boolean): void => {
    const zero = (v: Json | undefined): Json | undefined => (Array.isArray(v) ? [] : isObject(v) ? {} : undefined);
    if ((a === undefined || a === null) && t.valueStruct) a = zero(b) ?? a;
    if ((b === undefined || b === null) && t.valueStruct) b = zero(a) ?? b;
    if (a === undefined && b === undefined) return;
    if (a === undefined) return all(b as Json, t, path, added);
    if (b === undefined) return all(a, t, path, removed);
    const leaf = isLeaf(t, a) || isLeaf(t, b) || Array.isArray(a) !== Array.isArray(b) || isObject(a) !== isObject(b);
    if (leaf) {
      if (!jsonEqual(a, b) && path.length) modified.insert(path);
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      const la = listItems(t, a);
      const lb = listItems(t, b);
      for (const e of new Set([...la.keys(), ...lb.keys()])) walk(la.get(e), lb.get(e), elemType(t), [...path, e], false);
      return;
    }
    const oa = a as JsonObject;
    const ob = b as JsonObject;
    for (const k of new Set([...Object.keys(oa), ...Object.keys(ob)])) {
      walk(oa[k], ob[k], fieldType(t, k, root), [...path, `f:${k}`], false);
    }
  };
  walk(lhs, rhs, { ref: rootRef }, [], true);
  return { added, modified, removed };
}

/**
 * SMD's Merge: `config` laid over `live`. Struct fields and map entries merge recursively,
 * list-maps merge item by item (live order, new items after), sets are united, leaves and
 * atomic values are replaced by the configuration's.
 */
export function mergeApplied(live: JsonObject, config: JsonObject, rootRef: string | undefined): JsonObject {
  const walk = (a: Json | undefined, b: Json, t: Typed, root: boolean): Json => {
    if (a === undefined || isLeaf(t, b) || isLeaf(t, a) || Array.isArray(a) !== Array.isArray(b)) return structuredClone(b);
    if (Array.isArray(a) && Array.isArray(b)) {
      // Item by item over the live list (not a map of it), so that live duplicates are kept.
      const list = t.list ?? { type: 'atomic' };
      const lb = listItems(t, b);
      const seen = new Set<PathElement>();
      const out: Json[] = a.map((item, i) => {
        const e = itemElement(list, item, i);
        seen.add(e);
        return lb.has(e) ? walk(item, lb.get(e) as Json, elemType(t), false) : structuredClone(item);
      });
      for (const [e, item] of lb) if (!seen.has(e)) out.push(structuredClone(item));
      return out;
    }
    if (!isObject(a) || !isObject(b)) return structuredClone(b);
    const out: JsonObject = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = walk(a[k], v, fieldType(t, k, root), false);
    return out;
  };
  return walk(live, config, { ref: rootRef }, true) as JsonObject;
}

/**
 * `obj` without the nodes at `paths` (list items and struct fields alike). A list or map that
 * this leaves empty goes too, as Go's `omitempty` would drop it.
 */
export function removeFields(obj: JsonObject, paths: FieldSet, rootRef: string | undefined): JsonObject {
  const drop = paths;
  const walk = (val: Json, t: Typed, path: PathElement[], root: boolean): Json | undefined => {
    if (path.length && drop.has(path)) return undefined;
    if (isLeaf(t, val)) return val;
    if (Array.isArray(val)) {
      const out: Json[] = [];
      for (const [e, item] of listItems(t, val)) {
        const kept = t.list?.type === 'map' ? walk(item, elemType(t), [...path, e], false) : drop.has([...path, e]) ? undefined : item;
        if (kept !== undefined) out.push(kept);
      }
      return out.length === 0 && val.length > 0 ? undefined : out;
    }
    const out: JsonObject = {};
    for (const [k, child] of Object.entries(val as JsonObject)) {
      const kept = walk(child, fieldType(t, k, root), [...path, `f:${k}`], false);
      if (kept !== undefined) out[k] = kept;
    }
    return Object.keys(out).length === 0 && Object.keys(val as JsonObject).length > 0 && path.length > 0 ? undefined : out;
  };
  return (walk(obj, { ref: rootRef }, [], true) ?? {}) as JsonObject;
}
