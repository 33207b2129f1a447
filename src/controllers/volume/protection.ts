/**
 * The PVC protection controller (Kubernetes' `pvc-protection-controller`): a claim being
 * deleted keeps its `kubernetes.io/pvc-protection` finalizer while a pod that has not finished
 * uses it, so its volume is not released under a running pod. Keys are claim keys.
 */
import type { KubeObject, Pod } from '../../api/types.js';
import { PODS } from '../../client/client.js';
import { Controller, type ControllerContext } from '../base.js';
import { PVCS, type PVC } from './pvcontroller.js';

export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';

/** Whether `pod` (not finished) mounts claim `name` of its namespace. */
export function podUsesClaim(pod: Pod, namespace: string, name: string): boolean {
  if (pod.metadata?.namespace !== namespace) return false;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  return (pod.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === name);
}

export class PVCProtectionController extends Controller {
  private readonly claims = this.informer<PVC>(PVCS);
  private readonly pods = this.informer<Pod & KubeObject>(PODS);

  constructor(ctx: ControllerContext) {
    super('pvc-protection-controller', ctx, { workers: 1 });
    const onClaim = (c: PVC) => {
      if (c.metadata?.deletionTimestamp) this.enqueue(c);
    };
    this.claims.addHandlers({ onAdd: onClaim, onUpdate: (_o, c) => onClaim(c) });
    const onPod = (p: Pod) => {
      for (const v of p.spec?.volumes ?? []) {
        if (v.persistentVolumeClaim) this.enqueue(`${p.metadata?.namespace ?? ''}/${v.persistentVolumeClaim.claimName}`);
      }
    };
    this.pods.addHandlers({ onUpdate: (_o, p) => onPod(p), onDelete: onPod });
  }

  protected async sync(key: string): Promise<void> {
    const claim = this.claims.get(key);
    const finalizers = claim?.metadata?.finalizers ?? [];
    if (!claim?.metadata?.deletionTimestamp || !finalizers.includes(PVC_PROTECTION_FINALIZER)) return;
    const ns = claim.metadata.namespace ?? '';
    const name = claim.metadata.name ?? '';
    if (this.pods.list().some((p) => podUsesClaim(p, ns, name))) return;
    await this.client.patch<PVC>({ ...PVCS, namespace: ns }, name, {
      metadata: { finalizers: finalizers.filter((f) => f !== PVC_PROTECTION_FINALIZER), resourceVersion: claim.metadata.resourceVersion },
    });
  }
}
