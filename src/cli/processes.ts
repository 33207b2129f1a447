/**
 * Background processes of a cluster (the control plane, one kubelet per node, and whatever else
 * `up` starts): spawning them detached with their logs in the cluster's folder, the lock that
 * keeps a second copy of a component from running, finding them again (by lock, by command
 * line, by pid file) and stopping them. The token reaches them through a 0600 file, never argv.
 */
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled CLI entry point, used to start components as `node main.js <component> …`. */
export const MAIN_SCRIPT = fileURLToPath(new URL('./main.js', import.meta.url));

export function pidFile(dir: string, component: string): string {
  return join(dir, `${component}.pid`);
}

export function logFile(dir: string, component: string): string {
  return join(dir, `${component}.log`);
}

/** Starts `node main.js <args>` detached; its stdout/stderr go to `<dir>/<component>.log`. */
export function spawnComponent(dir: string, component: string, args: string[]): number {
  const fd = openSync(logFile(dir, component), 'a');
  try {
    const child = spawn(process.execPath, [MAIN_SCRIPT, ...args], { detached: true, stdio: ['ignore', fd, fd], env: process.env });
    child.unref();
    if (!child.pid) throw new Error(`could not start ${component}`);
    writeFileSync(pidFile(dir, component), String(child.pid));
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function readPid(dir: string, component: string): number | undefined {
  const f = pidFile(dir, component);
  if (!existsSync(f)) return undefined;
  const pid = Number(readFileSync(f, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Whether the process exists and is not a zombie waiting to be reaped. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false; // gone between the two checks
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopProcess(pid: number, graceMs = 5000): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return; // already gone between the check and the signal
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    while (alive(pid)) await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Stops one component of `cluster`: the process holding its lock, and the one its pid file
 * names when /proc confirms it is this cluster's (a stale pid file may name a reused pid of an
 * unrelated process, which must never be signalled). Returns whether one was running.
 */
export async function stopComponent(dir: string, cluster: string, component: string): Promise<boolean> {
  const pids = new Set<number>();
  const holder = await lockHolder(cluster, component);
  if (holder?.pid) pids.add(holder.pid);
  const recorded = readPid(dir, component);
  if (recorded && findClusterProcesses(cluster).some((p) => p.pid === recorded)) pids.add(recorded);
  await Promise.all([...pids].map((pid) => stopProcess(pid)));
  rmSync(pidFile(dir, component), { force: true });
  return pids.size > 0 || holder !== undefined;
}

/**
 * Stops every process of `cluster`: those holding the locks of `components`, and any other
 * `main.js … --name <cluster>` found in /proc (stale pid files, a second kubelet started by an
 * older version, a component no list names). Returns how many processes were stopped.
 */
export async function stopClusterProcesses(dir: string, cluster: string, home: string, components: string[]): Promise<number> {
  const pids = new Set<number>();
  for (const c of components) {
    const holder = await lockHolder(cluster, c);
    if (holder?.pid) pids.add(holder.pid);
  }
  for (const p of findClusterProcesses(cluster, home)) pids.add(p.pid);
  await Promise.all([...pids].map((pid) => stopProcess(pid)));
  for (const c of components) rmSync(pidFile(dir, c), { force: true });
  return pids.size;
}

// ---- the component lock -------------------------------------------------------------------

/**
 * The lock of one component of one cluster: an abstract unix socket (Linux), e.g.
 * `\0minikube-lite/dev/kubelet-node-1`. The kernel lets one process bind it and releases it the
 * moment that process dies, even by SIGKILL: nothing on disk can go stale or be overwritten.
 */
export function componentLockAddress(cluster: string, component: string): string {
  return `\0minikube-lite/${cluster}/${component}`;
}

/** Another live process already holds a component's lock. */
export class ComponentLockedError extends Error {
  constructor(readonly cluster: string, readonly component: string, readonly holderPid: number | undefined) {
    super(`${component} of cluster "${cluster}" is already running${holderPid ? ` (pid ${holderPid})` : ''}: ` +
      'refusing to start a second one. Stop it first ("minikube-lite stop" or "down"), or let "up" adopt it.');
    this.name = 'ComponentLockedError';
  }
}

/** A held lock; `release` frees it early (it is freed anyway when the process exits). */
export interface ComponentLock {
  release(): Promise<void>;
}

/**
 * Takes the lock of `component` in `cluster` for the life of this process. Rejects with
 * ComponentLockedError (naming the holder's pid) when a live process holds it. Whoever connects
 * to the lock reads the holder's pid, as JSON `{"pid":N}`: that is how `up`, `stop` and `down`
 * find live components without trusting pid files.
 */
export async function holdComponentLock(cluster: string, component: string): Promise<ComponentLock> {
  const server: Server = createServer((sock) => {
    sock.on('error', () => sock.destroy()); // a prober that hung up early: nothing to answer
    sock.end(JSON.stringify({ pid: process.pid, component }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path: componentLockAddress(cluster, component), exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (e: unknown) => {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    throw new ComponentLockedError(cluster, component, (await lockHolder(cluster, component))?.pid);
  });
  server.unref(); // the lock must not keep an otherwise finished process alive
  return { release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * Who holds the lock of `component`: undefined when no live process does; `{ pid }` when one
 * answers; `{ pid: undefined }` when one holds it but does not answer within `timeoutMs` (a
 * stopped or wedged process).
 */
export function lockHolder(cluster: string, component: string, timeoutMs = 1000): Promise<{ pid: number | undefined } | undefined> {
  return new Promise((resolve) => {
    let data = '';
    let connected = false;
    const sock = connect({ path: componentLockAddress(cluster, component) });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(connected ? { pid: undefined } : undefined);
    }, timeoutMs);
    sock.on('connect', () => { connected = true; });
    sock.on('data', (d) => { data += String(d); });
    sock.on('end', () => {
      clearTimeout(timer);
      let pid: number | undefined;
      try {
        const parsed = JSON.parse(data) as { pid?: unknown };
        pid = typeof parsed.pid === 'number' ? parsed.pid : undefined;
      } catch {
        pid = undefined; // held, but the answer is not ours to read: report the holder without a pid
      }
      resolve({ pid });
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // ECONNREFUSED/ENOENT: nothing bound at that address, i.e. nobody holds the lock; any other
      // failure (EAGAIN: its backlog is full) means a process holds it without answering.
      const free = !connected && (e.code === 'ECONNREFUSED' || e.code === 'ENOENT');
      resolve(free ? undefined : { pid: undefined });
    });
  });
}

// ---- finding a cluster's processes by command line ----------------------------------------

/** One process of a cluster found in /proc: `node …/main.js <command> --name <cluster> …`. */
export interface ClusterProcess {
  pid: number;
  /** The CLI command it runs: `controlplane`, `kubelet`, … */
  command: string;
  argv: string[];
}

/**
 * Every live process started from a minikube-lite `main.js` for `cluster` (its argv carries
 * `--name <cluster>` and, when given, `--home <home>`), found by reading /proc/<pid>/cmdline:
 * how `down` and `stop` find components whose pid files are stale or lost.
 */
export function findClusterProcesses(cluster: string, home?: string): ClusterProcess[] {
  const out: ClusterProcess[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out; // no /proc (not Linux): only pid files and locks find components there
  }
  for (const e of entries) {
    const pid = Number(e);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
    } catch {
      continue; // exited while we looked, or not ours to read
    }
    const main = argv.findIndex((a) => a.endsWith('/main.js') || a === 'main.js');
    if (main < 0 || argv.length < main + 2) continue;
    const opt = (flag: string) => {
      const i = argv.indexOf(flag, main + 1);
      return i > 0 ? argv[i + 1] : undefined;
    };
    if (opt('--name') !== cluster) continue;
    const h = opt('--home');
    if (home !== undefined && h !== undefined && h !== home) continue;
    if (!alive(pid)) continue;
    let i = main + 1;
    while (argv[i]?.startsWith('--')) i += 2; // global options (`--name x --home y`) come first
    out.push({ pid, command: argv[i] ?? '', argv });
  }
  return out;
}

// ---- the token file -----------------------------------------------------------------------

/** Where a cluster's components read the API token from (mode 0600). */
export function tokenFile(dir: string): string {
  return join(dir, 'token');
}

/** Writes the token file (0600, also when it already existed with looser bits). */
export function writeTokenFile(dir: string, token: string): string {
  const path = tokenFile(dir);
  writeFileSync(path, token + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

/**
 * Reads a token file given as `--token-file`; refuses one that is empty or readable by group or
 * others (as ssh refuses a loose key), so that the token stays off command lines and other users.
 */
export function readTokenFile(path: string): string {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) throw new Error(`token file ${path} is readable by others (mode ${mode.toString(8)}): chmod 600 it`);
  const token = readFileSync(path, 'utf8').trim();
  if (!token) throw new Error(`token file ${path} is empty`);
  return token;
}
