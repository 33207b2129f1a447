import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PODS } from '../../src/client/client.js';
import { Controller, type ControllerContext } from '../../src/controllers/base.js';
import { SharedInformers } from '../../src/controllers/informers.js';
import { ControllerRefManager } from '../../src/controllers/refmanager.js';
import { REPLICASETS, inNamespace, type PodObject, type ReplicaSetObject } from '../../src/controllers/types.js';
import { NS, replicaSetManifest, startTestCluster, type TestCluster } from './controllers.fixtures.js';

const pod = (name: string, labels: Record<string, string>): PodObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels }, spec: { containers: [{ name: 'c', image: 'nginx' }] },
});

/** The smallest controller: records the keys it syncs, fails the first sync of `fail`. */
class Recorder extends Controller {
  readonly synced: string[] = [];
  /** Called after every sync, with the keys synced so far. */
  onSynced: (synced: readonly string[]) => void = () => undefined;
  constructor(ctx: ControllerContext, private readonly fail = '') {
    super('recorder', ctx, { workers: 2, baseDelayMs: 5 });
    this.informer<PodObject>(PODS).addHandlers(this.enqueueHandlers());
  }
  protected async sync(key: string): Promise<void> {
    this.synced.push(key);
    this.onSynced(this.synced);
    if (key === this.fail && this.synced.filter((k) => k === key).length === 1) throw new Error('first try fails');
  }
}

describe('controller scaffold', () => {
  let c: TestCluster;
  beforeEach(async () => {
    c = await startTestCluster();
  });
  afterEach(async () => {
    await c.close();
  });

  it('replays cached objects to handlers added after the informers started', async () => {
    await c.client.create(inNamespace(PODS, NS), pod('early', { app: 'a' }));
    const informers = new SharedInformers(c.client);
    informers.get(PODS);
    await informers.start();
    const seen: string[] = [];
    informers.get<PodObject>(PODS).addHandlers({ onAdd: (p) => seen.push(p.metadata?.name ?? '') });
    expect(seen).toEqual(['early']);
    informers.stop();
  });

  it('syncs the key of every changed object and retries a failed sync with back-off', async () => {
    const logs: string[] = [];
    const ctl = new Recorder({ client: c.client, log: (m) => logs.push(m) }, `${NS}/b`);
    const done = new Promise<void>((resolve) => {
      ctl.onSynced = (keys) => {
        if (keys.includes(`${NS}/a`) && keys.filter((k) => k === `${NS}/b`).length >= 2) resolve();
      };
    });
    await ctl.start();
    await c.client.create(inNamespace(PODS, NS), pod('a', {}));
    await c.client.create(inNamespace(PODS, NS), pod('b', {}));
    await done;
    expect(logs.some((l) => l.startsWith(`recorder: sync ${NS}/b: first try fails (will retry)`))).toBe(true);
    await ctl.stop();
  });

  it('adopts matching orphans and releases owned objects that stopped matching', async () => {
    const rs = await c.client.create<ReplicaSetObject>(inNamespace(REPLICASETS, NS), { ...replicaSetManifest('web', 0) });
    const orphan = await c.client.create<PodObject>(inNamespace(PODS, NS), pod('orphan', { app: 'web' }));
    const owned = await c.client.create<PodObject>(inNamespace(PODS, NS), {
      ...pod('owned', { app: 'other' }),
      metadata: { ...pod('owned', {}).metadata, labels: { app: 'other' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata?.uid ?? '', controller: true }] },
    });
    const m = new ControllerRefManager(c.client, rs, { ref: inNamespace(REPLICASETS, NS), apiVersion: 'apps/v1', kind: 'ReplicaSet' }, inNamespace(PODS, NS));
    expect(await m.claim({ adopt: [orphan], release: [owned] })).toBe(true);
    const a = await c.client.get<PodObject>(inNamespace(PODS, NS), 'orphan');
    const r = await c.client.get<PodObject>(inNamespace(PODS, NS), 'owned');
    expect(a.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'ReplicaSet', name: 'web', uid: rs.metadata?.uid, controller: true })]);
    expect(r.metadata?.ownerReferences ?? []).toEqual([]);
  });

  it('adopts nothing and says so when the owner is gone', async () => {
    const rs = await c.client.create<ReplicaSetObject>(inNamespace(REPLICASETS, NS), { ...replicaSetManifest('gone', 0) });
    const orphan = await c.client.create<PodObject>(inNamespace(PODS, NS), pod('orphan2', { app: 'gone' }));
    await c.client.delete(inNamespace(REPLICASETS, NS), 'gone');
    const m = new ControllerRefManager(c.client, rs, { ref: inNamespace(REPLICASETS, NS), apiVersion: 'apps/v1', kind: 'ReplicaSet' }, inNamespace(PODS, NS));
    expect(await m.claim({ adopt: [orphan], release: [] })).toBe(false);
    expect((await c.client.get<PodObject>(inNamespace(PODS, NS), 'orphan2')).metadata?.ownerReferences ?? []).toEqual([]);
  });
});

describe('Informer.stop', () => {
  let c: TestCluster;
  beforeEach(async () => {
    c = await startTestCluster();
  });
  afterEach(async () => {
    await c.close();
  });

  it('opens no watch when stopped while its first list is in flight', async () => {
    const { Informer } = await import('../../src/client/informer.js');
    let watches = 0;
    const client = Object.create(c.client) as typeof c.client;
    client.watch = ((...args: Parameters<typeof c.client.watch>) => {
      watches++;
      return c.client.watch(...args);
    }) as typeof c.client.watch;
    const inf = new Informer<PodObject>(client, PODS);
    const started = inf.start();
    inf.stop();
    await started;
    await new Promise((r) => setTimeout(r, 50));
    expect(watches).toBe(0);
  });
});
