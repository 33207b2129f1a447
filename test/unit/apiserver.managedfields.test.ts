/**
 * Server-side apply as structured-merge-diff defines it, as pure functions: field sets and
 * their FieldsV1 encoding, the merge of an applied configuration (list-maps, sets, atomic
 * lists and structs), and the managers' fields after Update and Apply operations, including
 * conflicts worded as the Kubernetes API server words them.
 */
import { describe, expect, it } from 'vitest';
import { findKind } from '../../src/api/registry.js';
import type { ResourceDef } from '../../src/api/resource.js';
import type { KubeObject } from '../../src/api/types.js';
import { ApiError } from '../../src/api/errors.js';
import { LIST_TYPES, listTypeOf, patchStrategyOf } from '../../src/api/listtypes.js';
import { compare, FieldSet, fieldSetOf, fromFieldsV1, mergeApplied, pathString, toFieldsV1, type Json } from '../../src/apiserver/fieldpath.js';
import {
  applyConfiguration, decodeManagedFields, managerFromUserAgent, managersForUpdate, MAX_UPDATE_MANAGERS, recordUpdate, type ManagedFieldsEntry,
} from '../../src/apiserver/managedfields.js';

type JsonObject = { [k: string]: Json };
const deployments = findKind('apps/v1', 'Deployment') as ResourceDef;
const pods = findKind('v1', 'Pod') as ResourceDef;
const configmaps = findKind('v1', 'ConfigMap') as ResourceDef;
const NOW = '2025-03-01T12:00:00Z';
const LATER = '2025-03-01T12:05:00Z';

const deployment = (spec: JsonObject, meta: JsonObject = {}): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', ...meta }, spec,
} as unknown as KubeObject);
const fieldsOf = (obj: KubeObject): ManagedFieldsEntry[] => (obj.metadata as { managedFields?: ManagedFieldsEntry[] }).managedFields ?? [];
const withManaged = (obj: KubeObject, managed: ManagedFieldsEntry[]): KubeObject => ({ ...obj, metadata: { ...obj.metadata, managedFields: managed } } as KubeObject);

const container = (name: string, extra: JsonObject = {}): JsonObject => ({ name, image: 'nginx', ...extra });
const template = (containers: JsonObject[]): JsonObject => ({ metadata: { labels: { app: 'web' } }, spec: { containers } });

describe('FieldsV1', () => {
  it.each([
    ['leaves', [['f:spec', 'f:replicas']], { 'f:spec': { 'f:replicas': {} } }],
    ['a member with children gets "."', [['f:metadata', 'f:labels'], ['f:metadata', 'f:labels', 'f:app']], { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } }],
    ['list-map items', [['f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}'], ['f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}', 'f:port', ]],
      { 'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} } } } }],
    ['set items', [['f:metadata', 'f:finalizers', 'v:"a"']], { 'f:metadata': { 'f:finalizers': { 'v:"a"': {} } } }],
  ])('encodes %s, and decodes back', (_name, paths, tree) => {
    const set = new FieldSet(paths);
    expect(toFieldsV1(set)).toEqual(tree);
    expect(fromFieldsV1(tree).equals(set)).toBe(true);
  });

  it.each([
    [['f:spec', 'f:replicas'], '.spec.replicas'],
    [['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"nginx"}', 'f:image'], '.spec.template.spec.containers[name="nginx"].image'],
    [['f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}'], '.spec.ports[port=80,protocol="TCP"]'],
    [['f:metadata', 'f:finalizers', 'v:"a"'], '.metadata.finalizers[="a"]'],
  ])('prints %j as %s', (path, text) => {
    expect(pathString(path)).toBe(text);
  });

  it('refuses an unknown path element', () => {
    expect(() => fromFieldsV1({ 'x:y': {} })).toThrow(/unknown path element/);
  });
});

describe('the fields an applied configuration sets', () => {
  it.each<[string, JsonObject, string, JsonObject]>([
    ['labels without "." (the map itself is not set), containers by name with "."',
      { metadata: { labels: { app: 'web' } }, spec: { replicas: 2, template: template([container('nginx')]) } }, 'Deployment',
      {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': {
          'f:replicas': {},
          'f:template': { 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } },
        },
      }],
    ['a selector as one atomic value', { spec: { selector: { matchLabels: { app: 'web' } } } }, 'Deployment', { 'f:spec': { 'f:selector': {} } }],
    ['container ports by containerPort and protocol (defaulted to TCP)', { spec: { containers: [container('c', { ports: [{ containerPort: 80 }] })] } }, 'Pod',
      { 'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } } } } }],
    ['args as an atomic list', { spec: { containers: [container('c', { args: ['a', 'b'] })] } }, 'Pod',
      { 'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:args': {}, 'f:image': {}, 'f:name': {} } } } }],
    ['finalizers as a set', { metadata: { finalizers: ['a', 'b'] } }, 'ConfigMap', { 'f:metadata': { 'f:finalizers': { 'v:"a"': {}, 'v:"b"': {} } } }],
    ['map entries of data', { data: { k: 'v' } }, 'ConfigMap', { 'f:data': { 'f:k': {} } }],
    ['an empty struct', { spec: { containers: [container('c', { resources: {} })] } }, 'Pod',
      { 'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:resources': {} } } } }],
  ])('%s', (_name, obj, type, tree) => {
    expect(toFieldsV1(fieldSetOf(obj, type))).toEqual(tree);
  });
});

describe('merging an applied configuration', () => {
  it.each<[string, JsonObject, JsonObject, string, JsonObject]>([
    ['containers merge by name, keeping the live ones',
      { spec: { containers: [container('a', { env: [{ name: 'X', value: '1' }] }), container('b')] } },
      { spec: { containers: [container('a', { image: 'nginx:2', env: [{ name: 'Y', value: '2' }] })] } }, 'Pod',
      { spec: { containers: [container('a', { image: 'nginx:2', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }] }), container('b')] } }],
    ['atomic lists are replaced whole',
      { spec: { containers: [container('a', { args: ['1', '2'] })] } }, { spec: { containers: [container('a', { args: ['3'] })] } }, 'Pod',
      { spec: { containers: [container('a', { args: ['3'] })] } }],
    ['sets are united', { metadata: { finalizers: ['a'] } }, { metadata: { finalizers: ['b', 'a'] } }, 'ConfigMap', { metadata: { finalizers: ['a', 'b'] } }],
    ['atomic structs are replaced whole', { spec: { selector: { matchLabels: { a: '1' } } } }, { spec: { selector: { matchLabels: { b: '2' } } } }, 'Deployment',
      { spec: { selector: { matchLabels: { b: '2' } } } }],
    ['service ports merge by port and protocol', { spec: { ports: [{ port: 80, protocol: 'TCP', name: 'http' }, { port: 80, protocol: 'UDP' }] } },
      { spec: { ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] } }, 'Service',
      { spec: { ports: [{ port: 80, protocol: 'TCP', name: 'http', targetPort: 8080 }, { port: 80, protocol: 'UDP' }] } }],
    ['Job conditions are atomic for apply', { status: { conditions: [{ type: 'A', status: 'True' }] } }, { status: { conditions: [{ type: 'B', status: 'True' }] } }, 'Job',
      { status: { conditions: [{ type: 'B', status: 'True' }] } }],
  ])('%s', (_name, live, config, type, want) => {
    expect(mergeApplied(live, config, type)).toEqual(want);
  });

  it('uses the same table as strategic merge patch, whose merge key may differ from the list-map keys', () => {
    expect(patchStrategyOf('Container', 'ports')).toEqual({ mergeKey: 'containerPort', set: undefined });
    expect(patchStrategyOf('ServiceSpec', 'ports')).toEqual({ mergeKey: 'port', set: undefined });
    expect(patchStrategyOf('JobStatus', 'conditions')).toEqual({ mergeKey: 'type', set: undefined });
    expect(patchStrategyOf('ObjectMeta', 'finalizers')).toEqual({ mergeKey: undefined, set: true });
    expect(patchStrategyOf('PodSpec', 'tolerations')).toEqual({ mergeKey: undefined, set: undefined });
    expect(patchStrategyOf(undefined, 'ports', [{ port: 80 }])).toEqual({ mergeKey: 'port', set: undefined });
  });

  it.each<[string, string, object]>([
    ['PodSpec', 'containers', { type: 'map', keys: ['name'], patchMergeKey: 'name' }],
    ['Container', 'volumeMounts', { type: 'map', keys: ['mountPath'], patchMergeKey: 'mountPath' }],
    ['NodeSpec', 'podCIDRs', { type: 'set', patchMergeSet: true }],
    ['PodSpec', 'tolerations', { type: 'atomic' }],
  ])('derives %s.%s from the OpenAPI patch strategy, with no entry of its own', (type, field, want) => {
    expect(LIST_TYPES[`${type}.${field}`]).toBeUndefined();
    expect(listTypeOf(type, field)).toEqual(want);
  });
});

describe('comparing objects', () => {
  it('adds a created map with its entries, and does not add value structs Go always has', () => {
    const c = compare({}, { metadata: { labels: { app: 'web' } }, spec: { replicas: 1, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } } } }, 'Deployment');
    expect(toFieldsV1(c.added)).toEqual({
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': { 'f:replicas': {}, 'f:strategy': { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {} }, 'f:type': {} } },
    });
  });

  it('reports changed leaves as modified and dropped fields as removed', () => {
    const c = compare({ spec: { replicas: 1, paused: true } }, { spec: { replicas: 2 } }, 'Deployment');
    expect(c.modified.list()).toEqual([['f:spec', 'f:replicas']]);
    expect(c.removed.list()).toEqual([['f:spec', 'f:paused']]);
    expect(c.added.size).toBe(0);
  });
});

describe('managedFields of Update operations', () => {
  const created = (obj: KubeObject, manager: string): KubeObject =>
    withManaged(obj, recordUpdate(deployments, undefined, obj, new Map(), { manager, subresource: '' }, NOW));

  it('records a create as one Update entry with the fields set, defaults included', () => {
    const obj = created(deployment({ replicas: 1, template: template([container('nginx', { imagePullPolicy: 'Always' })]) }, { labels: { app: 'web' } }), 'kubectl-create');
    expect(fieldsOf(obj)).toEqual([{
      manager: 'kubectl-create', operation: 'Update', apiVersion: 'apps/v1', time: NOW, fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
        'f:spec': {
          'f:replicas': {},
          'f:template': { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:imagePullPolicy': {}, 'f:name': {} } } } },
        },
      },
    }]);
  });

  it('moves a changed field to the writer, keeps the time of an unchanged manager, and drops empty managers', () => {
    const live = created(deployment({ replicas: 1 }), 'kubectl-client-side-apply');
    const next = deployment({ replicas: 3 });
    const managed = recordUpdate(deployments, live, next, decodeManagedFields(live, deployments), { manager: 'kubectl', subresource: 'scale' }, LATER);
    expect(managed).toEqual([{ manager: 'kubectl', operation: 'Update', apiVersion: 'apps/v1', time: LATER, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } }, subresource: 'scale' }]);
  });

  it('adds no entry for a write that changes nothing, and only status for the status subresource', () => {
    const live = withManaged({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [container('c')] } } as unknown as KubeObject,
      recordUpdate(pods, undefined, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [container('c')] } } as unknown as KubeObject, new Map(), { manager: 'a', subresource: '' }, NOW));
    expect(recordUpdate(pods, live, live, decodeManagedFields(live, pods), { manager: 'b', subresource: '' }, LATER)).toEqual(fieldsOf(live));
    const withStatus = { ...live, status: { phase: 'Running' } } as KubeObject;
    const managed = recordUpdate(pods, live, withStatus, decodeManagedFields(live, pods), { manager: 'kubelet', subresource: 'status' }, LATER);
    expect(managed.map((m) => [m.manager, m.subresource, m.fieldsV1])).toEqual([
      ['a', undefined, fieldsOf(live)[0].fieldsV1],
      ['kubelet', 'status', { 'f:status': { 'f:phase': {} } }],
    ]);
  });

  it('keeps at most 10 Update entries, merging the oldest into ancient-changes', () => {
    let obj = deployment({});
    for (let i = 0; i < MAX_UPDATE_MANAGERS + 2; i++) {
      const next = { ...obj, metadata: { ...obj.metadata, annotations: { ...obj.metadata?.annotations, [`a${i}`]: 'x' } } } as KubeObject;
      const time = new Date(Date.parse(NOW) + i * 1000).toISOString().replace('.000', '');
      obj = withManaged(next, recordUpdate(deployments, obj, next, decodeManagedFields(obj, deployments), { manager: `m${i}`, subresource: '' }, time));
    }
    const managers = fieldsOf(obj).map((m) => m.manager);
    expect(managers).toHaveLength(MAX_UPDATE_MANAGERS);
    expect(managers[0]).toBe('ancient-changes');
    expect(managers).not.toContain('m0');
    expect(managers).not.toContain('m2');
    expect(managers).toContain('m3');
    expect(fieldsOf(obj)[0]).toMatchObject({ time: '2025-03-01T12:00:02Z', fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:a0': {}, 'f:a1': {}, 'f:a2': {} } } } });
  });

  it.each<[string, unknown, string[]]>([
    ['none sent keeps the stored managers', undefined, ['a']],
    ['[] keeps the stored managers (clients unaware of the field)', [], ['a']],
    ['[{}] resets them', [{}], []],
    ['other entries replace them', [{ manager: 'z', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }], ['z']],
  ])('an Update that sends managedFields: %s', (_name, sent, want) => {
    const live = withManaged(deployment({ replicas: 1 }), recordUpdate(deployments, undefined, deployment({ replicas: 1 }), new Map(), { manager: 'a', subresource: '' }, NOW));
    expect([...managersForUpdate(deployments, live, sent).values()].map((m) => m.manager)).toEqual(want);
  });

  it('refuses malformed managedFields with the field path (422)', () => {
    expect(() => managersForUpdate(deployments, undefined, [{ manager: 'x', operation: 'Bogus', fieldsType: 'FieldsV1', fieldsV1: {} }]))
      .toThrow('Deployment.apps "" is invalid: metadata.managedFields[0].operation: Invalid value: "Bogus": must be `Apply` or `Update`');
  });

  it('derives the manager from the User-Agent as Kubernetes does', () => {
    expect(managerFromUserAgent('kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9')).toBe('kubectl');
    expect(managerFromUserAgent('OpenAPI-Generator/31.0.0/python')).toBe('OpenAPI-Generator');
    expect(managerFromUserAgent(undefined)).toBe('');
  });
});

describe('Apply operations', () => {
  const apply = (live: KubeObject | undefined, config: KubeObject, manager: string, force = false, res: ResourceDef = deployments) =>
    applyConfiguration(res, live, config, { manager, subresource: '' }, force, LATER).object;

  it('creates from the configuration with one Apply entry', () => {
    const obj = apply(undefined, deployment({ replicas: 2 }), 'kubectl');
    expect(obj).toMatchObject({ spec: { replicas: 2 } });
    expect(fieldsOf(obj)).toEqual([{ manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: LATER, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }]);
  });

  it('refuses to change a field another manager owns, in the API server\'s words', () => {
    const live = withManaged(deployment({ replicas: 1 }), recordUpdate(deployments, undefined, deployment({ replicas: 1 }), new Map(), { manager: 'kubectl-client-side-apply', subresource: '' }, NOW));
    let err: unknown;
    try {
      apply(live, deployment({ replicas: 5 }), 'kubectl');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    const status = (err as ApiError).toStatus();
    expect(status).toMatchObject({
      code: 409, reason: 'Conflict',
      message: 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }] },
    });
  });

  it('treats the fields of an object nobody manages as before-first-apply\'s', () => {
    expect(() => apply(deployment({ replicas: 1 }), deployment({ replicas: 2 }), 'kubectl'))
      .toThrow('Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas');
    const forced = apply(deployment({ replicas: 1, paused: true }), deployment({ replicas: 2 }), 'kubectl', true);
    expect(fieldsOf(forced).map((m) => [m.manager, m.fieldsV1])).toEqual([['kubectl', { 'f:spec': { 'f:replicas': {} } }], ['before-first-apply', { 'f:spec': { 'f:paused': {} } }]]);
  });

  it('does not see a change (nor a conflict) in an atomic value whose keys come in another order', () => {
    const first = apply(undefined, deployment({ selector: { matchLabels: { a: '1', b: '2' } } }), 'alice');
    const second = apply(first, deployment({ selector: { matchLabels: { b: '2', a: '1' } } }), 'bob');
    expect(fieldsOf(second).map((m) => m.manager)).toEqual(['alice', 'bob']);
  });

  it('keeps live duplicates of a list-map key when merging', () => {
    const live = { spec: { containers: [container('a', { env: [{ name: 'X', value: '1' }, { name: 'X', value: '2' }] })] } };
    const merged = mergeApplied(live, { spec: { containers: [container('a', { env: [{ name: 'Y', value: '3' }] })] } }, 'Pod');
    expect(merged).toEqual({ spec: { containers: [container('a', { env: [{ name: 'X', value: '1' }, { name: 'X', value: '2' }, { name: 'Y', value: '3' }] })] } });
  });

  it('lists several conflicts by manager', () => {
    const first = apply(undefined, deployment({ replicas: 1, paused: false }), 'alice');
    expect(() => apply(first, deployment({ replicas: 2, paused: true }), 'bob'))
      .toThrow('Apply failed with 2 conflicts: conflicts with "alice":\n- .spec.paused\n- .spec.replicas');
  });

  it('shares a field applied with the same value, without conflict', () => {
    const first = apply(undefined, deployment({ replicas: 1 }), 'alice');
    const both = apply(first, deployment({ replicas: 1 }), 'bob');
    expect(fieldsOf(both).map((m) => [m.manager, m.fieldsV1])).toEqual([['alice', { 'f:spec': { 'f:replicas': {} } }], ['bob', { 'f:spec': { 'f:replicas': {} } }]]);
    expect(fieldsOf(both)[0].time).toBe(LATER);
  });

  it('takes a conflicting field with force', () => {
    const first = apply(undefined, deployment({ replicas: 1, paused: true }), 'alice');
    const forced = apply(first, deployment({ replicas: 4 }), 'bob', true);
    expect(forced).toMatchObject({ spec: { replicas: 4, paused: true } });
    expect(fieldsOf(forced).map((m) => [m.manager, m.fieldsV1])).toEqual([['alice', { 'f:spec': { 'f:paused': {} } }], ['bob', { 'f:spec': { 'f:replicas': {} } }]]);
  });

  it('removes what the manager applied before and no longer applies, unless someone else owns it', () => {
    const cm = (data: JsonObject, labels?: JsonObject): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', ...(labels ? { labels } : {}) }, data } as unknown as KubeObject);
    const first = apply(undefined, cm({ a: '1', b: '2' }, { x: '1' }), 'alice', false, configmaps);
    const shared = apply(first, cm({ b: '2' }), 'bob', false, configmaps);
    const after = apply(shared, cm({ c: '3' }), 'alice', false, configmaps);
    expect((after as unknown as { data: JsonObject }).data).toEqual({ b: '2', c: '3' });
    expect(after.metadata?.labels).toBeUndefined();
  });

  it('removes a container the manager stopped applying, keeping the others', () => {
    const first = apply(undefined, deployment({ template: template([container('a'), container('b')]) }), 'kubectl');
    const after = apply(first, deployment({ template: template([container('a')]) }), 'kubectl');
    expect((after as unknown as { spec: { template: { spec: { containers: JsonObject[] } } } }).spec.template.spec.containers).toEqual([container('a')]);
  });
});
