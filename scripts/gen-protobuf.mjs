#!/usr/bin/env node
/**
 * Generates src/api/protobuf.data.ts: the protobuf field numbers of the Kubernetes kinds, taken
 * from the `generated.proto` descriptors that client-go's generated code embeds (gzipped
 * `FileDescriptorProto`s) in the stock kubectl binary — the published definitions of
 * k8s.io/api, k8s.io/apimachinery and k8s.io/metrics, exactly as kubectl encodes them.
 * No npm package ships these definitions, so the generated table is checked in.
 *
 *   node scripts/gen-protobuf.mjs [/usr/bin/kubectl]   # rewrites src/api/protobuf.data.ts
 *
 * MESSAGES maps a short message name (`core.v1.Pod`, `meta.v1.ObjectMeta`) to its fields, each
 * `[number, jsonName, type]`; type is `s` string, `y` bytes, `i` varint integer, `b` bool,
 * `d` double, `f` float, a message name, with `[]` before it for repeated fields and `{}` for maps
 * (string keys). KINDS maps `group/version/Kind` to its message.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, constants } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { readdirSync } from 'node:fs';

const binary = process.argv[2] ?? '/usr/bin/kubectl';
const bin = readFileSync(binary);

function fields(buf) {
  const out = [];
  let i = 0;
  const varint = () => { let v = 0n, s = 0n; for (;;) { const b = buf[i++]; v |= BigInt(b & 0x7f) << s; if (!(b & 0x80)) return v; s += 7n; } };
  while (i < buf.length) {
    const key = varint(); const f = Number(key >> 3n); const t = Number(key & 7n);
    if (t === 0) out.push([f, varint()]);
    else if (t === 2) { const n = Number(varint()); out.push([f, buf.subarray(i, i + n)]); i += n; }
    else if (t === 1) i += 8; else if (t === 5) i += 4; else throw new Error(`wire type ${t}`);
  }
  return out;
}
const str = (b) => b.toString('utf8');

// Every gzipped FileDescriptorProto of a Kubernetes package in the binary.
const files = new Map();
const GZIP = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0x02, 0xff]);
for (let at = bin.indexOf(GZIP); at >= 0; at = bin.indexOf(GZIP, at + 1)) {
  let fd;
  try { fd = gunzipSync(bin.subarray(at, at + (1 << 20)), { finishFlush: constants.Z_SYNC_FLUSH }); } catch { continue; }
  let f;
  try { f = fields(fd); } catch { continue; }
  const name = f.find(([n]) => n === 1)?.[1];
  const pkg = f.find(([n]) => n === 2)?.[1];
  if (!Buffer.isBuffer(name) || !Buffer.isBuffer(pkg) || !str(name).startsWith('k8s.io/')) continue;
  files.set(str(pkg), f);
}
if (files.size === 0) throw new Error(`no Kubernetes protobuf descriptors found in ${binary}`);

/** Package → short prefix and API group. */
const short = (pkg) => pkg.replace(/^k8s\.io\.api\./, '').replace(/^k8s\.io\.apimachinery\.pkg\.apis\./, '').replace(/^k8s\.io\.apimachinery\.pkg\./, '')
  .replace(/^k8s\.io\.metrics\.pkg\.apis\./, '');
const GROUP_SUFFIX = new Set(['admissionregistration', 'authentication', 'authorization', 'certificates', 'coordination', 'discovery', 'events',
  'networking', 'node', 'rbac', 'scheduling', 'storage', 'resource', 'metrics', 'apiserverinternal', 'storagemigration', 'flowcontrol']);
const GROUP_NAME = { rbac: 'rbac.authorization', flowcontrol: 'flowcontrol.apiserver', apiserverinternal: 'internal.apiserver', storagemigration: 'storagemigration' };
function group(pkg) {
  const g = short(pkg).split('.').slice(0, -1).join('.');
  if (g === 'core') return '';
  if (GROUP_SUFFIX.has(g)) return `${GROUP_NAME[g] ?? g}.k8s.io`;
  return g;
}

const all = new Map(); // full name (no dot) → { fields, mapEntry }
function collect(prefix, msg) {
  const name = `${prefix}.${str(msg.find(([n]) => n === 1)[1])}`;
  const opts = msg.find(([n]) => n === 7)?.[1];
  const mapEntry = Buffer.isBuffer(opts) && fields(opts).some(([n, v]) => n === 7 && v === 1n);
  const fs = [];
  for (const [n, v] of msg) {
    if (n === 2) {
      const fd = fields(v);
      const get = (k) => fd.find(([x]) => x === k)?.[1];
      fs.push({ name: str(get(1)), number: Number(get(3)), label: Number(get(4)), type: Number(get(5)), typeName: get(6) ? str(get(6)).replace(/^\./, '') : undefined });
    } else if (n === 3) collect(name, fields(v));
  }
  all.set(name, { fields: fs, mapEntry });
}
for (const [pkg, f] of files) for (const [n, v] of f) if (n === 4) collect(pkg, fields(v));

// JSON names: proto field names are Go's (`uID`); the JSON name is the one @kubernetes/client-node's
// OpenAPI-generated models give the same field of the same Go type (compared case-insensitively).
const require = createRequire(import.meta.url);
const modelDir = dirname(require.resolve('@kubernetes/client-node/dist/gen/models/V1Pod.js'));
const goName = (n) => n.replace(/^[A-Z][a-z]+V\d+(?:(?:alpha|beta)\d+)?(?=[A-Z])/, '').replace(/^V\d+(?:(?:alpha|beta)\d+)?(?=[A-Z])/, '');
const jsonNames = new Map(); // Go type → lower-case name → JSON name
for (const file of readdirSync(modelDir)) {
  if (!file.endsWith('.js')) continue;
  const name = file.slice(0, -3);
  const m = require(join(modelDir, file))[name];
  const attrs = m?.attributeTypeMap ?? m?.getAttributeTypeMap?.();
  if (!Array.isArray(attrs)) continue;
  const names = jsonNames.get(goName(name)) ?? new Map();
  for (const a of attrs) names.set(a.baseName.toLowerCase(), a.baseName);
  jsonNames.set(goName(name), names);
}
const jsonName = (message, field) => jsonNames.get(message.slice(message.lastIndexOf('.') + 1))?.get(field.toLowerCase()) ?? field;

const shortName = (full) => { const i = full.lastIndexOf('.'); return `${short(full.slice(0, i))}.${full.slice(i + 1)}`; };
const SCALAR = { 1: 'd', 2: 'f', 3: 'i', 4: 'i', 5: 'i', 13: 'i', 17: 'i', 18: 'i', 8: 'b', 9: 's', 12: 'y', 14: 'i' };
const messages = {};
function typeOf(f) {
  if (f.type !== 11) return SCALAR[f.type];
  const target = all.get(f.typeName);
  if (!target) throw new Error(`unknown message ${f.typeName}`);
  if (target.mapEntry) {
    const value = target.fields.find((x) => x.number === 2);
    return `{}${typeOf(value)}`;
  }
  visit(f.typeName);
  return shortName(f.typeName);
}
function visit(full) {
  const s = shortName(full);
  if (messages[s]) return;
  messages[s] = [];
  messages[s] = all.get(full).fields.map((f) => {
    const t = typeOf(f);
    return [f.number, jsonName(full, f.name), f.label === 3 && !t.startsWith('{}') ? `[]${t}` : t];
  });
}

// Every top-level kind (a message with metadata, or a List) of the stable and metrics groups.
const kinds = {};
const WANTED = /^(core|apps|batch|autoscaling|coordination|discovery|networking|policy|rbac|storage|authentication|authorization|scheduling|node|events|certificates|admissionregistration|flowcontrol)\.v\d+$|^(metrics\.v1beta1|autoscaling\.v2|meta\.v1)$/;
for (const [full, m] of all) {
  const i = full.lastIndexOf('.');
  const pkg = full.slice(0, i);
  if (!files.has(pkg) || !WANTED.test(short(pkg))) continue;
  const kind = full.slice(i + 1);
  if (m.mapEntry || !m.fields.some((f) => f.name === 'metadata' && f.number === 1)) continue;
  const version = pkg.split('.').pop();
  const g = short(pkg) === 'meta.v1' ? 'meta.k8s.io' : group(pkg);
  kinds[`${g ? `${g}/` : ''}${version}/${kind}`] = shortName(full);
  visit(full);
}
for (const extra of ['k8s.io.apimachinery.pkg.apis.meta.v1.Status', 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions']) visit(extra);
kinds['v1/Status'] = 'meta.v1.Status';
kinds['v1/DeleteOptions'] = 'meta.v1.DeleteOptions';

const sorted = (o) => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'api', 'protobuf.data.ts');
writeFileSync(out, `/**
 * GENERATED by scripts/gen-protobuf.mjs from the generated.proto descriptors embedded in kubectl
 * (k8s.io/api, k8s.io/apimachinery, k8s.io/metrics): do not edit. Read by \`src/api/protobuf.ts\`.
 */
/* eslint-disable */
export type ProtoField = readonly [number: number, name: string, type: string];
export const KINDS: Readonly<Record<string, string>> = ${JSON.stringify(sorted(kinds))};
export const MESSAGES: Readonly<Record<string, readonly ProtoField[]>> = ${JSON.stringify(sorted(messages))};
`);
console.log(`${Object.keys(kinds).length} kinds, ${Object.keys(messages).length} messages → ${out}`);
