/**
 * The kubelet's own HTTP server, which the API server proxies `pods/log` and `pods/exec` to:
 *   GET  /containerLogs/{ns}/{pod}/{container}?follow=&tailLines=&previous=&timestamps=&sinceSeconds=&sinceTime=&limitBytes=
 *   GET  /stats/summary   (node, pod and container CPU and memory, see stats.ts)
 * and, by an HTTP upgrade (WebSocket or SPDY/3.1, see streaming.ts), the interactive
 *   /exec/{ns}/{pod}/{container}, /attach/{ns}/{pod}/{container} and /portforward/{ns}/{pod}.
 * Every request needs the cluster's bearer token.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { refuseUpgrade, serveStream } from './streaming.js';
import type { Pod } from '../api/types.js';
import type { ContainerStatus, LogOptions, Runtime } from '../runtime/types.js';
import { instancesOf, currentSandbox, type PodRuntimeState } from './plan.js';
import type { StatsSummary } from './stats.js';
import { specOf } from './lifecycle.js';

export interface KubeletServer {
  port: number;
  close(): Promise<void>;
}

export interface KubeletServerOptions {
  host: string;
  port: number;
  token: string;
  runtime: Runtime;
  findPod(namespace: string, name: string): Pod | undefined;
  podState(uid: string): Promise<PodRuntimeState>;
  /** The `/stats/summary` document (see stats.ts); without it the endpoint is 404. */
  summary?(): Promise<StatsSummary>;
}

function fail(res: ServerResponse, code: number, message: string): void {
  if (!res.headersSent) res.writeHead(code, { 'Content-Type': 'text/plain' });
  res.end(message + '\n');
}

function authorized(req: IncomingMessage, token: string): boolean {
  const got = Buffer.from(req.headers.authorization ?? '');
  const want = Buffer.from(`Bearer ${token}`);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Picks the container instance a request is about: newest, or the previous one. */
function pickInstance(state: PodRuntimeState, container: string, previous: boolean): ContainerStatus | undefined {
  const all = instancesOf(state, container);
  if (!previous) {
    const sb = currentSandbox(state);
    return all.find((c) => !sb || c.sandboxId === sb.id) ?? all[0];
  }
  return all.slice(1).find((c) => c.state === 'exited');
}

/**
 * The runtime log options of a `containerLogs` query (the API server has checked its values):
 * `sinceSeconds` counts back from `now`, `sinceTime` is RFC 3339 (the later of the two wins,
 * as only one is allowed), and `limitBytes` caps the bytes sent.
 */
export function logRequest(q: URLSearchParams, now: Date): LogOptions & { limitBytes?: number } {
  const out: LogOptions & { limitBytes?: number } = {
    follow: q.get('follow') === 'true',
    timestamps: q.get('timestamps') === 'true',
  };
  const tail = q.get('tailLines');
  if (tail) out.tail = Number(tail);
  const seconds = q.get('sinceSeconds');
  const time = q.get('sinceTime');
  const since = [seconds ? now.getTime() - Number(seconds) * 1000 : NaN, time ? Date.parse(time) : NaN].filter((t) => !Number.isNaN(t));
  if (since.length) out.since = new Date(Math.max(...since));
  const limit = q.get('limitBytes');
  if (limit) out.limitBytes = Number(limit);
  return out;
}

/**
 * The kubelet's answer to a log request for a container that has not started: its waiting
 * reason, with Kubernetes' wording for the two image-pull ones.
 */
export function waitingToStartMessage(pod: Pod, container: string): string {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const reason = statuses.find((c) => c.name === container)?.state?.waiting?.reason || 'ContainerCreating';
  const why = reason === 'ErrImagePull' ? "image can't be pulled" : reason === 'ImagePullBackOff' ? 'trying and failing to pull image' : reason;
  return `container "${container}" in pod "${pod.metadata?.name ?? ''}" is waiting to start: ${why}`;
}

export async function startKubeletServer(opts: KubeletServerOptions): Promise<KubeletServer> {
  const server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => fail(res, 500, (e as Error).message));
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    void handleUpgrade(req, socket, head).catch((e: unknown) => refuseUpgrade(socket, 500, (e as Error).message));
  });

  /** exec, attach and portforward streams: the pod and container checked, then served by streaming.ts. */
  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    if (!authorized(req, opts.token)) return refuseUpgrade(socket, 401, 'Unauthorized');
    const m = /^\/(exec|attach|portforward)\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m || (m[1] === 'portforward') !== (m[4] === undefined)) return refuseUpgrade(socket, 404, 'not found');
    const verb = m[1] as 'exec' | 'attach' | 'portforward';
    const [ns, podName, container] = [m[2], m[3], m[4]].map((p) => (p === undefined ? '' : decodeURIComponent(p)));
    const pod = opts.findPod(ns, podName);
    if (!pod) return refuseUpgrade(socket, 404, `pod "${podName}" not found on this node`);
    const state = await opts.podState(pod.metadata?.uid ?? '');
    if (verb === 'portforward') {
      const sandbox = currentSandbox(state);
      if (!sandbox || sandbox.state !== 'ready') return refuseUpgrade(socket, 400, `pod ${podName} does not have a running sandbox`);
      serveStream(req, socket, head, {
        verb, query: url.searchParams,
        dial: (port) => opts.runtime.portForward(sandbox.id, port),
        describePortError: (port, why) => `error forwarding port ${port} to pod ${podName}, uid ${pod.metadata?.uid ?? ''}: ${why}`,
      });
      return;
    }
    const inst = pickInstance(state, container, false);
    if (!inst || inst.state !== 'running') return refuseUpgrade(socket, 400, `container ${container} is not running`);
    const spec = specOf(pod, container);
    if (verb === 'attach' && url.searchParams.get('tty') === 'true' && !spec?.tty) {
      return refuseUpgrade(socket, 400, `Unable to use a TTY - container ${container} did not allocate one`);
    }
    const command = url.searchParams.getAll('command');
    if (verb === 'exec' && !command.length) return refuseUpgrade(socket, 400, 'you must specify at least one command for the container');
    serveStream(req, socket, head, {
      verb, query: url.searchParams,
      start: (io) => (verb === 'exec'
        ? opts.runtime.execStream(inst.id, command, io)
        : opts.runtime.attach(inst.id, { ...io, tty: spec?.tty === true })),
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    if (url.pathname === '/healthz') return fail(res, 200, 'ok');
    if (!authorized(req, opts.token)) return fail(res, 401, 'Unauthorized');
    if (url.pathname === '/stats/summary' && opts.summary) {
      if (req.method !== 'GET') return fail(res, 405, 'method not allowed');
      const body = JSON.stringify(await opts.summary());
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const m = /^\/(containerLogs)\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (!m) return fail(res, 404, 'not found');
    const [, verb, ns, podName, container] = m.map(decodeURIComponent);
    const pod = opts.findPod(ns, podName);
    if (!pod) return fail(res, 404, `pod "${podName}" not found on this node`);
    const state = await opts.podState(pod.metadata?.uid ?? '');
    const previous = url.searchParams.get('previous') === 'true';
    const inst = pickInstance(state, container, previous);
    if (!inst) {
      const msg = previous
        ? `previous terminated container "${container}" in pod "${podName}" not found`
        : waitingToStartMessage(pod, container);
      return fail(res, 400, msg);
    }
    if (verb === 'containerLogs') {
      if (req.method !== 'GET') return fail(res, 405, 'method not allowed');
      const { limitBytes, ...logOpts } = logRequest(url.searchParams, new Date());
      const stream = await opts.runtime.logs(inst.id, logOpts);
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
      res.on('close', () => stream.destroy());
      if (limitBytes === undefined) {
        stream.pipe(res);
        return;
      }
      let left = limitBytes;
      stream.on('data', (chunk: Buffer) => {
        if (left <= 0) return;
        res.write(chunk.subarray(0, left));
        left -= chunk.length;
        if (left <= 0) {
          res.end();
          stream.destroy();
        }
      });
      stream.on('end', () => res.end());
      return;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
