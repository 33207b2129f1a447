/**
 * Node leases: the kubelet's renewal plan (holder, 40 s duration, MicroTime renewTime, owned by
 * the Node) and Leases through the API server with the real registry (validation, kubectl's
 * columns, renewal as an update).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { RESOURCES } from '../../src/api/registry.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { ApiClient, LEASES } from '../../src/client/client.js';
import { microTime, planLease, renewNodeLease } from '../../src/kubelet/lease.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { TOKEN, call } from './apiserver.fixtures.js';

let server: ApiServer;
let client: ApiClient;
beforeAll(async () => {
  server = await startApiServer({ store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: TOKEN });
  client = new ApiClient({ server: server.url, token: TOKEN });
});
afterAll(async () => {
  await server.close();
});

describe('planLease', () => {
  const now = new Date('2026-12-06T10:00:01.234Z');
  it('creates the lease owned by the node', () => {
    expect(planLease(undefined, { name: 'n1', uid: 'u1' }, now)).toEqual({
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
      metadata: { name: 'n1', namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'u1' }] },
      spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: '2026-12-06T10:00:01.234000Z' },
    });
  });
  it('renews only renewTime (and re-owns a lease of a recreated node)', () => {
    const first = planLease(undefined, { name: 'n1', uid: 'u1' }, now);
    const later = planLease({ ...first, metadata: { ...first.metadata, resourceVersion: '5' } }, { name: 'n1', uid: 'u2' }, new Date('2026-12-06T10:00:11Z'));
    expect(later.metadata).toMatchObject({ resourceVersion: '5', ownerReferences: [{ uid: 'u2' }] });
    expect(later.spec?.renewTime).toBe('2026-12-06T10:00:11.000000Z');
    expect(microTime(new Date(0))).toBe('1970-01-01T00:00:00.000000Z');
  });
});

describe('Leases through the API server', () => {
  const ref = { ...LEASES, namespace: 'kube-node-lease' };
  it('are created and renewed by the kubelet\'s renewal', async () => {
    await renewNodeLease(client, { name: 'node-a' }, new Date('2026-12-06T10:00:00Z'));
    const first = await client.get<Lease>(ref, 'node-a');
    await renewNodeLease(client, { name: 'node-a' }, new Date('2026-12-06T10:00:10Z'));
    const second = await client.get<Lease>(ref, 'node-a');
    expect(second.spec).toEqual({ holderIdentity: 'node-a', leaseDurationSeconds: 40, renewTime: '2026-12-06T10:00:10.000000Z' });
    expect(Number(second.metadata?.resourceVersion)).toBeGreaterThan(Number(first.metadata?.resourceVersion));
  });
  it('are listed with kubectl\'s columns', async () => {
    const r = await call<{ columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] }>(server.url, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases',
      { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    expect(r.body.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Holder', 'Age']);
    expect(r.body.rows[0].cells.slice(0, 2)).toEqual(['node-a', 'node-a']);
  });
  it('refuses a non-positive duration with 422 naming the field', async () => {
    const r = await call(server.url, 'POST', '/apis/coordination.k8s.io/v1/namespaces/default/leases', { body: { metadata: { name: 'bad' }, spec: { leaseDurationSeconds: 0 } } });
    expect([r.status, r.body.message]).toEqual([422, 'Lease.coordination.k8s.io "bad" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0']);
  });
});
