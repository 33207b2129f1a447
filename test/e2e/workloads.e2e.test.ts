/**
 * The workload controllers and native sidecars on a real Docker engine: Jobs, CronJobs,
 * DaemonSets, StatefulSets and a pod with a native sidecar, in a 3-node cluster of this file's
 * own (prefix `e2e-wl`, pod CIDR 10.227.0.0/16).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/types.js';
import { PODS } from '../../src/client/client.js';
import { TestCluster, dockerAvailable } from './helpers.js';

const hasDocker = await dockerAvailable();
const pods = { ...PODS, namespace: 'default' };

describe.skipIf(!hasDocker)('workloads on a real Docker engine (skipped when no Docker engine answers `docker info`)', () => {
  const cluster = new TestCluster(`e2e-wl-${process.pid}`, '10.227.0.0/16');

  beforeAll(async () => {
    const r = await cluster.cli(['up', '--nodes', '3', '--pod-cidr', cluster.podCIDR, '--kubelet-backoff-base', '1s']);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await cluster.destroy();
    expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('starts a native sidecar before the app, counts it in READY, and completes a Never pod when the app is done', async () => {
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'with-sidecar' },
      spec: {
        restartPolicy: 'Never',
        volumes: [{ name: 'shared', emptyDir: {} }],
        initContainers: [{
          name: 'log', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', restartPolicy: 'Always',
          command: ['sh', '-c', 'echo sidecar started > /shared/log; trap "exit 0" TERM; tail -f /shared/log & wait'],
          volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
        }],
        containers: [{
          name: 'app', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', 'echo app started >> /shared/log; sleep 4'],
          volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
        }],
      },
    };
    await cluster.client().create(pods, pod);
    await cluster.waitForPod('with-sidecar', (p) => p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).every((c) => c.ready)
      && (p.status.initContainerStatuses ?? []).every((c) => c.ready));
    const get = await cluster.cli(['get', 'pod', 'with-sidecar']);
    expect(get.stdout).toMatch(/^with-sidecar\s+2\/2\s+Running\s+0/m);
    const done = await cluster.waitForPod('with-sidecar', (p) => p.status?.phase === 'Succeeded', 60_000);
    expect(done.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(0);
    expect(done.status?.initContainerStatuses?.[0]?.state?.terminated).toBeDefined();
    const logs = await cluster.cli(['logs', 'with-sidecar', '-c', 'log']);
    expect(logs.stdout).toBe('sidecar started\napp started\n');
  }, 90_000);
});
