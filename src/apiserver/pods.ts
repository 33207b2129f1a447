/**
 * Pod-only API behaviour: the deletion grace period, the `binding` subresource the scheduler
 * posts to, and the `log` and `exec` subresources, which the API server proxies to the kubelet
 * of the pod's node (found in the Node object's addresses and daemon endpoint).
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest, invalid, type FieldError, type StatusReason } from '../api/errors.js';
import type { Binding, KubeObject, Node, Pod, PodCondition, Status } from '../api/types.js';
import { boolParam, successStatus } from './http.js';

/** Default `terminationGracePeriodSeconds`, as in Kubernetes. */
export const DEFAULT_GRACE_SECONDS = 30;

/**
 * The grace period a DELETE gives a pod (Kubernetes' CheckGracefulTermination): the request's
 * value, else the pod's `terminationGracePeriodSeconds`, else 30; but 0 (delete now) for a pod
 * no node runs (unbound) or one that has finished (Succeeded/Failed); negative becomes 1.
 */
export function podGracePeriod(obj: KubeObject, requested: number | undefined): number {
  const pod = obj as Pod;
  let period = requested ?? pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
  if (!pod.spec?.nodeName) period = 0;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') period = 0;
  return period < 0 ? 1 : period;
}

const bindingConflict = (pod: string, why: string): ApiError =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${pod}": ${why}`, [], { name: pod, kind: 'pods/binding' });

/**
 * Checks a Binding posted to `pods/{name}/binding` and returns the change to make to the pod
 * (a function for `RestStorage.modify`). 400/422 for a malformed Binding; the function throws
 * 409 Conflict if the pod is already bound or being deleted.
 */
export function planBinding(name: string, body: Record<string, unknown>, now: string): (cur: KubeObject) => KubeObject {
  const binding = body as unknown as Binding & { kind?: string };
  if (binding.kind !== undefined && binding.kind !== 'Binding') {
    throw badRequest(`${String(binding.kind)} in version ${JSON.stringify(binding.apiVersion ?? '')} cannot be handled as a Binding: the kind of the object does not match the endpoint`);
  }
  if (binding.metadata?.name && binding.metadata.name !== name) throw badRequest('name in URL does not match name in Binding object');
  const errs: FieldError[] = [];
  const target = binding.target ?? {};
  if (!target.name) errs.push({ field: 'target.name', type: 'FieldValueRequired', message: 'Required value' });
  if (target.kind && target.kind !== 'Node') errs.push({ field: 'target.kind', type: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(target.kind)}: supported values: "Node"` });
  if (errs.length) throw invalid('Binding', name, errs);
  const node = target.name ?? '';
  const uid = binding.metadata?.uid;
  const annotations = binding.metadata?.annotations ?? {};
  return (cur) => {
    const pod = cur as Pod;
    if (uid && uid !== pod.metadata?.uid) {
      throw bindingConflict(name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata?.uid ?? ''}`);
    }
    if (pod.metadata?.deletionTimestamp) throw bindingConflict(name, `pod ${name} is being deleted, cannot be assigned to a host`);
    if (pod.spec?.nodeName) throw bindingConflict(name, `pod ${name} is already assigned to node ${JSON.stringify(pod.spec.nodeName)}`);
    const metadata = Object.keys(annotations).length
      ? { ...pod.metadata, annotations: { ...pod.metadata?.annotations, ...annotations } }
      : pod.metadata;
    const bound: Pod = {
      ...pod,
      metadata,
      spec: { ...pod.spec, containers: pod.spec?.containers ?? [], nodeName: node },
      status: { ...pod.status, conditions: withCondition(pod.status?.conditions ?? [], { type: 'PodScheduled', status: 'True' }, now) },
    };
    return bound as KubeObject;
  };
}

/** The conditions with `cond` set, moving lastTransitionTime only when its status changes. */
function withCondition(conditions: readonly PodCondition[], cond: PodCondition, now: string): PodCondition[] {
  const i = conditions.findIndex((c) => c.type === cond.type);
  if (i < 0) return [...conditions, { ...cond, lastTransitionTime: now }];
  const changed = conditions[i].status !== cond.status;
  return conditions.map((c, j) => (j === i ? { ...c, ...cond, ...(changed ? { lastTransitionTime: now } : {}) } : c));
}

/** The 201 Success Status a binding answers with. */
export const bindingCreated = (): Status => successStatus(201);

// ---------------------------------------------------------------------------------------------
// log and exec: proxies to the kubelet

/** Which container of `pod` a log or exec request means; 400 as Kubernetes words it. */
export function resolveContainer(pod: Pod, requested: string | null): string {
  const name = pod.metadata?.name ?? '';
  const main = (pod.spec?.containers ?? []).map((c) => c.name);
  const init = (pod.spec?.initContainers ?? []).map((c) => c.name);
  const ephemeral = (pod.spec?.ephemeralContainers ?? []).map((c) => c.name);
  if (requested) {
    if (![...main, ...init, ...ephemeral].includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  if (main.length === 1) return main[0];
  let msg = `a container name must be specified for pod ${name}, choose one of: [${main.join(' ')}]`;
  if (init.length) msg += ` or one of the init containers: [${init.join(' ')}]`;
  throw badRequest(msg);
}

/** Where the kubelet of `node` listens: its InternalIP (else first address) and kubelet port. */
export function kubeletAddress(node: Node): { host: string; port: number } {
  const name = node.metadata?.name ?? '';
  const addresses = node.status?.addresses ?? [];
  const addr = addresses.find((a) => a.type === 'InternalIP') ?? addresses[0];
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  if (!addr?.address || !port) {
    throw new ApiError(503, 'ServiceUnavailable', `node "${name}" has no kubelet address or port in its status; is its kubelet running?`);
  }
  return { host: addr.address, port };
}

const LOG_PARAMS = ['follow', 'previous', 'timestamps', 'tailLines', 'sinceSeconds', 'sinceTime', 'limitBytes'];
const INT_PARAMS: Record<string, number> = { tailLines: 0, sinceSeconds: 1, limitBytes: 1 };

/** The kubelet query for a log request: only the parameters given, checked as Kubernetes does. */
export function logQuery(q: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  for (const p of LOG_PARAMS) {
    const v = q.get(p);
    if (v === null || v === '') continue;
    if (p in INT_PARAMS) {
      if (!/^-?\d+$/.test(v)) throw badRequest(`${p}: Invalid value: ${JSON.stringify(v)}: must be an integer`);
      if (Number(v) < INT_PARAMS[p]) {
        throw invalid('PodLogOptions', '', [{ field: p, type: 'FieldValueInvalid', message: `Invalid value: ${v}: must be greater than or equal to ${INT_PARAMS[p]}` }]);
      }
    }
    if ((p === 'follow' || p === 'previous' || p === 'timestamps')) {
      if (!boolParam(q, p)) continue;
      out.set(p, 'true');
    } else {
      out.set(p, v);
    }
  }
  return out;
}

function reasonFor(code: number): StatusReason {
  switch (code) {
    case 400: return 'BadRequest';
    case 401: return 'Unauthorized';
    case 403: return 'Forbidden';
    case 404: return 'NotFound';
    case 409: return 'Conflict';
    case 503: return 'ServiceUnavailable';
    default: return 'InternalError';
  }
}

export interface ProxyTarget {
  host: string;
  port: number;
  method: 'GET' | 'POST';
  /** Path and query on the kubelet, e.g. `/containerLogs/default/web/app?follow=true`. */
  path: string;
  token: string;
}

/**
 * Streams one request to the kubelet and its answer back: the client's body (exec stdin) goes
 * up as it arrives, the kubelet's answer comes down chunk by chunk. A client that goes away
 * aborts the kubelet request; a kubelet that cannot be reached is a 503 Status; a kubelet error
 * answer is passed on as a Status. Resolves when the exchange is over.
 */
export function proxyToKubelet(req: IncomingMessage, res: ServerResponse, target: ProxyTarget, track: (abort: () => void) => () => void): Promise<void> {
  return new Promise((resolve) => {
    const hostForUrl = target.host.includes(':') ? `[${target.host}]` : target.host;
    const url = `http://${hostForUrl}:${target.port}${target.path}`;
    const headers: Record<string, string> = { Authorization: `Bearer ${target.token}` };
    if (target.method === 'POST') headers['Content-Type'] = req.headers['content-type'] ?? 'application/octet-stream';
    const upstream = http.request({ host: target.host, port: target.port, method: target.method, path: target.path, headers });
    let finished = false;
    const untrack = track(() => {
      upstream.destroy();
      res.destroy();
    });
    const finish = (): void => {
      if (finished) return;
      finished = true;
      untrack();
      resolve();
    };
    res.on('close', () => {
      // The client went away (or the answer is complete): stop the kubelet side too.
      upstream.destroy();
      finish();
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        res.destroy();
      } else if (!res.destroyed) {
        const why = err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.message;
        const status = new ApiError(503, 'ServiceUnavailable', `${target.method === 'GET' ? 'Get' : 'Post'} "${url}": dial tcp ${hostForUrl}:${target.port}: ${why}`).toStatus();
        const text = JSON.stringify(status);
        res.writeHead(503, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      }
      finish();
    });
    upstream.on('response', (ures) => {
      const code = ures.statusCode ?? 502;
      if (code >= 300) {
        const chunks: Buffer[] = [];
        ures.on('data', (c: Buffer) => chunks.push(c));
        ures.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8').slice(0, 64 * 1024);
          let status: Status | undefined;
          try {
            const parsed = JSON.parse(text) as Status;
            if (parsed.kind === 'Status') status = parsed;
          } catch {
            // the kubelet answered plain text: wrap it below
          }
          status ??= new ApiError(code, reasonFor(code), text.trim() || `the kubelet answered HTTP ${code}`).toStatus();
          const body = JSON.stringify(status);
          if (!res.destroyed) {
            res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
            res.end(body);
          }
        });
        return;
      }
      res.writeHead(code, { 'Content-Type': ures.headers['content-type'] ?? 'text/plain', 'Cache-Control': 'no-cache, private' });
      res.flushHeaders();
      ures.pipe(res);
      ures.on('aborted', () => res.destroy());
    });
    if (target.method === 'POST') req.pipe(upstream);
    else upstream.end();
  });
}
