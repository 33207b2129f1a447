/**
 * Validation of the apps/v1 DaemonSet, StatefulSet and ControllerRevision and the core/v1
 * ReplicationController, as Kubernetes does it (`pkg/apis/apps/validation`,
 * `pkg/apis/core/validation` `ValidateReplicationController`), with Kubernetes' field paths and
 * messages. Expects defaults applied first. Pure; never throws for user mistakes.
 */
import type { ControllerRevision, DaemonSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { ReplicationController } from 'kubernetes-types/core/v1.js';
import type { LabelSelector, PodTemplateSpec } from './types.js';
import type { FieldError } from './errors.js';
import { duplicate, forbidden, invalidFormatted, invalidValue, notSupported, required, requiredWithDetail } from './errors.js';
import {
  intOrPercentValue, nonNegative, selectorUnchanged, semanticallyEqual, validateIntOrPercent, validateSelector, validateTemplate,
} from './appsvalidation.js';
import { goIntOrString, goLabelSelector, goStringMap } from './gofmt.js';
import { fromLabelSelector } from './labels.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './metavalidation.js';
import { isDNS1123Label, nameIsDNSSubdomain } from './names.js';
import { validatePersistentVolumeClaim } from './storagevalidation.js';

/**
 * The claim templates (`spec.volumeClaimTemplates[i]`): each a claim as `validatePersistentVolumeClaim`
 * checks it (named as the pod of ordinal 0 would get it), its own name a unique DNS-1123 label
 * (it is the pod's volume name). Kubernetes leaves this to the claim's creation; minikube-lite
 * refuses at once, with the template's field path, what every claim would fail.
 */
function validateClaimTemplates(ss: StatefulSet, errs: FieldError[]): void {
  const seen = new Set<string>();
  (ss.spec?.volumeClaimTemplates ?? []).forEach((t, i) => {
    const path = `spec.volumeClaimTemplates[${i}]`;
    const name = t.metadata?.name ?? '';
    if (!name) {
      errs.push(required(`${path}.metadata.name`));
      return;
    }
    const nameErrs = isDNS1123Label(name).map((msg) => invalidValue(`${path}.metadata.name`, name, msg));
    if (seen.has(name)) nameErrs.push(duplicate(`${path}.metadata.name`, name));
    seen.add(name);
    errs.push(...nameErrs);
    const claim = { ...t, metadata: { ...t.metadata, name: `${name}-${ss.metadata?.name ?? ''}-0`, namespace: ss.metadata?.namespace || 'default' } };
    for (const e of validatePersistentVolumeClaim(claim)) errs.push({ ...e, field: `${path}.${e.field}` });
  });
}

/** The pod template as the set's pods get it: the claim templates' volumes added (replacing same-named ones). */
function templateWithClaims(ss: StatefulSet): PodTemplateSpec | undefined {
  const spec = ss.spec ?? ({} as NonNullable<StatefulSet['spec']>);
  const names = new Set((spec.volumeClaimTemplates ?? []).map((t) => t.metadata?.name ?? '').filter(Boolean));
  if (!names.size || !spec.template?.spec) return spec.template;
  const claimVolumes = [...names].map((name) => ({ name, persistentVolumeClaim: { claimName: `${name}-${ss.metadata?.name ?? ''}-0` } }));
  return { ...spec.template, spec: { ...spec.template.spec, volumes: [...claimVolumes, ...(spec.template.spec.volumes ?? []).filter((v) => !names.has(v.name))] } };
}

/** A selector that is set, valid and not empty (`empty selector is invalid for <kind>`). */
function nonEmptySelector(ls: LabelSelector | undefined, path: string, kind: string, errs: FieldError[]) {
  const sel = validateSelector(ls, path, errs, true);
  if (ls && Object.keys(ls.matchLabels ?? {}).length + (ls.matchExpressions ?? []).length === 0) {
    errs.push(invalidFormatted(path, goLabelSelector(ls), `empty selector is invalid for ${kind}`));
  }
  return sel;
}

/** A DaemonSet on create, or on update when `old` is given (`ValidateDaemonSet(Update)`). */
export function validateDaemonSet(ds: DaemonSet, old?: DaemonSet): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(ds.metadata, old.metadata) : validateObjectMeta(ds.metadata, true, nameIsDNSSubdomain);
  const spec = ds.spec ?? ({} as NonNullable<DaemonSet['spec']>);
  const sel = nonEmptySelector(spec.selector, 'spec.selector', 'daemonset', errs);
  if (sel) errs.push(...validateTemplate(spec.template, sel, 'spec.template', 'DaemonSet'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  const strategy = spec.updateStrategy ?? {};
  const type = strategy.type ?? '';
  if (type === 'RollingUpdate') {
    const ru = strategy.rollingUpdate;
    if (!ru) errs.push(required('spec.updateStrategy.rollingUpdate'));
    else {
      errs.push(...validateIntOrPercent(ru.maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable'));
      errs.push(...validateIntOrPercent(ru.maxSurge, 'spec.updateStrategy.rollingUpdate.maxSurge'));
      const mu = intOrPercentValue(ru.maxUnavailable as number | string | undefined);
      const ms = intOrPercentValue(ru.maxSurge as number | string | undefined);
      if (mu === 0 && ms === 0) {
        errs.push(invalidFormatted('spec.updateStrategy.rollingUpdate.maxUnavailable', goIntOrString(ru.maxUnavailable), 'may not be 0 when maxSurge is 0'));
      }
      if (mu !== 0 && ms !== 0) {
        errs.push(invalidFormatted('spec.updateStrategy.rollingUpdate.maxSurge', goIntOrString(ru.maxSurge), 'may not be set when maxUnavailable is non-zero'));
      }
    }
  } else if (type !== 'OnDelete') {
    // OnDelete with a leftover rollingUpdate (`kubectl patch` of the type alone) is valid for a
    // DaemonSet, unlike a StatefulSet or a Deployment's Recreate.
    errs.push(notSupported('spec.updateStrategy.type', type, ['OnDelete', 'RollingUpdate']));
  }
  if (old) errs.push(...selectorUnchanged(spec.selector, old.spec?.selector, 'spec.selector'));
  const st = (ds.status ?? {}) as Record<string, unknown>;
  for (const f of ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady', 'observedGeneration',
    'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable', 'collisionCount']) errs.push(...nonNegative(st[f], `status.${f}`));
  return errs;
}

const STATEFULSET_MUTABLE = "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', " +
  "'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

/** A StatefulSet on create, or on update when `old` is given (`ValidateStatefulSet(Update)`). */
export function validateStatefulSet(ss: StatefulSet, old?: StatefulSet): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(ss.metadata, old.metadata) : validateObjectMeta(ss.metadata, true, nameIsDNSSubdomain);
  const spec = ss.spec ?? ({} as NonNullable<StatefulSet['spec']>);
  const policy = spec.podManagementPolicy ?? '';
  if (!policy) errs.push(required('spec.podManagementPolicy'));
  else if (policy !== 'OrderedReady' && policy !== 'Parallel') errs.push(invalidValue('spec.podManagementPolicy', policy, 'must be \'OrderedReady\' or \'Parallel\''));
  const strategy = spec.updateStrategy ?? {};
  switch (strategy.type) {
    case 'OnDelete':
      if (strategy.rollingUpdate) errs.push(invalidFormatted('spec.updateStrategy.rollingUpdate', '"..."', "only allowed for updateStrategy 'RollingUpdate'"));
      break;
    case 'RollingUpdate':
      errs.push(...nonNegative(strategy.rollingUpdate?.partition, 'spec.updateStrategy.rollingUpdate.partition'));
      if (strategy.rollingUpdate?.maxUnavailable !== undefined) {
        errs.push(forbidden('spec.updateStrategy.rollingUpdate.maxUnavailable', 'the MaxUnavailableStatefulSet feature (alpha in Kubernetes 1.32) is not enabled'));
      }
      break;
    case undefined: case '':
      errs.push(required('spec.updateStrategy'));
      break;
    default:
      errs.push(invalidValue('spec.updateStrategy.type', strategy.type, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const retention = spec.persistentVolumeClaimRetentionPolicy;
  for (const f of ['whenDeleted', 'whenScaled'] as const) {
    const v = retention?.[f];
    if (v !== undefined && v !== 'Retain' && v !== 'Delete') errs.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${f}`, v, ['Retain', 'Delete']));
  }
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (spec.ordinals) errs.push(...nonNegative(spec.ordinals.start, 'spec.ordinals.start'));
  const sel = nonEmptySelector(spec.selector, 'spec.selector', 'statefulset', errs);
  if (sel) errs.push(...validateTemplate(templateWithClaims(ss), sel, 'spec.template', 'StatefulSet'));
  validateClaimTemplates(ss, errs);
  if (old) {
    const fixed = (x: typeof spec) => ({
      ...x, replicas: undefined, ordinals: undefined, template: undefined, updateStrategy: undefined, revisionHistoryLimit: undefined,
      persistentVolumeClaimRetentionPolicy: undefined, minReadySeconds: undefined,
    });
    if (!semanticallyEqual(fixed(spec), fixed(old.spec ?? ({} as typeof spec)))) errs.push(forbidden('spec', STATEFULSET_MUTABLE));
  }
  const st = (ss.status ?? {}) as Record<string, unknown>;
  for (const f of ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'observedGeneration', 'collisionCount']) {
    errs.push(...nonNegative(st[f], `status.${f}`));
  }
  return errs;
}

/** A ControllerRevision (`ValidateControllerRevision(Update)`): data is mandatory and immutable. */
export function validateControllerRevision(cr: ControllerRevision, old?: ControllerRevision): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(cr.metadata, old.metadata) : validateObjectMeta(cr.metadata, true, nameIsDNSSubdomain);
  if (cr.data === undefined || cr.data === null) errs.push(requiredWithDetail('data', 'data is mandatory'));
  errs.push(...nonNegative(cr.revision, 'revision'));
  if (old && !semanticallyEqual(cr.data, old.data)) errs.push(invalidFormatted('data', '"..."', 'field is immutable'));
  return errs;
}

/** A ReplicationController (`ValidateReplicationController(Update)`). */
export function validateReplicationController(rc: ReplicationController, old?: ReplicationController): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(rc.metadata, old.metadata) : validateObjectMeta(rc.metadata, true, nameIsDNSSubdomain);
  const spec = rc.spec ?? {};
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  const selector = spec.selector ?? {};
  if (Object.keys(selector).length === 0) errs.push(required('spec.selector'));
  if (!spec.template) errs.push(required('spec.template'));
  else {
    const sel = fromLabelSelector({ matchLabels: selector });
    if (sel.ok) {
      const tErrs = validateTemplate(spec.template, sel.selector, 'spec.template', 'ReplicationController');
      // core/v1 words the selector mismatch its own way.
      errs.push(...tErrs.map((e) => (e.message.endsWith('`selector` does not match template `labels`')
        ? invalidFormatted('spec.template.metadata.labels', goStringMap(spec.template?.metadata?.labels), '`selector` does not match template `labels`') : e)));
    }
  }
  const st = (rc.status ?? {}) as Record<string, unknown>;
  for (const f of ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration']) errs.push(...nonNegative(st[f], `status.${f}`));
  return errs;
}
