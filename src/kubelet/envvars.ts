/**
 * Service environment variables (Kubernetes `pkg/kubelet/envvars` and `getServiceEnvVarMap`):
 * for each Service with a ClusterIP in the pod's namespace (when `enableServiceLinks`, the
 * default) and always for the `kubernetes` Service in `default`, the variables
 * `<SVC>_SERVICE_HOST`, `<SVC>_SERVICE_PORT`, `<SVC>_SERVICE_PORT_<PORTNAME>` and the
 * Docker-link style `<SVC>_PORT`, `<SVC>_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR]`. Pure.
 */
import type { Service } from '../api/types.js';

/** Services whose variables every pod gets, whatever its namespace and enableServiceLinks. */
const MASTER_SERVICES = new Set(['kubernetes']);

/** `my-svc` → `MY_SVC` */
export const envVarName = (s: string): string => s.toUpperCase().replace(/-/g, '_');

const hasClusterIP = (s: Service): boolean => {
  const ip = s.spec?.clusterIP ?? '';
  return ip !== '' && ip !== 'None';
};

/** The variables of the given Services, in Kubernetes' order (per Service: host, ports, link variables). */
export function fromServices(services: readonly Service[]): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const svc of services) {
    const ports = svc.spec?.ports ?? [];
    if (!hasClusterIP(svc) || !ports.length) continue;
    const prefix = envVarName(svc.metadata?.name ?? '');
    const ip = svc.spec?.clusterIP ?? '';
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    out.push({ name: `${prefix}_SERVICE_PORT`, value: String(ports[0].port) });
    for (const p of ports) if (p.name) out.push({ name: `${prefix}_SERVICE_PORT_${envVarName(p.name)}`, value: String(p.port) });
    ports.forEach((p, i) => {
      const proto = (p.protocol ?? 'TCP').toLowerCase();
      const url = `${proto}://${ip}:${p.port}`;
      if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
      const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.push({ name: pp, value: url }, { name: `${pp}_PROTO`, value: proto }, { name: `${pp}_PORT`, value: String(p.port) }, { name: `${pp}_ADDR`, value: ip });
    });
  }
  return out;
}

/**
 * The service variables of a container of a pod in `namespace`, from every Service the
 * kubelet knows: the namespace's (when `enableServiceLinks` is not false) and the master
 * Services of `default` (a Service of the same name in the pod's own namespace wins).
 */
export function serviceEnvFor(services: readonly Service[], namespace: string, enableServiceLinks: boolean | undefined): Record<string, string> {
  const chosen = new Map<string, Service>();
  for (const svc of services) {
    if (!hasClusterIP(svc)) continue;
    const name = svc.metadata?.name ?? '';
    const ns = svc.metadata?.namespace ?? '';
    if (ns === 'default' && MASTER_SERVICES.has(name)) {
      if (!chosen.has(name)) chosen.set(name, svc);
    } else if (ns === namespace && enableServiceLinks !== false) {
      chosen.set(name, svc);
    }
  }
  const sorted = [...chosen.values()].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  return Object.fromEntries(fromServices(sorted).map((e) => [e.name, e.value]));
}
