/**
 * The CronJob controller over a watch that lags: its cache sees the Job it created before the
 * status write that lists the Job as active, and must not warn that it "did not create or forgot"
 * its own Job (Kubernetes re-reads the CronJob before that warning). A Job made by hand
 * (`kubectl create job --from=cronjob/…`, owned by the CronJob but never listed) still gets it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS } from '../../src/client/client.js';
import { CronJobController } from '../../src/controllers/cronjob.js';
import { CRONJOBS, inNamespace, JOBS, type CronJobObject, type JobObject } from '../../src/controllers/types.js';
import type { KubeObject } from '../../src/api/types.js';
import { LaggingClient, NS, startTestCluster, TOKEN, type TestCluster } from './controllers.fixtures.js';

const cjRef = inNamespace(CRONJOBS, NS);
const jobRef = inNamespace(JOBS, NS);

let c: TestCluster;
let controller: CronJobController;
beforeAll(async () => {
  c = await startTestCluster();
  const client = new LaggingClient({ server: c.server.url, token: TOKEN }, 300);
  // A clock 61 s ahead: a `*/1` schedule time has passed since the CronJob was created.
  controller = new CronJobController({ client, log: c.log, clock: () => new Date(Date.now() + 61_000) });
  await controller.start();
});
afterAll(async () => {
  await controller?.stop();
  await c?.close();
});

type EventObject = KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } };

describe('the CronJob controller with a watch that lags 300 ms', () => {
  it('creates its Job and lists it as active without an UnexpectedJob warning; a hand-made Job gets one', async () => {
    await c.client.create<CronJobObject>(cjRef, {
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'lagged' },
      spec: { schedule: '*/1 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } },
    });
    const cronjobs = await c.follow<CronJobObject>(CRONJOBS);
    const events = await c.follow<EventObject>(EVENTS);
    const reasons = () => events.list().filter((e) => e.involvedObject?.name === 'lagged').map((e) => `${e.reason}: ${e.message}`);
    const active = await c.until('the created Job listed as active', () => cronjobs.get(`${NS}/lagged`)?.status?.active?.[0]?.name, 10_000);
    // Syncs after the Job's own watch events (which reach the controller before the status write's).
    for (let i = 0; i < 4; i++) {
      await c.client.patch(cjRef, 'lagged', { metadata: { annotations: { poke: String(i) } } });
      await new Promise((r) => setTimeout(r, 200));
    }
    const seen = reasons();
    expect(seen).toContain(`SuccessfulCreate: Created job ${active}`);
    expect(seen.filter((r) => r.startsWith('UnexpectedJob'))).toEqual([]);

    const cj = cronjobs.get(`${NS}/lagged`);
    await c.client.create<JobObject>(jobRef, {
      apiVersion: 'batch/v1', kind: 'Job',
      metadata: { name: 'by-hand', annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'lagged', uid: cj?.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }] },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    await c.until('UnexpectedJob for the hand-made Job', () => reasons().includes('UnexpectedJob: Saw a job that the controller did not create or forgot: by-hand'), 10_000);
  }, 30_000);
});
