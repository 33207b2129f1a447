/**
 * Revision history of DaemonSets and StatefulSets (Kubernetes' `pkg/controller/history`): each
 * distinct pod template is stored once as an apps/v1 ControllerRevision owned by its set, named
 * `<set>-<hash>`, with a revision number; the pods carry the hash in `controller-revision-hash`.
 * Rolling back (`rollout undo`) re-applies an old revision's template, which then becomes the
 * newest revision again. Planning is pure; {@link RevisionHistory} carries it out.
 */
import { createHash } from 'node:crypto';
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import { ApiError } from '../api/errors.js';
import type { KubeObject, PodTemplateSpec } from '../api/types.js';
import type { ApiClient } from '../client/client.js';
import { canonicalJson, controllerRef, newControllerRef, timeMs } from './podutil.js';
import { CONTROLLERREVISIONS, inNamespace } from './types.js';

export type ControllerRevisionObject = ControllerRevision & KubeObject;

/** The pod label (and ControllerRevision label) with the template's hash. */
export const CONTROLLER_REVISION_HASH = 'controller-revision-hash';

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** A short hash of a template (plus collision count) in Kubernetes' safe alphabet (`SafeEncodeString`). */
export function hashTemplate(template: PodTemplateSpec | undefined, collisionCount = 0): string {
  const digest = createHash('sha256').update(canonicalJson(template ?? {})).update(String(collisionCount)).digest();
  let out = '';
  for (let i = 0; i < 10; i++) out += SAFE[digest[i] % SAFE.length];
  return out;
}

/** What a revision stores: the template as a strategic-merge patch that replaces it. */
export function revisionData(template: PodTemplateSpec | undefined): Record<string, unknown> {
  return { spec: { template: { ...(structuredClone(template ?? {}) as Record<string, unknown>), $patch: 'replace' } } };
}

/** The template stored in a revision. */
export function templateOfRevision(cr: ControllerRevision): PodTemplateSpec {
  const t = ((cr.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template ?? {}) as Record<string, unknown>;
  const { $patch: _drop, ...rest } = t;
  return rest as PodTemplateSpec;
}

export interface HistoryPlan {
  /** The revision matching the current template, if one exists. */
  current?: ControllerRevisionObject;
  /** A revision to create for the current template. */
  create?: ControllerRevisionObject;
  /** The existing current revision renumbered as the newest (a rollback). */
  renumber?: { revision: ControllerRevisionObject; to: number };
  /** Old revisions beyond `revisionHistoryLimit`, not used by any live pod. */
  delete: ControllerRevisionObject[];
  /** The hash (label value suffix) of the current template. */
  hash: string;
}

/**
 * Plans the history of `owner` whose template is `template`: find or make the current
 * revision (renumbering it newest when an older one is reused), and drop the oldest unused
 * revisions beyond `limit`. `inUse`: hashes live pods still carry.
 */
export function planHistory(owner: KubeObject, kind: string, template: PodTemplateSpec | undefined, revisions: readonly ControllerRevisionObject[],
  limit: number, inUse: ReadonlySet<string>): HistoryPlan {
  const hash = hashTemplate(template);
  const name = `${owner.metadata?.name ?? ''}-${hash}`;
  const sorted = [...revisions].sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0) || (timeMs(a.metadata?.creationTimestamp) ?? 0) - (timeMs(b.metadata?.creationTimestamp) ?? 0));
  const max = sorted.length ? (sorted[sorted.length - 1].revision ?? 0) : 0;
  const same = sorted.find((r) => canonicalJson(templateOfRevision(r)) === canonicalJson(template ?? {}));
  const plan: HistoryPlan = { delete: [], hash: same ? same.metadata?.labels?.[CONTROLLER_REVISION_HASH] ?? hash : hash };
  if (same) {
    plan.current = same;
    if ((same.revision ?? 0) < max) plan.renumber = { revision: same, to: max + 1 };
  } else {
    plan.create = {
      apiVersion: 'apps/v1', kind: 'ControllerRevision',
      metadata: {
        name, namespace: owner.metadata?.namespace,
        labels: { ...(template?.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH]: hash },
        // The owner's annotations, as Kubernetes copies them: `kubernetes.io/change-cause` is
        // what `kubectl rollout history` shows as CHANGE-CAUSE.
        ...(owner.metadata?.annotations ? { annotations: { ...owner.metadata.annotations } } : {}),
        ownerReferences: [newControllerRef(owner, 'apps/v1', kind)],
      },
      data: revisionData(template),
      revision: max + 1,
    };
  }
  const old = sorted.filter((r) => r !== same && !inUse.has(r.metadata?.labels?.[CONTROLLER_REVISION_HASH] ?? ''));
  const excess = old.length - limit;
  if (excess > 0) plan.delete = old.slice(0, excess);
  return plan;
}

/** Carries out history plans through the API. */
export class RevisionHistory {
  constructor(private readonly client: ApiClient) {}

  /** Revisions in the cache `all` that `owner` controls. */
  static owned(all: readonly ControllerRevisionObject[], owner: KubeObject): ControllerRevisionObject[] {
    return all.filter((r) => r.metadata?.namespace === owner.metadata?.namespace && controllerRef(r)?.uid === owner.metadata?.uid);
  }

  /** Applies the plan; returns the current revision (created, renumbered or as found). */
  async apply(plan: HistoryPlan): Promise<ControllerRevisionObject> {
    let current = plan.current;
    if (plan.create) {
      const ref = inNamespace(CONTROLLERREVISIONS, plan.create.metadata?.namespace);
      try {
        current = await this.client.create<ControllerRevisionObject>(ref, plan.create);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 409)) throw e;
        current = await this.client.get<ControllerRevisionObject>(ref, plan.create.metadata?.name ?? '');
      }
    }
    if (plan.renumber) {
      const r = plan.renumber.revision;
      current = await this.client.patch<ControllerRevisionObject>(inNamespace(CONTROLLERREVISIONS, r.metadata?.namespace), r.metadata?.name ?? '', { revision: plan.renumber.to });
    }
    for (const r of plan.delete) {
      try {
        await this.client.delete(inNamespace(CONTROLLERREVISIONS, r.metadata?.namespace), r.metadata?.name ?? '');
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    if (!current) throw new Error('no current revision');
    return current;
  }
}
