/**
 * The Service commands' text: `get svc|ep|endpointslices` rows (the same rows the API server
 * serves kubectl as a Table), `describe service` and `describe endpoints` as kubectl lays them
 * out, and the Service `expose` builds from a deployment, pod or service.
 */
import { describe, expect, it } from 'vitest';
import type { Endpoints, EndpointSlice, Event, Service } from '../../src/api/types.js';
import { RESOURCES } from '../../src/api/registry.js';
import { exposeArgv, runExpose, serviceForExpose } from '../../src/cli/commands/expose.js';
import { DEPLOY_REF, FakeClient, fakeDeps, GLOBALS } from './cli.fakes.js';
import { describeEndpoints, describeService } from '../../src/cli/commands/servicedescribers.js';
import { tableHeader, tableRow } from '../../src/cli/commands/tables.js';
import { toTable } from '../../src/apiserver/table.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const created = '2026-01-01T11:55:00Z';
const def = (resource: string) => RESOURCES.find((r) => r.resource === resource)!;

const web: Service = {
  metadata: { name: 'myapp', namespace: 'default', labels: { app: 'myapp' }, creationTimestamp: created },
  spec: {
    type: 'ClusterIP', clusterIP: '10.96.12.34', clusterIPs: ['10.96.12.34'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack',
    selector: { app: 'myapp' }, ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }], sessionAffinity: 'None', internalTrafficPolicy: 'Cluster',
  },
};

describe('get services, endpoints and endpointslices', () => {
  it.each<[string, Service, boolean, string[]]>([
    ['a ClusterIP Service', web, false, ['myapp', 'ClusterIP', '10.96.12.34', '<none>', '80/TCP', '5m']],
    ['a ClusterIP Service, wide', web, true, ['myapp', 'ClusterIP', '10.96.12.34', '<none>', '80/TCP', '5m', 'app=myapp']],
    ['a NodePort Service', { ...web, spec: { ...web.spec, type: 'NodePort', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { name: 'dns', port: 53, nodePort: 30053, protocol: 'UDP' }] } }, false,
      ['myapp', 'NodePort', '10.96.12.34', '<none>', '80:30080/TCP,53:30053/UDP', '5m']],
    ['a LoadBalancer waiting for its address', { ...web, spec: { ...web.spec, type: 'LoadBalancer' } }, false, ['myapp', 'LoadBalancer', '10.96.12.34', '<pending>', '80/TCP', '5m']],
    ['a LoadBalancer on 127.0.0.1', { ...web, spec: { ...web.spec, type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } } }, false,
      ['myapp', 'LoadBalancer', '10.96.12.34', '127.0.0.1', '80/TCP', '5m']],
    ['an ExternalName Service', { metadata: { name: 'db', creationTimestamp: created }, spec: { type: 'ExternalName', externalName: 'db.example.com' } }, false,
      ['db', 'ExternalName', '<none>', 'db.example.com', '<none>', '5m']],
    ['a headless Service', { ...web, spec: { ...web.spec, clusterIP: 'None', clusterIPs: ['None'] } }, false, ['myapp', 'ClusterIP', 'None', '<none>', '80/TCP', '5m']],
  ])('prints %s as kubectl does', (_, svc, wide, want) => {
    expect(tableRow(def('services'), svc, { now: NOW, wide })).toEqual(want);
  });

  it('has kubectl\'s headers', () => {
    expect(tableHeader(def('services'), { wide: true })).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
    expect(tableHeader(def('endpoints'), {})).toEqual(['NAME', 'ENDPOINTS', 'AGE']);
    expect(tableHeader(def('endpointslices'), {})).toEqual(['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE']);
  });

  const ep = (ips: string[], notReady: string[] = []): Endpoints => ({
    metadata: { name: 'myapp', creationTimestamp: created },
    subsets: [{ addresses: ips.map((ip) => ({ ip })), ...(notReady.length ? { notReadyAddresses: notReady.map((ip) => ({ ip })) } : {}), ports: [{ port: 80, protocol: 'TCP' }] }],
  });
  it.each<[string, Endpoints, string]>([
    ['ready addresses with their port', ep(['10.244.1.2', '10.244.2.3']), '10.244.1.2:80,10.244.2.3:80'],
    ['three, then how many more', ep(['10.244.1.2', '10.244.1.3', '10.244.1.4', '10.244.1.5', '10.244.1.6']), '10.244.1.2:80,10.244.1.3:80,10.244.1.4:80 + 2 more...'],
    ['<none> when only not-ready addresses are left', ep([], ['10.244.1.2']), '<none>'],
    ['<none> without subsets', { metadata: { name: 'myapp', creationTimestamp: created } }, '<none>'],
  ])('lists endpoints: %s', (_, e, want) => {
    expect(tableRow(def('endpoints'), e, { now: NOW })).toEqual(['myapp', want, '5m']);
  });

  it.each<[string, EndpointSlice, string[]]>([
    ['a slice of three', {
      metadata: { name: 'myapp-x7k2p', creationTimestamp: created }, addressType: 'IPv4', ports: [{ name: '', port: 80, protocol: 'TCP' }],
      endpoints: ['10.244.1.2', '10.244.1.3', '10.244.2.2'].map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    }, ['myapp-x7k2p', 'IPv4', '80', '10.244.1.2,10.244.1.3,10.244.2.2', '5m']],
    ['a placeholder', { metadata: { name: 'myapp-x7k2p', creationTimestamp: created }, addressType: 'IPv4', endpoints: [] }, ['myapp-x7k2p', 'IPv4', '<unset>', '<unset>', '5m']],
  ])('lists endpoint slices: %s', (_, s, want) => {
    expect(tableRow(def('endpointslices'), s, { now: NOW })).toEqual(want);
  });

  it('serves kubectl the same cells in a Table', () => {
    const t = toTable(def('services'), [web], '1', new Date(NOW)) as { rows: { cells: unknown[] }[]; columnDefinitions: { name: string; priority: number }[] };
    expect(t.columnDefinitions.map((c) => `${c.name}:${c.priority}`)).toEqual(['Name:0', 'Type:0', 'Cluster-IP:0', 'External-IP:0', 'Port(s):0', 'Age:0', 'Selector:1']);
    expect(t.rows[0].cells).toEqual(['myapp', 'ClusterIP', '10.96.12.34', '<none>', '80/TCP', '5m', 'app=myapp']);
  });
});

describe('describe service and endpoints', () => {
  const slice: EndpointSlice = {
    metadata: { name: 'myapp-abcde' }, addressType: 'IPv4', ports: [{ name: '', port: 80, protocol: 'TCP' }],
    endpoints: [
      { addresses: ['10.244.1.2'], conditions: { ready: true } }, { addresses: ['10.244.2.3'], conditions: { ready: true } },
      { addresses: ['10.244.2.4'], conditions: { ready: false } },
    ],
  };
  const events: Event[] = [{
    metadata: { name: 'e1' }, involvedObject: { kind: 'Service', name: 'myapp' }, type: 'Warning', reason: 'FailedToResolvePort',
    message: 'x', firstTimestamp: '2026-01-01T11:58:00Z', lastTimestamp: '2026-01-01T11:58:00Z', count: 1, source: { component: 'endpointslice-controller' },
  }];

  it('describes a Service like kubectl, with its ready endpoints per port', () => {
    expect(describeService(web, [slice], [], NOW)).toBe(`Name:                     myapp
Namespace:                default
Labels:                   app=myapp
Annotations:              <none>
Selector:                 app=myapp
Type:                     ClusterIP
IP Family Policy:         SingleStack
IP Families:              IPv4
IP:                       10.96.12.34
IPs:                      10.96.12.34
Port:                     <unset>  80/TCP
TargetPort:               80/TCP
Endpoints:                10.244.1.2:80,10.244.2.3:80
Session Affinity:         None
Internal Traffic Policy:  Cluster
Events:                   <none>
`);
  });

  it('describes a NodePort Service with a named target port and an event', () => {
    const np: Service = { ...web, spec: { ...web.spec, type: 'NodePort', externalTrafficPolicy: 'Cluster', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'web', nodePort: 30080 }] } };
    expect(describeService(np, [], events, NOW)).toBe(`Name:                     myapp
Namespace:                default
Labels:                   app=myapp
Annotations:              <none>
Selector:                 app=myapp
Type:                     NodePort
IP Family Policy:         SingleStack
IP Families:              IPv4
IP:                       10.96.12.34
IPs:                      10.96.12.34
Port:                     http  80/TCP
TargetPort:               web/TCP
NodePort:                 http  30080/TCP
Endpoints:                <none>
Session Affinity:         None
External Traffic Policy:  Cluster
Internal Traffic Policy:  Cluster
Events:
  Type     Reason               Age   From                      Message
  ----     ------               ----  ----                      -------
  Warning  FailedToResolvePort  2m    endpointslice-controller  x
`);
  });

  it('describes Endpoints like kubectl', () => {
    const e: Endpoints = {
      metadata: { name: 'myapp', namespace: 'default', labels: { app: 'myapp' } },
      subsets: [{ addresses: [{ ip: '10.244.1.2' }, { ip: '10.244.2.3' }], notReadyAddresses: [{ ip: '10.244.2.4' }], ports: [{ port: 80, protocol: 'TCP' }] }],
    };
    expect(describeEndpoints(e, [], NOW)).toBe(`Name:         myapp
Namespace:    default
Labels:       app=myapp
Annotations:  <none>
Subsets:
  Addresses:          10.244.1.2,10.244.2.3
  NotReadyAddresses:  10.244.2.4
  Ports:
    Name     Port  Protocol
    ----     ----  --------
    <unset>  80    TCP

Events:  <none>
`);
  });
});

describe('expose', () => {
  it.each<[string, string[], string[]]>([
    ['--name after expose names the Service', ['expose', 'deploy', 'web', '--name', 'front'], ['expose', 'deploy', 'web', '--service-name', 'front']],
    ['--name= after expose names the Service', ['expose', 'deploy', 'web', '--name=front'], ['expose', 'deploy', 'web', '--service-name=front']],
    ['--name before expose stays the cluster', ['--name', 'dev', 'expose', 'deploy', 'web'], ['--name', 'dev', 'expose', 'deploy', 'web']],
    ['both', ['--home', '/h', '--name', 'dev', '-n', 'x', 'expose', 'deploy', 'web', '--name', 'front'], ['--home', '/h', '--name', 'dev', '-n', 'x', 'expose', 'deploy', 'web', '--service-name', 'front']],
    ['other commands keep --name', ['get', 'pods', '--name', 'dev'], ['get', 'pods', '--name', 'dev']],
  ])('reads argv: %s', (_, args, want) => {
    expect(exposeArgv(['node', 'main.js', ...args]).slice(2)).toEqual(want);
  });

  const deployment = {
    kind: 'Deployment', metadata: { name: 'myapp', labels: { app: 'myapp' } },
    spec: { selector: { matchLabels: { app: 'myapp' } }, template: { spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }] }] } } },
  };

  it.each<[string, Parameters<typeof serviceForExpose>[0], Parameters<typeof serviceForExpose>[1], Service['spec'], Record<string, string> | undefined]>([
    ['a deployment on --port, selecting its pods', deployment, { port: '80' }, { ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }], selector: { app: 'myapp' } }, { app: 'myapp' }],
    ['a deployment on its container ports, named port-N', deployment, {}, {
      ports: [{ name: 'port-1', port: 80, protocol: 'TCP', targetPort: 80 }, { name: 'port-2', port: 53, protocol: 'UDP', targetPort: 53 }], selector: { app: 'myapp' },
    }, { app: 'myapp' }],
    ['with a named target port, a type and a selector', deployment, { port: '80', targetPort: 'http', type: 'NodePort', selector: 'tier=web' },
      { ports: [{ port: 80, protocol: 'TCP', targetPort: 'http' }], selector: { tier: 'web' }, type: 'NodePort' }, { app: 'myapp' }],
    ['a pod, selecting it by its labels', { kind: 'Pod', metadata: { name: 'p', labels: { run: 'p' } }, spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 8080 }] }] } },
      { targetPort: '8080', port: '80' }, { ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }], selector: { run: 'p' } }, { run: 'p' }],
    ['a service, taking its selector and ports', { kind: 'Service', metadata: { name: 's' }, spec: { selector: { app: 'x' }, ports: [{ port: 443, protocol: 'TCP' }] } },
      { serviceName: 's2' }, { ports: [{ port: 443, protocol: 'TCP', targetPort: 443 }], selector: { app: 'x' } }, undefined],
  ])('exposes %s', (_, obj, flags, spec, labels) => {
    const svc = serviceForExpose(obj, flags, 'default');
    expect(svc.spec).toEqual(spec);
    expect(svc.metadata?.labels).toEqual(labels);
    expect(svc.metadata?.name).toBe(flags.serviceName ?? obj.metadata?.name);
  });

  it.each<[string, Parameters<typeof serviceForExpose>[0], string]>([
    ['a node', { kind: 'Node', metadata: { name: 'n' } }, 'cannot expose a Node'],
    ['a pod without ports and no --port', { kind: 'Pod', metadata: { name: 'p', labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } }, "couldn't find port via --port flag or introspection"],
    ['a deployment selecting by expressions', { kind: 'Deployment', metadata: { name: 'd' }, spec: { selector: { matchExpressions: [{ key: 'a', operator: 'Exists' }] } } },
      'couldn\'t retrieve selectors via --selector flag or introspection: couldn\'t convert expressions - "[{"key":"a","operator":"Exists"}]" to map-based selector format'],
    ['a service without selector', { kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } }, "couldn't retrieve selectors via --selector flag or introspection: the service has no pod selector set"],
  ])('refuses %s', (_, obj, message) => {
    expect(() => serviceForExpose(obj, {}, 'default')).toThrow(message);
  });
});

describe('runExpose', () => {
  const svcRef = { group: '', version: 'v1', resource: 'services', namespace: 'default' };
  const seeded = () => {
    const client = new FakeClient();
    client.seed(DEPLOY_REF, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'myapp', namespace: 'default', labels: { app: 'myapp' } },
      spec: { selector: { matchLabels: { app: 'myapp' } }, template: { spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
    } as never);
    return client;
  };

  it('creates the Service and says so as kubectl does', async () => {
    const client = seeded();
    const deps = fakeDeps(client);
    await runExpose(deps, GLOBALS, ['deployment', 'myapp'], { port: '80' });
    expect(deps.io.stdout).toBe('service/myapp exposed\n');
    expect((await client.get<Service>(svcRef, 'myapp')).spec?.selector).toEqual({ app: 'myapp' });
  });

  it('with --dry-run=client -o yaml prints the Service and creates nothing', async () => {
    const client = seeded();
    const deps = fakeDeps(client);
    await runExpose(deps, GLOBALS, ['deployment/myapp'], { port: '80', dryRun: 'client', output: 'yaml' });
    expect(deps.io.stdout).toContain('kind: Service');
    expect(deps.io.stdout).toContain('  selector:\n    app: myapp\n');
    await expect(client.get(svcRef, 'myapp')).rejects.toMatchObject({ code: 404 });
  });

  it.each<[string, Parameters<typeof runExpose>[3], string]>([
    ['a server dry run', { port: '80', dryRun: 'server' }, 'Invalid dry-run value (server)'],
    ['an unknown output format', { port: '80', output: 'wide' }, 'unable to match a printer suitable for the output format "wide"'],
  ])('refuses %s', async (_, flags, message) => {
    await expect(runExpose(fakeDeps(seeded()), GLOBALS, ['deployment', 'myapp'], flags)).rejects.toThrow(message);
  });
});
