/**
 * The typed HTTP client every component uses to reach the API server: CRUD on any resource,
 * subresources, watch streams, log and exec streams. It holds no state but its config, so any
 * component can run in its own process or on another host.
 */
import { WebSocket } from 'ws';
import { ApiError } from '../api/errors.js';
import type { KubeList, KubeObject, Status, WatchEvent } from '../api/types.js';

export interface ClientConfig {
  /** e.g. `http://127.0.0.1:6443` */
  server: string;
  /** Bearer token written by `up` into the client config. */
  token: string;
  /**
   * Called with each warning the server sends in `Warning: 299 - "..."` headers (unknown
   * fields dropped, for instance); the CLI prints them as kubectl does. Default: ignored.
   */
  onWarning?: (warning: string) => void;
  /**
   * The User-Agent sent with every request, e.g. `kubelet/v1.32.0`: the API server names the
   * field manager of a write after its first word (see apiserver/managedfields.ts).
   */
  userAgent?: string;
}

/** The User-Agent of a minikube-lite component, shaped as client-go shapes it. */
export const componentUserAgent = (component: string): string => `${component}/v1.32.0 (${process.platform}/${process.arch}) minikube-lite`;

/** The texts of `Warning` header values (`299 - "unknown field \"spec.foo\""`, possibly several joined by commas). */
export function parseWarnings(header: string | null): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const m of header.matchAll(/\d{3} \S+ ("(?:[^"\\]|\\.)*")/g)) {
    try {
      out.push(JSON.parse(m[1]) as string);
    } catch {
      out.push(m[1]); // not valid JSON escaping: show it as sent
    }
  }
  return out;
}

/** Query parameters of a write. */
export interface WriteQuery {
  /** `Strict` refuses unknown and duplicate fields (400), `Warn` drops them with a warning, `Ignore` silently. */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  /** The field manager recorded in managedFields (default: the User-Agent's first word). */
  fieldManager?: string;
}

/** Which collection a call is about: group/version/resource and, for namespaced kinds, namespace. */
export interface ResourceRef {
  group: string;
  version: string;
  resource: string;
  namespace?: string;
}

export const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
export const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
export const NAMESPACES: ResourceRef = { group: '', version: 'v1', resource: 'namespaces' };
export const EVENTS: ResourceRef = { group: '', version: 'v1', resource: 'events' };
export const CONFIGMAPS: ResourceRef = { group: '', version: 'v1', resource: 'configmaps' };
export const SECRETS: ResourceRef = { group: '', version: 'v1', resource: 'secrets' };
export const SERVICES: ResourceRef = { group: '', version: 'v1', resource: 'services' };
export const ENDPOINTS: ResourceRef = { group: '', version: 'v1', resource: 'endpoints' };
export const LEASES: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };
export const ENDPOINTSLICES: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' };
export const DEPLOYMENTS: ResourceRef = { group: 'apps', version: 'v1', resource: 'deployments' };
export const REPLICASETS: ResourceRef = { group: 'apps', version: 'v1', resource: 'replicasets' };
export const DAEMONSETS: ResourceRef = { group: 'apps', version: 'v1', resource: 'daemonsets' };
export const STATEFULSETS: ResourceRef = { group: 'apps', version: 'v1', resource: 'statefulsets' };
export const CONTROLLERREVISIONS: ResourceRef = { group: 'apps', version: 'v1', resource: 'controllerrevisions' };
export const REPLICATIONCONTROLLERS: ResourceRef = { group: '', version: 'v1', resource: 'replicationcontrollers' };
export const JOBS: ResourceRef = { group: 'batch', version: 'v1', resource: 'jobs' };
export const CRONJOBS: ResourceRef = { group: 'batch', version: 'v1', resource: 'cronjobs' };
export const PDBS: ResourceRef = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' };
export const SERVICE_ACCOUNTS: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };
export const RESOURCEQUOTAS: ResourceRef = { group: '', version: 'v1', resource: 'resourcequotas' };
export const INGRESSES: ResourceRef = { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses' };
export const INGRESSCLASSES: ResourceRef = { group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses' };
export const PVS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumes' };
export const PVCS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
export const STORAGE_CLASSES: ResourceRef = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' };
export const HPAS: ResourceRef = { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' };
export const NODE_METRICS: ResourceRef = { group: 'metrics.k8s.io', version: 'v1beta1', resource: 'nodes' };
export const POD_METRICS: ResourceRef = { group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods' };

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WatchOptions extends ListOptions {
  /** Resume after this resourceVersion; omitted = replay current state as ADDED first. */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  /** Only delete if the stored object still has this resourceVersion. */
  resourceVersion?: string;
}

/** A running watch; `done` settles when the stream ends (resolves) or fails (rejects). */
export interface WatchHandle {
  stop(): void;
  done: Promise<void>;
}

/** Path of a collection, item or subresource, e.g. `/api/v1/namespaces/default/pods/web/status`. */
export function resourcePath(ref: ResourceRef, name?: string, subresource?: string): string {
  let p = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  if (ref.namespace) p += `/namespaces/${encodeURIComponent(ref.namespace)}`;
  p += `/${ref.resource}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

function query(params: Record<string, string | number | boolean | string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export class ApiClient {
  constructor(readonly config: ClientConfig) {}

  /**
   * Sends one request and parses the JSON answer. Non-2xx answers become an ApiError rebuilt
   * from the server's Status; a server that cannot be reached becomes a 503 ApiError with one
   * sentence saying so.
   */
  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const res = await this.raw(method, path, body === undefined ? undefined : JSON.stringify(body), contentType);
    const text = await res.text();
    if (this.config.onWarning) for (const w of parseWarnings(res.headers.get('warning'))) this.config.onWarning(w);
    if (!res.ok) throw errorFromResponse(res.status, text);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** The raw fetch Response (for streams); throws only when the server cannot be reached. */
  async raw(method: string, path: string, body?: string | Buffer, contentType = 'application/json', signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.config.token}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = contentType;
    if (this.config.userAgent) headers['User-Agent'] = this.config.userAgent;
    try {
      return await fetch(this.config.server + path, { method, headers, body: body as BodyInit | undefined, signal });
    } catch (e) {
      if (signal?.aborted) throw e;
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new ApiError(503, 'ServiceUnavailable', `The connection to the server ${this.config.server.replace(/^https?:\/\//, '')} was refused - is the cluster up? (${cause})`);
    }
  }

  /**
   * Resolves once the API server answers `/readyz` with 200, asking every `intervalMs`; throws
   * the last reason after `timeoutMs`. For components started beside the API server (`up`
   * spawns them together), which would otherwise fail their first list.
   */
  async waitUntilReady(timeoutMs: number, intervalMs = 50): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let why: string;
      try {
        const res = await this.raw('GET', '/readyz');
        const text = await res.text();
        if (res.ok) return;
        why = `readyz answered ${res.status}: ${text.trim().split('\n').find((l) => l.includes('failed')) ?? text.slice(0, 200)}`;
      } catch (e) {
        why = (e as Error).message;
      }
      if (Date.now() >= deadline) throw new ApiError(503, 'ServiceUnavailable', `the API server at ${this.config.server} was not ready within ${Math.round(timeoutMs / 1000)} s: ${why}`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  get<T extends KubeObject>(ref: ResourceRef, name: string): Promise<T> {
    return this.request<T>('GET', resourcePath(ref, name));
  }

  list<T extends KubeObject>(ref: ResourceRef, opts: ListOptions = {}): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', resourcePath(ref) + query({ labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector }));
  }

  /** POST; `opts.fieldValidation` says what the server does with unknown fields (default Warn). */
  create<T extends KubeObject>(ref: ResourceRef, obj: T, opts: WriteQuery = {}): Promise<T> {
    return this.request<T>('POST', resourcePath(ref) + query({ fieldValidation: opts.fieldValidation, fieldManager: opts.fieldManager }), obj);
  }

  /** PUT; with `metadata.resourceVersion` set, a stale object gets 409 Conflict. */
  update<T extends KubeObject>(ref: ResourceRef, obj: T, opts: WriteQuery = {}): Promise<T> {
    return this.request<T>('PUT', resourcePath(ref, obj.metadata?.name ?? '') + query({ fieldValidation: opts.fieldValidation, fieldManager: opts.fieldManager }), obj);
  }

  /** PUT to the status subresource: only `status` is taken from `obj`. */
  updateStatus<T extends KubeObject>(ref: ResourceRef, obj: T): Promise<T> {
    return this.request<T>('PUT', resourcePath(ref, obj.metadata?.name ?? '', 'status'), obj);
  }

  /**
   * Server-side apply (`PATCH` with `application/apply-patch+yaml`): creates `obj` or merges it
   * into the stored object as `opts.fieldManager`; 409 when that changes fields other managers
   * own, unless `opts.force`.
   */
  apply<T extends KubeObject>(ref: ResourceRef, obj: T, opts: WriteQuery & { fieldManager: string; force?: boolean }): Promise<T> {
    const q = query({ fieldManager: opts.fieldManager, force: opts.force ? 'true' : undefined, fieldValidation: opts.fieldValidation });
    return this.request<T>('PATCH', resourcePath(ref, obj.metadata?.name ?? '') + q, obj, 'application/apply-patch+yaml');
  }

  /** JSON merge patch (RFC 7386) of an object or of a subresource. */
  patch<T extends KubeObject>(ref: ResourceRef, name: string, patch: unknown, subresource?: string): Promise<T> {
    return this.request<T>('PATCH', resourcePath(ref, name, subresource), patch, 'application/merge-patch+json');
  }

  delete<T extends KubeObject>(ref: ResourceRef, name: string, opts: DeleteOptions = {}): Promise<T | Status> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.resourceVersion) body.preconditions = { resourceVersion: opts.resourceVersion };
    return this.request<T | Status>('DELETE', resourcePath(ref, name), body);
  }

  /** POST to a subresource such as `binding`. */
  createSubresource<T>(ref: ResourceRef, name: string, subresource: string, body: unknown): Promise<T> {
    return this.request<T>('POST', resourcePath(ref, name, subresource), body);
  }

  /**
   * Opens a watch and calls `onEvent` for each event, in order. An `ERROR` event is handed to
   * `onEvent` like any other (its object is a Status: 410 means relist). The handle's `done`
   * resolves when the server closes the stream, and rejects on network errors.
   */
  watch<T extends KubeObject>(ref: ResourceRef, opts: WatchOptions, onEvent: (e: WatchEvent<T>) => void): WatchHandle {
    const ctrl = new AbortController();
    const path = resourcePath(ref) + query({
      watch: 'true', resourceVersion: opts.resourceVersion, labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector, allowWatchBookmarks: opts.allowWatchBookmarks, timeoutSeconds: opts.timeoutSeconds,
    });
    const done = (async () => {
      const res = await this.raw('GET', path, undefined, undefined, ctrl.signal);
      if (!res.ok) throw errorFromResponse(res.status, await res.text());
      for await (const line of ndjsonLines(res, ctrl.signal)) onEvent(JSON.parse(line) as WatchEvent<T>);
    })().catch((e: unknown) => {
      if (ctrl.signal.aborted) return;
      throw e;
    });
    return { stop: () => ctrl.abort(), done };
  }

  /** Streams a pod's container log; the Response body is text. */
  async logs(namespace: string, pod: string, opts: { container?: string; follow?: boolean; tailLines?: number; previous?: boolean; timestamps?: boolean }, signal?: AbortSignal): Promise<Response> {
    const path = resourcePath({ ...PODS, namespace }, pod, 'log') + query({
      container: opts.container, follow: opts.follow, tailLines: opts.tailLines, previous: opts.previous, timestamps: opts.timestamps,
    });
    const res = await this.raw('GET', path, undefined, undefined, signal);
    if (!res.ok) throw errorFromResponse(res.status, await res.text());
    return res;
  }

  /**
   * Runs a command in a pod's container over the `pods/exec` WebSocket stream
   * (`v5.channel.k8s.io`, as kubectl does), sends `stdin` then closes it, and streams the
   * output to the given writers; resolves with the command's exit code (from the final Status).
   */
  exec(namespace: string, pod: string, opts: { container?: string; command: string[]; stdin?: Buffer },
    out: { stdout: (b: Buffer) => void; stderr: (b: Buffer) => void }): Promise<number> {
    const path = resourcePath({ ...PODS, namespace }, pod, 'exec')
      + query({ container: opts.container, command: opts.command, stdin: opts.stdin !== undefined || undefined, stdout: true, stderr: true });
    const url = this.config.server.replace(/^http/, 'ws') + path;
    return new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(url, ['v5.channel.k8s.io'], { headers: { Authorization: `Bearer ${this.config.token}` }, perMessageDeflate: false });
      let status: Status | undefined;
      ws.on('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => reject(errorFromResponse(res.statusCode ?? 500, Buffer.concat(chunks).toString('utf8'))));
      });
      ws.on('error', (err) => reject(new ApiError(503, 'ServiceUnavailable', `The connection to the server ${this.config.server.replace(/^https?:\/\//, '')} was refused - is the cluster up? (${err.message})`)));
      ws.on('open', () => {
        if (opts.stdin === undefined) return;
        if (opts.stdin.length) ws.send(Buffer.concat([Buffer.from([0]), opts.stdin]));
        ws.send(Buffer.from([255, 0]));
      });
      ws.on('message', (data: Buffer) => {
        if (!data.length) return;
        const body = data.subarray(1);
        if (data[0] === 1) out.stdout(Buffer.from(body));
        else if (data[0] === 2) out.stderr(Buffer.from(body));
        else if (data[0] === 3) status = JSON.parse(body.toString('utf8')) as Status;
      });
      ws.on('close', () => {
        if (!status) return resolve(-1);
        if (status.status === 'Success') return resolve(0);
        const code = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
        if (status.reason === 'NonZeroExitCode' && code) return resolve(Number(code));
        reject(new ApiError(status.code ?? 500, status.reason === 'NonZeroExitCode' ? 'InternalError' : (status.reason as never) ?? 'InternalError', status.message ?? 'exec failed'));
      });
    });
  }
}

/** Yields the non-empty lines of a streamed response body. */
export async function* ndjsonLines(res: Response, signal?: AbortSignal): AsyncGenerator<string> {
  if (!res.body) return;
  const decoder = new TextDecoder();
  let buf = '';
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line) yield line;
      }
      if (signal?.aborted) return;
    }
    if (buf.trim()) yield buf.trim();
  } finally {
    reader.cancel().catch(() => { /* the stream is already closed; nothing to release */ });
  }
}

function errorFromResponse(code: number, text: string): ApiError {
  try {
    const s = JSON.parse(text) as Status;
    if (s.kind === 'Status') return ApiError.fromStatus(s, code);
  } catch {
    // not JSON: fall through to a plain error carrying the body text
  }
  return new ApiError(code, code === 404 ? 'NotFound' : 'InternalError', text.trim() || `the server responded with HTTP ${code}`);
}
