/**
 * PodDisruptionBudget: validation, the disruption controller's pure status computation, and the
 * controller against a real API server (in-memory store, real HTTP) following Ready pods.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { validatePodDisruptionBudget } from '../../src/api/policyvalidation.js';
import { ADMISSION_ROWS } from '../../src/api/admissionrows.js';
import { RESOURCES } from '../../src/api/registry.js';
import type { KubeObject, Pod } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { ApiClient, PODS } from '../../src/client/client.js';
import { DisruptionController, PDBS, budgetStatus, podsOfBudget } from '../../src/controllers/disruption.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { waitForObject } from '../e2e/helpers.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const pdb = (spec: PodDisruptionBudget['spec']): PodDisruptionBudget => ({ metadata: { name: 'b', namespace: 'default', generation: 1 }, spec });
const pod = (name: string, ready: boolean, labels = { app: 'web' }): Pod => ({
  metadata: { name, namespace: 'default', labels },
  spec: { containers: [{ name: 'c', image: 'nginx' }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const sel = { matchLabels: { app: 'web' } };

describe('PodDisruptionBudget validation', () => {
  it.each([
    ['both bounds', { minAvailable: 1, maxUnavailable: 1, selector: sel }, 'spec', 'minAvailable and maxUnavailable cannot be both set'],
    ['a negative minAvailable', { minAvailable: -1, selector: sel }, 'spec.minAvailable', 'must be greater than or equal to 0'],
    ['a percent over 100', { maxUnavailable: '120%', selector: sel }, 'spec.maxUnavailable', 'must not be greater than 100%'],
    ['a malformed percent', { minAvailable: 'half', selector: sel }, 'spec.minAvailable', 'a valid percent string'],
    ['an unknown eviction policy', { minAvailable: 1, selector: sel, unhealthyPodEvictionPolicy: 'Never' }, 'spec.unhealthyPodEvictionPolicy', 'Unsupported value'],
    ['a bad selector', { minAvailable: 1, selector: { matchLabels: { 'a b': 'x' } } }, 'spec.selector.matchLabels', 'Invalid value'],
  ])('refuses %s', (_n, spec, field, message) => {
    const errs = validatePodDisruptionBudget(pdb(spec as PodDisruptionBudget['spec']));
    expect(errs.find((e) => e.field === field)?.message).toContain(message);
  });
  it('accepts a percentage minAvailable', () => {
    expect(validatePodDisruptionBudget(pdb({ minAvailable: '50%', selector: sel }))).toEqual([]);
  });
});

describe('disruption status', () => {
  const three = [pod('a', true), pod('b', true), pod('c', false)];
  it.each([
    ['minAvailable 1 of 2 healthy', { minAvailable: 1 }, three, 0, { currentHealthy: 2, desiredHealthy: 1, expectedPods: 3, disruptionsAllowed: 1, reason: 'SufficientPods' }],
    ['minAvailable 2 of 2 healthy', { minAvailable: 2 }, three, 0, { currentHealthy: 2, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 0, reason: 'InsufficientPods' }],
    ['maxUnavailable 1 of scale 3', { maxUnavailable: 1 }, three, 3, { currentHealthy: 2, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 0, reason: 'InsufficientPods' }],
    ['maxUnavailable 50% of scale 4 rounds up', { maxUnavailable: '50%' }, [...three, pod('d', true)], 4, { currentHealthy: 3, desiredHealthy: 2, expectedPods: 4, disruptionsAllowed: 1, reason: 'SufficientPods' }],
    ['minAvailable 50% of scale 3 rounds up', { minAvailable: '50%' }, three, 3, { currentHealthy: 2, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 0, reason: 'InsufficientPods' }],
    ['no pods at all', { minAvailable: 0 }, [], 0, { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0, reason: 'InsufficientPods' }],
    ['an unknown scale', { maxUnavailable: 1 }, three, 'found no controller ref for pod "a"', { currentHealthy: 2, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0, reason: 'SyncFailed' }],
  ])('%s', (_n, spec, pods, scale, want) => {
    const s = budgetStatus(pdb({ ...spec, selector: sel } as PodDisruptionBudget['spec']), pods, scale, NOW);
    const { reason, ...counts } = want;
    expect(s).toMatchObject({ ...counts, observedGeneration: 1 });
    expect(s.conditions?.[0]).toMatchObject({ type: 'DisruptionAllowed', reason, status: reason === 'SufficientPods' ? 'True' : 'False' });
  });
  it('keeps the transition time while the condition holds', () => {
    const first = budgetStatus(pdb({ minAvailable: 1, selector: sel }), [pod('a', true), pod('b', true)], 0, NOW);
    const again = budgetStatus({ ...pdb({ minAvailable: 1, selector: sel }), status: first }, [pod('a', true), pod('b', true)], 0, new Date('2026-01-02T00:00:00Z'));
    expect(again.conditions?.[0].lastTransitionTime).toBe('2026-01-01T00:00:00Z');
  });
  it('selects pods as policy/v1 does: {} is all, none is nothing', () => {
    const pods = [pod('a', true), pod('x', true, { app: 'other' })];
    expect(podsOfBudget(pdb({ selector: {} }), pods)).toHaveLength(2);
    expect(podsOfBudget(pdb({}), pods)).toHaveLength(0);
    expect(podsOfBudget(pdb({ selector: sel }), pods).map((p) => p.metadata?.name)).toEqual(['a']);
  });
  it('prints kubectl\'s columns', () => {
    const b = { ...pdb({ minAvailable: 2, selector: sel }), status: { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 } };
    expect(ADMISSION_ROWS['policy/poddisruptionbudgets'].row(b as KubeObject, NOW).slice(0, 4)).toEqual(['b', '2', 'N/A', '1']);
  });
});

describe('the disruption controller against a real API server', () => {
  let server: ApiServer;
  let client: ApiClient;
  let controller: DisruptionController;
  const ns = (ref: typeof PODS) => ({ ...ref, namespace: 'default' });

  beforeAll(async () => {
    server = await startApiServer({ store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: 't' });
    client = new ApiClient({ server: server.url, token: 't' });
    controller = new DisruptionController({ client, log: () => undefined });
    await controller.start();
  });
  afterAll(async () => {
    await controller?.stop();
    await server?.close();
  });

  const budgetWhen = async (ok: (b: PodDisruptionBudget) => boolean): Promise<PodDisruptionBudget> =>
    (await waitForObject<PodDisruptionBudget & KubeObject>(client, ns(PDBS), 'web', (b) => b !== undefined && ok(b), 10_000)) as PodDisruptionBudget;

  it('follows the pods becoming Ready and going away', async () => {
    await client.create(ns(PDBS), { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { minAvailable: 1, selector: sel } } as KubeObject);
    for (const name of ['a', 'b']) {
      const created = await client.create<Pod & KubeObject>(ns(PODS), { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } as KubeObject);
      await client.updateStatus(ns(PODS), { ...created, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
    }
    const b = await budgetWhen((x) => x.status?.currentHealthy === 2);
    expect(b.status).toMatchObject({ currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, disruptionsAllowed: 1, observedGeneration: 1 });
    expect(b.status?.conditions?.[0]).toMatchObject({ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' });
    await client.delete(ns(PODS), 'b', { gracePeriodSeconds: 0 });
    const after = await budgetWhen((x) => x.status?.currentHealthy === 1);
    expect(after.status).toMatchObject({ disruptionsAllowed: 0, conditions: [{ reason: 'InsufficientPods', status: 'False' }] });
  });
});
