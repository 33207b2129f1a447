/**
 * Test doubles for the CLI commands: an in-memory API client (objects, resourceVersions,
 * watches, logs, exec) and an I/O that records what a command printed.
 */
import { ApiError, notFound, conflict } from '../../src/api/errors.js';
import type { KubeList, KubeObject, LabelSelector, Pod, Scale, WatchEvent } from '../../src/api/types.js';
import type { DeleteOptions, ListOptions, ResourceRef, WatchHandle, WatchOptions, WriteQuery } from '../../src/client/client.js';
import { findKind } from '../../src/api/registry.js';
import { applyConfiguration } from '../../src/apiserver/managedfields.js';
import type { GlobalOptions } from '../../src/cli/context.js';
import type { Client, CommandDeps, CommandIO } from '../../src/cli/commands/shared.js';
import { matchesFieldSelector } from '../../src/cli/commands/shared.js';

export const NOW = Date.parse('2024-05-01T12:00:00Z');
export const GLOBALS: GlobalOptions = { name: 'test', home: '/nonexistent', namespace: 'default' };

export interface RecordingIO extends CommandIO {
  stdout: string;
  stderr: string;
  exitCode: number;
  stdin: string;
  interrupt(): void;
}

export function recordingIO(now = NOW): RecordingIO {
  const handlers = new Set<() => void>();
  const text = (c: string | Uint8Array): string => (typeof c === 'string' ? c : Buffer.from(c).toString('utf8'));
  const io: RecordingIO = {
    stdout: '', stderr: '', exitCode: 0, stdin: '',
    out: (c) => { io.stdout += text(c); },
    err: (c) => { io.stderr += text(c); },
    readStdin: async () => Buffer.from(io.stdin),
    setExitCode: (c) => { io.exitCode = c; },
    now: () => now,
    onInterrupt: (fn) => {
      handlers.add(fn);
      return () => { handlers.delete(fn); };
    },
    interrupt: () => { for (const h of [...handlers]) h(); },
  };
  return io;
}

interface Watcher {
  ref: ResourceRef;
  opts: WatchOptions;
  cb: (e: WatchEvent<KubeObject>) => void;
  end: () => void;
}

const clone = <T>(v: T): T => structuredClone(v);

/** A kind with a scale subresource, as far as the fake needs it. */
interface Scalable extends KubeObject {
  spec?: { replicas?: number; selector?: LabelSelector };
  status?: { replicas?: number };
}

/** Label selector subset: `k=v`, `k==v`, `k!=v`, `k`, comma-separated. */
function labelsMatch(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const m = /^(.*?)(!=|==|=)(.*)$/.exec(term.trim());
    if (!m) return labels?.[term.trim()] !== undefined;
    const v = labels?.[m[1].trim()];
    return m[2] === '!=' ? v !== m[3].trim() : v === m[3].trim();
  });
}

/**
 * An API client over a map of objects. Deletion is immediate unless `graceful` is set, in which
 * case DELETE only marks the object (deletionTimestamp) and `finishDeletion` removes it.
 */
export class FakeClient implements Client {
  private readonly objects = new Map<string, KubeObject>();
  private rv = 100;
  private readonly watchers = new Set<Watcher>();
  readonly calls: string[] = [];
  graceful = false;
  /** How many scale updates lose a race (someone writes the object just before): a 409 each. */
  scaleConflicts = 0;
  /** DeleteOptions of each DELETE, in order. */
  readonly deleteOptions: DeleteOptions[] = [];
  /** Field selectors the fake pretends not to support (LIST answers 400). */
  refuseFieldSelectors = false;
  readonly logs_ = new Map<string, string>();
  execResult: { stdout?: string; stderr?: string; code: number } = { code: 0 };
  lastExec?: { namespace: string; pod: string; container?: string; command: string[]; stdin?: Buffer };
  /** Called after each create (to script a pod's progress). */
  onCreate?: (obj: KubeObject) => void;

  private key(ref: ResourceRef, name: string, namespace = ref.namespace): string {
    return `${ref.resource}/${namespace ?? ''}/${name}`;
  }

  /** Stores an object as is (test setup), without events. */
  seed(ref: ResourceRef, obj: KubeObject): void {
    const o = clone(obj);
    o.metadata = { resourceVersion: String(++this.rv), uid: `uid-${o.metadata?.name}`, ...o.metadata };
    this.objects.set(this.key(ref, o.metadata.name ?? '', o.metadata.namespace ?? ref.namespace), o);
  }

  private emit(ref: ResourceRef, type: WatchEvent['type'], obj: KubeObject): void {
    for (const w of [...this.watchers]) {
      if (w.ref.resource !== ref.resource) continue;
      if (w.ref.namespace && w.ref.namespace !== obj.metadata?.namespace) continue;
      if (w.opts.fieldSelector && !matchesFieldSelector(obj, w.opts.fieldSelector)) continue;
      if (!labelsMatch(obj.metadata?.labels, w.opts.labelSelector)) continue;
      w.cb({ type, object: clone(obj) });
    }
  }

  async get<T extends KubeObject>(ref: ResourceRef, name: string): Promise<T> {
    this.calls.push(`GET ${ref.resource} ${name}`);
    const o = this.objects.get(this.key(ref, name));
    if (!o) throw notFound(ref.resource, name);
    return clone(o) as T;
  }

  async list<T extends KubeObject>(ref: ResourceRef, opts: ListOptions = {}): Promise<KubeList<T>> {
    this.calls.push(`LIST ${ref.resource}${opts.labelSelector ? ` l=${opts.labelSelector}` : ''}${opts.fieldSelector ? ` f=${opts.fieldSelector}` : ''}`);
    if (opts.fieldSelector && this.refuseFieldSelectors) {
      throw new ApiError(400, 'BadRequest', `field label not supported: ${opts.fieldSelector.split('=')[0]}`);
    }
    const items = [...this.objects.entries()]
      .filter(([k]) => k.startsWith(`${ref.resource}/`) && (!ref.namespace || k.startsWith(`${ref.resource}/${ref.namespace}/`)))
      .map(([, o]) => o)
      .filter((o) => labelsMatch(o.metadata?.labels, opts.labelSelector))
      .filter((o) => !opts.fieldSelector || matchesFieldSelector(o, opts.fieldSelector));
    return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: String(this.rv) }, items: clone(items) as T[] };
  }

  /** Server-side apply with the API server's own merge and conflict rules (`applyConfiguration`). */
  async apply<T extends KubeObject>(ref: ResourceRef, obj: T, opts: WriteQuery & { fieldManager: string; force?: boolean }): Promise<T> {
    const name = obj.metadata?.name ?? '';
    this.calls.push(`APPLY ${ref.resource} ${name} ${opts.fieldManager}${opts.force ? ' force' : ''}`);
    const def = findKind(obj.apiVersion ?? '', obj.kind ?? '');
    if (!def) throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
    const live = this.objects.get(this.key(ref, name));
    const { object } = applyConfiguration(def, live, clone(obj) as KubeObject, { manager: opts.fieldManager, subresource: '' }, opts.force ?? false, new Date(NOW).toISOString());
    object.metadata = { ...object.metadata, namespace: ref.namespace, uid: live?.metadata?.uid ?? `uid-${name}`, resourceVersion: String(++this.rv) };
    this.objects.set(this.key(ref, name), object);
    this.emit(ref, live ? 'MODIFIED' : 'ADDED', object);
    return clone(object) as T;
  }

  async create<T extends KubeObject>(ref: ResourceRef, obj: T): Promise<T> {
    const o = clone(obj) as KubeObject;
    const meta = { ...(o.metadata ?? {}) };
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}x7k2q`;
    this.calls.push(`CREATE ${ref.resource} ${meta.name}`);
    if (this.objects.has(this.key(ref, meta.name ?? ''))) throw new ApiError(409, 'AlreadyExists', `${ref.resource} "${meta.name}" already exists`);
    meta.namespace = ref.namespace;
    meta.uid = `uid-${meta.name}`;
    meta.resourceVersion = String(++this.rv);
    meta.creationTimestamp = new Date(NOW).toISOString();
    o.metadata = meta;
    this.objects.set(this.key(ref, meta.name ?? ''), o);
    this.emit(ref, 'ADDED', o);
    this.onCreate?.(clone(o));
    return clone(o) as T;
  }

  async update<T extends KubeObject>(ref: ResourceRef, obj: T): Promise<T> {
    const name = obj.metadata?.name ?? '';
    this.calls.push(`UPDATE ${ref.resource} ${name}`);
    const cur = this.objects.get(this.key(ref, name));
    if (!cur) throw notFound(ref.resource, name);
    if (obj.metadata?.resourceVersion && obj.metadata.resourceVersion !== cur.metadata?.resourceVersion) throw conflict(ref.resource, name);
    const o = clone(obj) as KubeObject;
    o.metadata = { ...o.metadata, resourceVersion: String(++this.rv) };
    this.objects.set(this.key(ref, name), o);
    this.emit(ref, 'MODIFIED', o);
    return clone(o) as T;
  }

  /** Replaces an object's status-ish fields and tells watchers (a controller's update). */
  modify(ref: ResourceRef, name: string, change: (o: KubeObject) => void): void {
    const o = this.objects.get(this.key(ref, name));
    if (!o) throw new Error(`no ${name}`);
    change(o);
    o.metadata = { ...o.metadata, resourceVersion: String(++this.rv) };
    this.emit(ref, 'MODIFIED', o);
  }

  /** POST to a subresource: records the call; answers a TokenRequest for `serviceaccounts/token`. */
  async createSubresource<T>(ref: ResourceRef, name: string, subresource: string, body: unknown): Promise<T> {
    this.calls.push(`POST ${ref.resource}/${subresource} ${name}`);
    if (!this.objects.get(this.key(ref, name))) throw notFound(ref.resource, name, ref.group);
    return { ...(body as object), status: { token: `token-for-${name}`, expirationTimestamp: '2030-01-01T00:00:00Z' } } as T;
  }

  /** The Scale of a deployment or replica set, as the scale subresource serves it. */
  async getScale(ref: ResourceRef, name: string): Promise<Scale> {
    this.calls.push(`GET ${ref.resource}/scale ${name}`);
    return this.scaleOf(ref, name);
  }

  private scaleOf(ref: ResourceRef, name: string): Scale {
    const o = this.objects.get(this.key(ref, name)) as Scalable | undefined;
    if (!o) throw notFound(ref.resource, name, ref.group);
    const labels = o.spec?.selector?.matchLabels ?? {};
    return {
      apiVersion: 'autoscaling/v1', kind: 'Scale',
      metadata: { name, namespace: o.metadata?.namespace, uid: o.metadata?.uid, resourceVersion: o.metadata?.resourceVersion },
      spec: { replicas: o.spec?.replicas ?? 0 },
      status: { replicas: o.status?.replicas ?? 0, selector: Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',') },
    };
  }

  /** Writes `spec.replicas` of the parent; a stale resourceVersion is a 409 Conflict. */
  async updateScale(ref: ResourceRef, name: string, scale: Scale): Promise<Scale> {
    this.calls.push(`UPDATE ${ref.resource}/scale ${name} replicas=${scale.spec?.replicas ?? 0}`);
    const o = this.objects.get(this.key(ref, name)) as Scalable | undefined;
    if (!o) throw notFound(ref.resource, name, ref.group);
    if (this.scaleConflicts > 0) {
      this.scaleConflicts--;
      this.modify(ref, name, () => undefined);
    }
    if (scale.metadata?.resourceVersion && scale.metadata.resourceVersion !== o.metadata?.resourceVersion) throw conflict(`${ref.resource}.${ref.group}`, name);
    this.modify(ref, name, (x) => { (x as Scalable).spec = { ...(x as Scalable).spec, replicas: scale.spec?.replicas ?? 0 }; });
    return this.scaleOf(ref, name);
  }

  async delete<T extends KubeObject>(ref: ResourceRef, name: string, opts: DeleteOptions = {}): Promise<T> {
    this.calls.push(`DELETE ${ref.resource} ${name}${opts.gracePeriodSeconds !== undefined ? ` grace=${opts.gracePeriodSeconds}` : ''}`);
    this.deleteOptions.push(opts);
    const k = this.key(ref, name);
    const o = this.objects.get(k);
    if (!o) throw notFound(ref.resource, name);
    if (this.graceful && opts.gracePeriodSeconds !== 0) {
      o.metadata = { ...o.metadata, deletionTimestamp: new Date(NOW).toISOString(), deletionGracePeriodSeconds: opts.gracePeriodSeconds ?? 30,
        resourceVersion: String(++this.rv) };
      this.emit(ref, 'MODIFIED', o);
      return clone(o) as T;
    }
    this.objects.delete(k);
    this.emit(ref, 'DELETED', o);
    return clone(o) as T;
  }

  /** Completes a graceful deletion started with `graceful` set. */
  finishDeletion(ref: ResourceRef, name: string): void {
    const k = this.key(ref, name);
    const o = this.objects.get(k);
    if (!o) return;
    this.objects.delete(k);
    o.metadata = { ...o.metadata, resourceVersion: String(++this.rv) };
    this.emit(ref, 'DELETED', o);
  }

  watch<T extends KubeObject>(ref: ResourceRef, opts: WatchOptions, onEvent: (e: WatchEvent<T>) => void): WatchHandle {
    this.calls.push(`WATCH ${ref.resource}${opts.fieldSelector ? ` f=${opts.fieldSelector}` : ''}${opts.resourceVersion ? ` rv=${opts.resourceVersion}` : ''}`);
    let end!: () => void;
    const done = new Promise<void>((resolve) => { end = resolve; });
    const w: Watcher = { ref, opts, cb: onEvent as (e: WatchEvent<KubeObject>) => void, end };
    this.watchers.add(w);
    if (!opts.resourceVersion) {
      void this.list(ref, { fieldSelector: opts.fieldSelector, labelSelector: opts.labelSelector }).then((l) => {
        for (const o of l.items) onEvent({ type: 'ADDED', object: o as T });
      });
    }
    return {
      stop: () => {
        this.watchers.delete(w);
        end();
      },
      done,
    };
  }

  /** Called after each PUT of `pods/{name}/ephemeralcontainers` (to script the debug container's progress). */
  onEphemeral?: (pod: Pod) => void;

  /** PUT `pods/{name}/ephemeralcontainers`: takes `spec.ephemeralContainers` only, 409 on a stale resourceVersion. */
  async updateEphemeralContainers(ref: ResourceRef, pod: Pod): Promise<Pod> {
    const name = pod.metadata?.name ?? '';
    this.calls.push(`PUT ${ref.resource}/ephemeralcontainers ${name}`);
    const cur = this.objects.get(this.key(ref, name)) as Pod | undefined;
    if (!cur) throw notFound(ref.resource, name);
    if (pod.metadata?.resourceVersion && pod.metadata.resourceVersion !== cur.metadata?.resourceVersion) throw conflict(ref.resource, name);
    const next = clone(cur) as Pod & KubeObject;
    next.spec = { ...next.spec, containers: next.spec?.containers ?? [], ephemeralContainers: clone(pod.spec?.ephemeralContainers ?? []) };
    next.metadata = { ...next.metadata, resourceVersion: String(++this.rv) };
    this.objects.set(this.key(ref, name), next);
    this.emit(ref, 'MODIFIED', next);
    this.onEphemeral?.(clone(next));
    return clone(next);
  }

  /** How many watches are open (a command must close its own). */
  get openWatches(): number {
    return this.watchers.size;
  }

  async logs(namespace: string, pod: string, opts: { container?: string }): Promise<Response> {
    this.calls.push(`LOGS ${pod}${opts.container ? ` -c ${opts.container}` : ''}`);
    const text = this.logs_.get(pod);
    if (text === undefined) throw notFound('pods', pod);
    return new Response(text);
  }

  async exec(namespace: string, pod: string, opts: { container?: string; command: string[]; stdin?: Buffer },
    out: { stdout: (b: Buffer) => void; stderr: (b: Buffer) => void }): Promise<number> {
    this.lastExec = { namespace, pod, ...opts };
    if (this.execResult.stdout) out.stdout(Buffer.from(this.execResult.stdout));
    if (this.execResult.stderr) out.stderr(Buffer.from(this.execResult.stderr));
    return this.execResult.code;
  }
}

export function fakeDeps(client: FakeClient, io: RecordingIO = recordingIO()): CommandDeps & { io: RecordingIO } {
  return { io, client: () => client };
}

export const POD_REF: ResourceRef = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
export const NODE_REF: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
export const EVENT_REF: ResourceRef = { group: '', version: 'v1', resource: 'events', namespace: 'default' };
export const DEPLOY_REF: ResourceRef = { group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default' };
export const RS_REF: ResourceRef = { group: 'apps', version: 'v1', resource: 'replicasets', namespace: 'default' };
