/**
 * The admission-policy kinds (core/v1): LimitRange (defaults and bounds applied by the
 * LimitRanger admission plugin) and ResourceQuota (enforced by the ResourceQuota admission
 * plugin, its `status` kept by the resourcequota controller).
 */
import type { LimitRange, ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { ResourceDef } from '../resource.js';
import { defineResource } from '../registry.js';
import { applyLimitRangeDefaults, validateLimitRange, validateResourceQuota } from '../admissionvalidation.js';

export const ADMISSION_RESOURCES: ResourceDef[] = [
  defineResource<LimitRange>({
    group: '', version: 'v1', resource: 'limitranges', singular: 'limitrange', kind: 'LimitRange', namespaced: true,
    shortNames: ['limits'], subresources: [],
    applyDefaults: applyLimitRangeDefaults,
    validate: validateLimitRange,
  }),
  defineResource<ResourceQuota>({
    group: '', version: 'v1', resource: 'resourcequotas', singular: 'resourcequota', kind: 'ResourceQuota', namespaced: true,
    shortNames: ['quota'], subresources: ['status'],
    // A new quota starts with no status; the controller fills it (a client-set one is dropped).
    prepareForCreate: (q) => { delete q.status; },
    validate: validateResourceQuota,
  }),
];
