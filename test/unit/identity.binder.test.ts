/**
 * The PV controller's planners and the provisioner's plan as tables: which volume a claim
 * binds to, when it waits or asks a provisioner, and what becomes of a volume whose claim went.
 */
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { describe, expect, it } from 'vitest';
import { findBestMatch, planClaim, planVolume, WAIT_FOR_FIRST_CONSUMER_MESSAGE } from '../../src/controllers/volume/binder.js';
import { defaultStorageClass, planProvision, shouldDelete } from '../../src/controllers/volume/provisioner.js';

const claim = (over: Partial<PersistentVolumeClaim['spec']> = {}, annotations: Record<string, string> = {}, extra: Partial<PersistentVolumeClaim> = {}): PersistentVolumeClaim => ({
  metadata: { name: 'data', namespace: 'default', uid: 'claim-uid', annotations },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem', ...over },
  status: { phase: 'Pending' },
  ...extra,
});
const pv = (name: string, storage: string, over: Partial<PersistentVolume['spec']> = {}, phase = 'Available', labels: Record<string, string> = {}): PersistentVolume => ({
  metadata: { name, labels },
  spec: { capacity: { storage }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], hostPath: { path: `/tmp/${name}` }, volumeMode: 'Filesystem', persistentVolumeReclaimPolicy: 'Retain', ...over },
  status: { phase },
});
const standard = defaultStorageClass();
const immediate: StorageClass = { metadata: { name: 'fast' }, provisioner: 'minikube-lite.io/hostpath', volumeBindingMode: 'Immediate', reclaimPolicy: 'Delete' };

describe('findBestMatch', () => {
  const cases: { name: string; claim: PersistentVolumeClaim; volumes: PersistentVolume[]; want?: string }[] = [
    { name: 'picks the smallest volume that is big enough', claim: claim({ storageClassName: '' }), volumes: [pv('big', '10Gi'), pv('small', '500Mi'), pv('fits', '2Gi')], want: 'fits' },
    { name: 'needs every requested access mode', claim: claim({ storageClassName: '', accessModes: ['ReadWriteMany'] }), volumes: [pv('rwo', '5Gi')] },
    { name: 'needs the same class', claim: claim({ storageClassName: 'gold' }), volumes: [pv('plain', '5Gi'), pv('gold', '5Gi', { storageClassName: 'gold' })], want: 'gold' },
    { name: 'skips volumes claimed by others', claim: claim({ storageClassName: '' }), volumes: [pv('taken', '5Gi', { claimRef: { name: 'other', namespace: 'default', uid: 'x' } }, 'Bound')] },
    { name: 'prefers a volume pre-bound to the claim', claim: claim({ storageClassName: '' }), volumes: [pv('free', '1Gi'), pv('mine', '9Gi', { claimRef: { name: 'data', namespace: 'default' } })], want: 'mine' },
    { name: 'honours the claim\'s selector', claim: claim({ storageClassName: '', selector: { matchLabels: { tier: 'db' } } }), volumes: [pv('plain', '1Gi'), pv('db', '5Gi', {}, 'Available', { tier: 'db' })], want: 'db' },
    { name: 'skips Released volumes', claim: claim({ storageClassName: '' }), volumes: [pv('old', '5Gi', {}, 'Released')] },
  ];
  for (const tc of cases) it(tc.name, () => expect(findBestMatch(tc.claim, tc.volumes)?.metadata?.name).toBe(tc.want));
});

describe('planClaim', () => {
  it('waits for a first consumer in a WaitForFirstConsumer class', () => {
    expect(planClaim(claim({ storageClassName: 'standard' }), [], [standard])).toEqual({
      action: 'none', event: { type: 'Normal', reason: 'WaitForFirstConsumer', message: WAIT_FOR_FIRST_CONSUMER_MESSAGE },
    });
  });
  it('asks the class\'s provisioner once a node is selected', () => {
    const plan = planClaim(claim({ storageClassName: 'standard' }, { 'volume.kubernetes.io/selected-node': 'node-1' }), [], [standard]);
    expect(plan).toMatchObject({ action: 'provision', provisioner: 'minikube-lite.io/hostpath', event: { reason: 'ExternalProvisioning' } });
  });
  it('asks the provisioner at once for an Immediate class', () => {
    expect(planClaim(claim({ storageClassName: 'fast' }), [], [immediate])).toMatchObject({ action: 'provision' });
  });
  it('binds a matching static volume of an Immediate class', () => {
    expect(planClaim(claim({ storageClassName: 'fast' }), [pv('static', '1Gi', { storageClassName: 'fast' })], [immediate])).toEqual({ action: 'bind', volume: 'static' });
  });
  it('reports an unknown class as ProvisioningFailed', () => {
    expect(planClaim(claim({ storageClassName: 'nope' }), [], [])).toEqual({
      action: 'none', event: { type: 'Warning', reason: 'ProvisioningFailed', message: 'storageclass.storage.k8s.io "nope" not found' },
    });
  });
  it('says FailedBinding when no class and no volume fit', () => {
    expect(planClaim(claim({ storageClassName: '' }), [], [])).toMatchObject({ action: 'none', event: { reason: 'FailedBinding' } });
  });
  it('completes a half-done binding', () => {
    const v = pv('v', '1Gi', { claimRef: { name: 'data', namespace: 'default', uid: 'claim-uid' } }, 'Bound');
    expect(planClaim(claim({ storageClassName: '', volumeName: 'v' }), [v], [])).toEqual({ action: 'bind', volume: 'v' });
  });
  it('does nothing for a fully bound claim', () => {
    const v = pv('v', '1Gi', { claimRef: { name: 'data', namespace: 'default', uid: 'claim-uid' } }, 'Bound');
    const c = claim({ storageClassName: '', volumeName: 'v' }, { 'pv.kubernetes.io/bind-completed': 'yes' }, { status: { phase: 'Bound' } });
    expect(planClaim(c, [v], [])).toEqual({ action: 'none' });
  });
  it('marks a bound claim whose volume is gone Lost', () => {
    const c = claim({ storageClassName: '', volumeName: 'gone' }, {}, { status: { phase: 'Bound' } });
    expect(planClaim(c, [], [])).toMatchObject({ action: 'lost', event: { reason: 'ClaimLost' } });
  });
});

describe('planVolume', () => {
  const bound = (policy: string, annotations: Record<string, string> = {}, phase = 'Bound'): PersistentVolume => ({
    ...pv('v', '1Gi', { persistentVolumeReclaimPolicy: policy, claimRef: { name: 'data', namespace: 'default', uid: 'claim-uid' } }, phase),
    metadata: { name: 'v', annotations },
  });
  const live = claim({ volumeName: 'v' });
  const cases: { name: string; volume: PersistentVolume; claim?: PersistentVolumeClaim; want: unknown }[] = [
    { name: 'a new unclaimed volume becomes Available', volume: pv('v', '1Gi', {}, 'Pending'), want: { action: 'phase', phase: 'Available' } },
    { name: 'a volume whose claim names it is Bound', volume: bound('Retain', {}, 'Available'), claim: live, want: { action: 'phase', phase: 'Bound' } },
    { name: 'a volume whose claim is gone is Released', volume: bound('Retain'), want: { action: 'phase', phase: 'Released' } },
    { name: 'a claim of the same name but another uid counts as gone', volume: bound('Retain'), claim: { ...live, metadata: { ...live.metadata, uid: 'new' } }, want: { action: 'phase', phase: 'Released' } },
    { name: 'a Released Retain volume stays Released', volume: bound('Retain', {}, 'Released'), want: { action: 'none' } },
    { name: 'a Released provisioned Delete volume is left to its provisioner', volume: bound('Delete', { 'pv.kubernetes.io/provisioned-by': 'minikube-lite.io/hostpath' }, 'Released'), want: { action: 'none' } },
    { name: 'a Released static Delete volume fails: nothing can delete it', volume: bound('Delete', {}, 'Released'),
      want: { action: 'phase', phase: 'Failed', message: 'error getting deleter volume plugin for volume "v": no deletable volume plugin matched', event: { type: 'Warning', reason: 'VolumeFailedDelete', message: 'error getting deleter volume plugin for volume "v": no deletable volume plugin matched' } } },
  ];
  for (const tc of cases) it(tc.name, () => expect(planVolume(tc.volume, tc.claim)).toEqual(tc.want));
});

describe('host-path provisioner plan', () => {
  const handed = (extra: Record<string, string> = {}) => claim({ storageClassName: 'standard' }, { 'volume.kubernetes.io/storage-provisioner': 'minikube-lite.io/hostpath', ...extra });
  it('waits for the selected node in a WaitForFirstConsumer class', () => {
    expect(planProvision(handed(), standard, undefined)).toEqual({ action: 'skip' });
  });
  it('makes a pre-bound hostPath volume with the class\'s policy', () => {
    const plan = planProvision(handed({ 'volume.kubernetes.io/selected-node': 'node-1' }), standard, undefined);
    if (plan.action !== 'provision') throw new Error(`plan: ${plan.action}`);
    expect(plan.directory).toBe('pvc-claim-uid_default_data');
    expect(plan.volume('/v/pvc-claim-uid_default_data')).toMatchObject({
      metadata: { name: 'pvc-claim-uid', annotations: { 'pv.kubernetes.io/provisioned-by': 'minikube-lite.io/hostpath' } },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'standard',
        claimRef: { name: 'data', namespace: 'default', uid: 'claim-uid' }, hostPath: { path: '/v/pvc-claim-uid_default_data' } },
    });
  });
  it('refuses claims with a selector', () => {
    const c = { ...handed({ 'volume.kubernetes.io/selected-node': 'n' }), spec: { ...handed().spec, selector: { matchLabels: { a: 'b' } } } };
    expect(planProvision(c, standard, undefined)).toEqual({ action: 'fail', message: 'claim Selector is not supported' });
  });
  it('leaves claims of other provisioners alone', () => {
    expect(planProvision(claim({ storageClassName: 'standard' }, { 'volume.kubernetes.io/storage-provisioner': 'ebs.csi.aws.com' }), standard, undefined)).toEqual({ action: 'skip' });
  });
  it('deletes only its own Released Delete volumes', () => {
    const mine = (phase: string, policy = 'Delete'): PersistentVolume => ({ ...pv('p', '1Gi', { persistentVolumeReclaimPolicy: policy }, phase), metadata: { name: 'p', annotations: { 'pv.kubernetes.io/provisioned-by': 'minikube-lite.io/hostpath' } } });
    expect(shouldDelete(mine('Released'))).toBe(true);
    expect(shouldDelete(mine('Bound'))).toBe(false);
    expect(shouldDelete(mine('Released', 'Retain'))).toBe(false);
    expect(shouldDelete(pv('static', '1Gi', { persistentVolumeReclaimPolicy: 'Delete' }, 'Released'))).toBe(false);
  });
});
