/**
 * The dashboard's server, run by the control plane on 127.0.0.1 (a free port, written to
 * `<data-dir>/dashboard.json`). It serves the built web app (dist/dashboard, from
 * `npm run build`) and a read-only proxy of the API (GET only, watches streamed through), adding
 * the cluster token itself so the browser never holds it.
 *
 * Log-in: the CLI (`minikube-lite dashboard`) asks for a one-time code with the cluster token
 * (`POST /login-codes`); the printed URL `/login?code=...` trades it, once and within 5 min, for
 * an HttpOnly, SameSite=Strict session cookie. Everything but `/login` needs that cookie.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { watchStream, WATCHED, type WatchedKind } from './state.js';

export interface DashboardOptions {
  /** The API server's plain-HTTP URL on loopback, e.g. `http://127.0.0.1:6443`. */
  apiServer: string;
  token: string;
  /** Folder with index.html and assets/ (the `npm run build` output). */
  staticDir: string;
  host?: string;
  port?: number;
  now?: () => number;
  /** How long a login code is good for (default 5 min). */
  codeTtlMs?: number;
  /** How long a session lasts (default 12 h). */
  sessionTtlMs?: number;
}

export interface Dashboard {
  url: string;
  port: number;
  /** A fresh one-time login code (what `POST /login-codes` answers). */
  newLoginCode(): string;
  close(): Promise<void>;
}

/** Where `npm run build` puts the web app: dist/dashboard-web, beside this module's dist/dashboard. */
export const DASHBOARD_STATIC_DIR = new URL('../dashboard-web', import.meta.url).pathname;
const SESSION_COOKIE = 'mkl_dashboard';
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json',
};
/** API paths the proxy passes on (reads of the kinds the dashboard shows). */
const API_PATH = /^\/(api\/v1|apis\/(apps|discovery\.k8s\.io|trace\.minikube-lite\.io)\/[a-z0-9]+)(\/|$)/;

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const now = opts.now ?? Date.now;
  const codeTtl = opts.codeTtlMs ?? 300_000;
  const sessionTtl = opts.sessionTtlMs ?? 12 * 3_600_000;
  const codes = new Map<string, number>();
  const sessions = new Map<string, number>();
  const tokenDigest = digest(opts.token);
  const api = new URL(opts.apiServer);

  const expire = (m: Map<string, number>): void => {
    for (const [k, until] of m) if (until <= now()) m.delete(k);
  };
  const newLoginCode = (): string => {
    expire(codes);
    const code = randomBytes(18).toString('base64url');
    codes.set(code, now() + codeTtl);
    return code;
  };
  const session = (req: IncomingMessage): boolean => {
    const m = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([A-Za-z0-9_-]+)`).exec(req.headers.cookie ?? '');
    const until = m ? sessions.get(m[1]) : undefined;
    return until !== undefined && until > now();
  };
  const send = (res: ServerResponse, code: number, body: string, type = 'text/plain; charset=utf-8'): void => {
    res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(body);
  };

  /**
   * One stream of every watched kind (a browser allows only 6 connections per host): lines of
   * `{"kind": k, "type": ..., "object": ...}`; `{"kind": k, "type": "RESET"}` when a kind is
   * listed again from scratch. Upstream watches resume by resourceVersion and end with the client.
   */
  function watchAll(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.flushHeaders();
    const upstream: typeof fetch = (input, init) => fetch(new URL(String(input), opts.apiServer), { ...init, headers: { authorization: `Bearer ${opts.token}` } });
    const stops = (Object.keys(WATCHED) as WatchedKind[]).map((kind) => watchStream(upstream, WATCHED[kind], (e) => {
      res.write(JSON.stringify({ kind, type: e.type, object: e.object }) + '\n');
    }, { onReset: () => res.write(JSON.stringify({ kind, type: 'RESET' }) + '\n') }));
    res.on('close', () => stops.forEach((stop) => stop()));
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    if (path === '/login-codes' && req.method === 'POST') {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (!m || !timingSafeEqual(digest(m[1]), tokenDigest)) return send(res, 401, 'Unauthorized');
      return send(res, 201, JSON.stringify({ code: newLoginCode() }), 'application/json');
    }
    if (path === '/login') {
      const code = url.searchParams.get('code') ?? '';
      const until = codes.get(code);
      codes.delete(code);
      if (until === undefined || until <= now()) return send(res, 401, 'This login link was already used or has expired. Run "minikube-lite dashboard" for a new one.');
      expire(sessions);
      const id = randomBytes(24).toString('base64url');
      sessions.set(id, now() + sessionTtl);
      res.writeHead(302, {
        location: '/', 'cache-control': 'no-store',
        'set-cookie': `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(sessionTtl / 1000)}`,
      });
      res.end();
      return;
    }
    if (!session(req)) return send(res, 401, 'Not logged in. Run "minikube-lite dashboard" and open the URL it prints.');
    if (path === '/watch' && req.method === 'GET') return watchAll(res);
    if (API_PATH.test(path)) {
      if (req.method !== 'GET') return send(res, 405, 'The dashboard is read-only.');
      const up = httpRequest({
        host: api.hostname, port: api.port, path: path + url.search, method: 'GET',
        headers: { authorization: `Bearer ${opts.token}`, accept: 'application/json' },
      }, (r) => {
        res.writeHead(r.statusCode ?? 502, { 'content-type': r.headers['content-type'] ?? 'application/json', 'cache-control': 'no-store' });
        r.pipe(res);
      });
      up.on('error', (e) => {
        if (!res.headersSent) send(res, 502, `API server: ${e.message}`);
        else res.destroy();
      });
      // A closed browser tab ends its watches upstream too.
      res.on('close', () => up.destroy());
      up.end();
      return;
    }
    if (req.method !== 'GET') return send(res, 405, 'Method not allowed');
    const rel = path === '/' ? 'index.html' : normalize(decodeURIComponent(path)).replace(/^[/\\]+/, '');
    const file = join(opts.staticDir, rel);
    if (!file.startsWith(opts.staticDir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      if (!existsSync(join(opts.staticDir, 'index.html'))) return send(res, 503, 'The dashboard was not built: run "npm run build".');
      return send(res, 404, 'Not found');
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}/`,
    port,
    newLoginCode,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
