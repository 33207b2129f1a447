/**
 * The statefulset and drain e2e files share one pod CIDR (10.245.0.0/16, this branch's only
 * range) and therefore cannot run their clusters at the same time: each holds this lock (an
 * atomically created directory with the holder's pid; a dead holder's lock is taken over)
 * from beforeAll to afterAll.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';
import type { TestCluster } from './helpers.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LOCK = join(tmpdir(), 'mkl-e2e-ste-10.245.lock');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Waits until this process holds the 10.245.0.0/16 lock; resolves to its release. */
export async function holdPodCIDR(timeoutMs = 600_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      return () => rmSync(LOCK, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = 0;
      try { holder = Number(readFileSync(join(LOCK, 'pid'), 'utf8')); } catch { /* being written or removed: look again */ }
      if (holder && !alive(holder)) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`the pod CIDR 10.245.0.0/16 is still held by pid ${holder} (${LOCK})`);
      // No event tells another process's release: look again in a second.
      else await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/**
 * Registers this file's cluster life cycle: beforeAll takes the pod CIDR lock and runs
 * `up --nodes N` (then `setup`), afterAll runs `down`, checks nothing is left and releases the lock.
 */
export function serialCluster(cluster: TestCluster, nodes: number, setup: () => Promise<void> = async () => undefined): void {
  let release = (): void => undefined;
  beforeAll(async () => {
    release = await holdPodCIDR();
    const r = await cluster.cli(['up', '--nodes', String(nodes), '--pod-cidr', cluster.podCIDR]);
    expect(r.code, r.stderr).toBe(0);
    await setup();
  }, 720_000);
  afterAll(async () => {
    try {
      await cluster.destroy();
      expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
    } finally {
      release();
    }
  }, 120_000);
}
