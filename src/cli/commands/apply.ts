/**
 * `apply -f FILE|DIR|-`: client-side apply as kubectl does it. Each object is read back from
 * the server; missing ones are created, existing ones get a three-way merge of (live object,
 * manifest, last-applied manifest stored in an annotation) and are replaced only when that
 * merge changes something. The merge is a pure function (`planApply`) and carries the tests.
 */
import { Command } from 'commander';
import { ApiError } from '../../api/errors.js';
import { patchStrategyOf } from '../../api/listtypes.js';
import { findKind } from '../../api/registry.js';
import type { KubeObject } from '../../api/types.js';
import { CliError, type GlobalOptions } from '../context.js';
import { mapManifests, readManifests, type MappedDoc } from '../manifest.js';
import { formatApiError, toCompactJson } from '../print.js';
import { collect, kindString, refFor, resourceString, type CommandDeps } from './shared.js';

/** Annotation holding the manifest last applied, so fields removed from it can be removed. */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

/** What apply will do with one object. */
export type ApplyPlan =
  | { action: 'create'; object: KubeObject }
  | { action: 'configure'; object: KubeObject }
  | { action: 'unchanged' };

/**
 * The manifest as stored in the last-applied annotation: its own annotations minus that one
 * (an empty map when none), Go-style JSON (sorted keys, `&` as \u0026) and a trailing newline,
 * as kubectl writes it.
 */
export function lastAppliedValue(manifest: KubeObject): string {
  const m = clone(manifest);
  const annotations = { ...(m.metadata?.annotations ?? {}) };
  delete annotations[LAST_APPLIED];
  m.metadata = { ...(m.metadata ?? {}), annotations };
  return toCompactJson(m) + '\n';
}

/**
 * The key strategic merge uses to match list items, from the API's list table (by field name:
 * a manifest is untyped here); lists without one (and lists whose items lack the key) are
 * replaced wholesale.
 */
function mergeKeyOf(field: string, items: unknown[]): string | undefined {
  const key = patchStrategyOf(undefined, field, items.filter(isObj)).mergeKey;
  return key && items.every((i) => isObj(i) && i[key] !== undefined) ? key : undefined;
}

/**
 * Three-way merge of one value: `desired` (manifest) wins, fields only `live` has are kept
 * (server defaults, other writers), fields the previous manifest (`last`) had and the current
 * one dropped are removed; `null` in the manifest removes a field. Keyed lists (containers by
 * name, ...) are merged item by item. Pure; never modifies its inputs.
 */
export function merge3(live: unknown, desired: unknown, last: unknown, field = ''): unknown {
  if (isObj(desired)) {
    const out: Json = isObj(live) ? clone(live) : {};
    for (const [k, v] of Object.entries(desired)) {
      if (v === null) delete out[k];
      else out[k] = merge3(out[k], v, isObj(last) ? last[k] : undefined, k);
    }
    if (isObj(last)) for (const k of Object.keys(last)) if (!(k in desired)) delete out[k];
    return out;
  }
  if (Array.isArray(desired)) {
    const key = mergeKeyOf(field, desired);
    if (key && Array.isArray(live) && live.every((i) => isObj(i))) {
      const keyOf = (i: unknown): string => String((i as Json)[key]);
      const liveBy = new Map(live.map((i) => [keyOf(i), i]));
      const lastBy = new Map(Array.isArray(last) ? last.filter(isObj).map((i) => [keyOf(i), i]) : []);
      const wanted = new Set(desired.map(keyOf));
      const out = desired.map((d) => merge3(liveBy.get(keyOf(d)), d, lastBy.get(keyOf(d)), field));
      for (const l of live) if (!wanted.has(keyOf(l)) && !lastBy.has(keyOf(l))) out.push(clone(l));
      return out;
    }
    return clone(desired);
  }
  return desired;
}

/**
 * Equality that treats `1` and `"1"` alike (the server may store a quantity or port the
 * manifest wrote as a number as a string) and ignores undefined fields.
 */
export function looseEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => looseEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!looseEqual(a[k], b[k])) return false;
    return true;
  }
  const prim = (v: unknown): boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  return prim(a) && prim(b) && String(a) === String(b);
}

/** Top-level fields apply never touches: identity and server-owned state. */
const NOT_APPLIED = new Set(['apiVersion', 'kind', 'metadata', 'status']);

/**
 * Decides what apply does with `manifest` (already carrying its namespace) given the live
 * object (undefined = does not exist). Pure.
 *  - missing: create the manifest plus the last-applied annotation;
 *  - present: merge labels, annotations and every top-level field (spec, data, ...) three-way;
 *    `unchanged` when the merge equals the live object, else `configure` with the object to PUT
 *    (live resourceVersion kept, so a concurrent change makes the PUT fail with 409).
 */
export function planApply(manifest: KubeObject, live: KubeObject | undefined): ApplyPlan {
  const applied = lastAppliedValue(manifest);
  if (!live) {
    const object = clone(manifest);
    object.metadata = { ...(object.metadata ?? {}), annotations: { ...(object.metadata?.annotations ?? {}), [LAST_APPLIED]: applied } };
    return { action: 'create', object };
  }
  let last: Json | undefined;
  const lastText = live.metadata?.annotations?.[LAST_APPLIED];
  if (lastText) {
    try {
      const parsed: unknown = JSON.parse(lastText);
      if (isObj(parsed)) last = parsed;
    } catch {
      last = undefined; // a hand-edited, unparsable annotation: merge two-way (nothing removed)
    }
  }
  const lastMeta = isObj(last?.metadata) ? last.metadata : {};
  const object = clone(live);
  const meta = { ...(object.metadata ?? {}) };
  const labels = merge3(live.metadata?.labels, manifest.metadata?.labels ?? {}, lastMeta.labels) as Record<string, string>;
  const annotations = merge3(live.metadata?.annotations, { ...(manifest.metadata?.annotations ?? {}), [LAST_APPLIED]: applied },
    lastMeta.annotations) as Record<string, string>;
  if (Object.keys(labels).length || meta.labels) meta.labels = labels;
  meta.annotations = annotations;
  object.metadata = meta;
  // Top-level fields other than identity and status (spec, data, ...), merged three-way.
  const fields = object as unknown as Json;
  const liveFields = live as unknown as Json;
  for (const [k, v] of Object.entries(manifest as unknown as Json)) {
    if (NOT_APPLIED.has(k)) continue;
    if (v === null) delete fields[k];
    else fields[k] = merge3(liveFields[k], v, last?.[k], k);
  }
  if (last) for (const k of Object.keys(last)) if (!NOT_APPLIED.has(k) && !(k in manifest)) delete fields[k];
  return looseEqual(object, live) ? { action: 'unchanged' } : { action: 'configure', object };
}

/** The manifest with the namespace it will live in: its own, else `-n`; none if cluster-scoped. */
export function withNamespace(doc: MappedDoc, namespace: string): KubeObject {
  const object = clone(doc.object);
  const meta = { ...(object.metadata ?? {}) };
  if (doc.def.namespaced) meta.namespace = meta.namespace || namespace;
  else delete meta.namespace;
  object.metadata = meta;
  return object;
}

const MISSING_ANNOTATION_WARNING = (what: string): string =>
  `Warning: resource ${what} is missing the ${LAST_APPLIED} annotation which is required by kubectl apply. ` +
  'kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. ' +
  'The missing annotation will be patched automatically.\n';

/**
 * The field manager of client-side apply, kubectl's name for it: `kubectl apply --server-side`
 * then takes over the fields this command applied, as it does after `kubectl apply`.
 */
export const CLIENT_SIDE_APPLY_MANAGER = 'kubectl-client-side-apply';

/** Re-reads and retries a PUT that lost a race this many times before giving up. */
const CONFLICT_RETRIES = 3;

/**
 * Applies every document in order after checking all of them (an unknown kind or malformed
 * YAML changes nothing). Server errors on one document do not stop the others: they are
 * printed at the end, kubectl style, and the exit code becomes 1.
 */
/**
 * kubectl's `--validate`: `strict` (or `true`, the default) has the server refuse unknown and
 * duplicate fields, `warn` drop them with a warning, `ignore` (or `false`) drop them silently.
 */
export function fieldValidationFlag(v: string): 'Strict' | 'Warn' | 'Ignore' {
  switch (v.toLowerCase()) {
    case 'strict': case 'true': return 'Strict';
    case 'warn': return 'Warn';
    case 'ignore': case 'false': return 'Ignore';
    default: throw new CliError(`invalid - validate option "${v}"; must be one of: strict (or true), warn, ignore (or false)`);
  }
}

/** `apply --server-side`: the field manager (kubectl's default is `kubectl`) and `--force-conflicts`. */
export interface ServerSideFlags {
  fieldManager: string;
  forceConflicts?: boolean;
}

/** kubectl's advice after a server-side apply conflict (printed under the server's message). */
export const CONFLICT_ADVICE = [
  'Please review the fields above--they currently have other managers. Here',
  'are the ways you can resolve this warning:',
  '* If you intend to manage all of these fields, please re-run the apply',
  '  command with the `--force-conflicts` flag.',
  '* If you do not intend to manage all of the fields, please edit your',
  '  manifest to remove references to the fields that should keep their',
  '  current managers.',
  '* You may co-own fields by updating your manifest to match the existing',
  '  value; in this case, you\'ll become the manager if the other manager(s)',
  '  stop managing the field (remove it from their configuration).',
  'See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts',
].join('\n');

export async function runApply(deps: CommandDeps, globals: GlobalOptions, files: string[], validate = 'strict', serverSide?: ServerSideFlags): Promise<void> {
  const fieldValidation = fieldValidationFlag(validate);
  if (serverSide && !serverSide.fieldManager) throw new CliError('--field-manager may not be empty');
  const { io } = deps;
  if (!files.length) throw new CliError('must specify one of -f and -k');
  const docs = mapManifests(await readManifests(files, async () => (await io.readStdin()).toString('utf8')), findKind);
  if (!docs.length) throw new CliError('no objects passed to apply');
  for (const d of docs) {
    const m = d.object.metadata ?? {};
    if (!m.name) {
      if (m.generateName) throw new CliError(`from ${d.source}: cannot use generate name with apply`);
      throw new CliError(`error when retrieving current configuration of:\nResource: "${resourceString(d.def)}", GroupVersionKind: "${d.object.apiVersion}, Kind=${d.def.kind}"\n` +
        `from server for: "${d.source}": resource name may not be empty`);
    }
  }
  const client = deps.client(globals);
  const errors: ApiError[] = [];
  for (const doc of docs) {
    const manifest = withNamespace(doc, globals.namespace);
    const name = manifest.metadata?.name ?? '';
    const ref = refFor(doc.def, manifest.metadata?.namespace);
    const what = `${kindString(doc.def)}/${name}`;
    let verb = 'retrieving current configuration of';
    try {
      if (serverSide) {
        verb = 'patching';
        await client.apply(ref, manifest, { fieldManager: serverSide.fieldManager, force: serverSide.forceConflicts, fieldValidation });
        io.out(`${what} serverside-applied\n`);
        continue;
      }
      for (let attempt = 0; ; attempt++) {
        verb = 'retrieving current configuration of';
        const live = await getOrUndefined(client.get(ref, name));
        const plan = planApply(manifest, live);
        if (plan.action === 'create') {
          verb = 'creating';
          await client.create(ref, plan.object, { fieldValidation, fieldManager: CLIENT_SIDE_APPLY_MANAGER });
          io.out(`${what} created\n`);
        } else if (plan.action === 'configure') {
          if (attempt === 0 && !live?.metadata?.annotations?.[LAST_APPLIED]) io.err(MISSING_ANNOTATION_WARNING(`${resourceString(doc.def)}/${name}`));
          verb = 'patching';
          try {
            await client.update(ref, plan.object, { fieldValidation, fieldManager: CLIENT_SIDE_APPLY_MANAGER });
          } catch (e) {
            if (e instanceof ApiError && e.code === 409 && e.reason === 'Conflict' && attempt < CONFLICT_RETRIES) continue;
            throw e;
          }
          io.out(`${what} configured\n`);
        } else {
          io.out(`${what} unchanged\n`);
        }
        break;
      }
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (serverSide && e.code === 409 && e.causes.some((c) => c.type === 'FieldManagerConflict')) {
        // As kubectl: the server's conflict message, then how to resolve it.
        io.err(`error: ${e.message}\n${CONFLICT_ADVICE}\n`);
        io.setExitCode(1);
        continue;
      }
      errors.push(withSource(e, verb, doc.source));
    }
  }
  if (errors.length) {
    const inList = errors.length > 1;
    for (const e of errors) io.err(formatApiError(e, { inList }) + '\n');
    io.setExitCode(1);
  }
}

/** kubectl's `error when creating "FILE": ...` prefix on a server error's message. */
function withSource(e: ApiError, verb: string, source: string): ApiError {
  if (e.code === 503 && e.message.startsWith('The connection to the server ')) return e;
  return new ApiError(e.code, e.reason, `error when ${verb} "${source}": ${e.message}`, e.causes, e.details);
}

/** The object, or undefined on 404. */
export async function getOrUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) return undefined;
    throw e;
  }
}

/** The `apply` command (commander), running {@link runApply}. */
export function applyCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  return new Command('apply')
    .summary('Apply a configuration to a resource by file name or stdin')
    .description([
      'Apply a configuration to a resource by file name or stdin. The resource name must be specified. This resource will be ' +
        'created if it doesn\'t exist yet. To use \'apply\', always create the resource initially with \'apply\'.',
      'JSON and YAML formats are accepted; a file may hold several YAML documents and \'kind: List\' objects. Every document ' +
        'is checked before anything is sent, so a malformed file or an unknown kind changes nothing.',
    ].join('\n\n'))
    .usage('-f FILENAME [options]')
    .option('-f, --filename <file>', 'The files that contain the configurations to apply (a file, a directory of .yaml/.yml/.json files, or - for stdin); repeatable', collect, [])
    .option('--validate <mode>', 'What the server does with unknown or duplicate fields: strict (or true) refuses them, warn drops them with a warning, ignore (or false) drops them', 'strict')
    .option('--server-side', 'If true, apply runs in the server instead of the client (server-side apply: the server merges and records field ownership).')
    .option('--force-conflicts', 'If true, server-side apply will force the changes against conflicts.')
    .option('--field-manager <name>', 'Name of the manager used to track field ownership (server-side apply).', 'minikube-lite')
    .addHelpText('after', [
      '',
      'Examples:',
      '  # Apply the configuration in pod.yaml to a pod',
      '  minikube-lite apply -f ./pod.yaml',
      '',
      '  # Apply every .yaml, .yml and .json file in a directory',
      '  minikube-lite apply -f ./manifests/',
      '',
      '  # Apply the YAML passed into stdin to a pod',
      '  cat pod.yaml | minikube-lite apply -f -',
      '',
      '  # Apply on the server, taking fields other managers own',
      '  minikube-lite apply --server-side --force-conflicts -f ./deployment.yaml',
    ].join('\n'))
    .action(async (opts: { filename: string[]; validate: string; serverSide?: boolean; forceConflicts?: boolean; fieldManager: string }) => {
      if (opts.forceConflicts && !opts.serverSide) throw new CliError('--force-conflicts only works with --server-side');
      await runApply(deps, globals(), opts.filename, opts.validate, opts.serverSide ? { fieldManager: opts.fieldManager, forceConflicts: opts.forceConflicts } : undefined);
    });
}
