/**
 * The host-path provisioner (in the manner of k3s's local-path provisioner and minikube's
 * storage-provisioner): an external provisioner for the StorageClasses whose `provisioner` is
 * `minikube-lite.io/hostpath`. For a claim the PV controller handed to it (annotation
 * `volume.kubernetes.io/storage-provisioner`), and, for WaitForFirstConsumer classes, once the
 * scheduler chose a node (`volume.kubernetes.io/selected-node`), it makes a directory on this
 * host and a `hostPath` PersistentVolume pre-bound to the claim; when such a volume is Released
 * with reclaim policy Delete, it removes the directory and the volume. It also ensures the
 * default StorageClass `standard` exists.
 *
 * The directory work is host I/O behind {@link HostDirectories}; everything else goes through
 * the API. Keys: `pvc:<namespace>/<name>` and `pv:<name>`.
 */
import type { PersistentVolume } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { ApiError } from '../../api/errors.js';
import { DEFAULT_CLASS_ANNOTATION } from '../../api/storagevalidation.js';
import { Controller, type ControllerContext } from '../base.js';
import { ANN_PROVISIONED_BY, ANN_STORAGE_PROVISIONER, SELECTED_NODE_ANNOTATION } from './binder.js';
import { PVCS, PVS, STORAGE_CLASSES, type PV, type PVC, type SC } from './pvcontroller.js';

export const HOSTPATH_PROVISIONER = 'minikube-lite.io/hostpath';
export const DEFAULT_STORAGE_CLASS = 'standard';

/** The host side of provisioning: directories for volumes. Implementations must be idempotent. */
export interface HostDirectories {
  /** Makes the directory `name` (writable by any container user) and returns its absolute path. */
  create(name: string): Promise<string>;
  /** Removes the directory at `path` with everything in it; absent is fine. */
  remove(path: string): Promise<void>;
  /** Whether `path` is one of this host's volume directories (so only those are ever removed). */
  owns(path: string): boolean;
}

/** The default class every cluster starts with. */
export function defaultStorageClass(): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
    metadata: { name: DEFAULT_STORAGE_CLASS, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' }, labels: { 'addonmanager.kubernetes.io/mode': 'EnsureExists' } },
    provisioner: HOSTPATH_PROVISIONER, reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer',
  };
}

/** What to do for one claim. */
export type ProvisionPlan =
  | { action: 'skip' }
  | { action: 'fail'; message: string }
  | { action: 'provision'; directory: string; volume: (path: string) => PersistentVolume };

/** The volume name Kubernetes' provisioners give a claim's volume: `pvc-<claim uid>`. */
export const volumeNameFor = (claim: PVC): string => `pvc-${claim.metadata?.uid ?? ''}`;

/** Pure: whether and how to provision a volume for `claim` of class `sc`. */
export function planProvision(claim: PVC, sc: SC | undefined, existing: PV | undefined): ProvisionPlan {
  const m = claim.metadata ?? {};
  if (m.deletionTimestamp || claim.spec?.volumeName || existing) return { action: 'skip' };
  if (m.annotations?.[ANN_STORAGE_PROVISIONER] !== HOSTPATH_PROVISIONER) return { action: 'skip' };
  if (!sc || sc.provisioner !== HOSTPATH_PROVISIONER) return { action: 'skip' };
  const selectedNode = m.annotations?.[SELECTED_NODE_ANNOTATION];
  if (sc.volumeBindingMode === 'WaitForFirstConsumer' && !selectedNode) return { action: 'skip' };
  if (claim.spec?.selector) return { action: 'fail', message: 'claim Selector is not supported' };
  const ns = m.namespace ?? '';
  const name = m.name ?? '';
  return {
    action: 'provision',
    directory: `${volumeNameFor(claim)}_${ns}_${name}`,
    volume: (path) => ({
      apiVersion: 'v1', kind: 'PersistentVolume',
      metadata: { name: volumeNameFor(claim), annotations: { [ANN_PROVISIONED_BY]: HOSTPATH_PROVISIONER } },
      spec: {
        capacity: { storage: claim.spec?.resources?.requests?.storage ?? '0' },
        accessModes: [...(claim.spec?.accessModes ?? [])],
        persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
        storageClassName: sc.metadata?.name ?? '',
        volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
        claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: ns, name, uid: m.uid, resourceVersion: m.resourceVersion },
        hostPath: { path, type: 'DirectoryOrCreate' },
      },
    }),
  };
}

/** Pure: whether `pv` is ours to delete now (Released, policy Delete, made by us). */
export const shouldDelete = (pv: PV): boolean =>
  pv.metadata?.annotations?.[ANN_PROVISIONED_BY] === HOSTPATH_PROVISIONER && pv.status?.phase === 'Released'
  && pv.spec?.persistentVolumeReclaimPolicy === 'Delete' && !pv.metadata?.deletionTimestamp;

export class HostPathProvisioner extends Controller {
  private readonly claims = this.informer<PVC>(PVCS);
  private readonly volumes = this.informer<PV>(PVS);
  private readonly classes = this.informer<SC>(STORAGE_CLASSES);

  constructor(ctx: ControllerContext, private readonly dirs: HostDirectories) {
    super('minikube-lite.io/hostpath', ctx, { workers: 1 });
    this.claims.addHandlers({ onAdd: (c) => this.enqueue(`pvc:${c.metadata?.namespace}/${c.metadata?.name}`), onUpdate: (_o, c) => this.enqueue(`pvc:${c.metadata?.namespace}/${c.metadata?.name}`) });
    this.volumes.addHandlers({ onAdd: (v) => this.enqueue(`pv:${v.metadata?.name}`), onUpdate: (_o, v) => this.enqueue(`pv:${v.metadata?.name}`) });
  }

  /** Creates the default StorageClass unless it exists (or was replaced by the user). */
  async ensureDefaultClass(): Promise<void> {
    try {
      await this.client.create<SC>(STORAGE_CLASSES, defaultStorageClass());
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e;
    }
  }

  override async start(): Promise<void> {
    await this.ensureDefaultClass();
    await super.start();
  }

  protected async sync(key: string): Promise<void> {
    if (key.startsWith('pvc:')) await this.syncClaim(key.slice(4));
    else if (key.startsWith('pv:')) await this.syncVolume(key.slice(3));
  }

  private async syncClaim(nsName: string): Promise<void> {
    const claim = this.claims.get(nsName);
    if (!claim) return;
    const className = claim.spec?.storageClassName ?? '';
    const sc = className ? this.classes.get(className) : undefined;
    const plan = planProvision(claim, sc, this.volumes.get(volumeNameFor(claim)));
    const ref = { ...claim, kind: 'PersistentVolumeClaim', apiVersion: 'v1' };
    if (plan.action === 'skip') return;
    if (plan.action === 'fail') {
      void this.recorder.event(ref, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass ${JSON.stringify(className)}: ${plan.message}`);
      return;
    }
    void this.recorder.event(ref, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim ${JSON.stringify(nsName)}`);
    let path: string;
    try {
      path = await this.dirs.create(plan.directory);
    } catch (e) {
      void this.recorder.event(ref, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass ${JSON.stringify(className)}: ${(e as Error).message}`);
      throw e;
    }
    try {
      await this.client.create<PV>(PVS, plan.volume(path));
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e;
    }
    void this.recorder.event(ref, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${volumeNameFor(claim)}`);
  }

  private async syncVolume(name: string): Promise<void> {
    const pv = this.volumes.get(name);
    if (!pv || !shouldDelete(pv)) return;
    const path = pv.spec?.hostPath?.path ?? '';
    if (path && this.dirs.owns(path)) await this.dirs.remove(path);
    try {
      await this.client.delete(PVS, name);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }
}
