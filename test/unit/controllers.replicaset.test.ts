/**
 * The ReplicaSet controller's pure parts: planReplicaSet (claiming, creating, deleting in
 * Kubernetes' order, status), the scale-down order itself, slow-start batches and expectations.
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/types.js';
import { Expectations } from '../../src/controllers/expectations.js';
import { slowStartBatch, sortPodsForDeletion } from '../../src/controllers/podutil.js';
import { planReplicaSet, podFromTemplate, withReplicaFailure } from '../../src/controllers/replicaset.js';
import type { ReplicaSet } from '../../src/controllers/types.js';

const NOW = new Date('2024-05-01T12:00:00Z');
const ago = (s: number): string => new Date(NOW.getTime() - s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

function rs(replicas: number, extra: { deleting?: boolean; minReadySeconds?: number } = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: { name: 'web', namespace: 'default', uid: 'rs-uid', generation: 2, ...(extra.deleting ? { deletionTimestamp: ago(1) } : {}) },
    spec: {
      replicas, minReadySeconds: extra.minReadySeconds,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web', tier: 'fe' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    },
  };
}

interface PodOpts {
  owner?: string | null;
  labels?: Record<string, string>;
  node?: string;
  phase?: string;
  ready?: boolean;
  readySince?: number;
  created?: number;
  restarts?: number;
  deleting?: boolean;
  cost?: string;
}

function pod(name: string, o: PodOpts = {}): Pod {
  const owner = o.owner === undefined ? 'rs-uid' : o.owner;
  return {
    metadata: {
      name, namespace: 'default', uid: `uid-${name}`, labels: o.labels ?? { app: 'web', tier: 'fe' },
      creationTimestamp: ago(o.created ?? 1000),
      ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: owner, controller: true }] } : {}),
      ...(o.deleting ? { deletionTimestamp: ago(0) } : {}),
      ...(o.cost !== undefined ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': o.cost } } : {}),
    },
    spec: { containers: [{ name: 'c', image: 'nginx' }], nodeName: o.node === undefined ? 'node-1' : o.node },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: (o.ready ?? true) ? 'True' : 'False', lastTransitionTime: ago(o.readySince ?? 500) }],
      containerStatuses: [{ name: 'c', image: 'nginx', imageID: '', ready: o.ready ?? true, restartCount: o.restarts ?? 0 }],
    },
  };
}

describe('planReplicaSet', () => {
  it('creates the missing pods when it owns fewer than spec.replicas', () => {
    const plan = planReplicaSet(rs(3), [pod('a')], NOW);
    expect(plan).toMatchObject({ create: 2, delete: [], adopt: [], release: [] });
  });

  it('creates nothing while expectations are unmet (manage: false), but still reports status', () => {
    const plan = planReplicaSet(rs(3), [pod('a')], NOW, { manage: false });
    expect(plan.create).toBe(0);
    expect(plan.status).toMatchObject({ replicas: 1, readyReplicas: 1, availableReplicas: 1 });
  });

  it('caps creates and deletes at the burst size', () => {
    expect(planReplicaSet(rs(10), [], NOW, { burst: 4 }).create).toBe(4);
    const many = Array.from({ length: 8 }, (_, i) => pod(`p${i}`));
    expect(planReplicaSet(rs(0), many, NOW, { burst: 3 }).delete).toHaveLength(3);
  });

  it.each([
    ['a pod being deleted', { deleting: true }],
    ['a Succeeded pod', { phase: 'Succeeded' }],
    ['a Failed pod', { phase: 'Failed' }],
  ])('does not count %s as a replica and replaces it', (_name, o) => {
    const plan = planReplicaSet(rs(2), [pod('a'), pod('b', o)], NOW);
    expect(plan.create).toBe(1);
    expect(plan.owned.map((p) => p.metadata?.name)).toEqual(['a']);
    expect(plan.status.replicas).toBe(1);
  });

  it.each([
    ['adopts a matching orphan and counts it', pod('o', { owner: null }), { adopt: ['o'], release: [], owned: ['o'], create: 1 }],
    ['ignores an orphan whose labels do not match', pod('o', { owner: null, labels: { app: 'db' } }), { adopt: [], release: [], owned: [], create: 2 }],
    ['ignores a pod controlled by another owner', pod('o', { owner: 'other-uid' }), { adopt: [], release: [], owned: [], create: 2 }],
    ['releases an owned pod whose labels stopped matching', pod('o', { labels: { app: 'debug' } }), { adopt: [], release: ['o'], owned: [], create: 2 }],
    ['does not adopt a matching orphan that is being deleted', pod('o', { owner: null, deleting: true }), { adopt: [], release: [], owned: [], create: 2 }],
  ])('%s', (_name, p, want) => {
    const plan = planReplicaSet(rs(2), [p], NOW);
    const names = (ps: Pod[]) => ps.map((x) => x.metadata?.name);
    expect({ adopt: names(plan.adopt), release: names(plan.release), owned: names(plan.owned), create: plan.create }).toEqual(want);
  });

  it('neither adopts, releases, creates nor deletes while the ReplicaSet is being deleted', () => {
    const plan = planReplicaSet(rs(5, { deleting: true }), [pod('o', { owner: null }), pod('r', { labels: { app: 'x' } }), pod('a')], NOW);
    expect(plan).toMatchObject({ adopt: [], release: [], create: 0, delete: [] });
    expect(plan.owned.map((p) => p.metadata?.name)).toEqual(['r', 'a']);
  });

  it('deletes the surplus in Kubernetes\' order: unscheduled, then pending, then not ready, then the newest ready', () => {
    const pods = [
      pod('old-ready', { readySince: 4000 }),
      pod('new-ready', { readySince: 10 }),
      pod('not-ready', { ready: false }),
      pod('pending', { phase: 'Pending', ready: false }),
      pod('unscheduled', { node: '', phase: 'Pending', ready: false }),
    ];
    const order = (n: number) => planReplicaSet(rs(5 - n), pods, NOW).delete.map((p) => p.metadata?.name);
    expect(order(1)).toEqual(['unscheduled']);
    expect(order(3)).toEqual(['unscheduled', 'pending', 'not-ready']);
    expect(order(4)).toEqual(['unscheduled', 'pending', 'not-ready', 'new-ready']);
  });

  it('prefers deleting pods doubled up on a node with related pods', () => {
    const pods = [pod('alone', { node: 'n1' }), pod('pair-1', { node: 'n2' }), pod('pair-2', { node: 'n2' })];
    const plan = planReplicaSet(rs(2), pods, NOW);
    expect(plan.delete.map((p) => p.metadata?.name)).toHaveLength(1);
    expect(plan.delete[0].spec?.nodeName).toBe('n2');
  });

  it('computes status: fully labelled, ready, and available only after minReadySeconds', () => {
    const pods = [
      pod('a', { readySince: 100 }),
      pod('b', { readySince: 5 }),
      pod('c', { ready: false }),
      pod('d', { labels: { app: 'web' } }),
    ];
    const plan = planReplicaSet(rs(4, { minReadySeconds: 30 }), pods, NOW);
    expect(plan.status).toEqual({ replicas: 4, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 2, observedGeneration: 2 });
  });

  it('reports an unparsable selector instead of planning', () => {
    const bad = rs(1);
    bad.spec = { ...bad.spec, selector: { matchExpressions: [{ key: 'app', operator: 'Bogus' }] } };
    expect(planReplicaSet(bad, [], NOW).error).toMatch(/invalid selector/);
  });
});

describe('the scale-down order (sortPodsForDeletion)', () => {
  const rank0 = () => 0;
  it.each<[string, Pod, Pod]>([
    ['an unscheduled pod before a scheduled one', pod('x', { node: '' }), pod('y')],
    ['Pending before Unknown', pod('x', { phase: 'Pending' }), pod('y', { phase: 'Unknown' })],
    ['Unknown before Running', pod('x', { phase: 'Unknown' }), pod('y')],
    ['not ready before ready', pod('x', { ready: false }), pod('y')],
    ['lower deletion cost before higher', pod('x', { cost: '-5' }), pod('y', { cost: '10' })],
    ['ready for less time before ready for longer', pod('x', { readySince: 30 }), pod('y', { readySince: 3000 })],
    ['more restarts before fewer', pod('x', { restarts: 5 }), pod('y', { restarts: 1 })],
    ['newer before older (same readiness)', pod('x', { created: 20, ready: false }), pod('y', { created: 5000, ready: false })],
  ])('puts %s', (_name, first, second) => {
    expect(sortPodsForDeletion([second, first], rank0, NOW.getTime()).map((p) => p.metadata?.name)).toEqual(['x', 'y']);
    expect(sortPodsForDeletion([first, second], rank0, NOW.getTime()).map((p) => p.metadata?.name)).toEqual(['x', 'y']);
  });

  it('ties ready times within one power-of-two age bucket and then orders by uid', () => {
    // 1000 s and 1010 s ago fall in the same log2 bucket of nanoseconds.
    const a = pod('b-pod', { readySince: 1000 });
    const b = pod('a-pod', { readySince: 1010 });
    expect(sortPodsForDeletion([a, b], rank0, NOW.getTime()).map((p) => p.metadata?.name)).toEqual(['a-pod', 'b-pod']);
  });
});

describe('podFromTemplate', () => {
  it('names the pod <rs>-, copies the template labels and makes the ReplicaSet its controller', () => {
    const p = podFromTemplate(rs(1));
    expect(p.metadata).toEqual({
      generateName: 'web-', namespace: 'default', labels: { app: 'web', tier: 'fe' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-uid', controller: true, blockOwnerDeletion: true }],
    });
    expect(p.spec?.containers[0].image).toBe('nginx');
  });
});

describe('withReplicaFailure', () => {
  it('adds ReplicaFailure on a failed create and removes it once creating works', () => {
    const failed = withReplicaFailure({ replicas: 1 }, new Error('quota exceeded'), 'FailedCreate', NOW);
    expect(failed.conditions).toEqual([{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota exceeded', lastTransitionTime: '2024-05-01T12:00:00Z' }]);
    expect(withReplicaFailure(failed, undefined, 'FailedCreate', NOW)).toEqual({ replicas: 1 });
  });
});

describe('slowStartBatch', () => {
  it('runs batches of 1, 2, 4, … and reports every success', async () => {
    const batches: number[] = [];
    let inFlight = 0;
    const r = await slowStartBatch(10, 1, async () => {
      inFlight++;
      if (batches.length === 0 || inFlight === 1) batches.push(0);
      batches[batches.length - 1]++;
      await new Promise((res) => setImmediate(res));
      inFlight--;
    });
    expect(r).toEqual({ successes: 10 });
    expect(batches).toEqual([1, 2, 4, 3]);
  });

  it('stops after the first batch with a failure', async () => {
    let calls = 0;
    const r = await slowStartBatch(10, 1, async () => {
      calls++;
      if (calls === 2) throw new Error('quota exceeded');
    });
    expect(calls).toBe(3);
    expect(r.successes).toBe(2);
    expect((r.error as Error).message).toBe('quota exceeded');
  });
});

describe('Expectations', () => {
  it('is unsatisfied until every expected creation is observed', () => {
    const e = new Expectations(() => NOW);
    expect(e.satisfied('ns/a')).toBe(true);
    e.expectCreations('ns/a', 2);
    expect(e.satisfied('ns/a')).toBe(false);
    e.creationObserved('ns/a');
    expect(e.satisfied('ns/a')).toBe(false);
    e.creationObserved('ns/a');
    expect(e.satisfied('ns/a')).toBe(true);
  });

  it('tracks deletions by pod key, ignoring pods it did not expect', () => {
    const e = new Expectations(() => NOW);
    e.expectDeletions('ns/a', ['ns/p1', 'ns/p2']);
    e.deletionObserved('ns/a', 'ns/other');
    e.deletionObserved('ns/a', 'ns/p1');
    expect(e.satisfied('ns/a')).toBe(false);
    e.deletionObserved('ns/a', 'ns/p1');
    e.deletionObserved('ns/a', 'ns/p2');
    expect(e.satisfied('ns/a')).toBe(true);
  });

  it('expires after its time to live, so a lost event cannot stall the controller', () => {
    let t = NOW.getTime();
    const e = new Expectations(() => new Date(t), 5 * 60_000);
    e.expectCreations('ns/a', 1);
    t += 5 * 60_000;
    expect(e.satisfied('ns/a')).toBe(false);
    t += 1;
    expect(e.satisfied('ns/a')).toBe(true);
  });
});
