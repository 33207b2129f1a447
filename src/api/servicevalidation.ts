/**
 * Validation of Services (core/v1), in Kubernetes' words and field paths
 * (`pkg/apis/core/validation`: `ValidateService`, `ValidateServiceUpdate`,
 * `ValidateServiceStatusUpdate`, `ValidateServiceClusterIPsRelatedFields`). Expects the
 * Service defaults (`applyServiceDefaults`) and the strategy (`servicestrategy.ts`) applied
 * first, as the API server does. What depends on the cluster — the service CIDR, which IPs and
 * node ports are taken, which IP families are configured — is checked by the API server's
 * allocator (`src/apiserver/services.ts`), not here. Pure; never throws for user mistakes.
 */
import type { Service, ServicePort } from './types.js';
import type { FieldError } from './errors.js';
import { duplicate, forbidden, invalidFormatted, invalidValue, notSupported, required, requiredWithDetail } from './errors.js';
import { goStringSlice } from './gofmt.js';
import { ipFamilyOf, isValidIP, nonSpecialIPErrors } from './ip.js';
import { validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './metavalidation.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidPortName, isValidPortNum, nameIsDNS1035Label } from './names.js';

export const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
export const SERVICE_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const SESSION_AFFINITIES = ['ClientIP', 'None'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const IP_FAMILIES = ['IPv4', 'IPv6'];
/** The kubelet's port, which Kubernetes refuses to expose on a LoadBalancer. */
const KUBELET_PORT = 10250;
/** `core.MaxClientIPServiceAffinitySeconds`. */
const MAX_AFFINITY_SECONDS = 86400;

type Spec = NonNullable<Service['spec']>;

export const isHeadless = (svc: Service): boolean => svc.spec?.clusterIP === 'None';

/** NodePort, LoadBalancer, or ClusterIP with external IPs (`ExternallyAccessible`). */
export function externallyAccessible(svc: Service): boolean {
  const t = svc.spec?.type;
  return t === 'LoadBalancer' || t === 'NodePort' || (t === 'ClusterIP' && (svc.spec?.externalIPs ?? []).length > 0);
}

/** A LoadBalancer with `externalTrafficPolicy: Local` needs a health-check node port (`NeedsHealthCheck`). */
export const needsHealthCheck = (svc: Service): boolean => svc.spec?.type === 'LoadBalancer' && svc.spec?.externalTrafficPolicy === 'Local';

/**
 * `core.ServicePort{...}` as Go's `%#v` prints the duplicate key Kubernetes reports for two ports
 * with the same port and protocol (only those two fields are set in that key).
 */
function goServicePortKey(protocol: string, port: number): string {
  return `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol)}, AppProtocol:(*string)(nil), Port:${port}, ` +
    'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}';
}

function validateServicePort(sp: ServicePort, requireName: boolean, names: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !sp.name) {
    errs.push(required(`${path}.name`));
  } else if (sp.name) {
    for (const msg of isDNS1123Label(sp.name)) errs.push(invalidValue(`${path}.name`, sp.name, msg));
    if (names.has(sp.name)) errs.push(duplicate(`${path}.name`, sp.name));
    else names.add(sp.name);
  }
  for (const msg of isValidPortNum(sp.port)) errs.push(invalidValue(`${path}.port`, sp.port ?? 0, msg));
  if (!sp.protocol) errs.push(required(`${path}.protocol`));
  else if (!SERVICE_PROTOCOLS.includes(sp.protocol)) errs.push(notSupported(`${path}.protocol`, sp.protocol, SERVICE_PROTOCOLS));
  const tp = sp.targetPort;
  if (typeof tp === 'number') for (const msg of isValidPortNum(tp)) errs.push(invalidValue(`${path}.targetPort`, tp, msg));
  else for (const msg of isValidPortName(tp ?? '')) errs.push(invalidValue(`${path}.targetPort`, tp ?? '', msg));
  if (sp.appProtocol !== undefined) for (const msg of isQualifiedName(sp.appProtocol)) errs.push(invalidValue(`${path}.appProtocol`, sp.appProtocol, msg));
  return errs;
}

/** clusterIP / clusterIPs / ipFamilies / ipFamilyPolicy, for every type but ExternalName. */
function validateClusterIPFields(spec: Spec): FieldError[] {
  const errs: FieldError[] = [];
  const ips = spec.clusterIPs ?? [];
  const families = spec.ipFamilies ?? [];
  const headless = spec.clusterIP === 'None';
  if (spec.ipFamilyPolicy !== undefined && !IP_FAMILY_POLICIES.includes(spec.ipFamilyPolicy)) {
    errs.push(notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, IP_FAMILY_POLICIES));
  }
  let badIPs = false;
  if (ips.length > 0 && spec.clusterIP !== ips[0]) {
    errs.push(invalidFormatted('spec.clusterIPs', goStringSlice(ips), 'first value must match `clusterIP`'));
    badIPs = true;
  }
  if (ips.length > 2) {
    errs.push(invalidFormatted('spec.clusterIPs', goStringSlice(ips), 'may only hold up to 2 values'));
    badIPs = true;
  }
  ips.forEach((ip, i) => {
    if (i > 0 && ip === 'None') {
      errs.push(invalidValue(`spec.clusterIPs[${i}]`, ip, "'None' must be the first and only value"));
      badIPs = true;
      return;
    }
    if (headless && ip === 'None') return;
    const msgs = isValidIP(ip);
    for (const msg of msgs) errs.push(invalidValue(`spec.clusterIPs[${i}]`, ip, msg));
    if (msgs.length) badIPs = true;
  });
  if (families.length > 2) errs.push(invalidFormatted('spec.ipFamilies', `[]core.IPFamily{${families.map((f) => JSON.stringify(f)).join(', ')}}`, 'may only hold up to 2 values'));
  const seen = new Set<string>();
  families.forEach((f, i) => {
    if (!IP_FAMILIES.includes(f)) errs.push(notSupported(`spec.ipFamilies[${i}]`, f, IP_FAMILIES));
    if (seen.has(f)) errs.push(duplicate(`spec.ipFamilies[${i}]`, f));
    seen.add(f);
  });
  if (!badIPs && !headless) {
    ips.forEach((ip, i) => {
      if (i >= families.length) return;
      const fam = ipFamilyOf(ip);
      if (fam !== families[i]) errs.push(invalidFormatted('spec.clusterIPs', goStringSlice(ips), `expected an ${families[i]} value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  if (spec.ipFamilyPolicy === 'SingleStack' && (ips.length > 1 || families.length > 1)) {
    if (ips.length > 1) errs.push(invalidFormatted('spec.clusterIPs', goStringSlice(ips), "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"));
    else errs.push(invalidValue('spec.ipFamilyPolicy', spec.ipFamilyPolicy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"));
  }
  return errs;
}

/** `validateServiceExternalTrafficPolicy`: only externally reachable Services have one. */
function validateExternalTrafficPolicy(svc: Service, spec: Spec): FieldError[] {
  const errs: FieldError[] = [];
  if (!externallyAccessible(svc)) {
    if (spec.externalTrafficPolicy) errs.push(invalidValue('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  } else if (!spec.externalTrafficPolicy) {
    errs.push(required('spec.externalTrafficPolicy'));
  } else if (!TRAFFIC_POLICIES.includes(spec.externalTrafficPolicy)) {
    errs.push(notSupported('spec.externalTrafficPolicy', spec.externalTrafficPolicy, TRAFFIC_POLICIES));
  }
  const hc = spec.healthCheckNodePort ?? 0;
  if (!needsHealthCheck(svc)) {
    if (hc !== 0) errs.push(invalidValue('spec.healthCheckNodePort', hc, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  } else if (hc !== 0) {
    // Zero means "allocate one": the API server fills it in after validation.
    for (const msg of isValidPortNum(hc)) errs.push(invalidValue('spec.healthCheckNodePort', hc, msg));
  }
  return errs;
}

function validateSessionAffinity(spec: Spec): FieldError[] {
  const errs: FieldError[] = [];
  const affinity = spec.sessionAffinity ?? '';
  if (!affinity) errs.push(required('spec.sessionAffinity'));
  else if (!SESSION_AFFINITIES.includes(affinity)) errs.push(notSupported('spec.sessionAffinity', affinity, SESSION_AFFINITIES));
  const config = spec.sessionAffinityConfig;
  const path = 'spec.sessionAffinityConfig';
  if (affinity === 'ClientIP') {
    const why = 'when session affinity type is ClientIP';
    if (!config) errs.push(requiredWithDetail(path, why));
    else if (!config.clientIP) errs.push(requiredWithDetail(`${path}.clientIP`, why));
    else if (config.clientIP.timeoutSeconds === undefined || config.clientIP.timeoutSeconds === null) errs.push(requiredWithDetail(`${path}.clientIP.timeoutSeconds`, why));
    else {
      const t = config.clientIP.timeoutSeconds;
      if (!(t > 0 && t <= MAX_AFFINITY_SECONDS)) errs.push(invalidValue(`${path}.clientIP.timeoutSeconds`, t, `must be greater than 0 and less than ${MAX_AFFINITY_SECONDS}`));
    }
  } else if (affinity === 'None' && config) {
    errs.push(forbidden(path, 'must not be set when session affinity is None'));
  }
  return errs;
}

/** `ValidateService`: a Service as it would be stored (defaults and strategy applied). */
export function validateServiceSpec(svc: Service): FieldError[] {
  const errs = validateObjectMeta(svc.metadata, true, nameIsDNS1035Label);
  const spec: Spec = svc.spec ?? {};
  const type = spec.type ?? '';
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  const headless = isHeadless(svc);
  if (ports.length === 0 && !headless && type !== 'ExternalName') errs.push(required('spec.ports'));
  switch (type) {
    case 'LoadBalancer':
      ports.forEach((p, i) => {
        if (p.port === KUBELET_PORT) errs.push(invalidValue(`spec.ports[${i}]`, p.port, `may not expose port ${KUBELET_PORT} externally since it is used by kubelet`));
      });
      if (headless) errs.push(invalidValue('spec.clusterIPs[0]', 'None', "may not be set to 'None' for LoadBalancer services"));
      break;
    case 'NodePort':
      if (headless) errs.push(invalidValue('spec.clusterIPs[0]', 'None', "may not be set to 'None' for NodePort services"));
      break;
    case 'ExternalName': {
      if ((spec.clusterIPs ?? []).length > 0 || spec.clusterIP) errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
      if ((spec.ipFamilies ?? []).length > 0) errs.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
      if (spec.ipFamilyPolicy !== undefined) errs.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
      // A trailing dot marks the name as fully qualified.
      const cname = (spec.externalName ?? '').replace(/\.$/, '');
      if (cname) for (const msg of isDNS1123Subdomain(cname)) errs.push(invalidValue('spec.externalName', cname, msg));
      else errs.push(required('spec.externalName'));
      break;
    }
    default:
  }
  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, `spec.ports[${i}]`)));
  if (spec.selector) errs.push(...validateLabels(spec.selector, 'spec.selector'));
  errs.push(...validateSessionAffinity(spec));
  if (type !== 'ExternalName') errs.push(...validateClusterIPFields(spec));
  (spec.externalIPs ?? []).forEach((ip, i) => {
    const msgs = isValidIP(ip);
    for (const msg of msgs.length ? msgs : nonSpecialIPErrors(ip)) errs.push(invalidValue(`spec.externalIPs[${i}]`, ip, msg));
  });
  if (!type) errs.push(required('spec.type'));
  else if (!SERVICE_TYPES.includes(type)) errs.push(notSupported('spec.type', type, SERVICE_TYPES));
  if (type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if (p.nodePort) errs.push(forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
    });
  }
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p.nodePort) return;
    const key = `${p.protocol}/${p.nodePort}`;
    if (nodePorts.has(key)) errs.push(duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
    nodePorts.add(key);
  });
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${p.protocol}/${p.port}`;
    if (portKeys.has(key)) errs.push({ field: `spec.ports[${i}]`, type: 'FieldValueDuplicate', message: `Duplicate value: ${goServicePortKey(p.protocol ?? '', p.port)}` });
    portKeys.add(key);
  });
  const ranges = spec.loadBalancerSourceRanges ?? [];
  if (ranges.length > 0) {
    if (type !== 'LoadBalancer') errs.push(forbidden('spec.LoadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r, i) => {
      const v = r.trim();
      const [ip, bits, extra] = v.split('/');
      const ok = extra === undefined && bits !== undefined && /^\d+$/.test(bits) && ipFamilyOf(ip) !== undefined && Number(bits) <= (ipFamilyOf(ip) === 'IPv4' ? 32 : 128);
      if (!ok) errs.push(invalidValue(`spec.LoadBalancerSourceRanges[${i}]`, v, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
    });
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && type !== 'LoadBalancer') {
    errs.push(forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  if (type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined) errs.push(required('spec.allocateLoadBalancerNodePorts'));
  if (spec.loadBalancerClass !== undefined) {
    if (type !== 'LoadBalancer') errs.push(forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
    else for (const msg of isQualifiedName(spec.loadBalancerClass)) errs.push(invalidValue('spec.loadBalancerClass', spec.loadBalancerClass, msg));
  }
  errs.push(...validateExternalTrafficPolicy(svc, spec));
  if (spec.internalTrafficPolicy === undefined) {
    if (type === 'ClusterIP' || type === 'NodePort' || type === 'LoadBalancer') errs.push(required('spec.internalTrafficPolicy'));
  } else if (!TRAFFIC_POLICIES.includes(spec.internalTrafficPolicy)) {
    errs.push(notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, TRAFFIC_POLICIES));
  }
  if (spec.trafficDistribution !== undefined && spec.trafficDistribution !== 'PreferClose') {
    errs.push(notSupported('spec.trafficDistribution', spec.trafficDistribution, ['PreferClose']));
  }
  errs.push(...validateLoadBalancerStatus(svc));
  return errs;
}

/** `ValidateLoadBalancerStatus`: ingress entries name a valid IP or a DNS name (not an IP). */
function validateLoadBalancerStatus(svc: Service): FieldError[] {
  const errs: FieldError[] = [];
  (svc.status?.loadBalancer?.ingress ?? []).forEach((ing, i) => {
    const path = `status.loadBalancer.ingress[${i}]`;
    if (ing.ip) for (const msg of isValidIP(ing.ip)) errs.push(invalidValue(`${path}.ip`, ing.ip, msg));
    if (ing.ipMode !== undefined) {
      if (!ing.ip) errs.push(requiredWithDetail(`${path}.ipMode`, 'must be specified when `ip` is set'));
      else if (!['Proxy', 'VIP'].includes(ing.ipMode)) errs.push(notSupported(`${path}.ipMode`, ing.ipMode, ['Proxy', 'VIP']));
    }
    if (ing.hostname) {
      for (const msg of isDNS1123Subdomain(ing.hostname)) errs.push(invalidValue(`${path}.hostname`, ing.hostname, msg));
      if (ipFamilyOf(ing.hostname)) errs.push(invalidValue(`${path}.hostname`, ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

/**
 * `validateUpgradeDowngradeClusterIPs`: once set, the primary clusterIP never changes (except
 * to or from ExternalName, which has none); a second one may be added or released.
 */
function validateClusterIPsUpdate(svc: Service, old: Service): FieldError[] {
  const errs: FieldError[] = [];
  if (svc.spec?.type === 'ExternalName' || old.spec?.type === 'ExternalName') return errs;
  if (isHeadless(svc) && isHeadless(old)) return errs;
  const now = svc.spec?.clusterIPs ?? [];
  const before = old.spec?.clusterIPs ?? [];
  const shown = goStringSlice(now.length ? now : undefined);
  if (before.length === now.length) {
    before.forEach((ip, i) => {
      if (ip !== now[i]) errs.push(invalidFormatted(`spec.clusterIPs[${i}]`, shown, 'may not change once set'));
    });
  } else if (before.length > now.length) {
    if (now.length === 0) errs.push(invalidFormatted('spec.clusterIPs[0]', shown, 'primary clusterIP can not be unset'));
    if (before.length > 0 && now.length > 0 && now[0] !== before[0]) errs.push(invalidFormatted('spec.clusterIPs[0]', shown, 'may not change once set'));
    if (now.length === 1 && svc.spec?.ipFamilyPolicy !== 'SingleStack') {
      errs.push(invalidFormatted('spec.clusterIPs[0]', shown, "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary clusterIP"));
    }
  } else if (before.length > 0 && now[0] !== before[0]) {
    errs.push(invalidFormatted('spec.clusterIPs[0]', shown, 'may not change once set'));
  }
  return errs;
}

/** `validateUpgradeDowngradeIPFamilies`: the primary family never changes. */
function validateIPFamiliesUpdate(svc: Service, old: Service): FieldError[] {
  if (svc.spec?.type === 'ExternalName' || old.spec?.type === 'ExternalName') return [];
  const now = svc.spec?.ipFamilies ?? [];
  const before = old.spec?.ipFamilies ?? [];
  if (before.length === 0 || now.length === 0 || now[0] === before[0]) return [];
  const shown = `[]core.IPFamily{${now.map((f) => JSON.stringify(f)).join(', ')}}`;
  return [invalidFormatted('spec.ipFamilies[0]', shown, 'may not change once set')];
}

/** A Service on create, or on update when `old` is given (`ValidateServiceUpdate`). */
export function validateService(svc: Service, old?: Service): FieldError[] {
  if (!old) return validateServiceSpec(svc);
  const errs = validateObjectMetaUpdate(svc.metadata, old.metadata);
  errs.push(...validateClusterIPsUpdate(svc, old), ...validateIPFamiliesUpdate(svc, old));
  const oldClass = old.spec?.loadBalancerClass;
  const newClass = svc.spec?.loadBalancerClass;
  if (old.spec?.type === 'LoadBalancer' && svc.spec?.type === 'LoadBalancer' && oldClass !== newClass) {
    errs.push(invalidValue('spec.loadBalancerClass', newClass ?? null, 'may not change once set'));
  }
  errs.push(...validateServiceSpec(svc));
  return errs;
}
