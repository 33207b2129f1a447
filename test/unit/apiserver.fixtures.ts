/**
 * Helpers for the API server tests: small ResourceDefs of their own (so the tests pin the
 * server's behaviour, not the registry's validation rules), an HTTP helper, a watch reader
 * that waits for events without polling, a fake kubelet for the log/exec proxy, and an HTTPS
 * server with a kubeconfig for stock kubectl.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { required, type FieldError } from '../../src/api/errors.js';
import type { ResourceDef } from '../../src/api/resource.js';
import type { KubeObject, WatchEvent } from '../../src/api/types.js';
import { RESOURCES } from '../../src/api/registry.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { selfSignedCertificate } from '../../src/apiserver/tls.js';
import { SqliteStore } from '../../src/store/sqlite.js';

type Obj = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

const nameRequired = (obj: KubeObject): FieldError[] => (obj.metadata?.name ? [] : [required('metadata.name')]);

export const PODS_DEF: ResourceDef = {
  group: '', version: 'v1', resource: 'pods', singular: 'pod', kind: 'Pod', listKind: 'PodList', namespaced: true,
  shortNames: ['po'], subresources: ['status', 'binding', 'log', 'exec'],
  applyDefaults(obj) {
    const o = obj as Obj;
    o.spec ??= {};
    o.spec.restartPolicy ??= 'Always';
    o.status ??= { phase: 'Pending' };
  },
  validate(obj) {
    const errs = nameRequired(obj);
    const containers = ((obj as Obj).spec?.containers ?? []) as { name?: string; image?: string }[];
    if (containers.length === 0) errs.push(required('spec.containers'));
    containers.forEach((c, i) => {
      if (!c.image) errs.push(required(`spec.containers[${i}].image`));
    });
    return errs;
  },
  fieldLabels(obj) {
    const o = obj as Obj;
    return { 'spec.nodeName': String(o.spec?.nodeName ?? ''), 'status.phase': String(o.status?.phase ?? '') };
  },
};

export const NODES_DEF: ResourceDef = {
  group: '', version: 'v1', resource: 'nodes', singular: 'node', kind: 'Node', listKind: 'NodeList', namespaced: false,
  shortNames: ['no'], subresources: ['status'],
  applyDefaults() {},
  validate: nameRequired,
};

export const NAMESPACES_DEF: ResourceDef = {
  group: '', version: 'v1', resource: 'namespaces', singular: 'namespace', kind: 'Namespace', listKind: 'NamespaceList',
  namespaced: false, shortNames: ['ns'], subresources: ['status'],
  applyDefaults(obj) {
    const o = obj as Obj;
    o.status ??= { phase: 'Active' };
  },
  validate: nameRequired,
};

export const EVENTS_DEF: ResourceDef = {
  group: '', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', listKind: 'EventList', namespaced: true,
  shortNames: ['ev'], subresources: [],
  applyDefaults() {},
  validate: nameRequired,
  fieldLabels(obj) {
    const inv = ((obj as Obj & { involvedObject?: Record<string, string> }).involvedObject ?? {});
    return { 'involvedObject.name': inv.name ?? '', 'involvedObject.kind': inv.kind ?? '', 'involvedObject.uid': inv.uid ?? '' };
  },
};

export const DEPLOYMENTS_DEF: ResourceDef = {
  group: 'apps', version: 'v1', resource: 'deployments', singular: 'deployment', kind: 'Deployment', listKind: 'DeploymentList',
  namespaced: true, shortNames: ['deploy'], subresources: ['status'],
  applyDefaults(obj) {
    const o = obj as Obj;
    o.spec ??= {};
    o.spec.replicas ??= 1;
  },
  validate: nameRequired,
};

export const TEST_RESOURCES = [PODS_DEF, NODES_DEF, NAMESPACES_DEF, EVENTS_DEF, DEPLOYMENTS_DEF];

export interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

/** One HTTP request to the server; the body is sent as JSON unless it is a string. */
export async function call<T = Record<string, unknown>>(
  base: string, method: string, path: string,
  opts: { body?: unknown; token?: string | null; contentType?: string; accept?: string; userAgent?: string } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = {};
  if (opts.userAgent) headers['User-Agent'] = opts.userAgent;
  if (opts.token !== null) headers.Authorization = `Bearer ${opts.token ?? TOKEN}`;
  if (opts.body !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
  if (opts.accept) headers.Accept = opts.accept;
  const res = await fetch(base + path, {
    method, headers,
    body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // plain text answers (health checks, logs) stay text
  }
  return { status: res.status, body: body as T, text, headers: res.headers };
}

export const TOKEN = 'test-token-0123456789';

/** A watch stream; `next()` resolves with the next event (or rejects after a timeout). */
export class WatchReader {
  private readonly events: WatchEvent[] = [];
  private waiter?: () => void;
  private ended = false;
  readonly done: Promise<void>;
  status = 0;
  contentType = '';
  private readonly ctrl = new AbortController();

  constructor(base: string, path: string) {
    this.done = this.run(base + path).finally(() => {
      this.ended = true;
      this.waiter?.();
    });
  }

  private async run(url: string): Promise<void> {
    try {
      const res = await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}` }, signal: this.ctrl.signal });
      this.status = res.status;
      this.contentType = res.headers.get('content-type') ?? '';
      if (!res.body) return;
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk as Uint8Array, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.trim()) {
            this.events.push(JSON.parse(line) as WatchEvent);
            this.waiter?.();
          }
        }
      }
    } catch (e) {
      if (!this.ctrl.signal.aborted) throw e;
    }
  }

  async next(ms = 3000): Promise<WatchEvent> {
    while (this.events.length === 0) {
      if (this.ended) throw new Error('watch ended');
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no watch event within ${ms} ms`)), ms);
        this.waiter = () => { clearTimeout(t); resolve(); };
      });
    }
    return this.events.shift()!;
  }

  /** `TYPE name` for the next n events. */
  async take(n: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const e = await this.next();
      out.push(`${e.type} ${e.object.metadata?.name ?? ''}`);
    }
    return out;
  }

  /** Events received but not taken yet, after letting pending I/O land (~50 ms). */
  async pending(): Promise<number> {
    await new Promise((r) => setTimeout(r, 50));
    return this.events.length;
  }

  stop(): void {
    this.ctrl.abort();
  }
}

export interface FakeKubelet {
  port: number;
  requests: { method: string; url: string; auth: string; body: string }[];
  close(): Promise<void>;
  /** Resolves when a follow stream the kubelet serves is closed by the other side. */
  followClosed: Promise<void>;
}

/**
 * A kubelet stand-in: `/containerLogs/...` answers two lines (and with follow=true, keeps the
 * stream open until the API server goes away); an upgrade to `/exec/...` is answered with a
 * `v5.channel.k8s.io` WebSocket that writes the command on stdout, then a NonZeroExitCode
 * Status (exit code 3).
 */
export async function startFakeKubelet(token: string): Promise<FakeKubelet> {
  const requests: FakeKubelet['requests'] = [];
  let onFollowClosed!: () => void;
  const followClosed = new Promise<void>((r) => { onFollowClosed = r; });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization ?? '', body: Buffer.concat(chunks).toString() });
      if (req.headers.authorization !== `Bearer ${token}`) {
        res.writeHead(401).end('Unauthorized');
        return;
      }
      const url = new URL(req.url ?? '/', 'http://kubelet');
      if (url.pathname.startsWith('/containerLogs/')) {
        if (url.pathname.endsWith('/missing')) {
          res.writeHead(400, { 'Content-Type': 'text/plain' }).end('container "missing" in pod "web" is waiting to start: ContainerCreating');
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('line 1\n');
        res.write('line 2\n');
        if (url.searchParams.get('follow') === 'true') {
          res.on('close', () => onFollowClosed());
          return;
        }
        res.end();
        return;
      }
      res.writeHead(404).end('not found');
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization ?? '', body: '' });
    const url = new URL(req.url ?? '/', 'http://kubelet');
    if (req.headers.authorization !== `Bearer ${token}` || !url.pathname.startsWith('/exec/')) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(url.searchParams.getAll('command').join(' '))]));
      const status = { metadata: {}, status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } };
      ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify(status))]));
      ws.close(1000);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    followClosed,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** An API server (every kind, in-memory store) over HTTPS, with a kubeconfig for stock kubectl in `dir`. */
export interface KubectlServer {
  server: ApiServer;
  /** A temporary folder holding `config` (the kubeconfig); tests may write manifests there. */
  dir: string;
  /** Runs kubectl with the kubeconfig: stdout + stderr, and the exit code (0 on success). */
  kubectl(...args: string[]): Promise<{ out: string; code: number }>;
  close(): Promise<void>;
}

/** Starts a {@link KubectlServer}; kubectl sends a kubeconfig's token only over TLS, hence HTTPS. */
export async function startKubectlServer(kubectl = '/usr/bin/kubectl'): Promise<KubectlServer> {
  const dir = mkdtempSync(join(tmpdir(), 'mkl-kubectl-'));
  const tls = await selfSignedCertificate({ hosts: ['127.0.0.1', 'localhost'] });
  const server = await startApiServer({ store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: TOKEN, tls, logger: { info: () => undefined, error: () => undefined } });
  writeFileSync(join(dir, 'config'), [
    'apiVersion: v1', 'kind: Config', 'current-context: test',
    'clusters:', '- name: test', '  cluster:', `    server: ${server.url}`, `    certificate-authority-data: ${Buffer.from(tls.cert).toString('base64')}`,
    'users:', '- name: test', '  user:', `    token: ${TOKEN}`,
    'contexts:', '- name: test', '  context:', '    cluster: test', '    user: test', '',
  ].join('\n'));
  const run = promisify(execFile);
  return {
    server, dir,
    kubectl: async (...args) => {
      try {
        const r = await run(kubectl, ['--kubeconfig', join(dir, 'config'), '--cache-dir', join(dir, 'cache'), ...args], { timeout: 20_000 });
        return { out: r.stdout + r.stderr, code: 0 };
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string; code?: number };
        return { out: (err.stdout ?? '') + (err.stderr ?? ''), code: typeof err.code === 'number' ? err.code : -1 };
      }
    },
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
