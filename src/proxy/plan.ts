/**
 * The service proxy's planner: a pure function from (Services, EndpointSlices, the cluster's
 * CIDRs) to the complete set of iptables chains and rules the cluster owns, in the shape of
 * kube-proxy's iptables mode:
 *
 *   nat    PREROUTING, OUTPUT ─► <P>-SERVICES ─► <P>-SVC-<hash> (one per service port)
 *                                               ─► <P>-SEP-<hash> (one per endpoint, random pick)
 *                                               ─► DNAT podIP:targetPort
 *   nat    POSTROUTING ─► <P>-POSTROUTING: masquerade what <P>-MARK-MASQ marked (hairpin, host)
 *   filter DOCKER-USER (pods), OUTPUT (host) ─► <P>-FW: REJECT service ports without endpoints,
 *          then REJECT everything else still addressed to the service CIDR (the guard). TCP is
 *          refused with a reset ("connection refused" at once): the kernel rate-limits ICMP
 *          errors per destination, so an icmp-port-unreachable can arrive only after a retry.
 *   route  the pod CIDR `unreachable` (node subnets are more specific routes), the service CIDR
 *          onto one of the cluster's bridges: nothing of either range takes the default route.
 *
 * `<P>` is `MKL-<6 hex of sha256(cluster)>`, so two clusters on one host never share a chain.
 * The filter chain sees packets after nat DNAT: whatever still targets the service CIDR there
 * had no rule, and is refused instead of leaving through the default route.
 *
 * `restoreText` turns a plan plus the host's current `iptables-save` into one
 * `iptables-restore --noflush` batch (declaring a chain flushes it; stale chains of the cluster
 * are deleted; missing jumps from the built-in chains are inserted), so a change is applied
 * atomically or not at all. `cleanupText` is the batch that removes every trace of a cluster.
 */
import { createHash } from 'node:crypto';
import type { EndpointSlice, Service } from '../api/types.js';
import { inIPv4Net, parseIPv4, parseIPv4CIDR } from '../api/ip.js';
import { MASQUERADE_MARK, ruleComment } from '../runtime/iptables.js';
import type { HostRoute } from '../runtime/hostnet.js';

/** The label that ties an EndpointSlice to its Service. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
/** Annotation with the loopback address of each port of a ClusterIP Service: `{"80/TCP":"127.0.0.1:41234"}`. */
export const LOOPBACK_ANNOTATION = 'minikube-lite.io/loopback';
/** kube-proxy's default `sessionAffinityConfig.clientIP.timeoutSeconds`. */
export const DEFAULT_AFFINITY_SECONDS = 10800;

/** What the planner reads. Objects are not modified. */
export interface ProxyState {
  cluster: string;
  /** e.g. `10.96.0.0/16` */
  serviceCIDR: string;
  /** The pod CIDR, e.g. `10.244.0.0/16`. */
  clusterCIDR: string;
  services: readonly Service[];
  slices: readonly EndpointSlice[];
  /** Nodes whose pods live on this host: the endpoints `internalTrafficPolicy: Local` may use. */
  localNodes: readonly string[];
  /** A bridge of the cluster on this host, for the service CIDR route (absent before any node has one). */
  bridge?: string;
}

export interface PlannedEndpoint {
  ip: string;
  port: number;
  nodeName?: string;
}

/** One service port as programmed: `ns/name:port` (kube-proxy's ServicePortName) and its endpoints. */
export interface ServicePortPlan {
  name: string;
  namespace: string;
  service: string;
  portName: string;
  protocol: 'TCP' | 'UDP';
  clusterIP: string;
  port: number;
  nodePort?: number;
  /** Ready endpoints (or, when none is ready, serving and terminating ones, as kube-proxy does). */
  endpoints: PlannedEndpoint[];
  /** ClientIP affinity timeout in seconds, when `sessionAffinity: ClientIP`. */
  affinitySeconds?: number;
}

export interface RulesPlan {
  prefix: string;
  /** Chains of each table in order, each with its rules (the part after `-A CHAIN`). */
  nat: Map<string, string[]>;
  filter: Map<string, string[]>;
  /** Jumps from built-in chains into the cluster's chains. */
  jumps: JumpRule[];
  routes: HostRoute[];
  servicePorts: ServicePortPlan[];
  /** Fields the proxy cannot honour, one sentence each (logged and evented by the caller). */
  warnings: { service: string; message: string }[];
}

export interface JumpRule {
  table: 'nat' | 'filter';
  chain: string;
  /** Rule text after `-I CHAIN 1`. */
  rule: string;
  target: string;
}

/** `MKL-1A2B3C`: the prefix of every chain the cluster owns. */
export function chainPrefix(cluster: string): string {
  return `MKL-${createHash('sha256').update(cluster).digest('hex').slice(0, 6).toUpperCase()}`;
}

const hash12 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12).toUpperCase();

/** kube-proxy's servicePortChainName: one chain per (service port, protocol). */
export function svcChain(prefix: string, sp: Pick<ServicePortPlan, 'name' | 'protocol'>): string {
  return `${prefix}-SVC-${hash12(sp.name + sp.protocol)}`;
}

/** kube-proxy's servicePortEndpointChainName: one chain per (service port, protocol, endpoint). */
export function sepChain(prefix: string, sp: Pick<ServicePortPlan, 'name' | 'protocol'>, ep: PlannedEndpoint): string {
  return `${prefix}-SEP-${hash12(`${sp.name}${sp.protocol}${ep.ip}:${ep.port}`)}`;
}

const quote = (s: string) => (/^[A-Za-z0-9._:/-]+$/.test(s) ? s : `"${s.replace(/["\\]/g, '')}"`);
const comment = (s: string) => `-m comment --comment ${quote(s)}`;

/** Whether `ip` lies inside `cidr` (both IPv4); false for anything malformed. */
export function cidrContains(cidr: string, ip: string): boolean {
  try {
    return inIPv4Net(parseIPv4CIDR(cidr), ip);
  } catch {
    return false; // not a CIDR: nothing lies inside it
  }
}

const ipInt = (ip: string) => parseIPv4(ip) ?? 0;

/**
 * The service ports to program, with their endpoints, in a stable order. Headless and
 * ExternalName Services and Services without a ClusterIP have no rules; what cannot be
 * honoured is returned as a warning.
 */
export function servicePorts(state: Pick<ProxyState, 'services' | 'slices' | 'localNodes' | 'serviceCIDR'>): { ports: ServicePortPlan[]; warnings: RulesPlan['warnings'] } {
  const ports: ServicePortPlan[] = [];
  const warnings: RulesPlan['warnings'] = [];
  const slicesBySvc = new Map<string, EndpointSlice[]>();
  for (const s of state.slices) {
    const svc = s.metadata?.labels?.[LABEL_SERVICE_NAME];
    if (!svc || s.addressType !== 'IPv4') continue;
    const key = `${s.metadata?.namespace ?? 'default'}/${svc}`;
    (slicesBySvc.get(key) ?? slicesBySvc.set(key, []).get(key))?.push(s);
  }
  const services = [...state.services].sort((a, b) => key(a).localeCompare(key(b)));
  for (const svc of services) {
    const spec = svc.spec ?? {};
    const id = key(svc);
    const ip = spec.clusterIP;
    if (spec.type === 'ExternalName' || !ip || ip === 'None') continue;
    if (!cidrContains(state.serviceCIDR, ip)) {
      warnings.push({ service: id, message: `clusterIP ${ip} is outside the service CIDR ${state.serviceCIDR}; no rules are programmed for it` });
      continue;
    }
    if (spec.externalIPs?.length) warnings.push({ service: id, message: `spec.externalIPs (${spec.externalIPs.join(', ')}) are not served: only the ClusterIP and 127.0.0.1 are` });
    if (spec.loadBalancerSourceRanges?.length) warnings.push({ service: id, message: 'spec.loadBalancerSourceRanges is not enforced by the loopback load balancer' });
    const affinity = spec.sessionAffinity === 'ClientIP'
      ? spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS : undefined;
    const local = spec.internalTrafficPolicy === 'Local';
    for (const p of spec.ports ?? []) {
      const protocol = p.protocol ?? 'TCP';
      if (protocol !== 'TCP' && protocol !== 'UDP') {
        warnings.push({ service: id, message: `port ${p.port}/${protocol}: only TCP and UDP are proxied` });
        continue;
      }
      const portName = p.name ?? '';
      const ready: PlannedEndpoint[] = [];
      const servingTerminating: PlannedEndpoint[] = [];
      for (const slice of slicesBySvc.get(id) ?? []) {
        const sp = (slice.ports ?? []).find((x) => (x.name ?? '') === portName && (x.protocol ?? 'TCP') === protocol);
        if (sp?.port === undefined) continue;
        for (const e of slice.endpoints ?? []) {
          const addr = e.addresses?.[0];
          if (!addr) continue;
          if (local && !(e.nodeName && state.localNodes.includes(e.nodeName))) continue;
          const isReady = e.conditions?.ready ?? true;
          const serving = e.conditions?.serving ?? isReady;
          const terminating = e.conditions?.terminating ?? false;
          const ep = { ip: addr, port: sp.port, ...(e.nodeName ? { nodeName: e.nodeName } : {}) };
          if (isReady) ready.push(ep);
          else if (serving && terminating) servingTerminating.push(ep);
        }
      }
      ports.push({
        name: `${id}:${portName}`, namespace: svc.metadata?.namespace ?? 'default', service: svc.metadata?.name ?? '', portName, protocol, clusterIP: ip, port: p.port,
        ...(p.nodePort ? { nodePort: p.nodePort } : {}),
        endpoints: unique(ready.length ? ready : servingTerminating),
        ...(affinity !== undefined ? { affinitySeconds: affinity } : {}),
      });
    }
  }
  return { ports, warnings };
}

function key(svc: Service): string {
  return `${svc.metadata?.namespace ?? 'default'}/${svc.metadata?.name ?? ''}`;
}

function unique(eps: PlannedEndpoint[]): PlannedEndpoint[] {
  const seen = new Map<string, PlannedEndpoint>();
  for (const e of eps) if (!seen.has(`${e.ip}:${e.port}`)) seen.set(`${e.ip}:${e.port}`, e);
  return [...seen.values()].sort((a, b) => ipInt(a.ip) - ipInt(b.ip) || a.port - b.port);
}

/** The jumps from the built-in chains; the comment names the cluster (`minikube-lite:<name>`). */
export function jumpRules(cluster: string): JumpRule[] {
  const p = chainPrefix(cluster);
  const c = ruleComment(cluster);
  return [
    { table: 'nat', chain: 'PREROUTING', target: `${p}-SERVICES`, rule: `${comment(`${c}:services`)} -j ${p}-SERVICES` },
    { table: 'nat', chain: 'OUTPUT', target: `${p}-SERVICES`, rule: `${comment(`${c}:services`)} -j ${p}-SERVICES` },
    { table: 'nat', chain: 'POSTROUTING', target: `${p}-POSTROUTING`, rule: `${comment(`${c}:masquerade`)} -j ${p}-POSTROUTING` },
    { table: 'filter', chain: 'DOCKER-USER', target: `${p}-FW`, rule: `${comment(`${c}:guard`)} -j ${p}-FW` },
    { table: 'filter', chain: 'OUTPUT', target: `${p}-FW`, rule: `${comment(`${c}:guard`)} -j ${p}-FW` },
  ];
}

/** The complete rules of one cluster. Pure: same input, same plan (chains and rules in a stable order). */
export function planRules(state: ProxyState): RulesPlan {
  const p = chainPrefix(state.cluster);
  const { ports, warnings } = servicePorts(state);
  const nat = new Map<string, string[]>();
  const filter = new Map<string, string[]>();
  const services: string[] = [];
  const fw: string[] = [];
  nat.set(`${p}-SERVICES`, services);
  nat.set(`${p}-MARK-MASQ`, [`-j MARK --or-mark ${MASQUERADE_MARK.split('/')[0]}`]);
  const [markValue] = MASQUERADE_MARK.split('/');
  nat.set(`${p}-POSTROUTING`, [
    `-m mark ! --mark ${MASQUERADE_MARK} -j RETURN`,
    `-j MARK --xor-mark ${markValue}`,
    `${comment('minikube-lite service traffic requiring SNAT')} -j MASQUERADE`,
  ]);
  filter.set(`${p}-FW`, fw);
  for (const sp of ports) {
    const proto = sp.protocol.toLowerCase();
    const dest = `-d ${sp.clusterIP}/32 -p ${proto} -m ${proto} --dport ${sp.port}`;
    if (sp.endpoints.length === 0) {
      fw.push(`${dest} ${comment(`${sp.name} has no endpoints`)} -j REJECT --reject-with ${proto === 'tcp' ? 'tcp-reset' : 'icmp-port-unreachable'}`);
      continue;
    }
    const svcName = svcChain(p, sp);
    services.push(`${dest} ${comment(`${sp.name} cluster IP`)} -j ${svcName}`);
    const svcRules: string[] = [`! -s ${state.clusterCIDR} ${dest} ${comment(`${sp.name} cluster IP`)} -j ${p}-MARK-MASQ`];
    nat.set(svcName, svcRules);
    const seps = sp.endpoints.map((ep) => ({ ep, chain: sepChain(p, sp, ep) }));
    if (sp.affinitySeconds !== undefined) {
      for (const { ep, chain } of seps) {
        svcRules.push(`${comment(`${sp.name} -> ${ep.ip}:${ep.port}`)} -m recent --name ${chain} --mask 255.255.255.255 --rsource --rcheck --seconds ${sp.affinitySeconds} --reap -j ${chain}`);
      }
    }
    seps.forEach(({ ep, chain }, i) => {
      const n = seps.length - i;
      const pick = n > 1 ? ` -m statistic --mode random --probability ${(1 / n).toFixed(10)}` : '';
      svcRules.push(`${comment(`${sp.name} -> ${ep.ip}:${ep.port}`)}${pick} -j ${chain}`);
      const recent = sp.affinitySeconds !== undefined ? ` -m recent --name ${chain} --mask 255.255.255.255 --rsource --set` : '';
      nat.set(chain, [
        `-s ${ep.ip}/32 ${comment(sp.name)} -j ${p}-MARK-MASQ`,
        `-p ${proto} ${comment(sp.name)}${recent} -m ${proto} -j DNAT --to-destination ${ep.ip}:${ep.port}`,
      ]);
    });
  }
  const guard = comment(`${ruleComment(state.cluster)}:no service rule for this address`);
  fw.push(`-d ${state.serviceCIDR} -p tcp ${guard} -j REJECT --reject-with tcp-reset`);
  fw.push(`-d ${state.serviceCIDR} ${guard} -j REJECT --reject-with icmp-port-unreachable`);
  // A no-op that records the pod CIDR, so that `down` finds the cluster's routes even without its config.
  fw.push(`-d ${state.clusterCIDR} ${comment(`${ruleComment(state.cluster)}:pod CIDR`)} -j RETURN`);
  const routes: HostRoute[] = [{ dst: state.clusterCIDR, type: 'unreachable' }];
  if (state.bridge) routes.push({ dst: state.serviceCIDR, type: 'unicast', dev: state.bridge });
  return { prefix: p, nat, filter, jumps: jumpRules(state.cluster), routes, servicePorts: ports, warnings };
}

/** The chains of one table in `iptables-save` output, and its `-A` lines. */
export function parseSave(text: string): { chains: string[]; rules: { chain: string; line: string; target?: string }[] } {
  const chains: string[] = [];
  const rules: { chain: string; line: string; target?: string }[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) chains.push(line.slice(1).split(' ')[0]);
    else if (line.startsWith('-A ')) {
      const chain = line.split(' ')[1];
      const m = / -j (\S+)/.exec(line);
      rules.push({ chain, line, ...(m ? { target: m[1] } : {}) });
    }
  }
  return { chains, rules };
}

/**
 * The one `iptables-restore --noflush` batch that makes the host match `plan`: every planned
 * chain declared (created, or flushed) and filled; the cluster's chains that are no longer
 * planned flushed and deleted; missing jumps inserted at the top of their built-in chains.
 * `current` is `iptables-save` of nat and filter; other clusters' and Docker's rules are never named.
 */
export function restoreText(plan: RulesPlan, current: { nat: string; filter: string }): string {
  const out: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    const chains = plan[table];
    const saved = parseSave(current[table]);
    const stale = saved.chains.filter((c) => c.startsWith(`${plan.prefix}-`) && !chains.has(c));
    out.push(`*${table}`);
    for (const c of [...chains.keys(), ...stale]) out.push(`:${c} - [0:0]`);
    for (const j of plan.jumps.filter((x) => x.table === table)) {
      const present = saved.rules.some((r) => r.chain === j.chain && r.target === j.target);
      if (present) continue;
      if (j.chain === 'DOCKER-USER' && !saved.chains.includes('DOCKER-USER')) out.push(':DOCKER-USER - [0:0]', '-A DOCKER-USER -j RETURN');
      out.push(`-I ${j.chain} 1 ${j.rule}`);
    }
    for (const [c, rules] of chains) for (const r of rules) out.push(`-A ${c} ${r}`);
    for (const c of stale) out.push(`-X ${c}`);
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}

/** The service and pod CIDRs a cluster's guard chain names (see `planRules`), from `iptables-save -t filter`. */
export function savedCIDRs(prefix: string, filterSave: string): { serviceCIDR?: string; clusterCIDR?: string } {
  const out: { serviceCIDR?: string; clusterCIDR?: string } = {};
  for (const r of parseSave(filterSave).rules) {
    if (r.chain !== `${prefix}-FW`) continue;
    const d = / -d (\d+\.\d+\.\d+\.\d+\/\d+) /.exec(r.line)?.[1];
    if (!d) continue;
    if (r.line.includes(':no service rule for this address')) out.serviceCIDR = d;
    else if (r.line.includes(':pod CIDR')) out.clusterCIDR = d;
  }
  return out;
}

/**
 * What `iptables-save` shows of the cluster right after `plan` was applied: its chains and its
 * jumps. The proxy passes this to `restoreText` instead of a fresh `iptables-save` between full
 * syncs (kube-proxy's partial syncs), saving two program runs per change.
 */
export function savedAfter(plan: RulesPlan): { nat: string; filter: string } {
  const text = (table: 'nat' | 'filter') => [
    ...[...plan[table].keys()].map((c) => `:${c} - [0:0]`),
    ...plan.jumps.filter((j) => j.table === table).map((j) => `-A ${j.chain} ${j.rule}`),
  ].join('\n');
  return { nat: text('nat'), filter: text('filter') };
}

/**
 * The batch that removes every rule and chain of the cluster with chain prefix `prefix`:
 * its jumps (deleted by their exact saved text), then its chains flushed and deleted.
 * Empty when there is nothing to remove.
 */
export function cleanupText(prefix: string, current: { nat: string; filter: string }): string {
  const out: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    const saved = parseSave(current[table]);
    const ours = saved.chains.filter((c) => c.startsWith(`${prefix}-`));
    const jumps = saved.rules.filter((r) => !r.chain.startsWith(`${prefix}-`) && r.target?.startsWith(`${prefix}-`));
    if (ours.length === 0 && jumps.length === 0) continue;
    out.push(`*${table}`);
    for (const c of ours) out.push(`:${c} - [0:0]`);
    for (const j of jumps) out.push(`-D ${j.line.slice(3)}`);
    for (const c of ours) out.push(`-X ${c}`);
    out.push('COMMIT');
  }
  return out.length ? out.join('\n') + '\n' : '';
}
