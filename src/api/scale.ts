/**
 * The `autoscaling/v1` `Scale` that the `scale` subresource of Deployments and ReplicaSets
 * serves (`scaleFromDeployment` in Kubernetes' registry): the parent's identity, desired and
 * current replicas, and its selector as a string. Pure functions.
 */
import { badRequest, invalidValue, type FieldError } from './errors.js';
import { fromLabelSelector, selectorToString } from './labels.js';
import { validateObjectMeta } from './metavalidation.js';
import { nameIsDNSSubdomain } from './names.js';
import type { KubeObject, LabelSelector, Scale } from './types.js';

/** A kind with a scale subresource: `spec.replicas`, `spec.selector`, `status.replicas`. */
export type Scalable = KubeObject & {
  spec?: { replicas?: number; selector?: LabelSelector };
  status?: { replicas?: number };
};

/**
 * The Scale of `obj`. `spec.replicas` is left out when 0 and `status.selector` when empty, as
 * `autoscaling/v1` omits them. 400 BadRequest when the selector does not parse (stored objects
 * were validated, so that means a bug).
 */
export function scaleOf(obj: Scalable): Scale {
  const m = obj.metadata ?? {};
  // A ReplicationController's selector is a plain label map (equality only).
  const raw = obj.spec?.selector as Record<string, unknown> | undefined;
  const isMap = obj.kind === 'ReplicationController' || (raw !== undefined && !('matchLabels' in raw) && !('matchExpressions' in raw) && Object.values(raw).every((v) => typeof v === 'string'));
  const parsed = fromLabelSelector(isMap ? { matchLabels: raw as Record<string, string> } : obj.spec?.selector);
  if (!parsed.ok) throw badRequest(parsed.error);
  const selector = selectorToString(parsed.selector);
  const replicas = obj.spec?.replicas ?? 0;
  const metadata = Object.fromEntries(
    (['name', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp'] as const)
      .filter((k) => m[k] !== undefined)
      .map((k) => [k, m[k]]),
  ) as Scale['metadata'];
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata,
    spec: replicas ? { replicas } : {},
    status: { replicas: obj.status?.replicas ?? 0, ...(selector ? { selector } : {}) },
  };
}

/**
 * A Scale sent to the subresource (`ValidateScale`): valid metadata and
 * `spec.replicas: Invalid value: -1: must be greater than or equal to 0`.
 */
export function validateScale(scale: Scale): FieldError[] {
  const errs = validateObjectMeta(scale.metadata, true, nameIsDNSSubdomain);
  const replicas = scale.spec?.replicas ?? 0;
  if (replicas < 0) errs.push(invalidValue('spec.replicas', replicas, 'must be greater than or equal to 0'));
  return errs;
}
