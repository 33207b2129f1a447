/**
 * The StatefulSet controller's claims with the garbage collector, against a real API server
 * (in-memory store, real HTTP) and no kubelet (pods stay unbound, so deletions are immediate):
 * claims made before pods, whenScaled=Delete handing scaled-away claims to their pods so the
 * collector deletes them, new claims on scale-up, and whenDeleted=Delete removing the rest with
 * the set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { RESOURCES } from '../../src/api/registry.js';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { ApiClient, PODS, PVCS } from '../../src/client/client.js';
import { GarbageCollector } from '../../src/controllers/garbagecollector.js';
import { StatefulSetController } from '../../src/controllers/statefulset.js';
import { inNamespace, STATEFULSETS } from '../../src/controllers/types.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const claims = inNamespace(PVCS, 'default');
const pods = inNamespace(PODS, 'default');
const sets = inNamespace(STATEFULSETS, 'default');

describe('StatefulSet claims and the garbage collector on a real API server', () => {
  let server: ApiServer;
  let client: ApiClient;
  let sts: StatefulSetController;
  let gc: GarbageCollector;

  beforeAll(async () => {
    server = await startApiServer({ store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: 't' });
    client = new ApiClient({ server: server.url, token: 't' });
    sts = new StatefulSetController({ client, log: () => undefined });
    gc = new GarbageCollector({ client, log: () => undefined });
    await Promise.all([sts.start(), gc.start()]);
  });
  afterAll(async () => {
    await sts?.stop();
    await gc?.stop();
    await server?.close();
  });

  /** The names of the objects of `ref` (sorted) once `want` holds, by watch from a fresh list each change. */
  const namesWhen = (ref: typeof claims, want: string[]) => new Promise<void>((resolve, reject) => {
    const check = async () => {
      const names = (await client.list(ref)).items.filter((o) => !o.metadata?.deletionTimestamp).map((o) => o.metadata?.name ?? '').sort();
      if (JSON.stringify(names) === JSON.stringify(want)) { settled = true; clearTimeout(timer); h.stop(); resolve(); }
      return names;
    };
    let last: string[] = [];
    let settled = false;
    const timer = setTimeout(() => { settled = true; h.stop(); reject(new Error(`timed out waiting for ${ref.resource} ${want.join(',')}; have ${last.join(',')}`)); }, 10_000);
    // A list that fails once this wait is over (the server closed after the test) is no error.
    const recheck = () => void check().then((n) => { last = n; }, (e: unknown) => { if (!settled) reject(e as Error); });
    const h = client.watch(ref, {}, recheck);
    recheck();
  });

  it('makes a claim per pod, deletes scaled-away claims with whenScaled=Delete, and the rest with the set with whenDeleted=Delete', async () => {
    await client.create(sets, {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' },
      spec: {
        replicas: 3, serviceName: 'db', podManagementPolicy: 'Parallel',
        persistentVolumeClaimRetentionPolicy: { whenScaled: 'Delete', whenDeleted: 'Retain' },
        selector: { matchLabels: { app: 'db' } },
        template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: 'nginx', volumeMounts: [{ name: 'data', mountPath: '/d' }] }] } },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    } as KubeObject);
    await namesWhen(claims, ['data-db-0', 'data-db-1', 'data-db-2']);
    await namesWhen(pods, ['db-0', 'db-1', 'db-2']);
    const c0 = await client.get<PersistentVolumeClaim & KubeObject>(claims, 'data-db-0');
    expect(c0.metadata?.labels).toEqual({ app: 'db' });
    expect(c0.metadata?.ownerReferences ?? []).toEqual([]);

    await client.patch(sets, 'db', { spec: { replicas: 1 } });
    await namesWhen(pods, ['db-0']);
    await namesWhen(claims, ['data-db-0']);

    await client.patch(sets, 'db', { spec: { replicas: 3 } });
    await namesWhen(pods, ['db-0', 'db-1', 'db-2']);
    await namesWhen(claims, ['data-db-0', 'data-db-1', 'data-db-2']);

    await client.patch(sets, 'db', { spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' } } });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { h.stop(); reject(new Error('the claims never got the set as owner')); }, 10_000);
      const owned = new Set<string>();
      const h = client.watch<PersistentVolumeClaim & KubeObject>(claims, {}, (e) => {
        if (e.type !== 'ERROR' && (e.object.metadata?.ownerReferences ?? []).some((r) => r.kind === 'StatefulSet' && r.controller)) owned.add(e.object.metadata?.name ?? '');
        if (owned.size === 3) { clearTimeout(timer); h.stop(); resolve(); }
      });
    });
    await client.delete(sets, 'db');
    await namesWhen(pods, []);
    await namesWhen(claims, []);
  }, 60_000);
});
