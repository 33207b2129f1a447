/**
 * Expectations against a watch that lags: the ReplicaSet controller's client delivers every
 * watch event 500 ms late, while the test provokes syncs (annotation changes) all the time, and
 * a separate, prompt informer checks that the number of active pods never overshoots (on scale
 * up) or undershoots (on scale down) the target. A control run without expectations shows that
 * the same lag does make a controller create too many pods.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplicaSetController } from '../../src/controllers/replicaset.js';
import { inNamespace, REPLICASETS, type ReplicaSetObject } from '../../src/controllers/types.js';
import { activePodsOf, LaggingClient, NS, replicaSetManifest, startTestCluster, TOKEN, type TestCluster } from './controllers.fixtures.js';

const LAG_MS = 500;
const rsRef = inNamespace(REPLICASETS, NS);

let c: TestCluster;
beforeAll(async () => {
  c = await startTestCluster();
});
afterAll(async () => {
  await c?.close();
});

/** Runs a ReplicaSet controller on a lagging client for the duration of `fn`. */
async function withController(expectationsTtlMs: number | undefined, fn: () => Promise<void>): Promise<void> {
  const client = new LaggingClient({ server: c.server.url, token: TOKEN }, LAG_MS);
  const controller = new ReplicaSetController({ client, log: c.log, expectationsTtlMs });
  await controller.start();
  try {
    await fn();
  } finally {
    await controller.stop();
  }
}

/** Keeps changing an annotation of the ReplicaSet (each change makes the controller sync) for `ms`. */
async function provoke(name: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (let i = 0; Date.now() < end; i++) {
    await c.client.patch(rsRef, name, { metadata: { annotations: { poke: String(i) } } });
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Tracks the lowest and highest number of active pods of a ReplicaSet seen by a prompt informer. */
function track(uid: string | undefined): { min: number; max: number; stop(): void } {
  const seen = { min: Infinity, max: 0, stop: () => { active = false; } };
  let active = true;
  const check = () => {
    if (!active) return;
    const n = activePodsOf(c, uid).length;
    seen.min = Math.min(seen.min, n);
    seen.max = Math.max(seen.max, n);
  };
  c.pods.addHandlers({ onAdd: check, onUpdate: check, onDelete: check });
  check();
  return seen;
}

describe('the ReplicaSet controller with a watch that lags 500 ms', () => {
  it('never creates more pods than replicas, nor deletes below replicas, while syncing over and over', async () => {
    await withController(undefined, async () => {
      const rs = await c.client.create<ReplicaSetObject>(rsRef, replicaSetManifest('lagged', 5));
      const uid = rs.metadata?.uid;
      const up = track(uid);
      await provoke('lagged', 2000);
      await c.until('5 pods', () => activePodsOf(c, uid).length === 5);
      await provoke('lagged', 1000);
      up.stop();
      expect(up.max).toBe(5);
      expect(activePodsOf(c, uid)).toHaveLength(5);

      const down = track(uid);
      await c.client.patch(rsRef, 'lagged', { spec: { replicas: 2 } });
      await c.until('2 pods', () => activePodsOf(c, uid).length === 2);
      await provoke('lagged', 2000);
      down.stop();
      expect([down.min, down.max]).toEqual([2, 5]);
      expect(activePodsOf(c, uid)).toHaveLength(2);
      const status = await c.until('status replicas 2', () => {
        const s = c.sets.get(`${NS}/lagged`)?.status;
        return s?.replicas === 2 && s.observedGeneration === 2 ? s : undefined;
      });
      expect(status).toMatchObject({ replicas: 2, fullyLabeledReplicas: 2 });
    });
  }, 30_000);

  it('(control) does create too many pods under the same lag when expectations always count as met', async () => {
    await withController(-1, async () => {
      const rs = await c.client.create<ReplicaSetObject>(rsRef, replicaSetManifest('unguarded', 5));
      const seen = track(rs.metadata?.uid);
      await provoke('unguarded', 2000);
      seen.stop();
      expect(seen.max).toBeGreaterThan(5);
    });
  }, 30_000);
});
