import { describe, expect, it } from 'vitest';
import { RESOURCES, defineResource, findKind, findResource, resolveResourceName } from '../../src/api/registry.js';
import { invalid, required } from '../../src/api/errors.js';
import type { KubeObject, Node, Pod } from '../../src/api/types.js';

interface Widget extends KubeObject {
  spec?: Record<string, unknown>;
}

describe('RESOURCES', () => {
  it.each([
    ['pods', 'Pod', true, ['po'], ['status', 'ephemeralcontainers', 'binding', 'eviction', 'log', 'exec', 'attach', 'portforward']],
    ['nodes', 'Node', false, ['no'], ['status']],
    ['namespaces', 'Namespace', false, ['ns'], ['status', 'finalize']],
    ['events', 'Event', true, ['ev'], []],
    ['services', 'Service', true, ['svc'], ['status']],
  ])('serves core/v1 %s', (resource, kind, namespaced, shortNames, subresources) => {
    const def = findResource('', 'v1', resource);
    expect(def).toMatchObject({ group: '', version: 'v1', kind, listKind: `${kind}List`, namespaced, shortNames, subresources });
  });

  it.each([
    ['deployments', 'Deployment', ['deploy']],
    ['replicasets', 'ReplicaSet', ['rs']],
  ])('serves apps/v1 %s, namespaced, with status and scale subresources', (resource, kind, shortNames) => {
    const def = findResource('apps', 'v1', resource);
    expect(def).toMatchObject({ group: 'apps', version: 'v1', kind, listKind: `${kind}List`, namespaced: true, shortNames, subresources: ['status', 'scale'] });
  });
});

describe('resolveResourceName', () => {
  it.each([
    ['pod', 'pods'], ['pods', 'pods'], ['po', 'pods'], ['Pod', 'pods'], ['PODS', 'pods'],
    ['node', 'nodes'], ['no', 'nodes'], ['nodes', 'nodes'],
    ['ns', 'namespaces'], ['namespace', 'namespaces'],
    ['ev', 'events'], ['event', 'events'],
    ['svc', 'services'], ['service', 'services'],
    ['pods.', 'pods'], ['pods.v1.', 'pods'],
    ['deploy', 'deployments'], ['deployment', 'deployments'], ['Deployment', 'deployments'], ['deployments.apps', 'deployments'],
    ['deployments.v1.apps', 'deployments'], ['rs', 'replicasets'], ['replicaset', 'replicasets'], ['replicasets.apps', 'replicasets'],
  ])('maps %j to %s', (word, resource) => {
    expect(resolveResourceName(word)?.resource).toBe(resource);
  });

  it.each(['widgets', 'pods.apps', 'deployments.v1', 'p', ''])('knows no resource called %j', (word) => {
    expect(resolveResourceName(word)).toBeUndefined();
  });

  it('resolves a kind added later, with its group', () => {
    const widgets = defineResource<KubeObject>({
      group: 'example.com', version: 'v1', resource: 'widgets', singular: 'widget', kind: 'Widget', namespaced: true,
      shortNames: ['wg'], subresources: ['status', 'scale'], validate: () => [],
    });
    const all = [...RESOURCES, widgets];
    expect(resolveResourceName('wg', all)).toBe(widgets);
    expect(resolveResourceName('widgets.example.com', all)).toBe(widgets);
    expect(resolveResourceName('widgets.v1.example.com', all)).toBe(widgets);
    expect(findKind('example.com/v1', 'Widget', all)).toBe(widgets);
    expect(widgets.listKind).toBe('WidgetList');
  });

  it.each([['sts', 'statefulsets'], ['ds', 'daemonsets'], ['cj', 'cronjobs'], ['jobs.batch', 'jobs'], ['rc', 'replicationcontrollers']])(
    'resolves the workload short name %s to %s', (word, resource) => {
      expect(resolveResourceName(word)?.resource).toBe(resource);
    });
});

describe('findKind and findResource', () => {
  it('find a kind by apiVersion and kind', () => {
    expect(findKind('v1', 'Pod')?.resource).toBe('pods');
    expect(findKind('v1', 'Namespace')?.resource).toBe('namespaces');
  });

  it.each([['apps/v1', 'Pod'], ['v1', 'Deployment'], ['v2', 'Pod']])('know nothing of %s %s', (apiVersion, kind) => {
    expect(findKind(apiVersion, kind)).toBeUndefined();
  });

  it('find a resource only in its group and version', () => {
    expect(findResource('', 'v1', 'pods')?.kind).toBe('Pod');
    expect(findResource('apps', 'v1', 'pods')).toBeUndefined();
  });
});

describe('the strategies behind each kind', () => {
  const pods = findResource('', 'v1', 'pods')!;
  const nodes = findResource('', 'v1', 'nodes')!;

  it('defaults and validates a pod, giving the message kubectl shows', () => {
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' },
      spec: { containers: [{ name: 'web', image: 'nginx' }, { name: 'web', image: 'busybox' }] },
    };
    pods.applyDefaults(pod);
    expect(pod.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
    expect(invalid('Pod', 'web', pods.validate(pod)).message).toBe('Pod "web" is invalid: spec.containers[1].name: Duplicate value: "web"');
  });

  it('drops a namespace sent with a cluster-scoped object', () => {
    const node: Node = { metadata: { name: 'node-1', namespace: 'default' } };
    nodes.applyDefaults(node);
    expect(node.metadata).toEqual({ name: 'node-1' });
    expect(nodes.validate(node)).toEqual([]);
  });

  it('lists the selectable fields of a pod', () => {
    const pod: Pod = { metadata: { name: 'web' }, spec: { nodeName: 'node-1', containers: [] }, status: { phase: 'Running', podIP: '10.244.1.5' } };
    expect(pods.fieldLabels?.(pod)).toEqual({
      'spec.nodeName': 'node-1', 'spec.restartPolicy': '', 'spec.schedulerName': '', 'spec.serviceAccountName': '',
      'spec.hostNetwork': 'false', 'status.phase': 'Running', 'status.podIP': '10.244.1.5', 'status.nominatedNodeName': '',
    });
  });

  it('lists every selectable field name even for an empty object', () => {
    const events = findResource('', 'v1', 'events')!;
    expect(Object.keys(events.fieldLabels?.({ metadata: {} }) ?? {})).toEqual([
      'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion',
      'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type',
    ]);
  });

  it('passes the old object to validation on update', () => {
    const seen: Array<Widget | undefined> = [];
    const def = defineResource<Widget>({
      group: 'example.com', version: 'v1', resource: 'widgets', singular: 'widget', kind: 'Widget', namespaced: true,
      shortNames: [], subresources: [], validate: (obj, old) => { seen.push(old); return obj.spec ? [] : [required('spec')]; },
    });
    const old: Widget = { metadata: { name: 'w' }, spec: {} };
    expect(def.validate({ metadata: { name: 'w' } }, old)).toEqual([required('spec')]);
    expect(seen).toEqual([old]);
  });
});
