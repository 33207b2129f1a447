import { describe, expect, it } from 'vitest';
import { hasGeneration } from '../../src/api/generation.js';
import { RESOURCES } from '../../src/api/registry.js';

describe('metadata.generation, kind by kind as Kubernetes 1.32 sets it', () => {
  it.each([
    ['apps', 'deployments', true], ['apps', 'replicasets', true], ['apps', 'daemonsets', true], ['apps', 'statefulsets', true],
    ['batch', 'jobs', true], ['batch', 'cronjobs', true], ['', 'replicationcontrollers', true], ['policy', 'poddisruptionbudgets', true],
    ['networking.k8s.io', 'ingresses', true], ['discovery.k8s.io', 'endpointslices', true],
    ['', 'pods', false], ['', 'configmaps', false], ['', 'secrets', false], ['', 'services', false], ['', 'namespaces', false],
    ['', 'events', false], ['apps', 'controllerrevisions', false], ['coordination.k8s.io', 'leases', false],
  ])('%s/%s: %s', (group, resource, want) => {
    expect(RESOURCES.some((d) => d.group === group && d.resource === resource)).toBe(true);
    expect(hasGeneration({ group, resource })).toBe(want);
  });
});
