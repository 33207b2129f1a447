/**
 * Review kinds clients ask about themselves, answered by the API server and never stored:
 * SelfSubjectRulesReview (`kubectl auth can-i --list`) and SelfSubjectReview
 * (`kubectl auth whoami`). SelfSubjectAccessReview is with the identity kinds. And Leases
 * (coordination.k8s.io/v1), which kubelets renew in `kube-node-lease` as their heartbeat.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { validateLease } from '../leasevalidation.js';
import { defineResource } from '../registry.js';
import type { ResourceDef } from '../resource.js';
import type { KubeObject } from '../types.js';

export const CLIENT_REVIEW_RESOURCES: ResourceDef[] = [
  defineResource<Lease>({
    group: 'coordination.k8s.io', version: 'v1', resource: 'leases', singular: 'lease', kind: 'Lease', namespaced: true,
    shortNames: [], subresources: [],
    validate: validateLease,
  }),
  defineResource<KubeObject>({
    group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectrulesreviews', singular: 'selfsubjectrulesreview',
    kind: 'SelfSubjectRulesReview', namespaced: false, shortNames: [], subresources: [], verbs: ['create'],
    validate: () => [],
  }),
  defineResource<KubeObject>({
    group: 'authentication.k8s.io', version: 'v1', resource: 'selfsubjectreviews', singular: 'selfsubjectreview',
    kind: 'SelfSubjectReview', namespaced: false, shortNames: [], subresources: [], verbs: ['create'],
    validate: () => [],
  }),
];
