/**
 * The `kube-dns` Service in `kube-system` and its selector-less Endpoints and EndpointSlice:
 * where pods find the cluster DNS. The Service's ClusterIP is the 10th address of the service
 * CIDR (10.96.0.10 for 10.96.0.0/16), as kubeadm configures it; its endpoints are the
 * addresses where the DNS process listens on this host (node bridges' gateways, port 53), which
 * the service proxy DNATs the ClusterIP to. Pure builders; dns.ts writes them through the API.
 */
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Service } from '../api/types.js';
import { ENDPOINTS, ENDPOINTSLICES, SERVICES } from '../client/client.js';
import { formatIPv4, parseIPv4CIDR } from '../api/ip.js';
// Our Endpoints carry skip-mirror: the mirroring controller leaves them alone, as we write the slice ourselves.
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_SKIP_MIRROR } from '../controllers/endpointsliceplan.js';

export const KUBE_DNS = 'kube-dns';
export const KUBE_SYSTEM = 'kube-system';
export const DNS_PORT = 53;
export const DNS_LABELS = { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' };
/** Who manages the kube-dns EndpointSlice (so the mirroring controller leaves it alone). */
export const DNS_MANAGER = 'minikube-lite-dns';

export { ENDPOINTS, ENDPOINTSLICES, SERVICES };

const PORTS = [
  { name: 'dns', port: DNS_PORT, protocol: 'UDP' },
  { name: 'dns-tcp', port: DNS_PORT, protocol: 'TCP' },
] as const;

/** The cluster DNS Service IP for a service CIDR (its 10th address, which the API server keeps for kube-dns). Throws on a malformed CIDR. */
export function clusterDnsIP(serviceCIDR: string): string {
  const net = parseIPv4CIDR(serviceCIDR);
  return formatIPv4(net.base + 10);
}

/** The `kube-dns` Service (selector-less: its endpoints are written, not selected). */
export function kubeDnsService(clusterIP: string): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: KUBE_DNS, namespace: KUBE_SYSTEM, labels: { ...DNS_LABELS } },
    spec: { type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], ports: PORTS.map((p) => ({ ...p, targetPort: DNS_PORT })) },
  };
}

/** Endpoints naming where the DNS process listens. */
export function kubeDnsEndpoints(addresses: readonly string[]): Endpoints {
  return {
    apiVersion: 'v1', kind: 'Endpoints',
    metadata: { name: KUBE_DNS, namespace: KUBE_SYSTEM, labels: { ...DNS_LABELS, [LABEL_SKIP_MIRROR]: 'true' } },
    subsets: addresses.length ? [{ addresses: addresses.map((ip) => ({ ip })), ports: PORTS.map((p) => ({ ...p })) }] : [],
  };
}

/** The EndpointSlice the proxy reads for kube-dns. */
export function kubeDnsEndpointSlice(addresses: readonly string[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      name: KUBE_DNS, namespace: KUBE_SYSTEM,
      labels: { ...DNS_LABELS, [LABEL_SERVICE_NAME]: KUBE_DNS, [LABEL_MANAGED_BY]: DNS_MANAGER },
    },
    addressType: 'IPv4',
    endpoints: addresses.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false } })),
    ports: PORTS.map((p) => ({ ...p })),
  };
}
