/**
 * The scheduler's VolumeBinding check as a table: missing, terminating and unbound claims keep
 * the pod unschedulable with Kubernetes' reasons; WaitForFirstConsumer claims are handed back
 * for provisioning; bound local volumes restrict the nodes.
 */
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/types.js';
import { newNodeInfo } from '../../src/scheduler/framework.js';
import { checkPodClaims, volumeNodeAffinityFilter } from '../../src/scheduler/volumebinding.js';

const pod = (...claims: string[]): Pod => ({
  metadata: { name: 'p', namespace: 'default' },
  spec: { containers: [{ name: 'c', image: 'busybox' }], volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })) },
});
const claim = (name: string, cls: string, bound = false, deleting = false): PersistentVolumeClaim => ({
  metadata: { name, namespace: 'default', ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: { storageClassName: cls, ...(bound ? { volumeName: `pv-${name}` } : {}) },
  status: { phase: bound ? 'Bound' : 'Pending' },
});
const classes: Record<string, StorageClass> = {
  wffc: { metadata: { name: 'wffc' }, provisioner: 'p', volumeBindingMode: 'WaitForFirstConsumer' },
  now: { metadata: { name: 'now' }, provisioner: 'p', volumeBindingMode: 'Immediate' },
};
const local: PersistentVolume = {
  metadata: { name: 'pv-local' },
  spec: { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-2'] }] }] } } },
};

const cases: { name: string; pod: Pod; claims: PersistentVolumeClaim[]; want: unknown }[] = [
  { name: 'a pod without claims is fine', pod: pod(), claims: [], want: { ok: true, delayed: [], nodeAffinity: [] } },
  { name: 'a missing claim is named', pod: pod('gone'), claims: [], want: { ok: false, reason: 'persistentvolumeclaim "gone" not found' } },
  { name: 'a terminating claim is named', pod: pod('old'), claims: [claim('old', 'now', true, true)], want: { ok: false, reason: 'persistentvolumeclaim "old" is being deleted' } },
  { name: 'an unbound Immediate claim blocks', pod: pod('a'), claims: [claim('a', 'now')], want: { ok: false, reason: 'pod has unbound immediate PersistentVolumeClaims' } },
  { name: 'an unbound claim without class blocks', pod: pod('a'), claims: [claim('a', '')], want: { ok: false, reason: 'pod has unbound immediate PersistentVolumeClaims' } },
  { name: 'an unknown class is named', pod: pod('a'), claims: [claim('a', 'gold')], want: { ok: false, reason: 'storageclass.storage.k8s.io "gold" not found' } },
  { name: 'an unbound WaitForFirstConsumer claim is to be provisioned', pod: pod('a', 'b'), claims: [claim('a', 'wffc'), claim('b', 'now', true)], want: { ok: true, delayed: ['a'], nodeAffinity: [] } },
  { name: 'a bound local volume brings its node affinity', pod: pod('l'), claims: [{ ...claim('l', '', true), spec: { volumeName: 'pv-local' } }],
    want: { ok: true, delayed: [], nodeAffinity: [local.spec?.nodeAffinity?.required] } },
];

describe('VolumeBinding pre-filter', () => {
  for (const tc of cases) {
    it(tc.name, () => {
      const byName = new Map(tc.claims.map((c) => [c.metadata?.name, c]));
      expect(checkPodClaims(tc.pod, (n) => byName.get(n), (n) => classes[n], (n) => (n === 'pv-local' ? local : undefined))).toEqual(tc.want);
    });
  }
  it('the node affinity filter keeps the pod on the volume\'s node', () => {
    const f = volumeNodeAffinityFilter([local.spec?.nodeAffinity?.required ?? {}]);
    const node = (name: string) => newNodeInfo({ metadata: { name, labels: { 'kubernetes.io/hostname': name } } }, []);
    expect(f.filter(pod(), node('node-2'))).toEqual({ ok: true });
    expect(f.filter(pod(), node('node-1'))).toEqual({ ok: false, reason: 'node(s) had volume node affinity conflict' });
  });
});
