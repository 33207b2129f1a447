/**
 * Issue 12 finding 8 on a real cluster: the control plane dies and its store file is damaged;
 * `up` must say so at once (with the path and what to do) instead of waiting for an API server
 * that cannot start, and `status` must say the same.
 */
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, readPid } from '../../src/cli/processes.js';
import { TestCluster, dockerAvailable } from './helpers.js';

const hasDocker = await dockerAvailable();

describe.skipIf(!hasDocker)('a damaged store on a real cluster (skipped when no Docker engine answers `docker info`)', () => {
  const cluster = new TestCluster(`e2e-tra-store-${process.pid}`, '10.226.0.0/16');
  const dir = () => join(cluster.home, 'clusters', cluster.name);

  beforeAll(async () => {
    const r = await cluster.cli(['up', '--nodes', '1', '--pod-cidr', cluster.podCIDR]);
    expect(r.code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await cluster.destroy();
    expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('up and status report the damage with the path and the commands, within seconds', async () => {
    const pid = readPid(dir(), 'controlplane');
    expect(pid).toBeDefined();
    process.kill(pid as number, 'SIGKILL'); // the control plane this test started
    await new Promise<void>((resolve) => {
      const check = () => (alive(pid as number) ? setTimeout(check, 20) : resolve());
      check();
    });
    const db = join(dir(), 'state.db');
    // The first 4 KiB of the database and of its WAL (header and first frame) overwritten, as a
    // failing disk or a stray write would leave them.
    for (const f of [db, `${db}-wal`].filter((x) => existsSync(x))) {
      const fd = openSync(f, 'r+');
      writeSync(fd, Buffer.alloc(4096, 0x42), 0, 4096, 0);
      closeSync(fd);
    }

    const started = Date.now();
    const up = await cluster.cli(['up', '--wait', '60']);
    const ms = Date.now() - started;
    console.log(`up with a damaged store answered in ${ms} ms: ${up.stderr.split('\n')[0]}`);
    expect(up.code).not.toBe(0);
    expect(up.stderr).toContain(`the store at ${db} is damaged`);
    expect(up.stderr).toContain(`cp ${db} ${db}.damaged`);
    expect(up.stderr).toContain('.recover');
    expect(ms).toBeLessThan(10_000);

    const status = await cluster.cli(['status']);
    expect(status.code).not.toBe(0);
    expect(status.stdout).toContain(`the store at ${db} is damaged`);
  }, 120_000);
});
