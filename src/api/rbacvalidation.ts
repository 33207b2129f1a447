/**
 * Defaults and validation of ServiceAccount (v1) and the rbac.authorization.k8s.io/v1 kinds
 * (Role, ClusterRole, RoleBinding, ClusterRoleBinding), in Kubernetes' words
 * (`pkg/apis/rbac/validation`, `pkg/apis/core/validation` for ServiceAccount). Pure functions
 * returning `FieldError[]`; the API server applies the defaults first.
 */
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject } from 'kubernetes-types/rbac/v1.js';
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from './types.js';
import type { FieldError } from './errors.js';
import { invalidFormatted, invalidValue, notSupported, required, requiredWithDetail } from './errors.js';
import { goStringSlice } from './gofmt.js';
import { validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from './metavalidation.js';
import { nameIsDNSSubdomain } from './names.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** Kubernetes' `path.IsValidPathSegmentName`: RBAC names may be anything a URL segment can hold. */
const pathSegmentName = (name: string): string[] => {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  return ['/', '%'].filter((c) => name.includes(c)).map((c) => `may not contain '${c}'`);
};

function metaErrors(meta: ObjectMeta | undefined, old: ObjectMeta | undefined, namespaced: boolean, nameFn = (n: string) => pathSegmentName(n)): FieldError[] {
  const errs = validateObjectMeta(meta, namespaced, nameFn);
  if (old) errs.push(...validateObjectMetaUpdate(meta, old));
  return errs;
}

const arr = <T>(x: readonly T[] | undefined | null): readonly T[] => (Array.isArray(x) ? x : []);

// ---- ServiceAccount ----

/** A ServiceAccount: DNS-1123 subdomain name, secret and imagePullSecret references with names. */
export function validateServiceAccount(sa: ServiceAccount, old?: ServiceAccount): FieldError[] {
  const errs = metaErrors(sa.metadata, old?.metadata, true, (n) => nameIsDNSSubdomain(n, false));
  arr(sa.secrets).forEach((s, i) => {
    if (!s?.name) errs.push(required(`secrets[${i}].name`));
  });
  arr(sa.imagePullSecrets).forEach((s, i) => {
    if (!s?.name) errs.push(required(`imagePullSecrets[${i}].name`));
  });
  return errs;
}

// ---- roles ----

/** One PolicyRule (`ValidatePolicyRule`); `namespaced` is true for Role rules. */
function validatePolicyRule(rule: PolicyRule, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (arr(rule.verbs).length === 0) errs.push(requiredWithDetail(`${path}.verbs`, 'verbs must contain at least one value'));
  const urls = arr(rule.nonResourceURLs);
  if (urls.length > 0) {
    if (namespaced) {
      errs.push(invalidFormatted(`${path}.nonResourceURLs`, goStringSlice(urls), 'namespaced rules cannot apply to non-resource URLs'));
    }
    if (arr(rule.apiGroups).length > 0 || arr(rule.resources).length > 0 || arr(rule.resourceNames).length > 0) {
      errs.push(invalidFormatted(`${path}.nonResourceURLs`, goStringSlice(urls), 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (arr(rule.apiGroups).length === 0) errs.push(requiredWithDetail(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  if (arr(rule.resources).length === 0) errs.push(requiredWithDetail(`${path}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

export function validateRole(role: Role, old?: Role): FieldError[] {
  const errs = metaErrors(role.metadata, old?.metadata, true);
  arr(role.rules).forEach((r, i) => errs.push(...validatePolicyRule(r, true, `rules[${i}]`)));
  return errs;
}

export function validateClusterRole(role: ClusterRole, old?: ClusterRole): FieldError[] {
  const errs = metaErrors(role.metadata, old?.metadata, false);
  arr(role.rules).forEach((r, i) => errs.push(...validatePolicyRule(r, false, `rules[${i}]`)));
  if (role.aggregationRule) {
    const selectors = arr(role.aggregationRule.clusterRoleSelectors);
    if (selectors.length === 0) errs.push(requiredWithDetail('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    selectors.forEach((s, i) => errs.push(...validateLabelSelector(s, `aggregationRule.clusterRoleSelectors[${i}]`)));
  }
  return errs;
}

// ---- bindings ----

/** Kubernetes' v1 defaulting: roleRef and User/Group subjects get the RBAC group when it is empty. */
export function applyBindingDefaults(b: RoleBinding | ClusterRoleBinding): void {
  const ref = b.roleRef as RoleRef | undefined;
  if (ref && !ref.apiGroup) (ref as { apiGroup: string }).apiGroup = RBAC_GROUP;
  for (const s of arr(b.subjects)) {
    if (s && !s.apiGroup && (s.kind === 'User' || s.kind === 'Group')) s.apiGroup = RBAC_GROUP;
  }
}

function validateSubject(s: Subject, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!s.name) errs.push(required(`${path}.name`));
  switch (s.kind) {
    case 'ServiceAccount':
      if (s.name) for (const msg of nameIsDNSSubdomain(s.name, false)) errs.push(invalidValue(`${path}.name`, s.name, msg));
      if (s.apiGroup) errs.push(notSupported(`${path}.apiGroup`, s.apiGroup, ['']));
      if (!namespaced && !s.namespace) errs.push(required(`${path}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== RBAC_GROUP) errs.push(notSupported(`${path}.apiGroup`, s.apiGroup ?? '', [RBAC_GROUP]));
      break;
    default:
      errs.push(notSupported(`${path}.kind`, s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

function validateBinding(b: RoleBinding | ClusterRoleBinding, old: RoleBinding | ClusterRoleBinding | undefined, namespaced: boolean): FieldError[] {
  const errs = metaErrors(b.metadata, old?.metadata, namespaced);
  const ref = (b.roleRef ?? {}) as Partial<RoleRef>;
  if (ref.apiGroup !== RBAC_GROUP) errs.push(notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind ?? '')) errs.push(notSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) errs.push(required('roleRef.name'));
  else for (const msg of pathSegmentName(ref.name)) errs.push(invalidValue('roleRef.name', ref.name, msg));
  arr(b.subjects).forEach((s, i) => errs.push(...validateSubject(s ?? ({} as Subject), namespaced, `subjects[${i}]`)));
  if (old) {
    const o = old.roleRef ?? {};
    if (o.apiGroup !== ref.apiGroup || o.kind !== ref.kind || o.name !== ref.name) {
      errs.push(invalidFormatted('roleRef', `v1.RoleRef{APIGroup:${JSON.stringify(ref.apiGroup ?? '')}, Kind:${JSON.stringify(ref.kind ?? '')}, Name:${JSON.stringify(ref.name ?? '')}}`, 'cannot change roleRef'));
    }
  }
  return errs;
}

export const validateRoleBinding = (b: RoleBinding, old?: RoleBinding): FieldError[] => validateBinding(b, old, true);
export const validateClusterRoleBinding = (b: ClusterRoleBinding, old?: ClusterRoleBinding): FieldError[] => validateBinding(b, old, false);
