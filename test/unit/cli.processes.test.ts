/**
 * The process helpers every component and `up`/`stop`/`down` rely on: the component lock (an
 * abstract unix socket), finding a cluster's processes by command line, and the token file.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ComponentLockedError, findClusterProcesses, holdComponentLock, lockHolder, readTokenFile, stopProcess, writeTokenFile } from '../../src/cli/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'mkl-proc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cluster = `unit-${process.pid}`;

describe('the component lock', () => {
  it('lets one holder in, refuses the next with the holder\'s pid, and frees on release', async () => {
    expect(await lockHolder(cluster, 'kubelet-node-1')).toBeUndefined();
    const lock = await holdComponentLock(cluster, 'kubelet-node-1');
    expect(await lockHolder(cluster, 'kubelet-node-1')).toEqual({ pid: process.pid });
    const second = await holdComponentLock(cluster, 'kubelet-node-1').catch((e: unknown) => e);
    expect(second).toBeInstanceOf(ComponentLockedError);
    expect((second as Error).message).toBe(`kubelet-node-1 of cluster "${cluster}" is already running (pid ${process.pid}): refusing to start a second one. ` +
      'Stop it first ("minikube-lite stop" or "down"), or let "up" adopt it.');
    // Another component or cluster is another lock.
    const other = await holdComponentLock(cluster, 'kubelet-node-2');
    await other.release();
    await lock.release();
    expect(await lockHolder(cluster, 'kubelet-node-1')).toBeUndefined();
  });

  const built = new URL('../../dist/cli/processes.js', import.meta.url).pathname;
  it.skipIf(!existsSync(built))('is freed by the kernel when its holder is killed with SIGKILL (needs the build: npx tsc)', async () => {
    const script = join(dir, 'holder.mjs');
    writeFileSync(script, `import { holdComponentLock } from ${JSON.stringify(built)};
await holdComponentLock(${JSON.stringify(cluster)}, 'controlplane'); process.stdout.write('held\\n'); setInterval(() => {}, 1000);`);
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    expect(await lockHolder(cluster, 'controlplane')).toEqual({ pid: child.pid });
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    expect(await lockHolder(cluster, 'controlplane')).toBeUndefined();
  });
});

describe('findClusterProcesses', () => {
  it('finds `main.js … --name <cluster>` processes by command line, and only those', async () => {
    const main = join(dir, 'main.js');
    writeFileSync(main, 'setInterval(() => {}, 1000);');
    const mine = spawn(process.execPath, [main, '--name', cluster, '--home', dir, 'kubelet', '--node', 'node-1'], { stdio: 'ignore' });
    const other = spawn(process.execPath, [main, '--name', `${cluster}-other`, '--home', dir, 'kubelet'], { stdio: 'ignore' });
    const elsewhere = spawn(process.execPath, [main, '--name', cluster, '--home', '/elsewhere', 'controlplane'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 100)); // let the children exec (no event says "argv is in /proc")
      const found = findClusterProcesses(cluster, dir);
      expect(found.map((p) => [p.pid, p.command])).toEqual([[mine.pid, 'kubelet']]);
      expect(findClusterProcesses(cluster).map((p) => p.command).sort()).toEqual(['controlplane', 'kubelet']);
    } finally {
      await Promise.all([mine, other, elsewhere].map((c) => stopProcess(c.pid ?? 0, 1000)));
    }
  });
});

describe('the token file', () => {
  it('is written 0600 and read back; a file others can read is refused', () => {
    const path = writeTokenFile(dir, 'secret-token');
    expect(readTokenFile(path)).toBe('secret-token');
    chmodSync(path, 0o644);
    expect(() => readTokenFile(path)).toThrow(`token file ${path} is readable by others (mode 644): chmod 600 it`);
    writeTokenFile(dir, 'again');
    expect(readTokenFile(path)).toBe('again');
  });
});
