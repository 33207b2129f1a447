/**
 * Background processes of a cluster (the control plane and one kubelet per node): spawning them
 * detached with their logs in the cluster's folder, recording their pids, and stopping them.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

export async function stopComponent(dir: string, component: string): Promise<boolean> {
  const pid = readPid(dir, component);
  if (!pid) return false;
  const was = alive(pid);
  await stopProcess(pid);
  rmSync(pidFile(dir, component), { force: true });
  return was;
}
