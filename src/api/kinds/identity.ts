/**
 * The identity kinds: ServiceAccount (v1, with its `token` subresource, TokenRequest) and the
 * rbac.authorization.k8s.io/v1 kinds the API server's authorizer evaluates.
 */
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import { defineResource } from '../registry.js';
import type { ResourceDef } from '../resource.js';
import type { KubeObject } from '../types.js';
import {
  applyBindingDefaults, validateClusterRole, validateClusterRoleBinding, validateRole, validateRoleBinding, validateServiceAccount,
} from '../rbacvalidation.js';

export const IDENTITY_RESOURCES: ResourceDef[] = [
  // Answered by the API server from the requester's permissions, never stored.
  defineResource<KubeObject>({
    group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview',
    kind: 'SelfSubjectAccessReview', namespaced: false, shortNames: [], subresources: [], verbs: ['create'],
    validate: () => [],
  }),
  defineResource<ServiceAccount>({
    group: '', version: 'v1', resource: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount', namespaced: true,
    shortNames: ['sa'], subresources: ['token'],
    validate: validateServiceAccount,
  }),
  defineResource<Role>({
    group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', singular: 'role', kind: 'Role', namespaced: true,
    shortNames: [], subresources: [],
    validate: validateRole,
  }),
  defineResource<ClusterRole>({
    group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', singular: 'clusterrole', kind: 'ClusterRole', namespaced: false,
    shortNames: [], subresources: [],
    validate: validateClusterRole,
  }),
  defineResource<RoleBinding>({
    group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings', singular: 'rolebinding', kind: 'RoleBinding', namespaced: true,
    shortNames: [], subresources: [],
    applyDefaults: applyBindingDefaults,
    validate: validateRoleBinding,
  }),
  defineResource<ClusterRoleBinding>({
    group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', singular: 'clusterrolebinding', kind: 'ClusterRoleBinding', namespaced: false,
    shortNames: [], subresources: [],
    applyDefaults: applyBindingDefaults,
    validate: validateClusterRoleBinding,
  }),
];
