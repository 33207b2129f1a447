/**
 * The hostile-input chaos suite against a real cluster (issue 12): the same generated requests
 * as test/unit/apiserver.hostile.test.ts, sent to a running control plane with a kubelet on the
 * real Docker engine. Every request must get a 4xx Status; afterwards the API server is ready,
 * the objects of the target namespace are the ones seeded (same uids, same specs), and the set
 * of the cluster's containers is exactly what it was: no hostile request created a container.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readClusterConfig } from '../../src/cli/context.js';
import { BILLION_LAUGHS, hostileCases, SEED, SEED_NAMESPACE, validDeployment, validPod } from '../unit/hostile.cases.js';
import { problem, sendCase, summarize, type HostileResult } from '../unit/hostile.runner.js';
import { ROOT, TestCluster, dockerAvailable, isRunning, sh } from './helpers.js';

const hasDocker = await dockerAvailable();

describe.skipIf(!hasDocker)('hostile input against a real cluster (skipped when no Docker engine answers `docker info`)', () => {
  const cluster = new TestCluster(`e2e-tra-${process.pid}`, '10.225.0.0/16');
  let server = '';
  let token = '';

  // The cluster's own ingress controller (namespace ingress-nginx) may still be starting: not counted.
  const containers = async () => (await sh('docker', ['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Label "io.kubernetes.pod.namespace"}}', '--filter', `label=minikube-lite.cluster=${cluster.name}`]))
    .stdout.split('\n').filter((l) => l && !l.endsWith(' ingress-nginx')).map((l) => l.split(' ')[0]).sort();
  const snapshot = async () => {
    const client = cluster.client();
    const out: string[] = [];
    for (const ref of [{ group: '', version: 'v1', resource: 'pods' }, { group: 'apps', version: 'v1', resource: 'deployments' }, { group: 'apps', version: 'v1', resource: 'replicasets' }]) {
      const list = await client.list<{ metadata?: { name?: string; namespace?: string; uid?: string }; spec?: unknown }>(ref);
      for (const o of list.items.filter((i) => i.metadata?.namespace !== 'ingress-nginx')) out.push(`${ref.resource} ${o.metadata?.namespace}/${o.metadata?.name} ${o.metadata?.uid} ${JSON.stringify(o.spec)}`);
    }
    return out.sort();
  };

  beforeAll(async () => {
    const r = await cluster.cli(['up', '--nodes', '1', '--pod-cidr', cluster.podCIDR]);
    expect(r.code).toBe(0);
    const cfg = readClusterConfig(cluster.home, cluster.name);
    server = cfg?.server ?? '';
    token = cfg?.token ?? '';
    const client = cluster.client();
    await client.create({ group: '', version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SEED_NAMESPACE } });
    const pod = validPod(SEED.pod);
    delete (pod.spec as Record<string, unknown>).nodeSelector;
    await client.create({ group: '', version: 'v1', resource: 'pods', namespace: SEED_NAMESPACE }, pod);
    const d = validDeployment(SEED.deployment);
    (d.spec as Record<string, unknown>).replicas = 1;
    await client.create({ group: 'apps', version: 'v1', resource: 'deployments', namespace: SEED_NAMESPACE }, d);
    await cluster.waitForPod(SEED.pod, isRunning, 90_000, SEED_NAMESPACE);
  }, 180_000);

  afterAll(async () => {
    await cluster.destroy();
    const left = await cluster.leftovers();
    expect(left).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('refuses a YAML alias bomb in apply -f promptly, as kubectl does', async () => {
    const file = join(cluster.home, 'bomb.yaml');
    writeFileSync(file, BILLION_LAUGHS);
    const started = Date.now();
    const r = await cluster.cli(['apply', '-f', file]);
    const ms = Date.now() - started;
    console.log(`apply -f billion-laughs.yaml refused in ${ms} ms (including node start-up)`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('yaml: document contains excessive aliasing');
    expect(ms).toBeLessThan(5000);
  });

  it('refuses an unknown field in apply (strict, as kubectl), drops it with a printed warning with --validate=warn', async () => {
    const strict = await cluster.cli(['apply', '-f', join(ROOT, 'examples', 'typo-pod.yaml')]);
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toContain('strict decoding error: unknown field "spec.containers[0].imagePullPolice"');
    const r = await cluster.cli(['apply', '--validate=warn', '-f', join(ROOT, 'examples', 'typo-pod.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Warning: unknown field "spec.containers[0].imagePullPolice"');
    await cluster.cli(['delete', 'pod', 'typo']);
    const kubeconfig = join(cluster.home, 'clusters', cluster.name, 'kubeconfig');
    const k = await sh('kubectl', ['--kubeconfig', kubeconfig, 'create', '-f', join(ROOT, 'examples', 'typo-pod.yaml')]);
    expect(k.code).not.toBe(0);
    expect(k.stderr).toContain('strict decoding error: unknown field "spec.containers[0].imagePullPolice"');
  });

  it('answers every generated hostile request with a 4xx Status, creates no container and changes no object', async () => {
    // Let the Deployment's pod start too, so the container set is settled before the "before".
    const client = cluster.client();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('deployment pod not running')), 90_000);
      const check = async () => {
        const pods = await client.list<Parameters<typeof isRunning>[0]>({ group: '', version: 'v1', resource: 'pods', namespace: SEED_NAMESPACE });
        if (pods.items.length === 2 && pods.items.every(isRunning)) {
          clearTimeout(timer);
          resolve();
        } else setTimeout(() => void check(), 500);
      };
      void check();
    });
    const beforeContainers = await containers();
    const beforeObjects = await snapshot();
    const cases = hostileCases();
    const results: HostileResult[] = [];
    const started = Date.now();
    for (let i = 0; i < cases.length; i += 4) results.push(...(await Promise.all(cases.slice(i, i + 4).map((c) => sendCase(server, token, c)))));
    const elapsed = Date.now() - started;
    const ready = await fetch(`${server}/readyz`);
    // Anything a hostile request had created would be picked up within a few seconds.
    await new Promise((r) => setTimeout(r, 3000));
    const afterContainers = await containers();
    const afterObjects = await snapshot();
    console.log([`hostile suite (real cluster ${cluster.name}): ${cases.length} requests in ${(elapsed / 1000).toFixed(1)} s`, ...summarize(results),
      `readyz after: ${ready.status}; containers before/after: ${beforeContainers.length}/${afterContainers.length}; objects unchanged: ${JSON.stringify(beforeObjects) === JSON.stringify(afterObjects)}`].join('\n'));
    const bad = results.map((r) => [r.c.family, r.c.name.slice(0, 120), problem(r)]).filter((x) => x[2]);
    expect(bad).toEqual([]);
    expect(ready.status).toBe(200);
    expect(afterContainers).toEqual(beforeContainers);
    expect(afterObjects).toEqual(beforeObjects);
  }, 300_000);
});
