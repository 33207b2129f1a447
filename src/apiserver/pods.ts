/**
 * Pod-only API behaviour: the deletion grace period, the `binding` subresource the scheduler
 * posts to, what the `ephemeralcontainers` subresource may change, and the `log` and `exec` subresources, which the API server proxies to the kubelet
 * of the pod's node (found in the Node object's addresses and daemon endpoint).
 */
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
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

/**
 * The pod an update through `pods/{name}/ephemeralcontainers` stores (Kubernetes'
 * `dropNonEphemeralContainerUpdates`): the stored pod with only `spec.ephemeralContainers` taken
 * from `requested`; every other change the client sent is dropped. `cur` is not changed.
 */
export function withEphemeralContainers(cur: KubeObject, requested: KubeObject): KubeObject {
  const pod = JSON.parse(JSON.stringify(cur)) as Pod;
  const wanted = (requested as Pod).spec?.ephemeralContainers;
  const spec = { ...pod.spec, containers: pod.spec?.containers ?? [] };
  if (wanted === undefined || wanted === null) delete spec.ephemeralContainers;
  else spec.ephemeralContainers = JSON.parse(JSON.stringify(wanted)) as typeof wanted;
  return { ...pod, spec } as KubeObject;
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
  if (ephemeral.length) msg += ` or one of the ephemeral containers: [${ephemeral.join(' ')}]`;
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

// ---------------------------------------------------------------------------------------------
// exec, attach, portforward: upgraded connections passed through to the kubelet

/** Request headers not passed on to the kubelet: the API server's credentials and routing. */
const HOP_HEADERS = new Set(['host', 'authorization', 'proxy-authorization', 'content-length']);

/** Writes a Status answer on a socket whose request asked for an upgrade, and closes it. */
export function writeStatusOnSocket(socket: Duplex, status: Status): void {
  const body = JSON.stringify(status);
  const code = status.code ?? 500;
  socket.end(`HTTP/1.1 ${code} ${http.STATUS_CODES[code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Passes an upgrade request (WebSocket or SPDY) through to the kubelet at `target.path` with
 * the kubelet token, then splices the two connections: the kubelet answers the upgrade and
 * speaks the stream protocol itself. An unreachable kubelet is a 503 Status.
 */
export function proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: Omit<ProxyTarget, 'method'>, track: (abort: () => void) => () => void): void {
  const hostForUrl = target.host.includes(':') ? `[${target.host}]` : target.host;
  const upstream = net.connect({ host: target.host, port: target.port });
  const lines = [`${req.method ?? 'GET'} ${target.path} HTTP/1.1`, `Host: ${hostForUrl}:${target.port}`, `Authorization: Bearer ${target.token}`];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (!HOP_HEADERS.has(req.rawHeaders[i].toLowerCase())) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  }
  let answered = false;
  const paced = (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
  const untrack = track(() => {
    upstream.destroy();
    socket.destroy();
  });
  upstream.once('connect', () => {
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length) upstream.write(head);
    if (paced) pipeFramePaced(upstream, socket);
    else upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.once('data', () => (answered = true));
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (answered || socket.destroyed) {
      socket.destroy();
      return;
    }
    const why = err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.message;
    writeStatusOnSocket(socket, new ApiError(503, 'ServiceUnavailable', `error dialing backend: dial tcp ${hostForUrl}:${target.port}: ${why}`).toStatus());
  });
  socket.on('error', () => upstream.destroy());
  socket.once('close', () => {
    upstream.destroy();
    untrack();
  });
  // A paced copy ends the client's side itself, after its last frame.
  upstream.once('close', () => (paced ? undefined : socket.end()));
}

/**
 * Cuts the kubelet's side of an upgraded WebSocket connection into the HTTP answer and then
 * whole WebSocket frames (server frames are unmasked: 2 bytes, then a 16- or 64-bit length
 * when the 7-bit one is 126 or 127, then the payload).
 */
export class WebSocketFrameSplitter {
  private buf: Buffer = Buffer.alloc(0);
  private inHead = true;
  /** Chunks not yet joined, and how many bytes the next piece needs (no joining before). */
  private parts: Buffer[] = [];
  private partsLength = 0;
  private need = 0;

  /** The complete pieces (the HTTP head as one, then one per frame) that `chunk` finishes. */
  push(chunk: Buffer): Buffer[] {
    this.parts.push(chunk);
    this.partsLength += chunk.length;
    if (this.buf.length + this.partsLength < this.need) return [];
    this.buf = Buffer.concat([this.buf, ...this.parts]);
    this.parts = [];
    this.partsLength = 0;
    this.need = 0;
    const out: Buffer[] = [];
    for (;;) {
      let size: number;
      if (this.inHead) {
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) break;
        size = end + 4;
        this.inHead = false;
      } else {
        if (this.buf.length < 2) break;
        const len7 = this.buf[1] & 0x7f;
        const masked = (this.buf[1] & 0x80) !== 0;
        let header = 2;
        let len = len7;
        if (len7 === 126) {
          if (this.buf.length < 4) break;
          len = this.buf.readUInt16BE(2);
          header = 4;
        } else if (len7 === 127) {
          if (this.buf.length < 10) break;
          len = Number(this.buf.readBigUInt64BE(2));
          header = 10;
        }
        size = header + (masked ? 4 : 0) + len;
        if (this.buf.length < size) {
          this.need = size;
          break;
        }
      }
      out.push(this.buf.subarray(0, size));
      this.buf = this.buf.subarray(size);
    }
    return out;
  }
}

/**
 * Copies a kubelet WebSocket answer to the client one frame per write, each after the last
 * was written. Over TLS every write becomes its own record, so a client that polls the socket
 * before reading one frame (Python's kubernetes.stream) never waits on a frame already read
 * into its TLS buffer together with an earlier one.
 */
function pipeFramePaced(from: Duplex, to: Duplex): void {
  const splitter = new WebSocketFrameSplitter();
  const queue: Buffer[] = [];
  let writing = false;
  let ended = false;
  const next = (): void => {
    if (writing) return;
    const piece = queue.shift();
    if (!piece) {
      if (ended) to.end();
      from.resume();
      return;
    }
    writing = true;
    to.write(piece, () => {
      writing = false;
      next();
    });
  };
  from.on('data', (chunk: Buffer) => {
    queue.push(...splitter.push(chunk));
    if (queue.length > 64) from.pause();
    next();
  });
  const finish = (): void => {
    ended = true;
    next();
  };
  from.once('end', finish);
  from.once('close', finish);
}
