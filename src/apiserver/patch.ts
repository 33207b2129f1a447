/**
 * The three PATCH formats Kubernetes accepts, as pure functions from (current object, patch)
 * to the patched object. None of them changes its arguments.
 *
 * - JSON merge patch (RFC 7386): objects merge, `null` deletes, everything else replaces.
 * - Strategic merge patch: like merge patch, except that lists Kubernetes declares with a merge
 *   key (containers by `name`, ports by `containerPort`, conditions by `type`, ...) merge item by
 *   item, and the `$patch`, `$setElementOrder/`, `$retainKeys`, `$deleteFromPrimitiveList/`
 *   directives kubectl sends are honoured. Merge keys come from the list table of
 *   `api/listtypes.ts`, found by the declared type of each list.
 * - JSON patch (RFC 6902): add, remove, replace, move, copy, test.
 */
import { ApiError } from '../api/errors.js';
import { patchStrategyOf, shapeOf } from '../api/listtypes.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export type PatchType = 'json' | 'merge' | 'strategic';

/** PATCH content types and their formats; any other content type is a 415. */
export const PATCH_CONTENT_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
};

/** Server-side apply's PATCH content type (the body is YAML or JSON); see `managedfields.ts`. */
export const APPLY_PATCH_CONTENT_TYPE = 'application/apply-patch+yaml';

export function unsupportedPatchType(contentType: string, apply = true): ApiError {
  return new ApiError(415, 'UnsupportedMediaType',
    `the body of the request was in an unknown format (${contentType || 'none'}) - accepted media types include: application/json-patch+json, application/merge-patch+json, ${apply ? `${APPLY_PATCH_CONTENT_TYPE}, ` : ''}application/strategic-merge-patch+json`);
}

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);
const clone = <T extends Json>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/**
 * Applies a patch of the given type; 400 for a malformed patch, 422 for one that cannot apply.
 * `rootType` (a type name of `schema.data.ts`, e.g. `Deployment`) lets a strategic merge patch
 * find each list's merge key by its declared type; without it, list field names decide.
 */
export function applyPatch(type: PatchType, target: JsonObject, patch: unknown, rootType?: string): JsonObject {
  switch (type) {
    case 'merge':
      if (!isObject(patch)) throw new ApiError(400, 'BadRequest', 'a merge patch must be a JSON object');
      return mergePatch(target, patch) as JsonObject;
    case 'strategic':
      if (!isObject(patch)) throw new ApiError(400, 'BadRequest', 'a strategic merge patch must be a JSON object');
      return strategicMerge(target, patch, rootType) as JsonObject;
    case 'json': {
      if (!Array.isArray(patch)) throw new ApiError(400, 'BadRequest', 'a JSON patch must be a JSON array of operations');
      const out = jsonPatch(target, patch);
      if (!isObject(out)) throw new ApiError(422, 'Invalid', 'the patched document is not a JSON object');
      return out;
    }
  }
}

/** RFC 7386. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patch

/** The type reference of field `k` of a value of type `ref` (undefined when unknown). */
function childRef(ref: string | undefined, k: string): string | undefined {
  const s = shapeOf(ref);
  if (s.shape === 'struct') return s.fields[k];
  if (s.shape === 'map') return s.elem;
  return undefined;
}

/** The struct type name `ref` denotes, if it is one. */
const structName = (ref: string | undefined): string | undefined => {
  const s = shapeOf(ref);
  return s.shape === 'struct' ? s.name : undefined;
};

/**
 * How a strategic merge patch merges list `field` of struct type `owner` (merge key, set, or
 * replace), from the one list table of `listtypes.ts`; by field name when the type is unknown.
 */
function strategyFor(owner: string | undefined, field: string, items: Json[]): { mergeKey?: string; set?: boolean } {
  return patchStrategyOf(owner, field, items.filter(isObject));
}

function strategicMerge(target: Json | undefined, patch: Json, ref: string | undefined): Json | undefined {
  if (!isObject(patch)) return clone(patch);
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const { $patch: _drop, ...rest } = patch;
    return clone(rest);
  }
  const owner = structName(ref);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  const orders: [string, Json[]][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch') continue;
    if (k === '$retainKeys') {
      const keep = new Set(Array.isArray(v) ? v.map(String) : []);
      for (const key of Object.keys(out)) if (!keep.has(key) && !(key in patch)) delete out[key];
      continue;
    }
    if (k.startsWith('$setElementOrder/')) {
      if (Array.isArray(v)) orders.push([k.slice('$setElementOrder/'.length), v]);
      continue;
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const listKey = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[listKey];
      if (Array.isArray(cur) && Array.isArray(v)) out[listKey] = cur.filter((x) => !v.some((d) => d === x));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const merged = Array.isArray(v) ? mergeList(out[k], v, owner, k, childRef(ref, k)) : strategicMerge(out[k], v, childRef(ref, k));
    if (merged === undefined) delete out[k];
    else out[k] = merged;
  }
  for (const [k, order] of orders) {
    const list = out[k];
    if (Array.isArray(list)) out[k] = reorder(list, order, strategyFor(owner, k, list).mergeKey);
  }
  return out;
}

function mergeList(target: Json | undefined, patch: Json[], owner: string | undefined, field: string, ref: string | undefined): Json[] {
  const cur = Array.isArray(target) ? target : [];
  const strategy = strategyFor(owner, field, [...cur, ...patch]);
  if (strategy.set) return [...cur, ...patch.filter((p) => !cur.includes(p))].map((x) => clone(x));
  const key = strategy.mergeKey;
  if (!key || !patch.every(isObject)) return patch.map((x) => clone(x));
  // A list-level `$patch: replace` item replaces the whole list with the other items.
  if (patch.some((p) => isObject(p) && p.$patch === 'replace' && !(key in p))) {
    return patch.filter((p) => !(isObject(p) && p.$patch === 'replace' && !(key in p))).map((x) => clone(x));
  }
  const elem = ref?.startsWith('[]') ? ref.slice(2) : undefined;
  const out: Json[] = cur.map((x) => clone(x));
  for (const item of patch as JsonObject[]) {
    const at = out.findIndex((o) => isObject(o) && o[key] === item[key]);
    if (item.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) {
      const merged = strategicMerge(out[at], item, elem);
      if (merged === undefined) out.splice(at, 1);
      else out[at] = merged;
    } else {
      const { $patch: _drop, ...rest } = item;
      out.push(clone(rest));
    }
  }
  return out;
}

/** Orders `list` as `order` says (items named there first, in that order; the rest after). */
function reorder(list: Json[], order: Json[], key: string | undefined): Json[] {
  const idOf = (x: Json): Json => (key && isObject(x) ? (x[key] ?? null) : x);
  const wanted = order.map(idOf);
  const rank = (x: Json): number => {
    const i = wanted.findIndex((w) => w === idOf(x));
    return i < 0 ? wanted.length : i;
  };
  return [...list].sort((a, b) => rank(a) - rank(b));
}

// ---------------------------------------------------------------------------------------------
// JSON patch (RFC 6902)

interface Op { op: string; path: string; from?: string; value?: Json }

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw invalidPatch(`JSON pointer "${pointer}" must start with "/"`);
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

const invalidPatch = (message: string): ApiError => new ApiError(422, 'Invalid', message);

/** The container of the last path segment, and that segment. */
function locate(doc: Json, tokens: string[], pointer: string): { parent: Json; key: string } {
  let cur: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else cur = undefined as unknown as Json;
    if (cur === undefined) throw invalidPatch(`doc is missing path: "${pointer}"`);
  }
  return { parent: cur, key: tokens[tokens.length - 1] };
}

function getAt(doc: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const { parent, key } = locate(doc, tokens, pointer);
  const v = Array.isArray(parent) ? parent[Number(key)] : isObject(parent) ? parent[key] : undefined;
  if (v === undefined) throw invalidPatch(`doc is missing path: "${pointer}"`);
  return v;
}

function arrayIndex(arr: Json[], key: string, pointer: string, forAdd: boolean): number {
  if (forAdd && key === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(key)) throw invalidPatch(`invalid array index "${key}" in "${pointer}"`);
  const i = Number(key);
  if (i > arr.length || (!forAdd && i === arr.length)) throw invalidPatch(`array index ${i} out of bounds in "${pointer}"`);
  return i;
}

function addAt(doc: Json, pointer: string, value: Json): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, key } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, pointer, true), 0, value);
  else if (isObject(parent)) parent[key] = value;
  else throw invalidPatch(`doc is missing path: "${pointer}"`);
  return doc;
}

function removeAt(doc: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw invalidPatch('cannot remove the whole document');
  const { parent, key } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, pointer, false), 1);
  else if (isObject(parent) && key in parent) delete parent[key];
  else throw invalidPatch(`unable to remove nonexistent key: ${key}: missing value`);
  return doc;
}

function replaceAt(doc: Json, pointer: string, value: Json): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  getAt(doc, pointer);
  const { parent, key } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) parent[arrayIndex(parent, key, pointer, false)] = value;
  else if (isObject(parent)) parent[key] = value;
  return doc;
}

function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  return false;
}

export function jsonPatch(target: Json, ops: unknown[]): Json {
  let doc = clone(target);
  for (const raw of ops) {
    if (!isObject(raw as Json) || typeof (raw as Op).op !== 'string' || typeof (raw as Op).path !== 'string') {
      throw new ApiError(400, 'BadRequest', `invalid JSON patch operation: ${JSON.stringify(raw)}`);
    }
    const op = raw as Op;
    const needsValue = op.op === 'add' || op.op === 'replace' || op.op === 'test';
    if (needsValue && !('value' in op)) throw new ApiError(400, 'BadRequest', `JSON patch "${op.op}" at "${op.path}" needs a value`);
    switch (op.op) {
      case 'add':
        doc = addAt(doc, op.path, clone(op.value as Json));
        break;
      case 'remove':
        doc = removeAt(doc, op.path);
        break;
      case 'replace':
        doc = replaceAt(doc, op.path, clone(op.value as Json));
        break;
      case 'move': {
        if (op.from === undefined) throw new ApiError(400, 'BadRequest', 'JSON patch "move" needs "from"');
        const v = getAt(doc, op.from);
        doc = addAt(removeAt(doc, op.from), op.path, v);
        break;
      }
      case 'copy': {
        if (op.from === undefined) throw new ApiError(400, 'BadRequest', 'JSON patch "copy" needs "from"');
        doc = addAt(doc, op.path, clone(getAt(doc, op.from)));
        break;
      }
      case 'test':
        if (!jsonEqual(getAt(doc, op.path), op.value as Json)) throw invalidPatch(`testing value ${op.path} failed: test failed`);
        break;
      default:
        throw new ApiError(400, 'BadRequest', `unsupported JSON patch operation "${op.op}"`);
    }
  }
  return doc;
}
