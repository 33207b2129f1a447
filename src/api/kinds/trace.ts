/**
 * `PodTrace` (`trace.minikube-lite.io/v1alpha1`): the records components write about what they
 * did for a pod (see src/trace). Namespaced, beside the pod; bounded in age by the API server's
 * trace pruner.
 */
import type { ResourceDef } from '../resource.js';
import { defineResource } from '../registry.js';
import { validatePodTrace } from '../../trace/validation.js';
import { TRACE_GROUP, TRACE_VERSION, type PodTrace } from '../../trace/types.js';

export const TRACE_RESOURCES: ResourceDef[] = [
  defineResource<PodTrace>({
    group: TRACE_GROUP, version: TRACE_VERSION, resource: 'podtraces', singular: 'podtrace', kind: 'PodTrace', namespaced: true,
    shortNames: [], subresources: [],
    validate: validatePodTrace,
    fieldLabels: (t) => ({ 'pod.name': t.pod?.name ?? '', 'pod.uid': t.pod?.uid ?? '' }),
  }),
];
