/**
 * Review kinds clients ask about themselves, answered by the API server and never stored:
 * SelfSubjectRulesReview (`kubectl auth can-i --list`) and SelfSubjectReview
 * (`kubectl auth whoami`). SelfSubjectAccessReview is with the identity kinds.
 */
import { defineResource } from '../registry.js';
import type { ResourceDef } from '../resource.js';
import type { KubeObject } from '../types.js';

export const CLIENT_REVIEW_RESOURCES: ResourceDef[] = [
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
