/**
 * The pods/eviction subresource: the pure decisions (which budgets select a pod, when a pod may
 * go without using the budget, the decrement and its refusals), evictPod against a fake store,
 * and the subresource on a real API server (in-memory store, real HTTP) with the disruption
 * controller keeping the budget, in JSON and protobuf.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { ApiError } from '../../src/api/errors.js';
import { RESOURCES } from '../../src/api/registry.js';
import type { KubeObject, Pod } from '../../src/api/types.js';
import {
  budgetsForPod, canIgnoreBudget, decrementBudget, evictPod, MULTIPLE_BUDGETS_MESSAGE, parseEviction, StatusError, TOO_MANY_REQUESTS_MESSAGE,
  unhealthyMayGo, type Budget, type EvictionStore,
} from '../../src/apiserver/eviction.js';
import { encodeMessage, encodeProtobuf } from '../../src/apiserver/protobuf.js';
import type { DeleteOptions } from '../../src/apiserver/rest.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { ApiClient, PODS } from '../../src/client/client.js';
import { DisruptionController, PDBS, budgetStatus, disruptedPods, staleDisruptionIn } from '../../src/controllers/disruption.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { waitForObject } from '../e2e/helpers.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const sel = { matchLabels: { app: 'web' } };
const pod = (name: string, phase = 'Running', ready = true, labels: Record<string, string> = { app: 'web' }): Pod & KubeObject => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'default', labels, resourceVersion: '7', uid: `uid-${name}` },
  spec: { containers: [{ name: 'c', image: 'nginx' }] },
  status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const budget = (name: string, spec: PodDisruptionBudget['spec'], status?: Partial<NonNullable<PodDisruptionBudget['status']>>): Budget => ({
  apiVersion: 'policy/v1', kind: 'PodDisruptionBudget',
  metadata: { name, namespace: 'default', generation: 1, resourceVersion: '3' },
  spec,
  status: { observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, ...status },
});

describe('which budgets cover a pod', () => {
  it.each([
    ['a matching selector', { selector: sel }, 1],
    ['another app', { selector: { matchLabels: { app: 'db' } } }, 0],
    ['an empty selector (nothing, unlike the disruption controller)', { selector: {} }, 0],
    ['no selector', {}, 0],
  ])('%s', (_n, spec, count) => {
    expect(budgetsForPod(pod('a'), [budget('b', spec as PodDisruptionBudget['spec'])])).toHaveLength(count);
  });
  it('ignores budgets of other namespaces', () => {
    const other = budget('b', { selector: sel });
    other.metadata = { ...other.metadata, namespace: 'kube-system' };
    expect(budgetsForPod(pod('a'), [other])).toEqual([]);
  });
});

describe('pods whose eviction is no disruption', () => {
  it.each([
    ['Pending', pod('a', 'Pending'), true],
    ['Succeeded', pod('a', 'Succeeded'), true],
    ['Failed', pod('a', 'Failed'), true],
    ['Running', pod('a', 'Running'), false],
    ['being deleted', { ...pod('a'), metadata: { ...pod('a').metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }, true],
  ])('a %s pod skips the budget: %s', (_n, p, want) => {
    expect(canIgnoreBudget(p)).toBe(want);
  });
  it.each([
    ['a Ready pod never', pod('a'), budget('b', { selector: sel }), false],
    ['an unready pod of a met budget', pod('a', 'Running', false), budget('b', { selector: sel }, { currentHealthy: 2, desiredHealthy: 2 }), true],
    ['an unready pod of a broken budget', pod('a', 'Running', false), budget('b', { selector: sel }, { currentHealthy: 1, desiredHealthy: 2 }), false],
    ['an unready pod under AlwaysAllow', pod('a', 'Running', false), budget('b', { selector: sel, unhealthyPodEvictionPolicy: 'AlwaysAllow' }, { currentHealthy: 0 }), true],
  ])('%s may go without using the budget: %s', (_n, p, b, want) => {
    expect(unhealthyMayGo(p, b)).toBe(want);
  });
});

describe('using up the budget', () => {
  const status = (e: unknown) => (e as StatusError).toStatus();
  it('decrements, records the pod and turns the condition False at zero', () => {
    const next = decrementBudget(budget('b', { selector: sel }), 'a', NOW);
    expect(next.status).toMatchObject({ disruptionsAllowed: 0, disruptedPods: { a: '2026-01-01T00:00:00Z' } });
    expect(next.status?.conditions).toEqual([expect.objectContaining({ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' })]);
  });
  it('refuses with 429 and the DisruptionBudget cause when none is allowed', () => {
    let err: unknown;
    try { decrementBudget(budget('web', { selector: sel }, { disruptionsAllowed: 0, currentHealthy: 2 }), 'a', NOW); } catch (e) { err = e; }
    expect(status(err)).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'TooManyRequests', code: 429, message: TOO_MANY_REQUESTS_MESSAGE,
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 2 currently' }] },
    });
  });
  it('refuses with 429 while the budget has not been observed for its generation', () => {
    const b = budget('web', { selector: sel });
    b.metadata = { ...b.metadata, generation: 2 };
    expect(() => decrementBudget(b, 'a', NOW)).toThrow(TOO_MANY_REQUESTS_MESSAGE);
  });
  it('refuses with 403 a negative count', () => {
    expect(() => decrementBudget(budget('web', { selector: sel }, { disruptionsAllowed: -1 }), 'a', NOW)).toThrow(/forbidden: pdb disruptions allowed is negative/);
  });
  it('writes no disruptedPods entry in a dry run', () => {
    expect(decrementBudget(budget('b', { selector: sel }, { disruptionsAllowed: 2 }), 'a', NOW, true).status?.disruptedPods).toBeUndefined();
  });
});

describe('the disruption controller and evicted pods', () => {
  const b = budget('b', { minAvailable: 2, selector: sel }, { disruptedPods: { a: '2026-01-01T00:00:00Z' } });
  it('does not count a pod the eviction API is deleting as healthy', () => {
    const s = budgetStatus(b, [pod('a'), pod('b'), pod('c')], 0, new Date('2026-01-01T00:00:30Z'));
    expect(s).toMatchObject({ currentHealthy: 2, disruptionsAllowed: 0, disruptedPods: { a: '2026-01-01T00:00:00Z' } });
  });
  it('drops the entry once the pod is being deleted, and counts it again after two minutes', () => {
    const deleting = { ...pod('a'), metadata: { ...pod('a').metadata, deletionTimestamp: '2026-01-01T00:00:01Z' } };
    expect(disruptedPods(b, [deleting], NOW).disrupted).toEqual({});
    const late = disruptedPods(b, [pod('a')], new Date('2026-01-01T00:02:01Z'));
    expect(late).toMatchObject({ disrupted: {}, expired: ['a'] });
    expect(disruptedPods(b, [pod('a')], new Date('2026-01-01T00:01:00Z')).recheckAt).toBe(Date.parse('2026-01-01T00:02:00Z'));
  });
});

describe('stale DisruptionTarget conditions', () => {
  const marked = (at: string, deleting = false): Pod => ({
    metadata: { name: 'a', ...(deleting ? { deletionTimestamp: at } : {}) },
    status: { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', lastTransitionTime: at }] },
  });
  it.each([
    ['a fresh mark waits its two minutes', marked('2026-01-01T00:00:00Z'), 120_000],
    ['an old mark is due now', marked('2025-12-31T23:57:00Z'), -60_000],
    ['a pod being deleted is left alone', marked('2025-12-31T23:57:00Z', true), undefined],
    ['a pod without the condition is left alone', { metadata: { name: 'a' } }, undefined],
  ])('%s', (_n, p, want) => {
    expect(staleDisruptionIn(p, NOW)).toBe(want);
  });
});

describe('parsing the Eviction', () => {
  it.each([
    ['another kind', { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'a' } }, 'cannot be handled as a Eviction'],
    ['another name', { kind: 'Eviction', apiVersion: 'policy/v1', metadata: { name: 'b' } }, 'name in URL does not match name in Eviction object'],
    ['another namespace', { kind: 'Eviction', apiVersion: 'policy/v1', metadata: { name: 'a', namespace: 'x' } }, 'does not match the namespace sent on the request'],
    ['an unknown version', { kind: 'Eviction', apiVersion: 'policy/v2', metadata: { name: 'a' } }, 'no kind "Eviction" is registered'],
  ])('refuses %s with 400', (_n, body, message) => {
    expect(() => parseEviction(body, 'default', 'a')).toThrow(message);
  });
  it('takes policy/v1beta1 too, with its deleteOptions', () => {
    expect(parseEviction({ kind: 'Eviction', apiVersion: 'policy/v1beta1', metadata: { name: 'a' }, deleteOptions: { gracePeriodSeconds: 3 } }, 'default', 'a'))
      .toEqual({ deleteOptions: { gracePeriodSeconds: 3 } });
  });
});

/** An in-memory EvictionStore recording what was written. */
function fakeStore(p: Pod & KubeObject, budgets: Budget[], conflicts = 0) {
  const calls: string[] = [];
  let left = conflicts;
  const store: EvictionStore = {
    getPod: async () => p,
    listBudgets: async () => budgets,
    getBudget: async (name) => budgets.find((b) => b.metadata?.name === name) as Budget,
    updateBudgetStatus: async (b) => {
      if (left-- > 0) throw new ApiError(409, 'Conflict', 'stale');
      calls.push(`budget ${b.status?.disruptionsAllowed}`);
    },
    markDisruptionTarget: async (pre) => { calls.push(`mark rv=${pre?.resourceVersion ?? ''}`); return { ...p, metadata: { ...p.metadata, resourceVersion: '8' } }; },
    deletePod: async (o: DeleteOptions) => { calls.push(`delete rv=${o.preconditions?.resourceVersion ?? ''} grace=${o.gracePeriodSeconds ?? ''}`); },
    now: () => NOW,
  };
  return { store, calls };
}

describe('evictPod', () => {
  it('deletes a pod no budget covers, with the eviction\'s delete options', async () => {
    const { store, calls } = fakeStore(pod('a'), []);
    expect(await evictPod(store, { gracePeriodSeconds: 5 }, false)).toEqual({ evicted: true });
    expect(calls).toEqual(['mark rv=', 'delete rv= grace=5']);
  });
  it('deletes a Pending pod at once, pinned to its resourceVersion', async () => {
    const { store, calls } = fakeStore(pod('a', 'Pending'), [budget('b', { selector: sel }, { disruptionsAllowed: 0 })]);
    await evictPod(store, {}, false);
    expect(calls).toEqual(['mark rv=7', 'delete rv=8 grace=']);
  });
  it('uses one disruption of the budget, then deletes', async () => {
    const { store, calls } = fakeStore(pod('a'), [budget('b', { selector: sel })]);
    await evictPod(store, {}, false);
    expect(calls).toEqual(['budget 0', 'mark rv=', 'delete rv= grace=']);
  });
  it('retries a conflicting budget write on a fresh read', async () => {
    const { store, calls } = fakeStore(pod('a'), [budget('b', { selector: sel })], 2);
    await evictPod(store, {}, false);
    expect(calls[0]).toBe('budget 0');
  });
  it('refuses with 429 when the budget allows no disruption, deleting nothing', async () => {
    const { store, calls } = fakeStore(pod('a'), [budget('b', { selector: sel }, { disruptionsAllowed: 0 })]);
    await expect(evictPod(store, {}, false)).rejects.toMatchObject({ code: 429, reason: 'TooManyRequests' });
    expect(calls).toEqual([]);
  });
  it('answers 500 with Kubernetes\' message when two budgets cover the pod', async () => {
    const { store, calls } = fakeStore(pod('a'), [budget('b', { selector: sel }), budget('c', { selector: sel })]);
    expect(await evictPod(store, {}, false)).toEqual({ evicted: false, status: expect.objectContaining({ code: 500, status: 'Failure', message: MULTIPLE_BUDGETS_MESSAGE }) });
    expect(calls).toEqual([]);
  });
  it('writes nothing but the (dry-run) delete in a dry run', async () => {
    const { store, calls } = fakeStore(pod('a'), [budget('b', { selector: sel })]);
    await evictPod(store, {}, true);
    expect(calls).toEqual(['delete rv= grace=']);
  });
});

describe('pods/eviction on a real API server', () => {
  let server: ApiServer;
  let client: ApiClient;
  let controller: DisruptionController;
  const ns = (ref: typeof PODS) => ({ ...ref, namespace: 'default' });
  const evict = (name: string, body: Buffer | string, type = 'application/json') => fetch(`${server.url}/api/v1/namespaces/default/pods/${name}/eviction`, {
    method: 'POST', headers: { Authorization: 'Bearer t', 'Content-Type': type }, body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  const eviction = (name: string) => ({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } });

  beforeAll(async () => {
    server = await startApiServer({ store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: 't' });
    client = new ApiClient({ server: server.url, token: 't' });
    controller = new DisruptionController({ client, log: () => undefined });
    await controller.start();
    for (const name of ['a', 'b', 'c']) {
      const created = await client.create<Pod & KubeObject>(ns(PODS), { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } as Pod & KubeObject);
      await client.updateStatus(ns(PODS), { ...created, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
    }
    await client.create(ns(PDBS), { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { minAvailable: 2, selector: sel } } as KubeObject);
  });
  afterAll(async () => {
    await controller?.stop();
    await server?.close();
  });

  const budgetWhen = async (ok: (b: PodDisruptionBudget) => boolean): Promise<PodDisruptionBudget> =>
    (await waitForObject<PodDisruptionBudget & KubeObject>(client, ns(PDBS), 'web', (b) => b !== undefined && ok(b), 10_000)) as PodDisruptionBudget;

  it('is listed in discovery as policy/v1 Eviction (kubectl drain looks for it there)', async () => {
    const res = await fetch(`${server.url}/api/v1`, { headers: { Authorization: 'Bearer t' } });
    const list = (await res.json()) as { resources: { name: string; kind: string; group?: string; version?: string; verbs: string[] }[] };
    expect(list.resources.find((r) => r.name === 'pods/eviction')).toMatchObject({ kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] });
  });

  it('evicts one pod, then refuses the next with 429 while the budget is used up', async () => {
    await budgetWhen((x) => x.status?.disruptionsAllowed === 1);
    const first = await evict('a', JSON.stringify(eviction('a')));
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ kind: 'Status', status: 'Success' });
    await expect(client.get(ns(PODS), 'a')).rejects.toMatchObject({ code: 404 });
    const second = await evict('b', JSON.stringify(eviction('b')));
    expect(second.status).toBe(429);
    expect(await second.json()).toMatchObject({ reason: 'TooManyRequests', message: TOO_MANY_REQUESTS_MESSAGE, details: { causes: [{ reason: 'DisruptionBudget' }] } });
    expect((await client.get<Pod & KubeObject>(ns(PODS), 'b')).metadata?.deletionTimestamp).toBeUndefined();
  });

  it('decodes a protobuf Eviction (as kubectl drain sends it)', async () => {
    const created = await client.create<Pod & KubeObject>(ns(PODS), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'lone' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } as Pod & KubeObject);
    await client.updateStatus(ns(PODS), { ...created, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
    const body = encodeProtobuf({ ...eviction('lone'), deleteOptions: { gracePeriodSeconds: 0 } });
    expect(body).toBeDefined();
    const res = await evict('lone', body as Buffer, 'application/vnd.kubernetes.protobuf');
    expect(res.status).toBe(201);
    await expect(client.get(ns(PODS), 'lone')).rejects.toMatchObject({ code: 404 });
  });

  it('decodes a policy/v1beta1 protobuf Eviction (older clients)', async () => {
    const created = await client.create<Pod & KubeObject>(ns(PODS), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'old' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } as Pod & KubeObject);
    await client.updateStatus(ns(PODS), { ...created, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
    // The v1 message in an envelope naming policy/v1beta1 (all lengths here are below 128: one-byte varints).
    const ld = (field: number, b: Buffer) => Buffer.concat([Buffer.from([(field << 3) | 2, b.length]), b]);
    const typeMeta = Buffer.concat([ld(1, Buffer.from('policy/v1beta1')), ld(2, Buffer.from('Eviction'))]);
    const body = Buffer.concat([Buffer.from('k8s\0', 'latin1'), ld(1, typeMeta), ld(2, encodeMessage({ metadata: { name: 'old' } }, 'policy.v1.Eviction'))]);
    const res = await evict('old', body, 'application/vnd.kubernetes.protobuf');
    expect(res.status, await res.clone().text()).toBe(201);
  });

  it.each([
    ['not JSON', '{'],
    ['an array', '[]'],
    ['metadata a string', '{"kind":"Eviction","apiVersion":"policy/v1","metadata":"b"}'],
    ['a numeric name', '{"kind":"Eviction","apiVersion":"policy/v1","metadata":{"name":1}}'],
    ['deleteOptions a list', '{"kind":"Eviction","apiVersion":"policy/v1","metadata":{"name":"b"},"deleteOptions":[]}'],
    ['a string grace period', '{"kind":"Eviction","apiVersion":"policy/v1","metadata":{"name":"b"},"deleteOptions":{"gracePeriodSeconds":"x"}}'],
    ['an unknown propagation policy', '{"kind":"Eviction","apiVersion":"policy/v1","metadata":{"name":"b"},"deleteOptions":{"propagationPolicy":"Now"}}'],
    ['a bad dryRun', '{"kind":"Eviction","apiVersion":"policy/v1","metadata":{"name":"b"},"deleteOptions":{"dryRun":["Some"]}}'],
    ['a protobuf body that is not protobuf', Buffer.from('not protobuf')],
  ])('answers %s with a 4xx Status and evicts nothing', async (_n, body) => {
    const res = await evict('b', body, Buffer.isBuffer(body) ? 'application/vnd.kubernetes.protobuf' : 'application/json');
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await res.json()).toMatchObject({ kind: 'Status', status: 'Failure' });
    expect((await client.get<Pod & KubeObject>(ns(PODS), 'b')).metadata?.deletionTimestamp).toBeUndefined();
  });

  it('answers 404 for a missing pod and 400 for a mismatched name', async () => {
    expect((await evict('nope', JSON.stringify(eviction('nope')))).status).toBe(404);
    expect((await evict('b', JSON.stringify(eviction('c')))).status).toBe(400);
  });

  it('turns a DisruptionTarget left on a pod that was not deleted False once stale', async () => {
    const created = await client.create<Pod & KubeObject>(ns(PODS), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'kept' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } as Pod & KubeObject);
    const old = new Date(Date.now() - 3 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await client.updateStatus(ns(PODS), { ...created, status: { phase: 'Running', conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastTransitionTime: old }] } });
    const cleared = await new Promise<Pod>((resolve, reject) => {
      const timer = setTimeout(() => { h.stop(); reject(new Error('DisruptionTarget was never reset')); }, 10_000);
      const h = client.watch<Pod & KubeObject>(ns(PODS), { fieldSelector: 'metadata.name=kept' }, (e) => {
        if (e.type !== 'ERROR' && e.object.status?.conditions?.some((c) => c.type === 'DisruptionTarget' && c.status === 'False')) { clearTimeout(timer); h.stop(); resolve(e.object); }
      });
    });
    expect(cleared.status?.conditions?.find((c) => c.type === 'DisruptionTarget')?.lastTransitionTime).not.toBe(old);
    await client.delete(ns(PODS), 'kept', { gracePeriodSeconds: 0 });
  });

  it('answers 500 with Kubernetes\' message when two budgets cover the pod', async () => {
    await client.create(ns(PDBS), { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web2' }, spec: { maxUnavailable: 1, selector: sel } } as KubeObject);
    const res = await evict('b', JSON.stringify(eviction('b')));
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ status: 'Failure', message: MULTIPLE_BUDGETS_MESSAGE });
    await client.delete(ns(PDBS), 'web2');
  });
});
