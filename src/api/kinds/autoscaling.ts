/**
 * HorizontalPodAutoscaler, served as autoscaling/v2 (the storage version, listed first so
 * discovery prefers it) and autoscaling/v1 (converted, see ../autoscaling.ts); and the
 * read-only resource metrics API `metrics.k8s.io/v1beta1` (NodeMetrics, PodMetrics), listed
 * here for discovery and served by src/apiserver/metrics.ts from the kubelets' statistics.
 */
import type { ResourceDef } from '../resource.js';
import type { KubeObject } from '../types.js';
import { defineResource } from '../registry.js';
import { applyHpaDefaults, hpaFromV1, hpaToV1, type HorizontalPodAutoscaler, type HPAv1 } from '../autoscaling.js';
import { hpaWarnings, validateHorizontalPodAutoscaler } from '../autoscalingvalidation.js';

const HPA_NAMES = {
  group: 'autoscaling', resource: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler', kind: 'HorizontalPodAutoscaler',
  namespaced: true, shortNames: ['hpa'], subresources: ['status'],
};

/** Until the controller has looked, an HPA's status says nothing was measured or scaled. */
const initialStatus = (hpa: HorizontalPodAutoscaler): void => {
  hpa.status = { currentReplicas: 0, desiredReplicas: 0 };
};

const v2 = defineResource<HorizontalPodAutoscaler>({
  ...HPA_NAMES, version: 'v2',
  applyDefaults: applyHpaDefaults,
  prepareForCreate: initialStatus,
  validate: validateHorizontalPodAutoscaler,
  warnings: (hpa) => hpaWarnings(hpa),
});

const v1: ResourceDef = {
  ...v2,
  version: 'v1',
  conversion: {
    storageVersion: 'v2',
    toStorage: (obj) => hpaFromV1(obj as unknown as HPAv1) as unknown as KubeObject,
    fromStorage: (obj) => hpaToV1(obj as unknown as HorizontalPodAutoscaler) as unknown as KubeObject,
  },
  // The server hands warnings the served (v1) object: look at it as stored.
  warnings: (obj) => hpaWarnings(hpaFromV1(obj as unknown as HPAv1)),
};

const readOnly = ['get', 'list'];

export const AUTOSCALING_RESOURCES: ResourceDef[] = [
  v2,
  v1,
  defineResource<KubeObject>({
    group: 'metrics.k8s.io', version: 'v1beta1', resource: 'nodes', singular: 'nodemetrics', kind: 'NodeMetrics',
    namespaced: false, shortNames: [], subresources: [], verbs: readOnly, validate: () => [],
  }),
  defineResource<KubeObject>({
    group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods', singular: 'podmetrics', kind: 'PodMetrics',
    namespaced: true, shortNames: [], subresources: [], verbs: readOnly, validate: () => [],
  }),
];
