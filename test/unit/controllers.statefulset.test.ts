import { describe, expect, it } from 'vitest';
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import { applyStatefulSetDefaults } from '../../src/api/workloadsdefaults.js';
import { validateStatefulSet } from '../../src/api/workloadsvalidation.js';
import type { PersistentVolumeClaim as V1PVC } from 'kubernetes-types/core/v1.js';
import {
  claimNotUsable, claimOwnerReferences, claimsFor, isCondemned, ordinalOf, planStatefulSet, statefulPodFor, type ClaimObject,
} from '../../src/controllers/statefulsetutil.js';
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

/** A set whose containers mount the claim template `www` at /data. */
function withClaims(templates: V1PVC[] = [{ metadata: { name: 'www', labels: { tier: 'db' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
  policy?: { whenDeleted?: string; whenScaled?: string }): Partial<NonNullable<StatefulSet['spec']>> {
  return {
    volumeClaimTemplates: templates,
    ...(policy ? { persistentVolumeClaimRetentionPolicy: policy } : {}),
    template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx', volumeMounts: [{ name: 'www', mountPath: '/data' }] }] } },
  };
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

  it('accepts a claim template the containers mount by its name, and defaults it as a claim', () => {
    const s = ss(withClaims());
    expect(validateStatefulSet(s)).toEqual([]);
    expect(s.spec?.volumeClaimTemplates?.[0]).toMatchObject({ spec: { volumeMode: 'Filesystem' }, status: { phase: 'Pending' } });
  });

  it.each([
    ['a template without a name', { metadata: {} }, 'spec.volumeClaimTemplates[0].metadata.name', 'Required value'],
    ['a template name that is no DNS label', { metadata: { name: 'W_W' } }, 'spec.volumeClaimTemplates[0].metadata.name', 'Invalid value: "W_W"'],
    ['no access modes', { spec: { accessModes: [] } }, 'spec.volumeClaimTemplates[0].spec.accessModes', 'Required value'],
    ['an unknown access mode', { spec: { accessModes: ['Sometimes'] } }, 'spec.volumeClaimTemplates[0].spec.accessModes', 'Unsupported value: "Sometimes"'],
    ['no storage request', { spec: { accessModes: ['ReadWriteOnce'], resources: {} } }, 'spec.volumeClaimTemplates[0].spec.resources[storage]', 'Required value'],
  ])('refuses %s with its field path', (_n, patch, field, message) => {
    const t = { metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
    const tmpl = { ...t, ...patch, spec: { ...t.spec, ...(patch as { spec?: object }).spec } };
    const errs = validateStatefulSet(ss(withClaims([tmpl as V1PVC])));
    expect(errs.find((e) => e.field === field)?.message).toContain(message);
  });

  it('refuses a mount of a volume that is neither in the template nor a claim template', () => {
    const s = ss(withClaims());
    s.spec!.template.spec!.containers[0].volumeMounts = [{ name: 'nope', mountPath: '/x' }];
    expect(validateStatefulSet(s).map((e) => e.field)).toEqual(['spec.template.spec.containers[0].volumeMounts[0].name']);
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

describe('volumeClaimTemplates: the claims of each pod', () => {
  it('names each claim <template>-<set>-<ordinal>, labelled with the selector, in the set\'s namespace', () => {
    const claims = claimsFor(ss(withClaims()), 2);
    expect([...claims.keys()]).toEqual(['www']);
    expect(claims.get('www')).toMatchObject({
      apiVersion: 'v1', kind: 'PersistentVolumeClaim',
      metadata: { name: 'www-web-2', namespace: 'default', labels: { app: 'nginx', tier: 'db' } },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    expect(claims.get('www')?.status).toBeUndefined();
    expect(claims.get('www')?.metadata?.ownerReferences).toBeUndefined();
  });

  it('gives the pod one persistentVolumeClaim volume per template, replacing a template volume of that name', () => {
    const spec = withClaims();
    spec.template!.spec!.volumes = [{ name: 'www', emptyDir: {} }, { name: 'tmp', emptyDir: {} }];
    const p = statefulPodFor(ss(spec), ss(spec).spec?.template, 1, 'web-a');
    expect(p.spec?.volumes).toEqual([{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-1' } }, { name: 'tmp', emptyDir: {} }]);
  });

  it('lets the set own new claims only when whenDeleted is Delete', () => {
    expect(claimsFor(ss(withClaims(undefined, { whenDeleted: 'Delete' })), 0).get('www')?.metadata?.ownerReferences)
      .toEqual([{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'ss-uid', controller: true, blockOwnerDeletion: true }]);
  });

  const setRef = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'ss-uid', controller: true, blockOwnerDeletion: true };
  const podRef = { apiVersion: 'v1', kind: 'Pod', name: 'web-2', uid: 'u2' };
  const other = { apiVersion: 'v1', kind: 'ConfigMap', name: 'keep', uid: 'cm' };
  it.each([
    ['Retain/Retain keeps neither', 'Retain', 'Retain', false, [setRef, podRef, other], [other]],
    ['whenDeleted=Delete: the set', 'Delete', 'Retain', false, [other], [other, setRef]],
    ['whenDeleted=Delete, scaled away: still the set', 'Delete', 'Retain', true, [], [setRef]],
    ['whenScaled=Delete, in range: nobody', 'Retain', 'Delete', false, [podRef], []],
    ['whenScaled=Delete, scaled away: the pod', 'Retain', 'Delete', true, [], [podRef]],
    ['Delete/Delete, in range: the set', 'Delete', 'Delete', false, [podRef], [setRef]],
    ['Delete/Delete, scaled away: the pod instead of the set', 'Delete', 'Delete', true, [setRef], [podRef]],
  ])('%s', (_n, whenDeleted, whenScaled, condemned, current, want) => {
    const s = ss(withClaims(undefined, { whenDeleted, whenScaled }));
    expect(claimOwnerReferences(current, s, pod(s, 2), condemned)).toEqual(want);
  });

  it('knows which ordinals are scaled away', () => {
    const s = ss({ replicas: 2, ordinals: { start: 1 } });
    expect([0, 1, 2, 3].map((o) => isCondemned(s, o))).toEqual([true, false, false, true]);
  });

  it.each([
    ['a claim being deleted', { deletionTimestamp: '2026-01-01T00:00:00Z' }, 'pvc www-web-2 is being deleted'],
    ['a claim an earlier pod of that name owns', { ownerReferences: [podRef] }, 'still owned by an earlier pod web-2'],
    ['a claim the set owns', { ownerReferences: [setRef] }, undefined],
  ])('makes the pod wait for %s: %s', (_n, meta, want) => {
    const claim = { metadata: { name: 'www-web-2', ...meta } } as ClaimObject;
    const why = claimNotUsable(claim, 'web-2');
    if (want === undefined) expect(why).toBeUndefined();
    else expect(why).toContain(want);
  });
});
