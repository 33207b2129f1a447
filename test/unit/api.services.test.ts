/**
 * Service, Endpoints and EndpointSlice defaults, strategy and validation, checked against the
 * messages and field paths Kubernetes gives (`kubectl` prints them after `is invalid:`).
 */
import { describe, expect, it } from 'vitest';
import { applyServiceDefaults } from '../../src/api/defaults.js';
import { applyEndpointSliceDefaults, applyEndpointsDefaults } from '../../src/api/endpoints.js';
import type { FieldError } from '../../src/api/errors.js';
import { prepareServiceCreate, prepareServiceUpdate } from '../../src/api/servicestrategy.js';
import type { Endpoints, EndpointSlice, Service } from '../../src/api/types.js';
import { validateEndpointSlice, validateEndpoints, validateService } from '../../src/api/validation.js';

const lines = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${e.message}`);

/** A Service as the API server would validate it on create: defaults and strategy applied. */
function service(spec: Service['spec'] = {}, name = 'web'): Service {
  const svc: Service = { metadata: { name, namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }], ...spec } };
  applyServiceDefaults(svc);
  prepareServiceCreate(svc);
  return svc;
}

describe('validateService on create', () => {
  it.each<[string, Service, string[]]>([
    ['a plain ClusterIP Service is valid', service(), []],
    ['a headless Service may have no ports', service({ ports: [], clusterIP: 'None' }), []],
    ['an ExternalName Service may have no ports', service({ type: 'ExternalName', externalName: 'db.example.com.', ports: [] }), []],
    ['a Service needs ports', service({ ports: [] }), ['spec.ports: Required value']],
    ['several ports need names', service({ ports: [{ port: 80 }, { port: 443 }] }), ['spec.ports[0].name: Required value', 'spec.ports[1].name: Required value']],
    ['port names are unique', service({ ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] }), ['spec.ports[1].name: Duplicate value: "http"']],
    ['port names are DNS labels', service({ ports: [{ name: 'Http', port: 80 }] }),
      ["spec.ports[0].name: Invalid value: \"Http\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"]],
    ['port and protocol together are unique', service({ ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] }),
      ['spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}']],
    ['the same port over TCP and UDP is fine', service({ ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53 }] }), []],
    ['ports are 1-65535', service({ ports: [{ port: 70000, targetPort: 8080 }] }), ['spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive']],
    ['target ports are 1-65535', service({ ports: [{ port: 80, targetPort: 0x10000 }] }), ['spec.ports[0].targetPort: Invalid value: 65536: must be between 1 and 65535, inclusive']],
    ['a named target port is an IANA_SVC_NAME', service({ ports: [{ port: 80, targetPort: 'http--web' }] }), ['spec.ports[0].targetPort: Invalid value: "http--web": must not contain consecutive hyphens']],
    ['a target port name is at most 15 characters', service({ ports: [{ port: 80, targetPort: 'a-very-long-port-name' }] }), ['spec.ports[0].targetPort: Invalid value: "a-very-long-port-name": must be no more than 15 characters']],
    ['protocols are TCP, UDP or SCTP', service({ ports: [{ port: 80, protocol: 'HTTP' }] }), ['spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"']],
    ['types are the four of Kubernetes', service({ type: 'Internal' }), ['spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']],
    ['a ClusterIP Service has no node ports', service({ ports: [{ port: 80, nodePort: 30080 }] }), ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]],
    ['node ports are unique per protocol', service({ type: 'NodePort', ports: [{ name: 'a', port: 80, nodePort: 30080 }, { name: 'b', port: 81, nodePort: 30080 }] }), ['spec.ports[1].nodePort: Duplicate value: 30080']],
    ['a NodePort Service cannot be headless', service({ type: 'NodePort', clusterIP: 'None' }), ['spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services']],
    ['a LoadBalancer cannot be headless', service({ type: 'LoadBalancer', clusterIP: 'None' }), ['spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for LoadBalancer services']],
    ['a LoadBalancer may not expose the kubelet port', service({ type: 'LoadBalancer', ports: [{ port: 10250 }] }), ['spec.ports[0]: Invalid value: 10250: may not expose port 10250 externally since it is used by kubelet']],
    ['an ExternalName needs a name', service({ type: 'ExternalName' }), ['spec.externalName: Required value']],
    ['an external name is a DNS subdomain', service({ type: 'ExternalName', externalName: 'Not_A_Host' }),
      ["spec.externalName: Invalid value: \"Not_A_Host\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"]],
    ['an ExternalName has no ClusterIP', service({ type: 'ExternalName', externalName: 'db.example.com', clusterIP: '10.96.0.5' }), ['spec.clusterIPs: Forbidden: may not be set for ExternalName services']],
    ['a ClusterIP is an IP', service({ clusterIP: '10.96.0.300' }), ['spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']],
    ['clusterIPs start with clusterIP', service({ clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.6'] }), ['spec.clusterIPs: Invalid value: []string{"10.96.0.6"}: first value must match `clusterIP`']],
    ['session affinity is None or ClientIP', service({ sessionAffinity: 'Cookie' }), ['spec.sessionAffinity: Unsupported value: "Cookie": supported values: "ClientIP", "None"']],
    ['a ClientIP timeout is at most a day', service({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 86401 } } }),
      ['spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 and less than 86400']],
    ['no affinity config without ClientIP affinity', service({ sessionAffinityConfig: { clientIP: { timeoutSeconds: 10 } } }), ['spec.sessionAffinityConfig: Forbidden: must not be set when session affinity is None']],
    ['external traffic policy only for external Services', service({ externalTrafficPolicy: 'Local' }), ['spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services']],
    ['external traffic policy is Cluster or Local', service({ type: 'NodePort', externalTrafficPolicy: 'Node' }), ['spec.externalTrafficPolicy: Unsupported value: "Node": supported values: "Cluster", "Local"']],
    ['internal traffic policy is Cluster or Local', service({ internalTrafficPolicy: 'Node' }), ['spec.internalTrafficPolicy: Unsupported value: "Node": supported values: "Cluster", "Local"']],
    ['ip family policies are the three of Kubernetes', service({ ipFamilyPolicy: 'DualStack' }), ['spec.ipFamilyPolicy: Unsupported value: "DualStack": supported values: "PreferDualStack", "RequireDualStack", "SingleStack"']],
    ['ip families are IPv4 or IPv6', service({ ipFamilies: ['IPv5'] }), ['spec.ipFamilies[0]: Unsupported value: "IPv5": supported values: "IPv4", "IPv6"']],
    ['external IPs are not loopback', service({ externalIPs: ['127.0.0.1'] }), ['spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)']],
    ['allocateLoadBalancerNodePorts only for LoadBalancers', service({ allocateLoadBalancerNodePorts: false }), ["spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'"]],
    ['selector labels are valid labels', service({ selector: { app: 'bad value' } }),
      ["spec.selector: Invalid value: \"bad value\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]],
    ['a name is a DNS-1035 label', service({}, '1web'),
      ["metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"]],
  ])('%s', (_, svc, want) => {
    expect(lines(validateService(svc))).toEqual(want);
  });
});

describe('Service defaults and strategy', () => {
  it('gives ClientIP affinity a three-hour timeout', () => {
    const svc = service({ sessionAffinity: 'ClientIP' });
    expect(svc.spec?.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 10800 } });
  });

  it('copies clusterIP into clusterIPs on create, and clears status', () => {
    const svc = service({ clusterIP: '10.96.0.5' });
    expect(svc.spec?.clusterIPs).toEqual(['10.96.0.5']);
    expect(svc.status).toEqual({ loadBalancer: {} });
  });

  /** An update of `old` to `next` as the API server prepares it. */
  function update(old: Service, next: Service): Service {
    applyServiceDefaults(next);
    prepareServiceUpdate(next, old, next, '');
    return next;
  }

  const stored = (spec: Service['spec']): Service => {
    const s = service(spec);
    s.spec = { ...s.spec, clusterIP: s.spec?.clusterIP ?? '10.96.3.3', clusterIPs: [s.spec?.clusterIP ?? '10.96.3.3'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' };
    return s;
  };

  it.each<[string, Service, Service, (s: Service) => void]>([
    ['keeps an allocated ClusterIP the update leaves out', stored({}), { metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ port: 80 }] } },
      (s) => expect(s.spec).toMatchObject({ clusterIP: '10.96.3.3', clusterIPs: ['10.96.3.3'] })],
    ['keeps node ports the update leaves out, by port name', stored({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }),
      { metadata: { name: 'web' }, spec: { type: 'NodePort', ports: [{ name: 'http', port: 8080 }] } },
      (s) => expect(s.spec?.ports?.[0].nodePort).toBe(30080)],
    ['drops the ClusterIP and families it left alone when the type becomes ExternalName', stored({}), { metadata: { name: 'web' }, spec: { ...stored({}).spec, type: 'ExternalName', externalName: 'x.example.com' } },
      (s) => expect([s.spec?.clusterIP, s.spec?.clusterIPs, s.spec?.ipFamilies, s.spec?.ipFamilyPolicy, s.spec?.internalTrafficPolicy]).toEqual([undefined, undefined, undefined, undefined, 'Cluster'])],
    ['drops node ports and the external traffic policy it left alone when the type becomes ClusterIP',
      stored({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }), { metadata: { name: 'web' }, spec: { ...stored({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }).spec, type: 'ClusterIP' } },
      (s) => {
        expect(s.spec?.ports?.[0].nodePort).toBeUndefined();
        expect(s.spec?.externalTrafficPolicy).toBeUndefined();
      }],
    ['keeps a node port the user set anew on a ClusterIP (validation then refuses it)',
      stored({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }), { metadata: { name: 'web' }, spec: { type: 'ClusterIP', ports: [{ port: 80, nodePort: 30081 }] } },
      (s) => expect(lines(validateService(s, stored({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })))).toContain("spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'")],
  ])('%s', (_, old, next, check) => {
    check(update(old, next));
  });

  it('refuses a changed ClusterIP on update', () => {
    const old = stored({});
    const next = update(old, { metadata: { name: 'web', namespace: 'default' }, spec: { ...old.spec, clusterIP: '10.96.4.4', clusterIPs: ['10.96.4.4'] } });
    expect(lines(validateService(next, old))).toEqual(['spec.clusterIPs[0]: Invalid value: []string{"10.96.4.4"}: may not change once set']);
  });
});

describe('validateEndpoints', () => {
  const ep = (subsets: Endpoints['subsets']): Endpoints => {
    const e: Endpoints = { metadata: { name: 'web', namespace: 'default' }, subsets };
    applyEndpointsDefaults(e);
    return e;
  };
  it.each<[string, Endpoints, string[]]>([
    ['a subset with addresses and a port is valid', ep([{ addresses: [{ ip: '10.244.1.5', nodeName: 'node-1', targetRef: { kind: 'Pod', name: 'web-1' } }], ports: [{ port: 80 }] }]), []],
    ['a subset needs addresses', ep([{ ports: [{ port: 80 }] }]), ['subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`']],
    ['addresses are IPs', ep([{ addresses: [{ ip: 'web' }] }]), ['subsets[0].addresses[0].ip: Invalid value: "web": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']],
    ['addresses are not loopback', ep([{ notReadyAddresses: [{ ip: '127.0.0.1' }] }]), ['subsets[0].notReadyAddresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)']],
    ['addresses are not link-local', ep([{ addresses: [{ ip: '169.254.1.1' }] }]), ['subsets[0].addresses[0].ip: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)']],
    ['several ports need names', ep([{ addresses: [{ ip: '10.1.1.1' }], ports: [{ port: 53, protocol: 'UDP' }, { name: 'tcp', port: 53 }] }]), ['subsets[0].ports[0].name: Required value']],
    ['port protocols are known', ep([{ addresses: [{ ip: '10.1.1.1' }], ports: [{ port: 53, protocol: 'DNS' }] }]), ['subsets[0].ports[0].protocol: Unsupported value: "DNS": supported values: "SCTP", "TCP", "UDP"']],
  ])('%s', (_, e, want) => {
    expect(lines(validateEndpoints(e))).toEqual(want);
  });

  it('gives ports the TCP protocol by default', () => {
    expect(ep([{ addresses: [{ ip: '10.1.1.1' }], ports: [{ port: 80 }] }]).subsets?.[0].ports?.[0].protocol).toBe('TCP');
  });
});

describe('validateEndpointSlice', () => {
  const slice = (over: Partial<EndpointSlice> = {}): EndpointSlice => {
    const s: EndpointSlice = {
      metadata: { name: 'web-abcde', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4', endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true } }], ports: [{ port: 80 }], ...over,
    };
    applyEndpointSliceDefaults(s);
    return s;
  };
  it.each<[string, EndpointSlice, string[]]>([
    ['a slice of one ready IPv4 endpoint is valid', slice(), []],
    ['the address type is IPv4, IPv6 or FQDN', slice({ addressType: 'IPX' }), ['addressType: Unsupported value: "IPX": supported values: "FQDN", "IPv4", "IPv6"']],
    ['an endpoint has an address', slice({ endpoints: [{ addresses: [] }] }), ['endpoints[0].addresses: Required value: must contain at least 1 address']],
    ['IPv4 slices hold IPv4 addresses', slice({ endpoints: [{ addresses: ['fd00::1'] }] }), ['endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address']],
    ['at most 1000 endpoints', slice({ endpoints: Array.from({ length: 1001 }, (_, i) => ({ addresses: [`10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`] })) }), ['endpoints: Too many: 1001: must have at most 1000 items']],
    ['port names are unique', slice({ ports: [{ name: 'a', port: 80 }, { name: 'a', port: 81 }] }), ['ports[1].name: Duplicate value: "a"']],
  ])('%s', (_, s, want) => {
    expect(lines(validateEndpointSlice(s))).toEqual(want);
  });

  it('keeps the address type once set', () => {
    expect(lines(validateEndpointSlice(slice({ addressType: 'IPv6', endpoints: [] }), slice()))).toEqual(['addressType: Invalid value: "IPv6": field is immutable']);
  });

  it('gives ports an empty name and TCP by default', () => {
    expect(slice({ ports: [{ port: 80 }] }).ports).toEqual([{ port: 80, name: '', protocol: 'TCP' }]);
  });
});
