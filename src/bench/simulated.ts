/**
 * API servers for the simulated parts (no Docker): either in this process (`startApiServer`
 * over a SQLite store in a temp dir, as the control plane opens it), or the real control-plane
 * process (`node dist/cli/main.js controlplane …`), so that the benchmark's own client work
 * does not share the server's thread.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESOURCES } from '../api/registry.js';
import { startApiServer } from '../apiserver/server.js';
import { ApiClient } from '../client/client.js';
import { MAIN_SCRIPT, writeTokenFile } from '../cli/processes.js';
import { openSqliteStore } from '../store/sqlite.js';
import { sleep } from './clock.js';

export interface SimServer {
  url: string;
  token: string;
  /** Where the store lives. */
  dir: string;
  /** The server process, when it runs in one of its own. */
  pid?: number;
  client(): ApiClient;
  /** Stops the server and removes its store. */
  close(): Promise<void>;
}

/** An API server in this process, on a free loopback port, with its SQLite store in a temp dir. */
export async function startInProcessServer(log: (msg: string) => void): Promise<SimServer> {
  const dir = mkdtempSync(join(tmpdir(), 'mkl-bench-store-'));
  const token = randomBytes(16).toString('hex');
  const store = openSqliteStore(join(dir, 'state.db'));
  const server = await startApiServer({
    store, resources: RESOURCES, port: 0, token,
    logger: { info: () => undefined, error: (m, e) => log(`apiserver: ${m} ${e instanceof Error ? e.message : String(e ?? '')}`) },
  });
  return {
    url: server.url, token, dir,
    client: () => new ApiClient({ server: server.url, token }),
    close: async () => {
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/**
 * The control plane as its own process (API server + scheduler, and whatever else `controlplane`
 * runs), from the built CLI. Resolves once `/readyz` answers.
 */
export async function startServerProcess(log: (msg: string) => void): Promise<SimServer> {
  const dir = mkdtempSync(join(tmpdir(), 'mkl-bench-cp-'));
  const token = randomBytes(16).toString('hex');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logPath = join(dir, 'controlplane.log');
  const fd = openSync(logPath, 'a');
  const tokenFile = writeTokenFile(dir, token);
  // Its own cluster name: the control plane's lock is per cluster, and this one is nobody's `up`.
  const child = spawn(process.execPath, [MAIN_SCRIPT, '--name', `bench-${randomBytes(4).toString('hex')}`, 'controlplane', '--port', String(port),
    '--token-file', tokenFile, '--data-dir', dir], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const gone = exited(child);
  const deadline = Date.now() + 30_000;
  // No event says "listening" across processes: ask /readyz until it answers (as `up` does).
  for (;;) {
    if (child.exitCode !== null) throw new Error(`controlplane exited with ${child.exitCode}: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`controlplane did not answer /readyz within 30 s: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
    }
    await sleep(50);
  }
  log(`control plane process ${child.pid} on ${url}`);
  return {
    url, token, dir, pid: child.pid,
    client: () => new ApiClient({ server: url, token }),
    close: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
