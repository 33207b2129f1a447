/**
 * What every resource command needs: the I/O it writes to (injected, so tests capture it),
 * resource-type resolution with kubectl's error wording, and small parsing helpers.
 */
import { ApiError } from '../../api/errors.js';
import type { ResourceDef } from '../../api/resource.js';
import type { KubeObject, Pod, Scale } from '../../api/types.js';
import { resolveResourceName } from '../../api/registry.js';
import { ApiClient, resourcePath, type ResourceRef } from '../../client/client.js';
import { CliError, clientFor, type GlobalOptions } from '../context.js';

/** Where a command's output goes and how it ends; `processIO()` in production. */
export interface CommandIO {
  out(chunk: string | Uint8Array): void;
  err(chunk: string | Uint8Array): void;
  /** All of stdin (for `-f -` and `exec -i`). */
  readStdin(): Promise<Buffer>;
  /** Sets the exit code the process ends with, without ending it. */
  setExitCode(code: number): void;
  /** Milliseconds since the epoch; ages are computed against it. */
  now(): number;
  /** Calls `fn` on Ctrl-C (SIGINT) instead of dying at once; returns the unsubscribe. */
  onInterrupt(fn: () => void): () => void;
}

/** The process's own stdio. */
export function processIO(): CommandIO {
  return {
    out: (c) => { process.stdout.write(c); },
    err: (c) => { process.stderr.write(c); },
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
      return Buffer.concat(chunks);
    },
    setExitCode: (code) => { process.exitCode = code; },
    now: () => Date.now(),
    onInterrupt: (fn) => {
      process.on('SIGINT', fn);
      return () => { process.off('SIGINT', fn); };
    },
  };
}

/**
 * What commands use to reach the cluster: the API client's calls, narrowed so tests can fake
 * them, plus the `scale` subresource (autoscaling/v1 Scale) that `scale` reads and writes.
 */
export interface Client extends Pick<ApiClient, 'get' | 'list' | 'create' | 'update' | 'apply' | 'delete' | 'watch' | 'logs' | 'exec' | 'createSubresource' | 'patch'> {
  /** GET `.../{name}/scale`. */
  getScale(ref: ResourceRef, name: string): Promise<Scale>;
  /** PUT `.../{name}/scale`; with `metadata.resourceVersion` set, a stale Scale gets 409 Conflict. */
  updateScale(ref: ResourceRef, name: string, scale: Scale): Promise<Scale>;
  /**
   * PUT `pods/{name}/ephemeralcontainers`: only `spec.ephemeralContainers` of `pod` is taken; with
   * `metadata.resourceVersion` set, a stale pod gets 409 Conflict.
   */
  updateEphemeralContainers(ref: ResourceRef, pod: Pod): Promise<Pod>;
}

/** The API client with the subresource calls {@link Client} adds. Stateless like ApiClient. */
export class CliClient extends ApiClient implements Client {
  getScale(ref: ResourceRef, name: string): Promise<Scale> {
    return this.request<Scale>('GET', resourcePath(ref, name, 'scale'));
  }

  updateScale(ref: ResourceRef, name: string, scale: Scale): Promise<Scale> {
    return this.request<Scale>('PUT', resourcePath(ref, name, 'scale'), scale);
  }

  updateEphemeralContainers(ref: ResourceRef, pod: Pod): Promise<Pod> {
    return this.request<Pod>('PUT', resourcePath(ref, pod.metadata?.name ?? '', 'ephemeralcontainers'), pod);
  }
}

/** Injected dependencies of the resource commands. */
export interface CommandDeps {
  io: CommandIO;
  client(opts: GlobalOptions): Client;
}

export function defaultDeps(): CommandDeps {
  return { io: processIO(), client: (opts) => new CliClient(clientFor(opts).client.config) };
}

/**
 * Resolves a type word as kubectl accepts it (`po`, `pod`, `pods`, `Pod`, `deployments.apps`)
 * or throws `the server doesn't have a resource type "foo"`.
 */
export function resolveType(word: string): ResourceDef {
  const def = resolveResourceName(word);
  if (!def) throw new CliError(`the server doesn't have a resource type "${word}"`);
  return def;
}

/** The collection of `def` in `namespace` (ignored for cluster-scoped kinds; omitted = all). */
export function refFor(def: ResourceDef, namespace?: string): ResourceRef {
  return { group: def.group, version: def.version, resource: def.resource, namespace: def.namespaced ? namespace : undefined };
}

/** `pod`, `deployment.apps`: how kubectl names a kind in `pod/web created`, `pod "web" deleted`. */
export function kindString(def: Pick<ResourceDef, 'kind' | 'group'>): string {
  const k = def.kind.toLowerCase();
  return def.group ? `${k}.${def.group}` : k;
}

/** `pods`, `deployments.apps`: the resource as kubectl names it in messages. */
export function resourceString(def: Pick<ResourceDef, 'resource' | 'group'>): string {
  return def.group ? `${def.resource}.${def.group}` : def.resource;
}

/**
 * Parses a Go-style duration (`30s`, `1m30s`, `2h`, `500ms`) or a bare number of seconds into
 * milliseconds; throws a CliError naming the flag otherwise.
 */
export function parseDuration(s: string, flag: string): number {
  const t = s.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = t;
  const re = /^(\d+(?:\.\d+)?)(ms|s|m|h)/;
  if (!rest) throw new CliError(`invalid argument "${s}" for "${flag}" flag: time: invalid duration "${s}"`);
  while (rest) {
    const m = re.exec(rest);
    if (!m) throw new CliError(`invalid argument "${s}" for "${flag}" flag: time: invalid duration "${s}"`);
    total += Number(m[1]) * unit[m[2]];
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** Parses an integer flag value, or throws kubectl's wording for a bad one. */
export function parseIntFlag(s: string, flag: string): number {
  if (!/^-?\d+$/.test(s.trim())) throw new CliError(`invalid argument "${s}" for "${flag}" flag: strconv.ParseInt: parsing "${s}": invalid syntax`);
  return Number(s);
}

/** Parses `--flag=true|false` (and bare `--flag`, which commander hands over as `true`). */
export function parseBoolFlag(flag: string): (v: string) => boolean {
  return (v: string) => {
    if (/^(true|1|t)$/i.test(v)) return true;
    if (/^(false|0|f)$/i.test(v)) return false;
    throw new CliError(`invalid argument "${v}" for "${flag}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
  };
}

/** Appends a repeated option's value to the list (commander `-f a -f b`). */
export const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** Splits `pod/web` into type and name, or returns undefined for a bare word. */
export function splitTypeName(arg: string): { type: string; name: string } | undefined {
  const i = arg.indexOf('/');
  if (i < 0) return undefined;
  return { type: arg.slice(0, i), name: arg.slice(i + 1) };
}

/** The value at a dotted path (`involvedObject.name`), as a string ('' when absent). */
export function fieldValue(obj: unknown, path: string): string {
  let v: unknown = obj;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return '';
    v = (v as Record<string, unknown>)[part];
  }
  return v === undefined || v === null ? '' : String(v);
}

/**
 * Client-side check of a field selector (`a=b,c==d,e!=f` on dotted paths), for when the server
 * refuses a selector it does not index.
 */
export function matchesFieldSelector(obj: unknown, selector: string): boolean {
  for (const term of selector.split(',').map((t) => t.trim()).filter(Boolean)) {
    const m = /^(.*?)(!=|==|=)(.*)$/.exec(term);
    if (!m) return false;
    const actual = fieldValue(obj, m[1].trim());
    if (m[2] === '!=' ? actual === m[3].trim() : actual !== m[3].trim()) return false;
  }
  return true;
}

/**
 * LIST with a field selector; if the server refuses the selector (400), lists everything and
 * applies the selector client-side instead.
 */
export async function listWithFieldSelector<T extends KubeObject>(client: Client, ref: ResourceRef, fieldSelector: string, labelSelector?: string): Promise<T[]> {
  try {
    return (await client.list<T>(ref, { fieldSelector, labelSelector })).items;
  } catch (e) {
    if (!(e instanceof ApiError) || e.code !== 400) throw e;
    return (await client.list<T>(ref, { labelSelector })).items.filter((o) => matchesFieldSelector(o, fieldSelector));
  }
}

/**
 * Read-modify-write with optimistic concurrency: GETs the object, lets `change` edit it (it is
 * a fresh copy), and PUTs it back with the resourceVersion it was read at. A 409 Conflict
 * (someone wrote in between) reads again and retries, up to `attempts` times. `change` returns
 * false when there is nothing to write (no PUT then). Resolves with the stored object, or
 * undefined when nothing changed. Errors thrown by `change` (user mistakes) pass through.
 */
export async function updateWithRetry<T extends KubeObject>(
  client: Client, ref: ResourceRef, name: string, change: (obj: T) => boolean | Promise<boolean>, attempts = 5,
): Promise<T | undefined> {
  for (let attempt = 1; ; attempt++) {
    const obj = await client.get<T>(ref, name);
    if (!(await change(obj))) return undefined;
    try {
      return await client.update<T>(ref, obj);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409 && e.reason === 'Conflict') || attempt >= attempts) throw e;
    }
  }
}

/** One object a command acts on, as kubectl's resource builder finds it. */
export interface Target {
  def: ResourceDef;
  name: string;
  namespace?: string;
}

/**
 * The objects `TYPE NAME...`, `TYPE/NAME...` or `TYPE -l SEL | --all` name, as kubectl's
 * resource builder finds them (names are taken as given, not read; a selector or --all lists).
 * Without names, selector or --all it lists every object of the type when `allowEmpty`, else
 * refuses like kubectl.
 */
export async function findTargets(
  client: Client, namespace: string, requests: { def: ResourceDef; names: string[] }[],
  opts: { selector?: string; all?: boolean; allowEmpty?: boolean },
): Promise<Target[]> {
  const named = requests.some((r) => r.names.length);
  if (named && opts.selector) throw new CliError('name cannot be provided when a selector is specified');
  if (named && opts.all) throw new CliError('name cannot be provided when a selector or --all is specified');
  if (named) return requests.flatMap((r) => r.names.map((name) => ({ def: r.def, name, namespace })));
  if (!opts.selector && !opts.all && !opts.allowEmpty) throw new CliError('resource(s) were provided, but no name was specified');
  const out: Target[] = [];
  for (const { def } of requests) {
    const list = await client.list(refFor(def, namespace), { labelSelector: opts.selector });
    for (const o of list.items) out.push({ def, name: o.metadata?.name ?? '', namespace: o.metadata?.namespace ?? namespace });
  }
  return out;
}

/**
 * The error kubectl reports for several failures of one command: one `error: ...` line each.
 * Messages are given without their `error: ` prefix, which main adds to the first line.
 */
export function aggregateError(messages: string[]): CliError {
  return new CliError(messages.join('\nerror: '));
}

/** kubectl's answer to a command given no resource at all. */
export const NO_RESOURCES_MESSAGE = 'You must provide one or more resources by argument or filename.\nExample resource specifications include:\n' +
  "   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'";

/** `Deployment.apps`, `Pod`: a kind as Go prints a GroupKind in kubectl's errors. */
export const groupKindString = (def: Pick<ResourceDef, 'kind' | 'group'>): string => (def.group ? `${def.kind}.${def.group}` : def.kind);
