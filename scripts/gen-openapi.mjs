#!/usr/bin/env node
/**
 * Generates src/api/openapi.data.ts: the OpenAPI definitions (Kubernetes' names, swagger 2.0
 * form) of the Kubernetes kinds minikube-lite serves or may serve, with Kubernetes' field
 * descriptions. Read by src/apiserver/openapi.ts, which builds `/openapi/v2` and the
 * `/openapi/v3/...` documents from it.
 *
 *   node scripts/gen-openapi.mjs [/usr/bin/kubectl]   # rewrites src/api/openapi.data.ts
 *
 * Sources (no swagger.json ships on npm in a form we can install, so three kept sources):
 * - kubernetes-types (dev dependency): the structure, required fields and every description,
 *   read from its .d.ts doc comments with the TypeScript compiler API; the file a type is in
 *   (`apps/v1.d.ts`) gives its Kubernetes package (`io.k8s.api.apps.v1`).
 * - @kubernetes/client-node's generated models (dev dependency): integer and number formats
 *   (int32, int64, double), which the .d.ts files do not carry.
 * - the stock kubectl binary: Go struct tags `patchStrategy:"merge" patchMergeKey:"name"`
 *   of k8s.io/api, matched to fields by JSON name and protobuf field number (the numbers from
 *   src/api/protobuf.data.ts, itself generated from kubectl). Where one name and number carry
 *   different strategies in different types, the OVERRIDES below (Kubernetes' types.go) decide.
 * - the stock kubectl binary again: the `openapiv2/OpenAPIv2.proto` descriptor of gnostic-models
 *   (kept raw in it), the protobuf form of `/openapi/v2` that kubectl asks for; written as
 *   V2_MESSAGES (message → fields `[number, name, repeated, type]`, type `s` string, `b` bool,
 *   `i` int64, `d` double or a message name; `oneof` fields carry a fifth element, the oneof index).
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const require = createRequire(import.meta.url);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TYPES = dirname(require.resolve('kubernetes-types/package.json'));
const MODELS = dirname(require.resolve('@kubernetes/client-node/dist/gen/models/V1Pod.js'));
const KUBECTL = process.argv[2] ?? '/usr/bin/kubectl';

/** kubernetes-types files (package/version) whose kinds are included, with everything they reference. */
const FILES = [
  'core/v1', 'apps/v1', 'batch/v1', 'networking/v1', 'rbac/v1', 'storage/v1', 'policy/v1', 'coordination/v1',
  'discovery/v1', 'authorization/v1', 'authentication/v1', 'autoscaling/v1', 'autoscaling/v2', 'events/v1',
  'scheduling/v1', 'node/v1',
];
/** Go package path prefix of a kubernetes-types file. */
function packageOf(file) {
  if (file === 'meta/v1') return 'io.k8s.apimachinery.pkg.apis.meta.v1';
  if (file === 'api/resource') return 'io.k8s.apimachinery.pkg.api.resource';
  if (file === 'runtime') return 'io.k8s.apimachinery.pkg.runtime';
  if (file === 'version') return 'io.k8s.apimachinery.pkg.version';
  if (file.startsWith('apiextensions/')) return `io.k8s.apiextensions-apiserver.pkg.apis.${file.replace('/', '.')}`;
  return `io.k8s.api.${file.replace('/', '.')}`;
}
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const INT_OR_STRING_DOC = 'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.';

/** Patch strategies of fields whose JSON name and protobuf number mean different things in different types. */
const OVERRIDES = {
  'core.v1.ServiceSpec.ports': ['merge', 'port'],
  ...Object.fromEntries([
    'core.v1.PodStatus', 'core.v1.NodeStatus', 'core.v1.NamespaceStatus', 'core.v1.PersistentVolumeClaimStatus',
    'core.v1.ReplicationControllerStatus', 'core.v1.ServiceStatus', 'apps.v1.DeploymentStatus', 'apps.v1.ReplicaSetStatus',
    'apps.v1.DaemonSetStatus', 'apps.v1.StatefulSetStatus', 'batch.v1.JobStatus', 'policy.v1.PodDisruptionBudgetStatus',
  ].map((m) => [`${m}.conditions`, ['merge', 'type']])),
};

// --- kubernetes-types: parse every file once -----------------------------------------------

/** file → { decls: name → ts node, imports: name → file, doc: name → description } */
const files = new Map();
function load(file) {
  if (files.has(file)) return files.get(file);
  const path = join(TYPES, `${file}.d.ts`);
  const src = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const entry = { decls: new Map(), imports: new Map(), src };
  files.set(file, entry);
  for (const st of src.statements) {
    if (ts.isImportDeclaration(st)) {
      const from = join(dirname(file), st.moduleSpecifier.text).replace(/^\.\//, '');
      for (const el of st.importClause?.namedBindings?.elements ?? []) entry.imports.set(el.name.text, from);
    } else if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) {
      entry.decls.set(st.name.text, st);
    }
  }
  return entry;
}
/** The doc comment of a node, as one string (Kubernetes' description). */
function docOf(node) {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const text = docs.map((d) => (typeof d.comment === 'string' ? d.comment : ts.getTextOfJSDocComment(d.comment) ?? '')).join('\n');
  return text.trim();
}

// --- client-node: number formats -------------------------------------------------------------

const cap = (s) => (s ? s[0].toUpperCase() + s.slice(1) : "");
function formatsOf(file, name) {
  const [pkg, ver] = file.split('/');
  for (const cand of [`${cap(pkg)}${cap(ver ?? '')}${name}`, `${cap(ver ?? '')}${name}`]) {
    const p = join(MODELS, `${cand}.js`);
    if (existsSync(p)) {
      const cls = require(p)[cand];
      return new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, { type: a.type, format: a.format }]));
    }
  }
  return undefined;
}

// --- kubectl: patch strategies ------------------------------------------------------------------

const protoData = readFileSync(join(ROOT, 'src/api/protobuf.data.ts'), 'utf8');
const MESSAGES = JSON.parse(/export const MESSAGES[^=]*= (\{.*\});/.exec(protoData)[1]);
/** `json#protoNumber` → set of `strategy/key` seen in the binary's struct tags. */
const tags = new Map();
{
  const bin = readFileSync(KUBECTL).toString('latin1');
  const re = /(?:(?:json|protobuf|patchStrategy|patchMergeKey|protobuf_key|protobuf_val):"[^"]*" ?)+/g;
  for (let m; (m = re.exec(bin));) {
    const tag = m[0];
    const json = /json:"([^",]*)/.exec(tag)?.[1];
    const num = /protobuf:"[a-z0-9]+,(\d+),/.exec(tag)?.[1];
    if (!json || !num) continue;
    const v = `${/patchStrategy:"([^"]*)"/.exec(tag)?.[1] ?? ''}/${/patchMergeKey:"([^"]*)"/.exec(tag)?.[1] ?? ''}`;
    const k = `${json}#${num}`;
    tags.set(k, (tags.get(k) ?? new Set()).add(v));
  }
}
function patchOf(file, name, field) {
  const msg = `${file.replace('/', '.')}.${name}`;
  const o = OVERRIDES[`${msg}.${field}`];
  if (o) return o;
  const f = MESSAGES[msg]?.find((x) => x[1] === field);
  if (!f) return undefined;
  const seen = tags.get(`${field}#${f[0]}`);
  if (!seen || seen.size !== 1) return undefined; // unknown or ambiguous: no extension
  const [strategy, key] = [...seen][0].split('/');
  return strategy ? [strategy, key] : undefined;
}

// --- kubectl: gnostic's OpenAPI v2 protobuf descriptor -----------------------------------------------

const V2_MESSAGES = {};
{
  const bin = readFileSync(KUBECTL);
  const key = Buffer.concat([Buffer.from([0x0a, 0x19]), Buffer.from('openapiv2/OpenAPIv2.proto')]);
  const at = bin.indexOf(key);
  if (at < 0) throw new Error(`no openapiv2/OpenAPIv2.proto descriptor in ${KUBECTL}`);
  const fields = (buf, stopAfter) => {
    const out = [];
    let i = 0;
    const varint = () => { let v = 0n, sh = 0n; for (;;) { const b = buf[i++]; v |= BigInt(b & 0x7f) << sh; if (!(b & 0x80)) return v; sh += 7n; } };
    while (i < buf.length) {
      const k = varint();
      const f = Number(k >> 3n), t = Number(k & 7n);
      if (t === 0) out.push([f, varint()]);
      else if (t === 2) { const n = Number(varint()); out.push([f, buf.subarray(i, i + n)]); i += n; }
      else throw new Error(`wire type ${t}`);
      if (f === stopAfter) break; // `syntax`, the descriptor's last field
    }
    return out;
  };
  const SCALAR = { 1: 'd', 3: 'i', 8: 'b', 9: 's' };
  for (const [n, v] of fields(bin.subarray(at, at + (1 << 20)), 12)) {
    if (n !== 4) continue;
    const m = fields(v);
    const name = m.find(([x]) => x === 1)[1].toString();
    V2_MESSAGES[name] = m.filter(([x]) => x === 2).map(([, b]) => {
      const f = fields(b);
      const get = (k) => f.find(([x]) => x === k)?.[1];
      const type = Number(get(5));
      const row = [Number(get(3)), get(1).toString(), Number(get(4)) === 3 ? 1 : 0, type === 11 ? get(6).toString().replace(/^\.openapi\.v2\./, '') : SCALAR[type]];
      if (!row[3]) throw new Error(`OpenAPIv2.proto: ${name}.${row[1]} has type ${type}`);
      if (get(9) !== undefined) row.push(Number(get(9)));
      return row;
    });
  }
}

// --- the definitions ----------------------------------------------------------------------------

const definitions = {};
const queue = [];
const fileOfDef = new Map();
function refTo(file, name) {
  if (file === 'meta/v1' && (name === 'Time' || name === 'MicroTime')) {
    want(file, name);
    return `${packageOf(file)}.${name}`;
  }
  want(file, name);
  return `${packageOf(file)}.${name}`;
}
function want(file, name) {
  const id = `${packageOf(file)}.${name}`;
  if (!fileOfDef.has(id)) {
    fileOfDef.set(id, [file, name]);
    queue.push(id);
  }
}
/** Resolves a type name used in `file` to the file that declares it. */
function fileOfName(file, name) {
  const e = load(file);
  if (e.decls.has(name)) return file;
  const from = e.imports.get(name);
  if (!from) throw new Error(`${file}: unknown type ${name}`);
  return from;
}

/** The schema of a TypeScript type node in `file` (for field `field` of `owner`). */
function schemaOf(file, node, fmt) {
  if (ts.isParenthesizedTypeNode(node)) return schemaOf(file, node.type, fmt);
  if (ts.isUnionTypeNode(node)) {
    const kinds = node.types.map((t) => t.getText()).sort().join('|');
    if (kinds === 'number|string') return { $ref: INT_OR_STRING };
    throw new Error(`${file}: union ${kinds}`);
  }
  if (ts.isLiteralTypeNode(node)) return { type: 'string' };
  if (ts.isArrayTypeNode(node)) return { type: 'array', items: schemaOf(file, node.elementType, fmt && { ...fmt, type: fmt.type.replace(/^Array<(.+)>$/, '$1') }) };
  if (ts.isTypeLiteralNode(node)) {
    const idx = node.members.find(ts.isIndexSignatureDeclaration);
    if (!idx) return { type: 'object' };
    const inner = fmt && /^\{ \[key: string\]: (.+); \}$/.exec(fmt.type);
    return { type: 'object', additionalProperties: schemaOf(file, idx.type, inner ? { ...fmt, type: inner[1] } : undefined) };
  }
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword: return fmt?.format === 'byte' ? { type: 'string', format: 'byte' } : { type: 'string' };
    case ts.SyntaxKind.BooleanKeyword: return { type: 'boolean' };
    case ts.SyntaxKind.NumberKeyword: {
      const f = fmt?.format;
      if (f === 'double' || f === 'float') return { type: 'number', format: 'double' };
      if (f === 'int64') return { type: 'integer', format: 'int64' };
      return { type: 'integer', format: 'int32' };
    }
    case ts.SyntaxKind.AnyKeyword: case ts.SyntaxKind.UnknownKeyword: return { type: 'object' };
  }
  if (ts.isTypeReferenceNode(node)) {
    const name = node.typeName.getText();
    if (name === 'Array') return { type: 'array', items: schemaOf(file, node.typeArguments[0], fmt && { ...fmt, type: fmt.type.replace(/^Array<(.+)>$/, '$1') }) };
    return { $ref: refTo(fileOfName(file, name), name) };
  }
  throw new Error(`${file}: type ${node.getText()}`);
}

function define(id) {
  const [file, name] = fileOfDef.get(id);
  const e = load(file);
  const decl = e.decls.get(name);
  if (!decl) throw new Error(`no ${name} in ${file}`);
  const def = {};
  const description = docOf(decl);
  if (description) def.description = description;
  if (ts.isTypeAliasDeclaration(decl)) {
    if (name === 'Time' || name === 'MicroTime') Object.assign(def, { type: 'string', format: 'date-time' });
    else if (name === 'Quantity') Object.assign(def, { type: 'string' });
    else throw new Error(`alias ${name}`);
    definitions[id] = def;
    return;
  }
  def.type = 'object';
  const fmts = formatsOf(file, name);
  const props = {};
  const required = [];
  for (const m of decl.members) {
    if (!ts.isPropertySignature(m)) continue;
    const field = m.name.getText().replace(/^"|"$/g, '');
    const s = schemaOf(file, m.type, fmts?.get(field));
    const d = docOf(m);
    const p = d ? { description: d, ...s } : s;
    const patch = patchOf(file, name, field);
    if (patch) {
      p['x-kubernetes-patch-strategy'] = patch[0];
      if (patch[1]) p['x-kubernetes-patch-merge-key'] = patch[1];
    }
    props[field] = p;
    if (!m.questionToken) required.push(field);
  }
  if (Object.keys(props).length) def.properties = props;
  if (required.length) def.required = required.sort();
  // A kind: `apiVersion` and `kind` are string literals.
  const lit = (f) => {
    const m = decl.members.find((x) => ts.isPropertySignature(x) && x.name.getText() === f);
    return m && ts.isLiteralTypeNode(m.type) ? m.type.literal.text : undefined;
  };
  const apiVersion = lit('apiVersion');
  const kind = lit('kind');
  if (apiVersion && kind) {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    def['x-kubernetes-group-version-kind'] = [{ group, kind, version }];
  }
  definitions[id] = def;
}

for (const file of FILES) {
  for (const [name, decl] of load(file).decls) {
    if (ts.isInterfaceDeclaration(decl) && decl.members.some((m) => ts.isPropertySignature(m) && m.name.getText() === 'kind' && ts.isLiteralTypeNode(m.type))) want(file, name);
  }
}
for (const extra of ['DeleteOptions', 'Status', 'APIResourceList', 'WatchEvent', 'Patch']) want('meta/v1', extra);
while (queue.length) define(queue.shift());
definitions[INT_OR_STRING] = { description: INT_OR_STRING_DOC, type: 'string', format: 'int-or-string' };

const sorted = Object.fromEntries(Object.keys(definitions).sort().map((k) => [k, definitions[k]]));
const json = JSON.stringify(sorted);
const out = join(ROOT, 'src', 'api', 'openapi.data.ts');
writeFileSync(out, `/**
 * GENERATED by scripts/gen-openapi.mjs from kubernetes-types (structure, descriptions),
 * @kubernetes/client-node (number formats) and kubectl's struct tags (patch strategies): do not
 * edit. OpenAPI v2 definitions by Kubernetes name; read (lazily) by src/apiserver/openapi.ts.
 * One JSON string, so that compiling and loading it costs no more than JSON.parse.
 */
/* eslint-disable */
export const DEFINITIONS_JSON = ${JSON.stringify(json)};
/** gnostic-models' OpenAPI v2 protobuf messages, from kubectl: message → [number, name, repeated, type, oneof?]. */
export const V2_MESSAGES_JSON = ${JSON.stringify(JSON.stringify(V2_MESSAGES))};
`);
console.log(`${Object.keys(sorted).length} definitions, ${json.length} bytes → ${out}`);
