/**
 * What kubectl knows about Deployments and their ReplicaSets (its `pkg/util/deployment` and
 * `polymorphichelpers`): which ReplicaSets a Deployment controls, which one is new, revisions and
 * change causes, the rollout-status sentence, and the revision `rollout undo` goes back to.
 * Template comparison and ordering are the deployment controller's own helpers, so the CLI and
 * the controller always agree on which ReplicaSet is the new one. Pure functions of objects,
 * except {@link replicaSetsOf}, which lists.
 */
import { labelSelectorString } from '../../api/appsstatus.js';
import type { Deployment, KubeObject, LabelSelector, PodTemplateSpec, ReplicaSet } from '../../api/types.js';
import {
  byCreation, DESIRED_REPLICAS, equalIgnoreHash, MAX_REPLICAS, REASON, REVISION, REVISION_HISTORY, stripHashLabel,
} from '../../controllers/deploymentutil.js';
import { controllerRef } from '../../controllers/podutil.js';
import { REPLICASETS } from '../../controllers/types.js';
import { CliError } from '../context.js';
import { DESCRIBE_LAYOUT, TabWriter } from '../print.js';
import type { Client } from './shared.js';

export { equalIgnoreHash };

/** Why a revision was made, copied from the Deployment to its ReplicaSet (`rollout history`). */
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
/** Template annotation `rollout restart` sets, so the template changes and pods are replaced. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

/**
 * Deployment annotations `rollout undo` keeps from the Deployment rather than copying from the
 * ReplicaSet it rolls back to (kubectl's `annotationsToSkip`).
 */
const ROLLBACK_KEEP_ANNOTATIONS = new Set([
  'kubectl.kubernetes.io/last-applied-configuration', REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);

/**
 * A label selector as LIST's `labelSelector` parameter takes it (`app=web,tier in (a,b)`).
 * Stored objects have valid selectors; one that does not parse is refused rather than listing all.
 */
export function selectorString(s: LabelSelector | undefined): string {
  const str = labelSelectorString(s);
  if (str === undefined) throw new CliError(`invalid label selector: ${JSON.stringify(s)}`);
  return str;
}

/**
 * An object's revision annotation as kubectl reads it (`deploymentutil.Revision`): 0 when
 * absent, undefined when it is not an integer (kubectl skips such ReplicaSets, where the
 * controller's `revisionOf` counts them as 0).
 */
export function revisionOf(obj: KubeObject): number | undefined {
  const v = obj.metadata?.annotations?.[REVISION];
  if (v === undefined) return 0;
  return /^[+-]?\d+$/.test(v.trim()) ? Number(v) : undefined;
}

/** Whether `owner` is `obj`'s controller (kubectl's `metav1.IsControlledBy`). */
const isControlledBy = (obj: KubeObject, owner: KubeObject): boolean => {
  const ref = controllerRef(obj);
  return !!ref && ref.uid === owner.metadata?.uid;
};

/** The ReplicaSets in the Deployment's namespace that match its selector and that it controls. */
export async function replicaSetsOf(client: Client, d: Deployment): Promise<ReplicaSet[]> {
  const list = await client.list<ReplicaSet & KubeObject>({ ...REPLICASETS, namespace: d.metadata?.namespace },
    { labelSelector: selectorString(d.spec?.selector) });
  return list.items.filter((rs) => isControlledBy(rs, d));
}

/**
 * Splits a Deployment's ReplicaSets as kubectl does: the new one is the oldest whose template
 * equals the Deployment's (hash label aside); `old` are the others that still have replicas,
 * `allOld` all the others.
 */
export function splitReplicaSets(d: Deployment, rss: ReplicaSet[]): { newRS?: ReplicaSet; old: ReplicaSet[]; allOld: ReplicaSet[] } {
  const sorted = [...rss].sort(byCreation);
  const newRS = sorted.find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
  const allOld = sorted.filter((rs) => rs !== newRS);
  return { newRS, old: allOld.filter((rs) => (rs.spec?.replicas ?? 1) !== 0), allOld };
}

/** Where a rollout stands: the line `rollout status` prints and whether it is finished. */
export interface RolloutProgress {
  message: string;
  done: boolean;
}

/**
 * kubectl's rollout status of a Deployment. Throws (CliError) when the rollout cannot finish:
 * the Progressing condition says ProgressDeadlineExceeded, or `revision` (when > 0) is not the
 * Deployment's current one.
 */
export function rolloutStatus(d: Deployment, revision = 0): RolloutProgress {
  const name = d.metadata?.name ?? '';
  if (revision > 0) {
    const current = revisionOf(d);
    if (current === undefined) throw new CliError(`cannot get the revision of deployment "${name}"`);
    if (current !== revision) throw new CliError(`desired revision (${revision}) is different from the running revision (${current})`);
  }
  const generation = d.metadata?.generation ?? 0;
  if (generation > (d.status?.observedGeneration ?? 0)) {
    return { message: 'Waiting for deployment spec update to be observed...', done: false };
  }
  const progressing = (d.status?.conditions ?? []).find((c) => c.type === 'Progressing');
  if (progressing?.reason === REASON.timedOut) throw new CliError(`deployment "${name}" exceeded its progress deadline`);
  const desired = d.spec?.replicas ?? 1;
  const updated = d.status?.updatedReplicas ?? 0;
  const total = d.status?.replicas ?? 0;
  const available = d.status?.availableReplicas ?? 0;
  const waiting = `Waiting for deployment "${name}" rollout to finish: `;
  if (updated < desired) return { message: `${waiting}${updated} out of ${desired} new replicas have been updated...`, done: false };
  if (total > updated) return { message: `${waiting}${total - updated} old replicas are pending termination...`, done: false };
  if (available < updated) return { message: `${waiting}${available} of ${updated} updated replicas are available...`, done: false };
  return { message: `deployment "${name}" successfully rolled out`, done: true };
}

/** One revision of a Deployment: its ReplicaSet's template, with the change cause in its annotations. */
export interface Revision {
  revision: number;
  replicaSet: ReplicaSet;
  template: PodTemplateSpec;
  changeCause?: string;
}

/**
 * The revisions of a Deployment from its ReplicaSets, oldest first. As kubectl does, the change
 * cause of each ReplicaSet is also written into its template's annotations (shown by
 * `rollout history --revision=N`); a later ReplicaSet with the same revision wins.
 */
export function revisions(rss: ReplicaSet[]): Revision[] {
  const byRevision = new Map<number, Revision>();
  for (const rs of rss) {
    const revision = revisionOf(rs);
    if (revision === undefined) continue;
    const template = structuredClone(rs.spec?.template ?? {}) as PodTemplateSpec;
    const changeCause = rs.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION];
    if (changeCause) template.metadata = { ...template.metadata, annotations: { ...template.metadata?.annotations, [CHANGE_CAUSE_ANNOTATION]: changeCause } };
    byRevision.set(revision, { revision, replicaSet: rs, template, changeCause: template.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION] });
  }
  return [...byRevision.values()].sort((a, b) => a.revision - b.revision);
}

/** The `REVISION  CHANGE-CAUSE` table of `rollout history`. */
export function historyTable(revs: readonly Pick<Revision, 'revision' | 'changeCause'>[]): string {
  let text = '';
  const tw = new TabWriter((s) => { text += s; }, DESCRIBE_LAYOUT);
  tw.write('REVISION\tCHANGE-CAUSE\n');
  for (const r of revs) tw.write(`${r.revision}\t${r.changeCause || '<none>'}\n`);
  tw.flush();
  return text;
}

/**
 * The ReplicaSet `rollout undo` goes back to: the one of `toRevision`, or with 0 the one before
 * the newest. Throws kubectl's errors when there is none.
 */
export function rollbackTarget(d: Deployment, rss: ReplicaSet[], toRevision: number): ReplicaSet {
  if (toRevision < 0) throw new CliError(`unable to find specified revision ${toRevision} in history`);
  const withRevision = rss.map((rs) => ({ rs, revision: revisionOf(rs) })).filter((x): x is { rs: ReplicaSet; revision: number } => x.revision !== undefined);
  if (toRevision > 0) {
    const hit = withRevision.find((x) => x.revision === toRevision);
    if (!hit) throw new CliError(`unable to find specified revision ${toRevision} in history`);
    return hit.rs;
  }
  const sorted = [...withRevision].sort((a, b) => b.revision - a.revision);
  if (sorted.length < 2) throw new CliError(`no rollout history found for deployment "${d.metadata?.name ?? ''}"`);
  return sorted[1].rs;
}

/**
 * Rolls `d` (a copy the caller owns) back to `rs` in place, as kubectl's rollback patch does:
 * the template becomes the ReplicaSet's (hash label removed) and the annotations become the
 * ReplicaSet's, except those the Deployment keeps (revision, last-applied, ...).
 */
export function applyRollback(d: Deployment, rs: ReplicaSet): void {
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) if (ROLLBACK_KEEP_ANNOTATIONS.has(k)) annotations[k] = v;
  for (const [k, v] of Object.entries(rs.metadata?.annotations ?? {})) if (!ROLLBACK_KEEP_ANNOTATIONS.has(k)) annotations[k] = v;
  d.metadata = { ...d.metadata, annotations };
  d.spec = { ...d.spec!, template: stripHashLabel(rs.spec?.template) };
}
