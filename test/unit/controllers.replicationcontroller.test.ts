/**
 * The ReplicationController controller — the ReplicaSet controller behind an adapter — against
 * an in-process API server, the scheduler and a FakeRuntime kubelet: it keeps `replicas` pods
 * whose controller is the ReplicationController, reports the status on the ReplicationController,
 * and scales down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControllers, type ControllerManager } from '../../src/controllers/manager.js';
import { inNamespace, REPLICATIONCONTROLLERS, type ReplicationControllerObject } from '../../src/controllers/types.js';
import { REPLICATIONCONTROLLER_KIND } from '../../src/controllers/replicationcontroller.js';
import type { Kubelet } from '../../src/kubelet/kubelet.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { activePodsOf, NS, startKubelet, startTestCluster, type TestCluster } from './controllers.fixtures.js';

const rcRef = inNamespace(REPLICATIONCONTROLLERS, NS);
let c: TestCluster;
let manager: ControllerManager;
let scheduler: Scheduler;
let kubelet: Kubelet;

beforeAll(async () => {
  c = await startTestCluster();
  kubelet = await startKubelet(c, 'node-1', 1);
  scheduler = new Scheduler({ client: c.client, log: c.log, backoff: { initialMs: 100, maxMs: 500 } });
  await scheduler.start();
  manager = await startControllers({ client: c.client, log: c.log });
});

afterAll(async () => {
  await manager?.stop();
  await scheduler?.stop();
  await kubelet?.stop();
  await c?.close();
});

describe('ReplicationController', () => {
  it('reads as a ReplicaSet whose selector map becomes matchLabels', () => {
    const rs = REPLICATIONCONTROLLER_KIND.asReplicaSet({ metadata: { name: 'x' }, spec: { replicas: 2, selector: { app: 'x' } } } as ReplicationControllerObject);
    expect(rs.spec?.selector).toEqual({ matchLabels: { app: 'x' } });
    expect(REPLICATIONCONTROLLER_KIND.withStatus(rs, { replicas: 2 })).toMatchObject({ spec: { selector: { app: 'x' } }, status: { replicas: 2 } });
  });

  it('keeps its replicas running, with the status on the ReplicationController, and scales down', async () => {
    const created = await c.client.create<ReplicationControllerObject>(rcRef, {
      apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'nginx' },
      spec: { replicas: 3, template: { metadata: { labels: { app: 'nginx-rc' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1' }], terminationGracePeriodSeconds: 1 } } },
    });
    // Defaults: the selector and labels come from the template.
    expect(created.spec?.selector).toEqual({ app: 'nginx-rc' });
    expect(created.metadata?.labels).toEqual({ app: 'nginx-rc' });
    const uid = created.metadata?.uid;
    await c.until('3 pods of the RC', () => activePodsOf(c, uid).length === 3);
    expect(activePodsOf(c, uid)[0].metadata?.ownerReferences?.[0]).toMatchObject({ apiVersion: 'v1', kind: 'ReplicationController', name: 'nginx', controller: true });
    const status = await new Promise<ReplicationControllerObject['status']>((resolve) => {
      const h = c.client.watch<ReplicationControllerObject>(rcRef, { fieldSelector: 'metadata.name=nginx' }, (e) => {
        if (e.type !== 'ERROR' && e.object.status?.readyReplicas === 3) {
          h.stop();
          resolve(e.object.status);
        }
      });
    });
    expect(status).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3, fullyLabeledReplicas: 3, observedGeneration: 1 });
    const scale = await c.client.request<{ spec?: { replicas?: number }; status?: { selector?: string } }>('GET', '/api/v1/namespaces/default/replicationcontrollers/nginx/scale');
    expect(scale).toMatchObject({ spec: { replicas: 3 }, status: { replicas: 3, selector: 'app=nginx-rc' } });
    await c.client.request('PUT', '/api/v1/namespaces/default/replicationcontrollers/nginx/scale', { ...scale, spec: { replicas: 1 } });
    await c.until('1 pod of the RC', () => activePodsOf(c, uid).length === 1);
  }, 30_000);
});
