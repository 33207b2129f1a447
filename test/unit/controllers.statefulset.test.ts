import { describe, expect, it } from 'vitest';
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import { applyStatefulSetDefaults } from '../../src/api/workloadsdefaults.js';
import { validateStatefulSet } from '../../src/api/workloadsvalidation.js';
import { ordinalOf, planStatefulSet, statefulPodFor } from '../../src/controllers/statefulsetutil.js';
import type { PodObject } from '../../src/controllers/types.js';

const NOW = new Date('2026-01-01T00:10:00Z');
const REV = { current: 'web-a', update: 'web-a' };

function ss(spec: Partial<NonNullable<StatefulSet['spec']>> = {}): StatefulSet {
  const s: StatefulSet = {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', namespace: 'default', uid: 'ss-uid', generation: 1 },
    spec: {
      serviceName: 'nginx', replicas: 3,
      selector: { matchLabels: { app: 'nginx' } },
      template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } },
      ...spec,
    } as NonNullable<StatefulSet['spec']>,
  };
  applyStatefulSetDefaults(s);
  return s;
}

function pod(s: StatefulSet, ordinal: number, o: { ready?: boolean; rev?: string; deleting?: boolean } = {}): PodObject {
  const p = statefulPodFor(s, s.spec?.template, ordinal, o.rev ?? 'web-a');
  p.metadata = { ...p.metadata, uid: `u${ordinal}`, ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:09:00Z' } : {}) };
  p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] };
  return p;
}

const created = (plan: ReturnType<typeof planStatefulSet>) => plan.create.map((c) => c.ordinal);
const deleted = (plan: ReturnType<typeof planStatefulSet>) => plan.delete.map((p) => p.metadata?.name);

describe('StatefulSet defaults and validation', () => {
  it('defaults OrderedReady, RollingUpdate with partition 0, Retain/Retain', () => {
    expect(ss().spec).toMatchObject({
      podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }, revisionHistoryLimit: 10,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
    });
    expect(validateStatefulSet(ss())).toEqual([]);
  });

  it('refuses volumeClaimTemplates with a 422 cause while PVCs are not served', () => {
    const errs = validateStatefulSet(ss({ volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'] } }] }));
    expect(errs.map((e) => e.field)).toEqual(['spec.volumeClaimTemplates']);
  });

  it('allows changing replicas and template, but not the selector or serviceName', () => {
    const old = ss();
    const next = structuredClone(old);
    next.spec!.replicas = 5;
    expect(validateStatefulSet(next, old)).toEqual([]);
    next.spec!.serviceName = 'other';
    expect(validateStatefulSet(next, old).map((e) => e.message)[0]).toMatch(/^Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template'/);
  });

  it('names, labels and places pods as Kubernetes does', () => {
    const p = statefulPodFor(ss(), ss().spec?.template, 2, 'web-abc');
    expect(p.metadata).toMatchObject({ name: 'web-2', labels: { app: 'nginx', 'statefulset.kubernetes.io/pod-name': 'web-2', 'apps.kubernetes.io/pod-index': '2', 'controller-revision-hash': 'web-abc' } });
    expect(p.spec).toMatchObject({ hostname: 'web-2', subdomain: 'nginx' });
    expect([ordinalOf('web', 'web-12'), ordinalOf('web', 'web-x'), ordinalOf('web', 'webby-1'), ordinalOf('web', 'web-01')]).toEqual([12, undefined, undefined, undefined]);
  });
});

describe('planStatefulSet', () => {
  it('creates 0, then 1 only once 0 is Running and Ready, then 2 (OrderedReady)', () => {
    const s = ss();
    expect(created(planStatefulSet(s, [], REV, NOW))).toEqual([0]);
    expect(created(planStatefulSet(s, [pod(s, 0, { ready: false })], REV, NOW))).toEqual([]);
    expect(created(planStatefulSet(s, [pod(s, 0)], REV, NOW))).toEqual([1]);
    expect(created(planStatefulSet(s, [pod(s, 0), pod(s, 1)], REV, NOW))).toEqual([2]);
  });

  it('creates every missing pod at once with Parallel', () => {
    expect(created(planStatefulSet(ss({ podManagementPolicy: 'Parallel' }), [], REV, NOW))).toEqual([0, 1, 2]);
  });

  it('starts from ordinals.start', () => {
    expect(created(planStatefulSet(ss({ ordinals: { start: 5 }, podManagementPolicy: 'Parallel' }), [], REV, NOW))).toEqual([5, 6, 7]);
  });

  it('scales down from the highest ordinal, one at a time, waiting for each to be gone', () => {
    const s = ss({ replicas: 1 });
    const all = [pod(s, 0), pod(s, 1), pod(s, 2)];
    expect(deleted(planStatefulSet(s, all, REV, NOW))).toEqual(['web-2']);
    expect(deleted(planStatefulSet(s, [pod(s, 0), pod(s, 1), pod(s, 2, { deleting: true })], REV, NOW))).toEqual([]);
    expect(deleted(planStatefulSet(s, [pod(s, 0), pod(s, 1)], REV, NOW))).toEqual(['web-1']);
  });

  it('rolls an update from the highest ordinal down to the partition, one at a time', () => {
    const s = ss({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } });
    const rev = { current: 'web-a', update: 'web-b' };
    const old = [pod(s, 0), pod(s, 1), pod(s, 2)];
    expect(deleted(planStatefulSet(s, old, rev, NOW))).toEqual(['web-2']);
    expect(deleted(planStatefulSet(s, [old[0], old[1], pod(s, 2, { rev: 'web-b' })], rev, NOW))).toEqual(['web-1']);
    // The partition keeps web-0 at the old revision; a recreated web-0 gets it too.
    expect(deleted(planStatefulSet(s, [old[0], pod(s, 1, { rev: 'web-b' }), pod(s, 2, { rev: 'web-b' })], rev, NOW))).toEqual([]);
    expect(planStatefulSet(s, [pod(s, 1, { rev: 'web-b' }), pod(s, 2, { rev: 'web-b' })], rev, NOW).create).toEqual([{ ordinal: 0, revision: 'current' }]);
  });

  it('leaves old pods alone under OnDelete', () => {
    const s = ss({ updateStrategy: { type: 'OnDelete' } });
    expect(deleted(planStatefulSet(s, [pod(s, 0), pod(s, 1), pod(s, 2)], { current: 'web-a', update: 'web-b' }, NOW))).toEqual([]);
  });

  it('reports counts and moves currentRevision once every pod is updated and ready', () => {
    const s = ss();
    const st = planStatefulSet(s, [pod(s, 0, { rev: 'web-b' }), pod(s, 1, { rev: 'web-b' }), pod(s, 2, { rev: 'web-b' })], { current: 'web-a', update: 'web-b' }, NOW).status;
    expect(st).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 3, currentReplicas: 3, currentRevision: 'web-b', updateRevision: 'web-b', observedGeneration: 1 });
  });
});
