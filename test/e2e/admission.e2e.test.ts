/**
 * PodDisruptionBudget on a real Docker engine, through the real CLI and stock kubectl: the
 * disruption controller counts a real Deployment's Ready pods. (LimitRange and ResourceQuota are
 * covered by the workloads e2e, whose implementation main keeps.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { KubeObject } from '../../src/api/types.js';
import { ROOT, TestCluster, dockerAvailable, sh } from './helpers.js';

const hasDocker = await dockerAvailable();
const hasKubectl = (await sh('kubectl', ['version', '--client']).catch(() => ({ code: 1 }))).code === 0;
const ex = (f: string) => join(ROOT, 'examples', f);

describe.skipIf(!hasDocker)('PodDisruptionBudget on a real Docker engine (skipped without Docker)', () => {
  const cluster = new TestCluster(`e2e-adm-${process.pid}`, '10.252.0.0/16');

  beforeAll(async () => {
    const r = await cluster.cli(['up', '--nodes', '1', '--pod-cidr', cluster.podCIDR, '--service-cidr', '10.152.0.0/16']);
    expect(r.code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await cluster.destroy();
    const left = await cluster.leftovers();
    expect(left).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('a PodDisruptionBudget over a real Deployment counts its Ready pods', async () => {
    expect((await cluster.cli(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: pdb\n' })).code).toBe(0);
    const applied = await cluster.cli(['apply', '-n', 'pdb', '-f', ex('pdb.yaml')]);
    expect(applied.code, applied.stderr).toBe(0);
    const budget = await new Promise<PodDisruptionBudget>((resolve, reject) => {
      const timer = setTimeout(() => { h.stop(); reject(new Error('timed out waiting for web-pdb')); }, 90_000);
      const h = cluster.client().watch<PodDisruptionBudget & KubeObject>({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', namespace: 'pdb' },
        { fieldSelector: 'metadata.name=web-pdb' }, (e) => {
          if (e.type !== 'ERROR' && e.type !== 'DELETED' && e.object.status?.currentHealthy === 2) { clearTimeout(timer); h.stop(); resolve(e.object); }
        });
    });
    expect(budget.status).toMatchObject({ currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, disruptionsAllowed: 1 });
    const table = await cluster.cli(['get', 'pdb', '-n', 'pdb']);
    expect(table.stdout).toMatch(/^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\nweb-pdb\s+1\s+N\/A\s+1\s+\S+\n/);
  }, 120_000);

  it.skipIf(!hasKubectl)('stock kubectl prints the PodDisruptionBudget with its columns', async () => {
    const kubectl = (args: string[]) => sh('kubectl', ['--kubeconfig', join(cluster.home, 'clusters', cluster.name, 'kubeconfig'), ...args]);
    expect((await kubectl(['get', 'pdb', '-n', 'pdb'])).stdout).toMatch(/^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\nweb-pdb\s+1\s+N\/A\s+1\s+/);
  }, 60_000);
});
