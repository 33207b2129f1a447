/**
 * The Deployment controller's planner, step by step against a tiny simulated world in which
 * the test decides when ReplicaSets have their pods and when those pods become available.
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/types.js';
import {
  computeHash, equalIgnoreHash, maxSurge, maxUnavailable, resolveFenceposts, REVISION, REVISION_HISTORY,
} from '../../src/controllers/deploymentutil.js';
import { planRollout, type RolloutPlan } from '../../src/controllers/deployment.js';
import type { Deployment, ReplicaSet } from '../../src/controllers/types.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const at = (s: number): Date => new Date(T0 + s * 1000);
const iso = (s: number): string => at(s).toISOString().replace(/\.\d+Z$/, 'Z');

function deployment(o: { replicas?: number; image?: string; surge?: number | string; unavailable?: number | string; strategy?: 'Recreate';
  paused?: boolean; limit?: number; deadline?: number } = {}): Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'd-uid', generation: 1 },
    spec: {
      replicas: o.replicas ?? 4,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: o.image ?? 'nginx:1' }] } },
      strategy: o.strategy ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: o.surge ?? 1, maxUnavailable: o.unavailable ?? 1 } },
      revisionHistoryLimit: o.limit ?? 10,
      progressDeadlineSeconds: o.deadline ?? 600,
      ...(o.paused ? { paused: true } : {}),
    },
  };
}

/** The API server and the ReplicaSet controller, as far as the planner can tell. */
class World {
  sets = new Map<string, ReplicaSet>();
  pods: Pod[] = [];
  events: string[] = [];
  private uid = 0;
  constructor(public d: Deployment, public t = 0) {}

  /** One sync: plan, then apply the plan as the API server would. */
  sync(): RolloutPlan {
    const plan = planRollout(this.d, [...this.sets.values()], this.pods, at(this.t));
    for (const a of plan.actions) {
      if (a.type === 'createReplicaSet') {
        const rs = structuredClone(a.rs);
        rs.metadata = { ...rs.metadata, uid: `rs-${++this.uid}`, creationTimestamp: iso(this.t), generation: 1 };
        rs.status = { replicas: 0, observedGeneration: 1 };
        this.sets.set(rs.metadata.name ?? '', rs);
      } else if (a.type === 'updateReplicaSet') {
        const cur = this.sets.get(a.rs.metadata?.name ?? '') as ReplicaSet;
        const specChanged = JSON.stringify(cur.spec) !== JSON.stringify(a.rs.spec);
        this.sets.set(a.rs.metadata?.name ?? '', {
          ...a.rs, metadata: { ...a.rs.metadata, uid: cur.metadata?.uid, creationTimestamp: cur.metadata?.creationTimestamp,
            generation: (cur.metadata?.generation ?? 1) + (specChanged ? 1 : 0) }, status: cur.status,
        });
      } else this.sets.delete(a.name);
      if ('event' in a && a.event) this.events.push(a.event);
    }
    if (plan.revision) this.d = { ...this.d, metadata: { ...this.d.metadata, annotations: { ...this.d.metadata?.annotations, [REVISION]: plan.revision } } };
    if (plan.status) this.d = { ...this.d, status: plan.status };
    this.t += 1;
    return plan;
  }

  /** The ReplicaSet controller has caught up: every RS has its pods, `available` of them available. */
  settle(available: Record<string, number> = {}): void {
    for (const [name, rs] of this.sets) {
      const n = rs.spec?.replicas ?? 0;
      const a = Math.min(n, available[name] ?? Math.min(n, rs.status?.availableReplicas ?? 0));
      rs.status = { replicas: n, readyReplicas: a, availableReplicas: a, observedGeneration: rs.metadata?.generation };
    }
  }

  update(spec: Partial<NonNullable<Deployment['spec']>>): void {
    this.d = { ...this.d, metadata: { ...this.d.metadata, generation: (this.d.metadata?.generation ?? 1) + 1 }, spec: { ...this.d.spec, ...spec } as Deployment['spec'] };
  }

  byImage(image: string): ReplicaSet | undefined {
    return [...this.sets.values()].find((rs) => rs.spec?.template?.spec?.containers[0].image === image);
  }

  size(image: string): number {
    return this.byImage(image)?.spec?.replicas ?? 0;
  }
}

/** Runs the first rollout of nginx:1 to completion. */
function rolledOut(o: Parameters<typeof deployment>[0] = {}): World {
  const w = new World(deployment(o));
  w.sync();
  w.settle({ [w.byImage(o?.image ?? 'nginx:1')?.metadata?.name ?? '']: o?.replicas ?? 4 });
  w.sync();
  w.sync();
  return w;
}

describe('maxSurge and maxUnavailable', () => {
  it.each<[number, number | string, number | string, number, number]>([
    [10, '25%', '25%', 3, 2],
    [4, 1, 1, 1, 1],
    [1, '25%', '25%', 1, 0],
    [3, 0, 0, 0, 1],
    [10, '0%', '0%', 0, 1],
    [5, '30%', '30%', 2, 1],
    [7, '10%', '50%', 1, 3],
  ])('for %i replicas, surge %s and unavailable %s resolve to %i and %i (surge rounds up, unavailable down)', (replicas, s, u, surge, unavailable) => {
    expect(resolveFenceposts(deployment({ replicas, surge: s, unavailable: u }), replicas)).toEqual({ surge, unavailable });
  });

  it('caps maxUnavailable at replicas and makes both 0 for Recreate', () => {
    expect(maxUnavailable(deployment({ replicas: 2, unavailable: 5 }))).toBe(2);
    expect([maxSurge(deployment({ strategy: 'Recreate' })), maxUnavailable(deployment({ strategy: 'Recreate' }))]).toEqual([0, 0]);
  });
});

describe('the pod-template hash', () => {
  const t = deployment().spec?.template;
  it('is a stable short string in Kubernetes\' vowel-free alphabet', () => {
    const h = computeHash(t);
    expect(h).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(computeHash(structuredClone(t))).toBe(h);
  });

  it('changes with the template and with the collision count, not with the hash label', () => {
    const other = deployment({ image: 'nginx:2' }).spec?.template;
    expect(computeHash(other)).not.toBe(computeHash(t));
    expect(computeHash(t, 1)).not.toBe(computeHash(t));
    const labelled = structuredClone(t ?? {});
    labelled.metadata = { labels: { app: 'web', 'pod-template-hash': 'abc' } };
    expect(computeHash(labelled)).toBe(computeHash(t));
    expect(equalIgnoreHash(labelled, t)).toBe(true);
  });
});

describe('planRollout: a new Deployment', () => {
  it('creates one ReplicaSet named after the template hash, labelled, selected and annotated, at full size', () => {
    const w = new World(deployment({ replicas: 3 }));
    const plan = w.sync();
    const hash = computeHash(w.d.spec?.template);
    expect(plan.actions).toHaveLength(1);
    const rs = plan.actions[0].type === 'createReplicaSet' ? plan.actions[0].rs : undefined;
    expect(rs?.metadata).toEqual({
      name: `web-${hash}`, namespace: 'default', labels: { app: 'web', 'pod-template-hash': hash },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true, blockOwnerDeletion: true }],
      annotations: { [REVISION]: '1', 'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4' },
    });
    expect(rs?.spec?.selector).toEqual({ matchLabels: { app: 'web', 'pod-template-hash': hash } });
    expect(rs?.spec?.template?.metadata?.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs?.spec?.replicas).toBe(3);
    expect(w.events).toEqual([`Scaled up replica set web-${hash} from 0 to 3`]);
    expect(plan.revision).toBe('1');
    expect(plan.status?.conditions?.map((c) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "web-${hash}"`],
      ['Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'],
    ]);
    expect(plan.status).toMatchObject({ observedGeneration: 1, unavailableReplicas: 3 });
  });

  it('reports progress, then completion the way kubectl rollout status reads it', () => {
    const w = new World(deployment({ replicas: 3 }));
    w.sync();
    const name = w.byImage('nginx:1')?.metadata?.name ?? '';
    w.settle({ [name]: 1 });
    const progressing = w.sync();
    expect(progressing.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({
      status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${name}" is progressing.`,
    });
    w.settle({ [name]: 3 });
    const done = w.sync();
    expect(done.status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1 });
    expect(done.status?.unavailableReplicas).toBeUndefined();
    expect(done.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable'], ['Progressing', 'True', 'NewReplicaSetAvailable'],
    ]);
    expect(w.sync().status).toBeUndefined();
  });
});

describe('planRollout: RollingUpdate with replicas 4, maxSurge 1, maxUnavailable 1', () => {
  it('moves through every intermediate state within the surge and availability bounds', () => {
    const w = rolledOut();
    w.update({ template: deployment({ image: 'nginx:2' }).spec?.template });
    const states: [number, number][] = [];
    const step = (available?: Record<string, number>) => {
      w.sync();
      states.push([w.size('nginx:1'), w.size('nginx:2')]);
      const total = w.size('nginx:1') + w.size('nginx:2');
      expect(total).toBeLessThanOrEqual(5);
      w.settle(available);
      const avail = [...w.sets.values()].reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
      expect(avail).toBeGreaterThanOrEqual(3);
    };
    const newName = () => w.byImage('nginx:2')?.metadata?.name ?? '';
    step(); // creates the new RS at 1 (surge) and scales the old one down to 3 (one may be unavailable)
    step(); // the new RS grows to 2, its pods not yet available
    step(); // nothing may move: 2 new pods unavailable, the old 3 are the minimum
    step({ [newName()]: 2 }); // still waiting (the availability shows only now)
    step(); // 2 new available: old scaled down by 2 to 1
    step(); // new RS grows to 4
    step({ [newName()]: 4 }); // waiting for the 2 newest pods
    step(); // all 4 new available: old scaled down to 0
    step(); // complete
    expect(states).toEqual([[3, 1], [3, 2], [3, 2], [3, 2], [1, 2], [1, 4], [1, 4], [0, 4], [0, 4]]);
    const last = w.sync();
    expect(last.status ?? w.d.status).toMatchObject({ replicas: 4, updatedReplicas: 4, availableReplicas: 4 });
    expect(w.d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
    expect(w.d.metadata?.annotations?.[REVISION]).toBe('2');
    expect(w.events.slice(1)).toEqual([
      `Scaled up replica set ${newName()} from 0 to 1`,
      `Scaled down replica set ${w.byImage('nginx:1')?.metadata?.name} from 4 to 3`,
      `Scaled up replica set ${newName()} from 1 to 2`,
      `Scaled down replica set ${w.byImage('nginx:1')?.metadata?.name} from 3 to 1`,
      `Scaled up replica set ${newName()} from 2 to 4`,
      `Scaled down replica set ${w.byImage('nginx:1')?.metadata?.name} from 1 to 0`,
    ]);
  });

  it('scales down unavailable old pods first, without counting them against availability', () => {
    const w = rolledOut();
    const old = w.byImage('nginx:1')?.metadata?.name ?? '';
    w.settle({ [old]: 2 }); // two old pods crashed
    w.update({ template: deployment({ image: 'nginx:2' }).spec?.template });
    w.sync();
    // New RS at 1 (surge); then allPods 5 - minAvailable 3 - 1 new unavailable = 1 may go: an unhealthy old one.
    expect([w.size('nginx:1'), w.size('nginx:2')]).toEqual([3, 1]);
  });
});

describe('planRollout: stale ReplicaSet status', () => {
  it('scales nothing down while an old ReplicaSet still reports more available pods than its spec (never scales it up)', () => {
    const w = rolledOut();
    w.update({ template: deployment({ image: 'nginx:2' }).spec?.template });
    w.sync();
    w.settle();
    const old = w.byImage('nginx:1') as ReplicaSet;
    // The old ReplicaSet was just scaled to 2, but its status (written before) still says 3 available.
    old.spec = { ...old.spec, selector: old.spec?.selector ?? {}, replicas: 2 };
    old.status = { replicas: 3, readyReplicas: 3, availableReplicas: 3 };
    const fresh = w.byImage('nginx:2') as ReplicaSet;
    fresh.spec = { ...fresh.spec, selector: fresh.spec?.selector ?? {}, replicas: 3 };
    fresh.status = { replicas: 3, readyReplicas: 2, availableReplicas: 2 };
    const plan = w.sync();
    const oldWrites = plan.actions.filter((a) => a.type === 'updateReplicaSet' && a.rs.metadata?.name === old.metadata?.name);
    expect(oldWrites.map((a) => a.type === 'updateReplicaSet' && a.rs.spec?.replicas)).toEqual([]);
    expect(w.size('nginx:1') + w.size('nginx:2')).toBeLessThanOrEqual(5);
  });
});

describe('planRollout: Recreate', () => {
  it('scales old ReplicaSets to 0, waits until their pods are gone, then creates the new one at full size', () => {
    const w = rolledOut({ strategy: 'Recreate', replicas: 3 });
    const old = w.byImage('nginx:1') as ReplicaSet;
    w.update({ template: deployment({ image: 'nginx:2' }).spec?.template });
    w.sync();
    expect([w.size('nginx:1'), w.byImage('nginx:2')]).toEqual([0, undefined]);
    w.settle();
    // The RS reports 0, but a terminating pod of it is still there.
    w.pods = [{ metadata: { name: 'p', namespace: 'default', labels: { app: 'web' }, deletionTimestamp: iso(0),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: old.metadata?.name ?? '', uid: old.metadata?.uid ?? '', controller: true }] },
    spec: { containers: [] }, status: { phase: 'Running' } }];
    w.sync();
    expect(w.byImage('nginx:2')).toBeUndefined();
    w.pods = [];
    w.sync();
    expect(w.size('nginx:2')).toBe(3);
    expect(w.events.at(-1)).toBe(`Scaled up replica set ${w.byImage('nginx:2')?.metadata?.name} from 0 to 3`);
  });
});

describe('planRollout: paused, scaled, rolled back, cleaned up', () => {
  it('makes no rollout progress while paused, but applies a new replica count', () => {
    const w = rolledOut();
    w.update({ paused: true, template: deployment({ image: 'nginx:2' }).spec?.template });
    const plan = w.sync();
    expect(w.byImage('nginx:2')).toBeUndefined();
    expect(plan.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' });
    w.update({ replicas: 6 });
    w.sync();
    expect([w.size('nginx:1'), w.byImage('nginx:2')]).toEqual([6, undefined]);
    w.update({ paused: false });
    w.settle({ [w.byImage('nginx:1')?.metadata?.name ?? '']: 6 });
    const resumed = w.sync();
    expect(w.size('nginx:2')).toBeGreaterThan(0);
    expect(resumed.status?.conditions?.find((c) => c.type === 'Progressing')?.reason).toMatch(/NewReplicaSetCreated|ReplicaSetUpdated/);
  });

  it('scales old and new ReplicaSets proportionally when resized mid-rollout', () => {
    const w = rolledOut();
    w.update({ template: deployment({ image: 'nginx:2' }).spec?.template });
    w.sync();
    w.settle();
    w.sync();
    w.settle();
    expect([w.size('nginx:1'), w.size('nginx:2')]).toEqual([3, 2]);
    w.update({ replicas: 8 });
    w.sync();
    // 8 + surge 1 = 9 allowed, 4 to add: 3·9/5 → 5 and 2·9/5 → 4.
    expect([w.size('nginx:1'), w.size('nginx:2')]).toEqual([5, 4]);
    expect(w.byImage('nginx:1')?.metadata?.annotations?.['deployment.kubernetes.io/desired-replicas']).toBe('8');
  });

  it('rolls back by reusing the old ReplicaSet with a new revision and keeping its old one in revision-history', () => {
    const w = rolledOut();
    w.update({ template: deployment({ image: 'nginx:2' }).spec?.template });
    for (let i = 0; i < 8; i++) { w.sync(); w.settle({ [w.byImage('nginx:2')?.metadata?.name ?? '']: 4 }); }
    expect([w.size('nginx:1'), w.size('nginx:2')]).toEqual([0, 4]);
    const first = w.byImage('nginx:1')?.metadata?.name;
    // `rollout undo`: the CLI copies the old template back.
    w.update({ template: deployment({ image: 'nginx:1' }).spec?.template });
    const plan = w.sync();
    expect(plan.newReplicaSet).toBe(first);
    expect(w.byImage('nginx:1')?.metadata?.annotations).toMatchObject({ [REVISION]: '3', [REVISION_HISTORY]: '1' });
    expect(w.d.metadata?.annotations?.[REVISION]).toBe('3');
    expect(w.size('nginx:1')).toBe(1);
  });

  it('deletes the oldest empty ReplicaSets beyond revisionHistoryLimit once the rollout is complete', () => {
    const w = rolledOut({ limit: 1 });
    for (const image of ['nginx:2', 'nginx:3']) {
      w.update({ template: deployment({ image }).spec?.template });
      for (let i = 0; i < 10; i++) { w.sync(); w.settle({ [w.byImage(image)?.metadata?.name ?? '']: 4 }); }
    }
    expect([...w.sets.values()].map((rs) => rs.spec?.template?.spec?.containers[0].image).sort()).toEqual(['nginx:2', 'nginx:3']);
  });
});

describe('planRollout: conditions over time', () => {
  it('times out with ProgressDeadlineExceeded when nothing moves for progressDeadlineSeconds, and asks to be synced then', () => {
    const w = new World(deployment({ replicas: 2, deadline: 30 }));
    w.sync();
    w.settle();
    const waiting = w.sync();
    expect(waiting.requeueAfterMs).toBeGreaterThan(25_000);
    expect(waiting.requeueAfterMs).toBeLessThanOrEqual(30_000);
    w.t = 40;
    const late = w.sync();
    expect(late.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({
      status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${w.byImage('nginx:1')?.metadata?.name}" has timed out progressing.`,
    });
    // Once the timeout is recorded, there is nothing left to wait for.
    expect(w.sync().requeueAfterMs).toBeUndefined();
  });

  it('warns and does nothing else for a selector that selects everything', () => {
    const d = deployment();
    d.spec = { ...d.spec, selector: {} } as Deployment['spec'];
    const plan = planRollout(d, [], [], at(0));
    expect(plan.actions).toEqual([]);
    expect(plan.warning?.reason).toBe('SelectingAll');
  });

  it('adopts an orphan ReplicaSet its selector matches and releases an owned one that no longer matches', () => {
    const orphan: ReplicaSet = { metadata: { name: 'orphan', namespace: 'default', uid: 'o', labels: { app: 'web' } }, spec: { replicas: 0, selector: {} } };
    const stray: ReplicaSet = {
      metadata: { name: 'stray', namespace: 'default', uid: 's', labels: { app: 'other' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true }] },
      spec: { replicas: 0, selector: {} },
    };
    const plan = planRollout(deployment(), [orphan, stray], [], at(0));
    expect(plan.adopt.map((r) => r.metadata?.name)).toEqual(['orphan']);
    expect(plan.release.map((r) => r.metadata?.name)).toEqual(['stray']);
  });
});
