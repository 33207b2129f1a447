/**
 * The configuration kinds: ConfigMap and Secret (core/v1). Decoding (base64, `stringData`)
 * happens in their prepare hooks, before validation, as Kubernetes' v1 conversion does it.
 */
import type { ConfigMap, Secret } from '../types.js';
import type { ResourceDef } from '../resource.js';
import { defineResource } from '../registry.js';
import { normalizeConfigMap, normalizeSecret, validateConfigMap, validateSecret } from '../configvalidation.js';

export const CONFIG_RESOURCES: ResourceDef[] = [
  defineResource<ConfigMap>({
    group: '', version: 'v1', resource: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true,
    shortNames: ['cm'], subresources: [],
    prepareForCreate: normalizeConfigMap,
    prepareForUpdate: (cm) => normalizeConfigMap(cm),
    validate: validateConfigMap,
  }),
  defineResource<Secret>({
    group: '', version: 'v1', resource: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true,
    shortNames: [], subresources: [],
    prepareForCreate: normalizeSecret,
    prepareForUpdate: (s) => normalizeSecret(s),
    validate: validateSecret,
    fieldLabels: (s) => ({ type: s.type ?? '' }),
  }),
];
