/**
 * The planners of the endpoints, endpointslice and endpointslice-mirroring controllers: which
 * addresses, ports and conditions a Service's Endpoints and EndpointSlices list, from its pods
 * (or, mirrored, from user Endpoints), and how existing slices are changed with few writes.
 */
import { describe, expect, it } from 'vitest';
import type { Endpoints, EndpointSlice, Pod, Service } from '../../src/api/types.js';
import { desiredSubsets, findPort, planEndpoints, unresolvedPorts } from '../../src/controllers/endpointsplan.js';
import {
  LABEL_MANAGED_BY, LABEL_SERVICE_NAME, MIRRORING_CONTROLLER, planMirroredSlices, planServiceSlices, SLICE_CONTROLLER,
} from '../../src/controllers/endpointsliceplan.js';

interface PodOpts {
  ip?: string;
  ready?: boolean;
  node?: string;
  deleting?: boolean;
  phase?: string;
  ports?: { name: string; containerPort: number; protocol?: string }[];
  hostname?: string;
  subdomain?: string;
}

function pod(name: string, o: PodOpts = {}): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { app: 'web' }, ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: {
      nodeName: o.node ?? 'node-1',
      containers: [{ name: 'web', image: 'nginx', ports: o.ports ?? [{ name: 'http', containerPort: 80 }] }],
      ...(o.hostname ? { hostname: o.hostname } : {}), ...(o.subdomain ? { subdomain: o.subdomain } : {}),
    },
    status: {
      phase: o.phase ?? 'Running',
      ...(o.ip === '' ? {} : { podIP: o.ip ?? '10.244.1.2', podIPs: [{ ip: o.ip ?? '10.244.1.2' }] }),
      conditions: [{ type: 'Ready', status: (o.ready ?? true) ? 'True' : 'False' }],
    },
  };
}

function service(spec: Service['spec'] = {}, labels?: Record<string, string>): Service {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', ...(labels ? { labels } : {}) },
    spec: { type: 'ClusterIP', clusterIP: '10.96.1.1', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }], ...spec },
  };
}

const ref = (name: string) => ({ kind: 'Pod', namespace: 'default', name, uid: `uid-${name}` });

describe('findPort', () => {
  it.each<[string, Pod, Service['spec'], number | undefined]>([
    ['a number is taken as it is', pod('a'), { ports: [{ port: 80, targetPort: 8080 }] }, 8080],
    ['a name resolves to the container port of that name', pod('a', { ports: [{ name: 'web', containerPort: 8081 }] }), { ports: [{ port: 80, targetPort: 'web', protocol: 'TCP' }] }, 8081],
    ['a name needs the same protocol', pod('a', { ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }] }), { ports: [{ port: 53, targetPort: 'dns', protocol: 'TCP' }] }, undefined],
    ['a name no container declares resolves to nothing', pod('a'), { ports: [{ port: 80, targetPort: 'web', protocol: 'TCP' }] }, undefined],
  ])('%s', (_, p, spec, want) => {
    expect(findPort(p, (spec?.ports ?? [])[0])).toBe(want);
  });
});

describe('the Endpoints of a Service', () => {
  it.each<[string, Service, Pod[], Endpoints['subsets']]>([
    ['lists ready pods by IP, with node and target, under the resolved port',
      service(), [pod('c', { ip: '10.244.2.3', node: 'node-2' }), pod('a', { ip: '10.244.1.10' }), pod('b', { ip: '10.244.1.9' })],
      [{
        addresses: [
          { ip: '10.244.1.9', nodeName: 'node-1', targetRef: ref('b') }, { ip: '10.244.1.10', nodeName: 'node-1', targetRef: ref('a') },
          { ip: '10.244.2.3', nodeName: 'node-2', targetRef: ref('c') },
        ],
        ports: [{ port: 80, protocol: 'TCP' }],
      }]],
    ['puts unready pods in notReadyAddresses', service(), [pod('a', { ip: '10.244.1.2' }), pod('b', { ip: '10.244.1.3', ready: false })],
      [{ addresses: [{ ip: '10.244.1.2', nodeName: 'node-1', targetRef: ref('a') }], notReadyAddresses: [{ ip: '10.244.1.3', nodeName: 'node-1', targetRef: ref('b') }], ports: [{ port: 80, protocol: 'TCP' }] }]],
    ['leaves out terminating, finished and address-less pods', service(),
      [pod('a', { deleting: true }), pod('b', { phase: 'Succeeded', ip: '10.244.1.4' }), pod('c', { ip: '' })], []],
    ['with publishNotReadyAddresses lists unready and terminating pods as ready', service({ publishNotReadyAddresses: true }),
      [pod('a', { ip: '10.244.1.2', ready: false }), pod('b', { ip: '10.244.1.3', deleting: true })],
      [{ addresses: [{ ip: '10.244.1.2', nodeName: 'node-1', targetRef: ref('a') }, { ip: '10.244.1.3', nodeName: 'node-1', targetRef: ref('b') }], ports: [{ port: 80, protocol: 'TCP' }] }]],
    ['resolves a named target port per pod', service({ ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }] }),
      [pod('a', { ip: '10.244.1.2', ports: [{ name: 'web', containerPort: 8080 }] }), pod('b', { ip: '10.244.1.3', ports: [{ name: 'web', containerPort: 9090 }] })],
      [
        { addresses: [{ ip: '10.244.1.2', nodeName: 'node-1', targetRef: ref('a') }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
        { addresses: [{ ip: '10.244.1.3', nodeName: 'node-1', targetRef: ref('b') }], ports: [{ name: 'http', port: 9090, protocol: 'TCP' }] },
      ]],
    ['lists no pod under a target port name it does not declare', service({ ports: [{ port: 80, targetPort: 'nope', protocol: 'TCP' }] }), [pod('a')], []],
    ['lists bare addresses for a headless Service without ports, with hostnames for its subdomain', service({ clusterIP: 'None', ports: [] }),
      [pod('a', { ip: '10.244.1.2', hostname: 'db-0', subdomain: 'web' })],
      [{ addresses: [{ ip: '10.244.1.2', hostname: 'db-0', nodeName: 'node-1', targetRef: ref('a') }] }]],
  ])('%s', (_, svc, pods, want) => {
    expect(desiredSubsets(svc, pods).subsets).toEqual(want);
  });

  it.each<[string, Service | undefined, Endpoints | undefined, string]>([
    ['creates them for a new Service', service(), undefined, 'create'],
    ['leaves a selector-less Service\'s Endpoints to the user', service({ selector: undefined }), { metadata: { name: 'web' }, subsets: [{ addresses: [{ ip: '10.1.1.1' }] }] }, 'none'],
    ['deletes them with their Service', undefined, { metadata: { name: 'web' } }, 'delete'],
    ['writes nothing when they already match', service(), {
      metadata: { name: 'web', namespace: 'default', labels: {} },
      subsets: [{ addresses: [{ ip: '10.244.1.2', nodeName: 'node-1', targetRef: ref('a') }], ports: [{ port: 80, protocol: 'TCP' }] }],
    }, 'none'],
  ])('%s', (_, svc, current, want) => {
    expect(planEndpoints(svc, [pod('a')], current).action).toBe(want);
  });

  it('copies the Service labels and marks a headless Service', () => {
    const plan = planEndpoints(service({ clusterIP: 'None' }, { app: 'web' }), [pod('a')], undefined);
    expect(plan.action === 'create' && plan.endpoints.metadata?.labels).toEqual({ app: 'web', 'service.kubernetes.io/headless': '' });
  });

  it('names the pods that do not declare a named target port', () => {
    const svc = service({ ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }] });
    const got = unresolvedPorts(svc, [pod('b'), pod('a'), pod('c', { ports: [{ name: 'web', containerPort: 80 }] })]);
    expect(got.map((u) => [u.port.name, u.pods])).toEqual([['http', ['a', 'b']]]);
  });
});

describe('the EndpointSlices of a Service', () => {
  const slice = (name: string, addresses: string[], extra: Partial<EndpointSlice> = {}): EndpointSlice => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      name, namespace: 'default', resourceVersion: '5',
      labels: { [LABEL_SERVICE_NAME]: 'web', [LABEL_MANAGED_BY]: SLICE_CONTROLLER },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }],
    },
    addressType: 'IPv4',
    endpoints: addresses.map((ip) => ({
      addresses: [ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-1', targetRef: ref(`p${ip.split('.')[3]}`),
    })),
    ports: [{ name: '', port: 80, protocol: 'TCP' }],
    ...extra,
  });
  const podAt = (ip: string, o: PodOpts = {}) => pod(`p${ip.split('.')[3]}`, { ip, ...o });

  it('creates one slice for a new Service, labelled, owned by the Service, with conditions per pod', () => {
    const plan = planServiceSlices(service({}, { tier: 'front' }), [podAt('10.244.1.2'), podAt('10.244.1.3', { ready: false }), podAt('10.244.1.4', { deleting: true })], []);
    expect(plan.update).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(plan.create).toEqual([{
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: {
        generateName: 'web-', namespace: 'default',
        labels: { tier: 'front', [LABEL_SERVICE_NAME]: 'web', [LABEL_MANAGED_BY]: SLICE_CONTROLLER },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }],
      },
      addressType: 'IPv4',
      endpoints: [
        { addresses: ['10.244.1.2'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-1', targetRef: ref('p2') },
        { addresses: ['10.244.1.3'], conditions: { ready: false, serving: false, terminating: false }, nodeName: 'node-1', targetRef: ref('p3') },
        { addresses: ['10.244.1.4'], conditions: { ready: false, serving: true, terminating: true }, nodeName: 'node-1', targetRef: ref('p4') },
      ],
      ports: [{ name: '', port: 80, protocol: 'TCP' }],
    }]);
  });

  it.each<[string, Service, Pod[], EndpointSlice[], { create: number; update: string[]; delete: string[] }]>([
    ['keeps an empty placeholder slice for a Service that selects nothing', service(), [], [], { create: 1, update: [], delete: [] }],
    ['writes nothing when the slice already matches', service(), [podAt('10.244.1.2')], [slice('web-a', ['10.244.1.2'])], { create: 0, update: [], delete: [] }],
    ['adds a new pod to the slice that has room', service(), [podAt('10.244.1.2'), podAt('10.244.1.3')], [slice('web-a', ['10.244.1.2'])], { create: 0, update: ['web-a'], delete: [] }],
    ['updates the slice when a pod turns unready', service(), [podAt('10.244.1.2', { ready: false })], [slice('web-a', ['10.244.1.2'])], { create: 0, update: ['web-a'], delete: [] }],
    ['deletes a slice whose pods are all gone, keeping the other', service(), [podAt('10.244.1.2')], [slice('web-a', ['10.244.1.2']), slice('web-b', ['10.244.1.9'])], { create: 0, update: [], delete: ['web-b'] }],
    ['replaces the last slice by a placeholder when no pod is left', service(), [], [slice('web-a', ['10.244.1.2'])], { create: 1, update: [], delete: ['web-a'] }],
    ['moves endpoints to a new slice when the target port changes', service({ ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] }), [podAt('10.244.1.2')], [slice('web-a', ['10.244.1.2'])], { create: 1, update: [], delete: ['web-a'] }],
    ['deletes every slice of a Service that lost its selector', service({ selector: undefined }), [podAt('10.244.1.2')], [slice('web-a', ['10.244.1.2'])], { create: 0, update: [], delete: ['web-a'] }],
  ])('%s', (_, svc, pods, existing, want) => {
    const plan = planServiceSlices(svc, pods, existing);
    expect({ create: plan.create.length, update: plan.update.map((s) => s.metadata?.name), delete: plan.delete.map((s) => s.metadata?.name) }).toEqual(want);
  });

  it('puts at most 100 endpoints in a slice', () => {
    const pods = Array.from({ length: 250 }, (_, i) => podAt(`10.244.${1 + Math.floor(i / 200)}.${(i % 200) + 1}`));
    const plan = planServiceSlices(service(), pods, []);
    expect(plan.create.map((s) => s.endpoints.length)).toEqual([100, 100, 50]);
    expect(new Set(plan.create.flatMap((s) => s.endpoints.map((e) => e.addresses[0]))).size).toBe(250);
  });

  it('gives pods that lack a named target port a slice without ports', () => {
    const svc = service({ ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }] });
    const plan = planServiceSlices(svc, [podAt('10.244.1.2'), podAt('10.244.1.3', { ports: [{ name: 'web', containerPort: 8080 }] })], []);
    expect(plan.create.map((s) => [s.ports ?? [], s.endpoints.map((e) => e.addresses[0])])).toEqual([
      [[], ['10.244.1.2']],
      [[{ name: 'http', port: 8080, protocol: 'TCP' }], ['10.244.1.3']],
    ]);
  });
});

describe('mirrored EndpointSlices of user Endpoints', () => {
  const userEndpoints = (labels: Record<string, string> = {}): Endpoints => ({
    metadata: { name: 'ext', namespace: 'default', uid: 'ep-uid', labels },
    subsets: [{ addresses: [{ ip: '10.244.9.9' }], notReadyAddresses: [{ ip: '10.244.9.8' }], ports: [{ name: 'db', port: 5432, protocol: 'TCP' }] }],
  });
  const selectorless: Service = { metadata: { name: 'ext', namespace: 'default' }, spec: { ports: [{ name: 'db', port: 5432 }] } };

  it('mirrors a selector-less Service\'s Endpoints into a slice owned by them', () => {
    const plan = planMirroredSlices(userEndpoints({ team: 'db' }), selectorless, []);
    expect(plan.create).toEqual([{
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: {
        generateName: 'ext-', namespace: 'default',
        labels: { team: 'db', [LABEL_SERVICE_NAME]: 'ext', [LABEL_MANAGED_BY]: MIRRORING_CONTROLLER },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Endpoints', name: 'ext', uid: 'ep-uid', controller: true, blockOwnerDeletion: true }],
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.9.8'], conditions: { ready: false } }, { addresses: ['10.244.9.9'], conditions: { ready: true } }],
      ports: [{ name: 'db', port: 5432, protocol: 'TCP' }],
    }]);
  });

  it.each<[string, Endpoints | undefined, Service | undefined]>([
    ['Endpoints marked skip-mirror', userEndpoints({ 'endpointslice.kubernetes.io/skip-mirror': 'true' }), selectorless],
    ['Endpoints of a Service with a selector', userEndpoints(), { ...selectorless, spec: { selector: { app: 'x' } } }],
    ['Endpoints without a Service', userEndpoints(), undefined],
    ['deleted Endpoints', undefined, selectorless],
  ])('does not mirror %s, and removes what was mirrored', (_, ep, svc) => {
    const existing: EndpointSlice = { metadata: { name: 'ext-abc' }, addressType: 'IPv4', endpoints: [] };
    const plan = planMirroredSlices(ep, svc, [existing]);
    expect(plan).toEqual({ create: [], update: [], delete: [existing] });
  });
});
