/**
 * Namespace deletion as Kubernetes does it: the `kubernetes` finalizer keeps a deleted namespace
 * `Terminating` (and its objects readable) until the namespace controller has deleted its
 * contents, removed the finalizer through `finalize` and deleted it again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NamespaceController, deletableResources } from '../../src/controllers/namespace.js';
import { CONFIGMAPS, NAMESPACES } from '../../src/client/client.js';
import type { KubeObject, Namespace } from '../../src/api/types.js';
import { ApiError } from '../../src/api/errors.js';
import { startTestCluster, type TestCluster } from './controllers.fixtures.js';

let c: TestCluster;
beforeAll(async () => {
  c = await startTestCluster();
});
afterAll(async () => {
  await c.close();
});

const exists = async (p: Promise<unknown>): Promise<boolean> => {
  try {
    await p;
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) return false;
    throw e;
  }
};

describe('namespace deletion', () => {
  it('lists only namespaced, deletable, top-level resources from discovery', () => {
    expect(deletableResources('apps', 'v1', { resources: [
      { name: 'deployments', namespaced: true, verbs: ['list', 'delete'] }, { name: 'deployments/scale', namespaced: true, verbs: ['get'] },
      { name: 'nodes', namespaced: false, verbs: ['list', 'delete'] }, { name: 'bindings', namespaced: true, verbs: ['create'] },
    ] })).toEqual([{ group: 'apps', version: 'v1', resource: 'deployments' }]);
  });

  it('goes through Terminating until the namespace controller has emptied it', async () => {
    const ns = await c.client.create<Namespace & KubeObject>(NAMESPACES, { metadata: { name: 'doomed' } });
    expect(ns.spec?.finalizers).toEqual(['kubernetes']);
    await c.client.create(({ ...CONFIGMAPS, namespace: 'doomed' }), { metadata: { name: 'cm' }, data: { a: 'b' } });
    await c.client.delete(NAMESPACES, 'doomed');
    const terminating = await c.client.get<Namespace & KubeObject>(NAMESPACES, 'doomed');
    expect(terminating.status?.phase).toBe('Terminating');
    expect(terminating.metadata?.deletionTimestamp).toBeTruthy();
    expect(await exists(c.client.get({ ...CONFIGMAPS, namespace: 'doomed' }, 'cm'))).toBe(true);

    const nsInformer = await c.follow<Namespace & KubeObject>(NAMESPACES);
    const controller = new NamespaceController({ client: c.client, log: c.log });
    controller.start();
    try {
      await c.until('the namespace to be gone', () => nsInformer.get('doomed') === undefined);
    } finally {
      controller.stop();
    }
    expect(await exists(c.client.get({ ...CONFIGMAPS, namespace: 'doomed' }, 'cm'))).toBe(false);
    expect(c.logs.join('\n')).toMatch(/namespace doomed: emptied, finalizer removed/);
  });

  it('finalize changes only spec.finalizers', async () => {
    await c.client.create<Namespace & KubeObject>(NAMESPACES, { metadata: { name: 'fin' } });
    const out = await c.client.request<Namespace & KubeObject>('PUT', '/api/v1/namespaces/fin/finalize',
      { metadata: { name: 'fin', labels: { ignored: 'yes' } }, spec: { finalizers: ['example.com/x'] } });
    expect(out.spec?.finalizers).toEqual(['example.com/x']);
    expect(out.metadata?.labels?.ignored).toBeUndefined();
    // an ordinary update cannot change them
    const updated = await c.client.update<Namespace & KubeObject>(NAMESPACES, { ...out, spec: { finalizers: [] } });
    expect(updated.spec?.finalizers).toEqual(['example.com/x']);
  });
});
