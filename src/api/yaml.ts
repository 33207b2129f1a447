/**
 * Loading YAML safely, for the CLI's manifests and the API server's `application/yaml` bodies.
 *
 * js-yaml resolves an alias to the anchored value itself, so a "billion laughs" document (each
 * level a list of aliases to the level below) loads instantly as a small shared graph, and then
 * explodes when anything walks it as a tree (JSON.stringify, a deep copy, validation). Like
 * go-yaml, which kubectl uses, the loaded documents are walked as the tree they denote while
 * counting nodes and alias expansions; too high a share of aliases, or too many nodes in all,
 * is refused with go-yaml's words: `yaml: document contains excessive aliasing`. The walk stops
 * as soon as that is known, so a bomb is refused in milliseconds.
 */
import yaml from 'js-yaml';

/** A YAML document that cannot be loaded, with go-yaml's reason (`line 3: mapping values are not allowed here`). */
export class YamlError extends Error {
  constructor(readonly reason: string) {
    super(`yaml: ${reason}`);
    this.name = 'YamlError';
  }
}

/** Nesting bound of YAML documents (the same as JSON bodies'; see `MAX_JSON_DEPTH`). */
export const MAX_YAML_DEPTH = 1000;
/** No document may denote more nodes than this, however it is aliased. */
const MAX_EXPANDED_NODES = 4_000_000;

/** go-yaml's allowed share of aliases among decoded nodes: 99% for small documents, 10% for huge ones. */
function allowedAliasRatio(decoded: number): number {
  const low = 400_000;
  const high = 4_000_000;
  if (decoded <= low) return 0.99;
  if (decoded >= high) return 0.1;
  return 0.99 - 0.89 * ((decoded - low) / (high - low));
}

/**
 * Walks `doc` as a tree (iteratively: depth cannot overflow the stack) and throws a YamlError
 * for excessive aliasing or nesting deeper than `MAX_YAML_DEPTH`.
 */
export function checkAliasing(doc: unknown): void {
  const seen = new Set<object>();
  const stack: { v: unknown; depth: number }[] = [{ v: doc, depth: 0 }];
  let decoded = 0;
  let aliases = 0;
  while (stack.length) {
    const { v, depth } = stack.pop() as { v: unknown; depth: number };
    decoded++;
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_YAML_DEPTH) throw new YamlError(`exceeded max depth of ${MAX_YAML_DEPTH}`);
    if (seen.has(v)) {
      aliases++;
      decoded++; // go-yaml counts the alias node and the node it expands to
    } else seen.add(v);
    if ((aliases > 100 && decoded > 1000 && aliases / decoded > allowedAliasRatio(decoded)) || (aliases > 0 && decoded > MAX_EXPANDED_NODES)) {
      throw new YamlError('document contains excessive aliasing');
    }
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const c of children) stack.push({ v: c, depth: depth + 1 });
  }
}

/**
 * Integers as Kubernetes' YAML parser (YAML 1.1) reads them: besides what YAML 1.2 allows, a
 * leading zero means octal, so `defaultMode: 0400` is 256 (r--------), as in the manifests of
 * the Kubernetes documentation. Replaces the core schema's int type (same tag).
 */
const LEGACY_OCTAL = /^[-+]?0[0-7]+$/;
/** js-yaml's own int type (exported at run time as `types.int`; its typings leave it out). */
interface ScalarType { resolve(data: string): boolean; construct(data: string): unknown; predicate?: (o: unknown) => boolean; represent?: Record<string, (data: object) => string>; defaultStyle?: string }
const coreInt = (yaml as unknown as { types: { int: ScalarType } }).types.int;
const yaml11Int = new yaml.Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  resolve: (data: string | null) => data !== null && (LEGACY_OCTAL.test(data) || coreInt.resolve(data)),
  construct: (data: string) => {
    if (!LEGACY_OCTAL.test(data)) return coreInt.construct(data) as number;
    const negative = data.startsWith('-');
    const value = parseInt(data.replace(/^[-+]/, ''), 8);
    return negative ? -value : value;
  },
  predicate: coreInt.predicate,
  represent: coreInt.represent,
  defaultStyle: coreInt.defaultStyle,
});
/** CORE_SCHEMA (no timestamp/binary types, so values stay strings) with YAML 1.1 octal ints. */
const SCHEMA = yaml.CORE_SCHEMA.extend({ implicit: [yaml11Int] });

/**
 * Loads every document of a YAML stream with the core schema (no timestamps or binary: values
 * stay strings, as the API expects) and YAML 1.1's octal integers (`0400`), as kubectl reads them. Throws a YamlError for malformed YAML
 * (`line N: REASON`), excessive aliasing or nesting.
 */
export function loadYamlDocuments(text: string, filename?: string): unknown[] {
  let docs: unknown[];
  try {
    docs = yaml.loadAll(text, null, { schema: SCHEMA, ...(filename ? { filename } : {}) });
  } catch (e) {
    if (e instanceof yaml.YAMLException) throw new YamlError(`${e.mark ? `line ${e.mark.line + 1}: ` : ''}${e.reason}`);
    // js-yaml's parser recurses: a document nested thousands deep exhausts the stack.
    if (e instanceof RangeError) throw new YamlError(`exceeded max depth of ${MAX_YAML_DEPTH}`);
    throw e;
  }
  for (const d of docs) checkAliasing(d);
  return docs;
}
