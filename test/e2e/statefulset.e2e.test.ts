/**
 * StatefulSet volumeClaimTemplates on a real Docker engine, through the real CLI and the
 * example manifest: one claim per pod (host-path volumes from the default StorageClass), pods
 * 0, 1, 2 started in order, each writing its hostname into its own volume and reachable by its
 * stable DNS name through the headless Service; scale-down keeps the claims, so web-2 comes back
 * with its old data; the retention policy (whenScaled / whenDeleted = Delete) deletes them.
 * Cluster prefix `e2e-ste`, pod CIDR 10.245.0.0/16.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { KubeObject, Pod } from '../../src/api/types.js';
import { PODS, type ResourceRef } from '../../src/client/client.js';
import { ROOT, TestCluster, dockerAvailable, useCluster, waitForObject as waitFor } from './helpers.js';

const hasDocker = await dockerAvailable();
const pods = { ...PODS, namespace: 'default' };
const statefulsets: ResourceRef = { group: 'apps', version: 'v1', resource: 'statefulsets', namespace: 'default' };
const claims: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims', namespace: 'default' };
type Claim = PersistentVolumeClaim & KubeObject;
type SS = KubeObject & { status?: { readyReplicas?: number; replicas?: number } };

describe.skipIf(!hasDocker)('StatefulSet volumeClaimTemplates on a real Docker engine (skipped when no Docker engine answers `docker info`)', () => {
  const cluster = new TestCluster(`e2e-ste-sts-${process.pid}`, '10.245.0.0/16');
  let firstLineOfWeb2 = '';
  useCluster(cluster);

  it('starts web-0, web-1, web-2 in order, each with its own claim, its hostname in its volume, and its stable DNS name', async () => {
    const client = cluster.client();
    const events: string[] = [];
    const seenReady = new Set<string>();
    const watch = client.watch<Pod & KubeObject>(pods, { labelSelector: 'app=web' }, (e) => {
      if (e.type === 'ERROR' || e.type === 'BOOKMARK') return;
      const name = e.object.metadata?.name ?? '';
      if (e.type === 'ADDED') events.push(`created ${name}`);
      const ready = (e.object.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
      if (e.type !== 'DELETED' && ready && !seenReady.has(name)) {
        seenReady.add(name);
        events.push(`ready ${name}`);
      }
    });
    const apply = await cluster.cli(['apply', '-f', join(ROOT, 'examples/statefulset-pvc.yaml')]);
    expect(apply.stdout).toBe('service/web created\nstatefulset.apps/web created\n');
    await waitFor<SS>(client, statefulsets, 'web', (s) => s?.status?.readyReplicas === 3, 120_000);
    watch.stop();
    expect(events).toEqual(['created web-0', 'ready web-0', 'created web-1', 'ready web-1', 'created web-2', 'ready web-2']);

    const list = (await client.list<Claim>(claims, { labelSelector: 'app=web' })).items;
    expect(list.map((c) => c.metadata?.name).sort()).toEqual(['www-web-0', 'www-web-1', 'www-web-2']);
    for (const c of list) {
      expect(c.status?.phase).toBe('Bound');
      expect(c.metadata?.ownerReferences ?? []).toEqual([]);
      expect(c.spec).toMatchObject({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' });
    }
    const web1 = await client.get<Pod & KubeObject>(pods, 'web-1');
    expect(web1.spec?.volumes?.[0]).toEqual({ name: 'www', persistentVolumeClaim: { claimName: 'www-web-1' } });
    const pvcTable = await cluster.cli(['get', 'pvc']);
    for (let i = 0; i < 3; i++) expect(pvcTable.stdout).toMatch(new RegExp(`^www-web-${i}\\s+Bound\\s+pvc-[0-9a-f-]+\\s+1Gi\\s+RWO\\s+standard\\s`, 'm'));
    const describe = await cluster.cli(['describe', 'sts', 'web']);
    expect(describe.stdout).toMatch(/Volume Claims:\n {2}Name:\s+www\n {2}StorageClass:\s*\n {2}Labels:\s+<none>\n {2}Annotations:\s+<none>\n {2}Capacity:\s+1Gi\n {2}Access Modes:\s+\[ReadWriteOnce\]\n/);
    expect(describe.stdout).toMatch(/Normal\s+SuccessfulCreate\s+\S+\s+statefulset-controller\s+create Claim www-web-2 Pod web-2 in StatefulSet web success/);

    const ips = await Promise.all([0, 1, 2].map(async (i) => (await client.get<Pod & KubeObject>(pods, `web-${i}`)).status?.podIP ?? ''));
    const script = 'for i in 0 1 2; do nslookup web-$i.web.default.svc.cluster.local; wget -qO- http://web-$i.web.default.svc.cluster.local/; done';
    const r = await cluster.cli(['debug', '--', 'sh', '-c', script], { timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    for (let i = 0; i < 3; i++) {
      expect(r.stdout).toContain(`Name:\tweb-${i}.web.default.svc.cluster.local\nAddress: ${ips[i]}`);
      expect(r.stdout).toMatch(new RegExp(`^web-${i} started \\d+-\\d+$`, 'm'));
    }
    const page = await cluster.cli(['exec', 'web-2', '--', 'cat', '/usr/share/nginx/html/index.html']);
    expect(page.stdout).toMatch(/^web-2 started \d+-\d+\n$/);
    firstLineOfWeb2 = page.stdout.trim();
  }, 240_000);

  it('scales down web-2 then web-1, keeps their claims, and gives web-2 its old data back when scaled up', async () => {
    const client = cluster.client();
    const deleted: string[] = [];
    let onDelete = (): void => undefined;
    const watch = client.watch<Pod & KubeObject>(pods, { labelSelector: 'app=web' }, (e) => {
      if (e.type === 'DELETED') {
        deleted.push(e.object.metadata?.name ?? '');
        onDelete();
      }
    });
    expect((await cluster.cli(['scale', 'sts', 'web', '--replicas=1'])).stdout).toBe('statefulset.apps/web scaled\n');
    await new Promise<void>((resolve) => {
      onDelete = () => { if (deleted.length >= 2) resolve(); };
      onDelete();
    });
    watch.stop();
    expect(deleted).toEqual(['web-2', 'web-1']);
    const kept = (await client.list<Claim>(claims, { labelSelector: 'app=web' })).items;
    expect(kept.map((c) => `${c.metadata?.name} ${c.status?.phase} ${c.metadata?.deletionTimestamp ?? ''}`).sort())
      .toEqual(['www-web-0 Bound ', 'www-web-1 Bound ', 'www-web-2 Bound ']);

    expect((await cluster.cli(['scale', 'sts', 'web', '--replicas=3'])).code).toBe(0);
    await waitFor<SS>(client, statefulsets, 'web', (s) => s?.status?.readyReplicas === 3, 120_000);
    const page = await cluster.cli(['exec', 'web-2', '--', 'cat', '/usr/share/nginx/html/index.html']);
    const lines = page.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(firstLineOfWeb2);
    expect(lines[1]).toMatch(/^web-2 started \d+-\d+$/);
    const r = await cluster.cli(['debug', '--', 'wget', '-qO-', 'http://web-2.web.default.svc.cluster.local/'], { timeoutMs: 90_000 });
    expect(r.stdout).toContain(firstLineOfWeb2);
  }, 240_000);

  it('deletes a scaled-away pod\'s claim with whenScaled=Delete, and the rest with the set under whenDeleted=Delete', async () => {
    const client = cluster.client();
    await client.patch(statefulsets, 'web', { spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } } });
    const setOwned = (c: Claim | undefined) => (c?.metadata?.ownerReferences ?? []).some((o) => o.kind === 'StatefulSet' && o.name === 'web' && o.controller === true);
    await Promise.all(['www-web-0', 'www-web-1', 'www-web-2'].map((n) => waitFor<Claim>(client, claims, n, setOwned)));

    const gone2 = waitFor<Claim>(client, claims, 'www-web-2', (c) => c === undefined, 120_000);
    expect((await cluster.cli(['scale', 'sts', 'web', '--replicas=2'])).code).toBe(0);
    await gone2;
    const left = (await client.list<Claim>(claims, { labelSelector: 'app=web' })).items.map((c) => c.metadata?.name).sort();
    expect(left).toEqual(['www-web-0', 'www-web-1']);

    const gone = Promise.all(['www-web-0', 'www-web-1'].map((n) => waitFor<Claim>(client, claims, n, (c) => c === undefined, 120_000)));
    expect((await cluster.cli(['delete', 'sts', 'web'])).code).toBe(0);
    await gone;
    expect((await client.list<Claim>(claims, { labelSelector: 'app=web' })).items).toEqual([]);
  }, 300_000);
});
