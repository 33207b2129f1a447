/**
 * The Service kinds: core/v1 Service and Endpoints, discovery.k8s.io/v1 EndpointSlice. Spread
 * into `RESOURCES` (src/api/registry.ts). ClusterIP and node-port allocation is not a default:
 * the API server does it (src/apiserver/services.ts) after validation.
 */
import type { Endpoints, EndpointSlice, Service } from '../types.js';
import { applyServiceDefaults } from '../defaults.js';
import { applyEndpointSliceDefaults, applyEndpointsDefaults } from '../endpoints.js';
import { defineResource } from '../registry.js';
import type { ResourceDef } from '../resource.js';
import { prepareServiceCreate, prepareServiceUpdate } from '../servicestrategy.js';
import { validateEndpointSlice, validateEndpoints, validateService } from '../validation.js';

export const SERVICE_KINDS: ResourceDef[] = [
  defineResource<Service>({
    group: '', version: 'v1', resource: 'services', singular: 'service', kind: 'Service', namespaced: true,
    shortNames: ['svc'], subresources: ['status'],
    applyDefaults: applyServiceDefaults,
    prepareForCreate: prepareServiceCreate,
    prepareForUpdate: prepareServiceUpdate,
    validate: validateService,
    fieldLabels: (svc) => ({ 'spec.clusterIP': svc.spec?.clusterIP ?? '', 'spec.type': svc.spec?.type ?? '' }),
  }),
  defineResource<Endpoints>({
    group: '', version: 'v1', resource: 'endpoints', singular: 'endpoints', kind: 'Endpoints', namespaced: true,
    shortNames: ['ep'], subresources: [],
    applyDefaults: applyEndpointsDefaults,
    validate: validateEndpoints,
  }),
  defineResource<EndpointSlice>({
    group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', singular: 'endpointslice', kind: 'EndpointSlice', namespaced: true,
    shortNames: [], subresources: [],
    applyDefaults: applyEndpointSliceDefaults,
    validate: validateEndpointSlice,
  }),
];
