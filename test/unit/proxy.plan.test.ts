/**
 * The service proxy's planner: Services + EndpointSlices → the cluster's iptables chains, and
 * the restore/cleanup batches computed against a host's iptables-save.
 */
import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Service } from '../../src/api/types.js';
import {
  chainPrefix, cidrContains, cleanupText, planRules, restoreText, savedAfter, savedCIDRs, servicePorts, type ProxyState,
} from '../../src/proxy/plan.js';

const svc = (name: string, ip: string, spec: Partial<NonNullable<Service['spec']>> = {}, ns = 'default'): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns },
  spec: { clusterIP: ip, type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...spec },
});

type Ep = { ip: string; ready?: boolean; serving?: boolean; terminating?: boolean; node?: string };
const slice = (service: string, eps: Ep[], ports: { name?: string; port: number; protocol?: string }[] = [{ name: 'http', port: 8080 }], ns = 'default'): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
  metadata: { name: `${service}-abc`, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
  ports: ports.map((p) => ({ protocol: 'TCP', ...p })),
  endpoints: eps.map((e) => ({
    addresses: [e.ip], ...(e.node ? { nodeName: e.node } : {}),
    conditions: { ...(e.ready !== undefined ? { ready: e.ready } : {}), ...(e.serving !== undefined ? { serving: e.serving } : {}), ...(e.terminating !== undefined ? { terminating: e.terminating } : {}) },
  })),
});

const base: ProxyState = {
  cluster: 'dev', serviceCIDR: '10.96.0.0/16', clusterCIDR: '10.244.0.0/16', services: [], slices: [], localNodes: ['node-1', 'node-2'],
};
const P = chainPrefix('dev');
const rulesOf = (plan: ReturnType<typeof planRules>) => [...plan.nat.entries(), ...plan.filter.entries()].flatMap(([c, rs]) => rs.map((r) => `-A ${c} ${r}`));

describe('service ports and their endpoints', () => {
  it.each<[string, Service[], EndpointSlice[], string[]]>([
    ['ready endpoints are used, sorted by address', [svc('web', '10.96.0.10')],
      [slice('web', [{ ip: '10.244.2.5', ready: true }, { ip: '10.244.1.3', ready: true }])], ['10.244.1.3:8080', '10.244.2.5:8080']],
    ['an endpoint without a ready condition counts as ready', [svc('web', '10.96.0.10')], [slice('web', [{ ip: '10.244.1.3' }])], ['10.244.1.3:8080']],
    ['unready endpoints are left out', [svc('web', '10.96.0.10')],
      [slice('web', [{ ip: '10.244.1.3', ready: false, serving: false }, { ip: '10.244.1.4', ready: true }])], ['10.244.1.4:8080']],
    ['serving terminating endpoints are used only when none is ready', [svc('web', '10.96.0.10')],
      [slice('web', [{ ip: '10.244.1.3', ready: false, serving: true, terminating: true }])], ['10.244.1.3:8080']],
    ['terminating endpoints are not used while a ready one exists', [svc('web', '10.96.0.10')],
      [slice('web', [{ ip: '10.244.1.3', ready: false, serving: true, terminating: true }, { ip: '10.244.1.9', ready: true }])], ['10.244.1.9:8080']],
    ['endpoints of two slices are merged and de-duplicated', [svc('web', '10.96.0.10')],
      [slice('web', [{ ip: '10.244.1.3' }]), { ...slice('web', [{ ip: '10.244.1.3' }, { ip: '10.244.2.3' }]), metadata: { name: 'web-2', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } } }],
      ['10.244.1.3:8080', '10.244.2.3:8080']],
    ['slices of a same-named Service in another namespace are ignored', [svc('web', '10.96.0.10')], [slice('web', [{ ip: '10.244.1.3' }], undefined, 'other')], []],
    ['the slice port is matched by the service port name', [svc('web', '10.96.0.10')], [slice('web', [{ ip: '10.244.1.3' }], [{ name: 'metrics', port: 9090 }])], []],
    ['internalTrafficPolicy Local keeps the endpoints of local nodes only', [svc('web', '10.96.0.10', { internalTrafficPolicy: 'Local' })],
      [slice('web', [{ ip: '10.244.1.3', node: 'node-1' }, { ip: '10.244.3.3', node: 'node-3' }])], ['10.244.1.3:8080']],
  ])('%s', (_name, services, slices, want) => {
    const { ports } = servicePorts({ ...base, services, slices });
    expect(ports).toHaveLength(1);
    expect(ports[0].endpoints.map((e) => `${e.ip}:${e.port}`)).toEqual(want);
  });

  it.each<[string, Service]>([
    ['headless Services', svc('h', 'None')],
    ['ExternalName Services', svc('x', '', { type: 'ExternalName', externalName: 'example.org' })],
    ['Services not yet given a ClusterIP', svc('n', '')],
  ])('have no rules: %s', (_name, s) => {
    expect(servicePorts({ ...base, services: [s] }).ports).toEqual([]);
  });

  it.each<[string, Service, RegExp]>([
    ['a ClusterIP outside the service CIDR', svc('o', '10.97.0.1'), /outside the service CIDR/],
    ['an SCTP port', svc('s', '10.96.0.12', { ports: [{ port: 9, protocol: 'SCTP' }] }), /only TCP and UDP/],
    ['externalIPs', svc('e', '10.96.0.13', { externalIPs: ['192.0.2.9'] }), /externalIPs/],
  ])('warn about what they cannot honour: %s', (_name, s, msg) => {
    const { warnings } = servicePorts({ ...base, services: [s] });
    expect(warnings.map((w) => w.message).join('\n')).toMatch(msg);
  });

  it('sessionAffinity ClientIP takes the configured timeout, else 10800 s', () => {
    const { ports } = servicePorts({ ...base, services: [
      svc('a', '10.96.0.10', { sessionAffinity: 'ClientIP' }),
      svc('b', '10.96.0.11', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }),
    ] });
    expect(ports.map((p) => p.affinitySeconds)).toEqual([10800, 60]);
  });
});

describe('planned rules', () => {
  const three = { ...base, services: [svc('web', '10.96.0.10')], slices: [slice('web', [{ ip: '10.244.1.3' }, { ip: '10.244.1.4' }, { ip: '10.244.2.5' }])] };

  it('spread a ClusterIP over its endpoints with kube-proxy probabilities 1/3, 1/2, rest', () => {
    const rules = rulesOf(planRules(three)).filter((r) => r.includes(`${P}-SVC-`) && r.includes('-j ' + P + '-SEP-'));
    expect(rules.map((r) => /--probability (\S+)/.exec(r)?.[1] ?? 'rest')).toEqual(['0.3333333333', '0.5000000000', 'rest']);
  });

  it('DNAT each endpoint chain to podIP:targetPort and mark hairpin traffic for masquerading', () => {
    const rules = rulesOf(planRules(three)).filter((r) => r.startsWith(`-A ${P}-SEP-`));
    expect(rules.filter((r) => r.includes('DNAT')).map((r) => r.split('--to-destination ')[1])).toEqual(['10.244.1.3:8080', '10.244.1.4:8080', '10.244.2.5:8080']);
    expect(rules.filter((r) => r.includes(`-j ${P}-MARK-MASQ`)).map((r) => r.split(' ')[3])).toEqual(['10.244.1.3/32', '10.244.1.4/32', '10.244.2.5/32']);
  });

  it('masquerade traffic to a ClusterIP that does not come from a pod (the host)', () => {
    expect(rulesOf(planRules(three))).toContain(
      `-A ${P}-SVC-${/SVC-(\w+)/.exec(rulesOf(planRules(three)).find((r) => r.includes('-SVC-'))!)![1]} ! -s 10.244.0.0/16 -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -m comment --comment "default/web:http cluster IP" -j ${P}-MARK-MASQ`);
  });

  it('REJECT a service port without endpoints at once, and no nat rule for it', () => {
    const plan = planRules({ ...base, services: [svc('web', '10.96.0.10')] });
    expect(plan.filter.get(`${P}-FW`)).toEqual([
      '-d 10.96.0.10/32 -p tcp -m tcp --dport 80 -m comment --comment "default/web:http has no endpoints" -j REJECT --reject-with tcp-reset',
      '-d 10.96.0.0/16 -p tcp -m comment --comment "minikube-lite:dev:no service rule for this address" -j REJECT --reject-with tcp-reset',
      '-d 10.96.0.0/16 -m comment --comment "minikube-lite:dev:no service rule for this address" -j REJECT --reject-with icmp-port-unreachable',
      '-d 10.244.0.0/16 -m comment --comment "minikube-lite:dev:pod CIDR" -j RETURN',
    ]);
    expect(plan.nat.get(`${P}-SERVICES`)).toEqual([]);
  });

  it('always end the guard chain with a REJECT of the whole service CIDR, and route the pod CIDR nowhere else', () => {
    const plan = planRules({ ...base, bridge: 'br-1' });
    expect(plan.filter.get(`${P}-FW`)?.at(-2)).toMatch(/^-d 10\.96\.0\.0\/16 .* -j REJECT/);
    expect(plan.routes).toEqual([{ dst: '10.244.0.0/16', type: 'unreachable' }, { dst: '10.96.0.0/16', type: 'unicast', dev: 'br-1' }]);
  });

  it('UDP ports get udp matches', () => {
    const plan = planRules({ ...base, services: [svc('dns', '10.96.0.10', { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] })],
      slices: [slice('dns', [{ ip: '10.244.1.3' }], [{ name: 'dns', port: 5353, protocol: 'UDP' }])] });
    expect(rulesOf(plan).some((r) => r.includes('-p udp -m udp --dport 53'))).toBe(true);
    expect(rulesOf(plan).some((r) => r.endsWith('--to-destination 10.244.1.3:5353'))).toBe(true);
  });

  it('ClientIP affinity checks and sets a recent list per endpoint', () => {
    const rules = rulesOf(planRules({ ...three, services: [svc('web', '10.96.0.10', { sessionAffinity: 'ClientIP' })] }));
    expect(rules.filter((r) => r.includes('--rcheck --seconds 10800 --reap'))).toHaveLength(3);
    expect(rules.filter((r) => r.includes('--rsource --set') && r.includes('DNAT'))).toHaveLength(3);
  });

  it('are the same for the same input (stable chain names and order)', () => {
    expect(restoreText(planRules(three), { nat: '', filter: '' })).toEqual(restoreText(planRules({ ...three, slices: [...three.slices].reverse() }), { nat: '', filter: '' }));
  });

  it('of two clusters share no chain', () => {
    const a = planRules(three);
    const b = planRules({ ...three, cluster: 'other' });
    const names = (p: typeof a) => [...p.nat.keys(), ...p.filter.keys()];
    expect(names(a).filter((n) => names(b).includes(n))).toEqual([]);
    expect(chainPrefix('dev')).toMatch(/^MKL-[0-9A-F]{6}$/);
  });

  it('fit in iptables chain names (at most 28 characters)', () => {
    const plan = planRules(three);
    for (const n of [...plan.nat.keys(), ...plan.filter.keys()]) expect(n.length).toBeLessThanOrEqual(28);
  });
});

describe('restore batches', () => {
  const saved = (lines: string[]) => ['*nat', ...lines, 'COMMIT'].join('\n');
  const plan = planRules({ ...base, services: [svc('web', '10.96.0.10')], slices: [slice('web', [{ ip: '10.244.1.3' }])] });

  it('insert the jumps from the built-in chains when they are missing', () => {
    const text = restoreText(plan, { nat: saved([':PREROUTING ACCEPT [0:0]']), filter: '*filter\n:DOCKER-USER - [0:0]\nCOMMIT' });
    expect(text.split('\n').filter((l) => l.startsWith('-I '))).toEqual([
      `-I PREROUTING 1 -m comment --comment minikube-lite:dev:services -j ${P}-SERVICES`,
      `-I OUTPUT 1 -m comment --comment minikube-lite:dev:services -j ${P}-SERVICES`,
      `-I POSTROUTING 1 -m comment --comment minikube-lite:dev:masquerade -j ${P}-POSTROUTING`,
      `-I DOCKER-USER 1 -m comment --comment minikube-lite:dev:guard -j ${P}-FW`,
      `-I OUTPUT 1 -m comment --comment minikube-lite:dev:guard -j ${P}-FW`,
    ]);
  });

  it('do not insert a jump that is already there', () => {
    const nat = saved([`-A PREROUTING -m comment --comment "minikube-lite:dev:services" -j ${P}-SERVICES`]);
    expect(restoreText(plan, { nat, filter: '' })).not.toContain('-I PREROUTING');
  });

  it('flush and delete chains of the cluster that are no longer planned, and leave other clusters alone', () => {
    const other = chainPrefix('other');
    const nat = saved([`:${P}-SVC-OLD000000000 - [0:0]`, `:${other}-SVC-AAAAAAAAAAAA - [0:0]`]);
    const text = restoreText(plan, { nat, filter: '' });
    expect(text).toContain(`:${P}-SVC-OLD000000000 - [0:0]`);
    expect(text).toContain(`-X ${P}-SVC-OLD000000000`);
    expect(text).not.toContain(other);
  });

  it('declare every planned chain, which flushes it, so a batch replaces the old rules whole', () => {
    const text = restoreText(plan, { nat: '', filter: '' });
    for (const c of plan.nat.keys()) expect(text).toContain(`:${c} - [0:0]`);
    expect(text.match(/^COMMIT$/gm)).toHaveLength(2);
  });

  it('from the state the last plan left (a partial sync): no jump again, and the chains it no longer needs deleted', () => {
    const next = planRules({ ...base, services: [svc('web', '10.96.0.10')] });
    const text = restoreText(next, savedAfter(plan));
    expect(text).not.toMatch(/^-I /m);
    const gone = [...plan.nat.keys()].filter((c) => !next.nat.has(c));
    expect(gone.length).toBe(2);
    for (const c of gone) expect(text).toContain(`-X ${c}`);
  });

  it('cleanup deletes the jumps by their saved text, then the chains, and nothing of others', () => {
    const other = chainPrefix('other');
    const nat = saved([
      `:${P}-SERVICES - [0:0]`, `:${other}-SERVICES - [0:0]`,
      `-A PREROUTING -m comment --comment "minikube-lite:dev:services" -j ${P}-SERVICES`,
      `-A PREROUTING -m comment --comment "minikube-lite:other:services" -j ${other}-SERVICES`,
      `-A ${P}-SERVICES -d 10.96.0.10/32 -j ${P}-SVC-X`,
    ]);
    expect(cleanupText(P, { nat, filter: '' })).toBe([
      '*nat', `:${P}-SERVICES - [0:0]`, `-D PREROUTING -m comment --comment "minikube-lite:dev:services" -j ${P}-SERVICES`, `-X ${P}-SERVICES`, 'COMMIT', '',
    ].join('\n'));
    expect(cleanupText(P, { nat: saved([]), filter: '' })).toBe('');
  });
});

describe('savedCIDRs', () => {
  it('reads the service and pod CIDRs back from the saved guard chain (for down without a config)', () => {
    const plan = planRules({ ...base });
    const filter = ['*filter', ...plan.filter.get(`${P}-FW`)!.map((r) => `-A ${P}-FW ${r}`), 'COMMIT'].join('\n');
    expect(savedCIDRs(P, filter)).toEqual({ serviceCIDR: '10.96.0.0/16', clusterCIDR: '10.244.0.0/16' });
    expect(savedCIDRs(chainPrefix('other'), filter)).toEqual({});
  });
});

describe('cidrContains', () => {
  it.each<[string, string, boolean]>([
    ['10.96.0.0/16', '10.96.255.1', true],
    ['10.96.0.0/16', '10.97.0.1', false],
    ['0.0.0.0/0', '1.2.3.4', true],
    ['10.96.0.0/16', 'not-an-ip', false],
  ])('%s contains %s: %s', (cidr, ip, want) => expect(cidrContains(cidr, ip)).toBe(want));
});
