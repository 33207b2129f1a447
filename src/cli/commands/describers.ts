/**
 * The text of `describe pod`, `describe node` and the generic describer, laid out as kubectl
 * lays it out (same sections, labels, `<none>`s and column alignment). Pure functions of the
 * objects, their events and the current time, so they can be checked against fixed strings.
 */
import type {
  ConfigMap, Container, ContainerState, ContainerStatus, Deployment, EnvVar, Event, Node, Pod, PodTemplateSpec, ReplicaSet, Secret, Volume,
} from '../../api/types.js';
import type { KubeObject } from '../../api/types.js';
import type { TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { formatLabelSelector, labelSelectorString } from '../../api/appsstatus.js';
import { age, podsStatusLine, type PodPhaseCounts } from '../../api/podstatus.js';
import { addQuantity, cpuToMillis, formatQuantity, memoryToBytes, parseQuantity, type Quantity } from '../../api/quantity.js';
import { DESCRIBE_LAYOUT, rfc1123z, TabWriter } from '../print.js';
import { podRequestsAndLimits } from '../../api/podresources.js';
import { LAST_APPLIED } from './apply.js';

/**
 * Writes describe text at indentation levels of two spaces into an elastic-tabstop layout;
 * `flush()` closes the current alignment section (kubectl flushes before the Events table).
 * A `raw` Out keeps the tabs as they are, as kubectl's `rollout history --revision` prints.
 */
export class Out {
  private text = '';
  private readonly tw: TabWriter | undefined;

  constructor(raw = false) {
    this.tw = raw ? undefined : new TabWriter((s) => { this.text += s; }, DESCRIBE_LAYOUT);
  }

  w(level: number, s: string): void {
    if (this.tw) this.tw.write('  '.repeat(level) + s);
    else this.text += '  '.repeat(level) + s;
  }

  flush(): void {
    this.tw?.flush();
  }

  toString(): string {
    this.tw?.flush();
    return this.text;
  }
}

/** `5m`, or `<unknown>` for a missing timestamp. */
const since = (ts: string | undefined, now: number): string => age(ts, new Date(now));

/** Go's zero time, which kubectl prints for unset timestamps in tables. */
const ZERO_TIME = 'Mon, 01 Jan 0001 00:00:00 +0000';
export const time = (ts: string | undefined): string => (ts ? rfc1123z(ts) : ZERO_TIME);

/** `Labels:  a=1` with further pairs on their own lines, or `<none>`. */
export function multiline(out: Out, title: string, values: Record<string, string> | undefined, skip: string[] = []): void {
  out.w(0, `${title}:\t`);
  const keys = Object.keys(values ?? {}).filter((k) => !skip.includes(k)).sort();
  if (!keys.length) {
    out.w(0, '<none>\n');
    return;
  }
  keys.forEach((k, i) => out.w(0, `${i ? '\t' : ''}${k}=${values![k]}\n`));
}

const MAX_ANNOTATION_LEN = 140;

/** Annotations as kubectl prints them: `key: value`, long or multi-line values on their own lines. */
export function annotationsMultiline(out: Out, annotations: Record<string, string> | undefined, title = 'Annotations'): void {
  out.w(0, `${title}:\t`);
  const keys = Object.keys(annotations ?? {}).filter((k) => k !== LAST_APPLIED).sort();
  if (!keys.length) {
    out.w(0, '<none>\n');
    return;
  }
  keys.forEach((k, i) => {
    if (i) out.w(0, '\t');
    const value = annotations![k].replace(/\n$/, '');
    if (value.length + k.length + 2 > MAX_ANNOTATION_LEN || value.includes('\n')) {
      out.w(0, `${k}:\n`);
      for (const line of value.split('\n')) {
        const short = line.length > MAX_ANNOTATION_LEN - 2 ? line.slice(0, MAX_ANNOTATION_LEN - 2) + '...' : line;
        out.w(0, `\t  ${short}\n`);
      }
    } else {
      out.w(0, `${k}: ${value}\n`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Events

/** When an event last happened: its series, else lastTimestamp, else eventTime. */
export function eventTime(e: Event): number {
  const ts = e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp;
  return ts ? Date.parse(ts) : 0;
}

/** The `Events:` section: `<none>`, or a table oldest first. */
export function describeEvents(out: Out, events: Event[] | undefined, now: number): void {
  if (!events) return;
  if (!events.length) {
    out.w(0, 'Events:\t<none>\n');
    return;
  }
  out.flush();
  const sorted = [...events].sort((a, b) => eventTime(a) - eventTime(b));
  out.w(0, 'Events:\n  Type\tReason\tAge\tFrom\tMessage\n');
  out.w(1, '----\t------\t----\t----\t-------\n');
  for (const e of sorted) {
    const first = e.eventTime ? since(e.eventTime, now) : since(e.firstTimestamp, now);
    let interval = first;
    if (e.series) interval = `${since(e.series.lastObservedTime, now)} (x${e.series.count ?? 0} over ${first})`;
    else if ((e.count ?? 0) > 1) interval = `${since(e.lastTimestamp, now)} (x${e.count} over ${first})`;
    const source = e.source?.component || e.reportingComponent || '';
    out.w(1, `${e.type ?? ''}\t${e.reason ?? ''}\t${interval}\t${source}\t${(e.message ?? '').trim()}\n`);
  }
}

// ---------------------------------------------------------------------------------------------
// Pods

/** kubectl's one-line probe summary: `http-get http://:80/ delay=0s timeout=1s period=10s #success=1 #failure=3`. */
export function describeProbe(p: NonNullable<Container['livenessProbe']>): string {
  const attrs = `delay=${p.initialDelaySeconds ?? 0}s timeout=${p.timeoutSeconds ?? 1}s period=${p.periodSeconds ?? 10}s ` +
    `#success=${p.successThreshold ?? 1} #failure=${p.failureThreshold ?? 3}`;
  if (p.exec) return `exec [${(p.exec.command ?? []).join(' ')}] ${attrs}`;
  if (p.httpGet) {
    const scheme = (p.httpGet.scheme ?? 'HTTP').toLowerCase();
    const host = p.httpGet.host ?? '';
    const port = String(p.httpGet.port ?? '');
    const hostPort = port ? `${host.includes(':') ? `[${host}]` : host}:${port}` : host;
    return `http-get ${scheme}://${hostPort}${p.httpGet.path ?? ''} ${attrs}`;
  }
  if (p.tcpSocket) return `tcp-socket ${p.tcpSocket.host ?? ''}:${String(p.tcpSocket.port ?? '')} ${attrs}`;
  if (p.grpc) return `grpc <pod>:${p.grpc.port} ${p.grpc.service ?? ''} ${attrs}`;
  return `unknown ${attrs}`;
}

/** The value a `fieldRef` env var resolves to for the common pod fields. */
function podFieldValue(pod: Pod, path: string): string {
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (m) return (m[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations)?.[m[2]] ?? '';
  switch (path) {
    case 'metadata.name': return pod.metadata?.name ?? '';
    case 'metadata.namespace': return pod.metadata?.namespace ?? '';
    case 'metadata.uid': return pod.metadata?.uid ?? '';
    case 'spec.nodeName': return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP': return pod.status?.hostIP ?? '';
    case 'status.podIP': return pod.status?.podIP ?? '';
    case 'status.podIPs': return (pod.status?.podIPs ?? []).map((p) => p.ip).join(',');
    default: return '';
  }
}

/** `pod` resolves `fieldRef` values; a pod template (no pod) shows them empty, as kubectl does. */
function describeEnv(out: Out, pod: Pod | undefined, c: Container): void {
  if (c.envFrom?.length) {
    out.w(2, 'Environment Variables from:\n');
    for (const e of c.envFrom) {
      const from = e.configMapRef ? 'ConfigMap' : 'Secret';
      const ref = e.configMapRef ?? e.secretRef;
      const optional = ref?.optional === true;
      out.w(3, e.prefix ? `${ref?.name ?? ''}\t${from} with prefix '${e.prefix}'\tOptional: ${optional}\n` : `${ref?.name ?? ''}\t${from}\tOptional: ${optional}\n`);
    }
  }
  out.w(2, `Environment:${c.env?.length ? '' : '\t<none>'}\n`);
  for (const e of c.env ?? []) describeEnvVar(out, pod, c, e);
}

function describeEnvVar(out: Out, pod: Pod | undefined, c: Container, e: EnvVar): void {
  const vf = e.valueFrom;
  if (!vf) {
    (e.value ?? '').split('\n').forEach((line, i) => out.w(3, i === 0 ? `${e.name}:\t${line}\n` : `\t${line}\n`));
    return;
  }
  if (vf.fieldRef) {
    out.w(3, `${e.name}:\t${pod ? podFieldValue(pod, vf.fieldRef.fieldPath) : ''} (${vf.fieldRef.apiVersion ?? 'v1'}:${vf.fieldRef.fieldPath})\n`);
  } else if (vf.resourceFieldRef) {
    const [kind, res] = vf.resourceFieldRef.resource.split('.');
    const set = kind === 'limits' ? c.resources?.limits : c.resources?.requests;
    let value = set?.[res] !== undefined ? String(set[res]) : '0';
    if (value === '0' && (vf.resourceFieldRef.resource === 'limits.cpu' || vf.resourceFieldRef.resource === 'limits.memory')) value = 'node allocatable';
    out.w(3, `${e.name}:\t${value} (${vf.resourceFieldRef.resource})\n`);
  } else if (vf.secretKeyRef) {
    out.w(3, `${e.name}:\t<set to the key '${vf.secretKeyRef.key}' in secret '${vf.secretKeyRef.name ?? ''}'>\tOptional: ${vf.secretKeyRef.optional === true}\n`);
  } else if (vf.configMapKeyRef) {
    out.w(3, `${e.name}:\t<set to the key '${vf.configMapKeyRef.key}' of config map '${vf.configMapKeyRef.name ?? ''}'>\tOptional: ${vf.configMapKeyRef.optional === true}\n`);
  }
}

function describeState(out: Out, title: string, s: ContainerState | undefined): void {
  if (s?.running) {
    out.w(2, `${title}:\tRunning\n`);
    out.w(3, `Started:\t${time(s.running.startedAt)}\n`);
  } else if (s?.terminated) {
    const t = s.terminated;
    out.w(2, `${title}:\tTerminated\n`);
    if (t.reason) out.w(3, `Reason:\t${t.reason}\n`);
    if (t.message) out.w(3, `Message:\t${t.message}\n`);
    out.w(3, `Exit Code:\t${t.exitCode}\n`);
    if ((t.signal ?? 0) > 0) out.w(3, `Signal:\t${t.signal}\n`);
    out.w(3, `Started:\t${time(t.startedAt)}\n`);
    out.w(3, `Finished:\t${time(t.finishedAt)}\n`);
  } else {
    out.w(2, `${title}:\tWaiting\n`);
    if (s?.waiting?.reason) out.w(3, `Reason:\t${s.waiting.reason}\n`);
  }
}

function describeResources(out: Out, r: Container['resources'], level: number): void {
  for (const [title, list] of [['Limits', r?.limits], ['Requests', r?.requests]] as const) {
    const names = Object.keys(list ?? {}).sort();
    if (!names.length) continue;
    out.w(level, `${title}:\n`);
    for (const n of names) out.w(level + 1, `${n}:\t${quantityString(list![n])}\n`);
  }
}

/** Canonical quantity text, or the value as written if it does not parse. */
function quantityString(v: string | number): string {
  const q = parseQuantity(v);
  return q.ok ? formatQuantity(q.quantity) : String(v);
}

/**
 * A pod's or a pod template's containers. `space` indents the title (`  ` in a template, whose
 * container names then get one more space, as kubectl prints them).
 */
function describeContainers(out: Out, title: string, pod: Pod | undefined, containers: Container[], statuses: ContainerStatus[] | undefined, space = ''): void {
  out.w(0, `${space}${title}:${containers.length ? '' : ' <none>'}\n`);
  const byName = new Map((statuses ?? []).map((s) => [s.name, s]));
  for (const c of containers) {
    const st = byName.get(c.name);
    out.w(1, `${space ? ' ' : ''}${c.name}:\n`);
    if (st) out.w(2, `Container ID:\t${st.containerID ?? ''}\n`);
    out.w(2, `Image:\t${c.image ?? ''}\n`);
    if (st) out.w(2, `Image ID:\t${st.imageID ?? ''}\n`);
    const ports = (c.ports ?? []).map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}`).join(', ');
    const hostPorts = (c.ports ?? []).map((p) => `${p.hostPort ?? 0}/${p.protocol ?? 'TCP'}`).join(', ');
    out.w(2, ports.includes(',') ? `Ports:\t${ports}\n` : `Port:\t${ports || '<none>'}\n`);
    out.w(2, hostPorts.includes(',') ? `Host Ports:\t${hostPorts}\n` : `Host Port:\t${hostPorts || '<none>'}\n`);
    if (c.command?.length) {
      out.w(2, 'Command:\n');
      for (const part of c.command) for (const line of part.split('\n')) out.w(3, `${line}\n`);
    }
    if (c.args?.length) {
      out.w(2, 'Args:\n');
      for (const part of c.args) for (const line of part.split('\n')) out.w(3, `${line}\n`);
    }
    if (st) {
      describeState(out, 'State', st.state);
      if (st.lastState?.terminated) describeState(out, 'Last State', st.lastState);
      out.w(2, `Ready:\t${st.ready ? 'True' : 'False'}\n`);
      out.w(2, `Restart Count:\t${st.restartCount ?? 0}\n`);
    }
    describeResources(out, c.resources, 2);
    if (c.livenessProbe) out.w(2, `Liveness:\t${describeProbe(c.livenessProbe)}\n`);
    if (c.readinessProbe) out.w(2, `Readiness:\t${describeProbe(c.readinessProbe)}\n`);
    if (c.startupProbe) out.w(2, `Startup:\t${describeProbe(c.startupProbe)}\n`);
    describeEnv(out, pod, c);
    const mounts = [...(c.volumeMounts ?? [])].sort((a, b) => (a.mountPath < b.mountPath ? -1 : a.mountPath > b.mountPath ? 1 : 0));
    out.w(2, `Mounts:${mounts.length ? '' : '\t<none>'}\n`);
    for (const m of mounts) {
      const flags = [m.readOnly ? 'ro' : 'rw'];
      if (m.subPath) flags.push(`path=${JSON.stringify(m.subPath)}`);
      out.w(3, `${m.mountPath} from ${m.name} (${flags.join(',')})\n`);
    }
  }
}

/** Volume `Type:` lines for the sources minikube-lite serves, kubectl's words. */
function describeVolume(out: Out, v: Volume, nameIndent = ''): void {
  out.w(1, `${nameIndent}${v.name}:\n`);
  if (v.hostPath) {
    out.w(2, `Type:\tHostPath (bare host directory volume)\n    Path:\t${v.hostPath.path}\n    HostPathType:\t${v.hostPath.type || '<none>'}\n`);
  } else if (v.emptyDir) {
    const size = v.emptyDir.sizeLimit !== undefined && quantityString(v.emptyDir.sizeLimit) !== '0' ? quantityString(v.emptyDir.sizeLimit) : '<unset>';
    out.w(2, `Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t${v.emptyDir.medium ?? ''}\n    SizeLimit:\t${size}\n`);
  } else if (v.configMap) {
    out.w(2, `Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t${v.configMap.name ?? ''}\n    Optional:\t${v.configMap.optional === true}\n`);
  } else if (v.secret) {
    out.w(2, `Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t${v.secret.secretName ?? ''}\n    Optional:\t${v.secret.optional === true}\n`);
  } else if (v.persistentVolumeClaim) {
    out.w(2, `Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t${v.persistentVolumeClaim.claimName}\n    ReadOnly:\t${v.persistentVolumeClaim.readOnly === true}\n`);
  } else if (v.downwardAPI) {
    out.w(2, 'Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n');
    for (const item of v.downwardAPI.items ?? []) {
      if (item.fieldRef) out.w(3, `${item.fieldRef.fieldPath} -> ${item.path}\n`);
      if (item.resourceFieldRef) out.w(3, `${item.resourceFieldRef.resource} -> ${item.path}\n`);
    }
  } else if (v.projected) {
    out.w(2, 'Type:\tProjected (a volume that contains injected data from multiple sources)\n');
    for (const s of v.projected.sources ?? []) {
      if (s.secret) out.w(2, `SecretName:\t${s.secret.name ?? ''}\n    Optional:\t${s.secret.optional === true}\n`);
      else if (s.downwardAPI) out.w(2, 'DownwardAPI:\ttrue\n');
      else if (s.configMap) out.w(2, `ConfigMapName:\t${s.configMap.name ?? ''}\n    Optional:\t${s.configMap.optional === true}\n`);
      else if (s.serviceAccountToken) out.w(2, `TokenExpirationSeconds:\t${s.serviceAccountToken.expirationSeconds ?? 3607}\n`);
    }
  } else {
    out.w(1, '<unknown>\n');
  }
}

/** `Volumes:` with each volume, or `<none>`; `space` indents it inside a pod template. */
function describeVolumes(out: Out, volumes: Volume[] | undefined, space = ''): void {
  if (!volumes?.length) {
    out.w(0, `${space}Volumes:\t<none>\n`);
    return;
  }
  out.w(0, `${space}Volumes:\n`);
  for (const v of volumes) describeVolume(out, v, space ? ' ' : '');
}

/** `Topology Spread Constraints:` lines (none when there are none), sorted by topology key. */
function describeTopologySpread(out: Out, tscs: TopologySpreadConstraint[] | undefined, space: string): void {
  if (!tscs?.length) return;
  const sorted = [...tscs].sort((a, b) => (a.topologyKey < b.topologyKey ? -1 : a.topologyKey > b.topologyKey ? 1 : 0));
  sorted.forEach((t, i) => {
    const selector = t.labelSelector ? ` for selector ${formatLabelSelector(t.labelSelector)}` : '';
    out.w(0, `${i ? `${space}\t` : `${space}Topology Spread Constraints:\t`}${t.topologyKey}:${t.whenUnsatisfiable} when max skew ${t.maxSkew} is exceeded${selector}\n`);
  });
}

/** Kubernetes' QoS class: status.qosClass if set, else derived from requests and limits. */
export function qosClass(pod: Pod): string {
  if (pod.status?.qosClass) return pod.status.qosClass;
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      const l = lim[r];
      const q = req[r] ?? l;
      if (q !== undefined || l !== undefined) any = true;
      if (l === undefined || q === undefined || quantityString(q) !== quantityString(l)) guaranteed = false;
    }
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function tolerationsMultiline(out: Out, tolerations: NonNullable<Pod['spec']>['tolerations'], title = 'Tolerations'): void {
  out.w(0, `${title}:\t`);
  const list = [...(tolerations ?? [])].sort((a, b) => ((a.key ?? '') < (b.key ?? '') ? -1 : (a.key ?? '') > (b.key ?? '') ? 1 : 0));
  if (!list.length) {
    out.w(0, '<none>\n');
    return;
  }
  list.forEach((t, i) => {
    let s = (i ? '\t' : '') + (t.key ?? '');
    if (t.value) s += `=${t.value}`;
    if (t.effect) s += `:${t.effect}`;
    if (t.operator === 'Exists' && !t.value) s += t.key || t.effect ? ' op=Exists' : 'op=Exists';
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null) s += ` for ${t.tolerationSeconds}s`;
    out.w(0, s + '\n');
  });
}

/**
 * `describe pod`: identity, status, containers (image, ports, state, probes, env, mounts),
 * conditions, volumes, QoS, scheduling constraints and events (`events` undefined = not shown).
 */
export function describePod(pod: Pod, events: Event[] | undefined, now: number): string {
  const out = new Out();
  const m = pod.metadata ?? {};
  const spec = pod.spec ?? { containers: [] };
  const st = pod.status ?? {};
  out.w(0, `Name:\t${m.name ?? ''}\n`);
  out.w(0, `Namespace:\t${m.namespace ?? ''}\n`);
  if (spec.priority !== undefined && spec.priority !== null) out.w(0, `Priority:\t${spec.priority}\n`);
  if (spec.priorityClassName) out.w(0, `Priority Class Name:\t${spec.priorityClassName}\n`);
  if (spec.runtimeClassName) out.w(0, `Runtime Class Name:\t${spec.runtimeClassName}\n`);
  if (spec.serviceAccountName) out.w(0, `Service Account:\t${spec.serviceAccountName}\n`);
  out.w(0, spec.nodeName ? `Node:\t${spec.nodeName}/${st.hostIP ?? ''}\n` : 'Node:\t<none>\n');
  if (st.startTime) out.w(0, `Start Time:\t${rfc1123z(st.startTime)}\n`);
  multiline(out, 'Labels', m.labels);
  annotationsMultiline(out, m.annotations);
  if (m.deletionTimestamp && st.phase !== 'Failed' && st.phase !== 'Succeeded') {
    out.w(0, `Status:\tTerminating (lasts ${since(m.deletionTimestamp, now)})\n`);
    out.w(0, `Termination Grace Period:\t${m.deletionGracePeriodSeconds ?? 0}s\n`);
  } else {
    out.w(0, `Status:\t${st.phase ?? ''}\n`);
  }
  if (st.reason) out.w(0, `Reason:\t${st.reason}\n`);
  if (st.message) out.w(0, `Message:\t${st.message}\n`);
  out.w(0, `IP:\t${st.podIP ?? ''}\n`);
  if (st.podIPs?.length) {
    out.w(0, 'IPs:\n');
    for (const ip of st.podIPs) out.w(1, `IP:\t${ip.ip}\n`);
  } else {
    out.w(0, 'IPs:\t<none>\n');
  }
  const controller = (m.ownerReferences ?? []).find((o) => o.controller);
  if (controller) out.w(0, `Controlled By:\t${controller.kind}/${controller.name}\n`);
  if (st.nominatedNodeName) out.w(0, `NominatedNodeName:\t${st.nominatedNodeName}\n`);
  if (spec.initContainers?.length) describeContainers(out, 'Init Containers', pod, spec.initContainers, st.initContainerStatuses);
  describeContainers(out, 'Containers', pod, spec.containers ?? [], st.containerStatuses);
  // As kubectl: ephemeral containers are described as containers (their common fields).
  if (spec.ephemeralContainers?.length) describeContainers(out, 'Ephemeral Containers', pod, spec.ephemeralContainers as Container[], st.ephemeralContainerStatuses);
  if (spec.readinessGates?.length) {
    out.w(0, 'Readiness Gates:\n  Type\tStatus\n');
    for (const g of spec.readinessGates) {
      const c = (st.conditions ?? []).find((x) => x.type === g.conditionType);
      out.w(1, `${g.conditionType} \t${c?.status ?? '<none>'} \n`);
    }
  }
  if (st.conditions?.length) {
    out.w(0, 'Conditions:\n  Type\tStatus\n');
    for (const c of st.conditions) out.w(1, `${c.type} \t${c.status} \n`);
  }
  describeVolumes(out, spec.volumes);
  out.w(0, `QoS Class:\t${qosClass(pod)}\n`);
  multiline(out, 'Node-Selectors', spec.nodeSelector);
  tolerationsMultiline(out, spec.tolerations);
  describeEvents(out, events, now);
  return out.toString();
}

// ---------------------------------------------------------------------------------------------
// Workloads: pod templates, Deployments, ReplicaSets

export function describeTemplateInto(out: Out, t: PodTemplateSpec | undefined): void {
  out.w(0, 'Pod Template:\n');
  if (!t) {
    out.w(1, '<unset>');
    return;
  }
  const spec = t.spec ?? { containers: [] };
  multiline(out, '  Labels', t.metadata?.labels);
  if (Object.keys(t.metadata?.annotations ?? {}).length) annotationsMultiline(out, t.metadata?.annotations, '  Annotations');
  if (spec.serviceAccountName) out.w(1, `Service Account:\t${spec.serviceAccountName}\n`);
  if (spec.initContainers?.length) describeContainers(out, 'Init Containers', undefined, spec.initContainers, undefined, '  ');
  describeContainers(out, 'Containers', undefined, spec.containers ?? [], undefined, '  ');
  describeVolumes(out, spec.volumes, '  ');
  describeTopologySpread(out, spec.topologySpreadConstraints, '  ');
  if (spec.priorityClassName) out.w(1, `Priority Class Name:\t${spec.priorityClassName}\n`);
  multiline(out, '  Node-Selectors', spec.nodeSelector);
  tolerationsMultiline(out, spec.tolerations, '  Tolerations');
}

/**
 * kubectl's `DescribePodTemplate`: the `Pod Template:` block of `describe deployment|rs` and
 * `rollout history --revision=N`. With `raw`, tabs are left unaligned, as `rollout history` prints.
 */
export function describePodTemplate(t: PodTemplateSpec | undefined, raw = false): string {
  const out = new Out(raw);
  describeTemplateInto(out, t);
  return out.toString();
}

/** `Conditions:` of a workload: `Type  Status  Reason` rows, nothing when there are none. */
export function describeWorkloadConditions(out: Out, conditions: { type: string; status: string; reason?: string }[] | undefined): void {
  if (!conditions?.length) return;
  out.w(0, 'Conditions:\n  Type\tStatus\tReason\n');
  out.w(1, '----\t------\t------\n');
  for (const c of conditions) out.w(1, `${c.type} \t${c.status}\t${c.reason ?? ''}\n`);
}

/** `name (2/3 replicas created), ...`, or `<none>`. */
const replicaSetsByLabels = (rss: ReplicaSet[]): string =>
  rss.map((rs) => `${rs.metadata?.name ?? ''} (${rs.status?.replicas ?? 0}/${rs.spec?.replicas ?? 1} replicas created)`).join(', ') || '<none>';

/**
 * `describe deployment`: identity, replica counts, strategy, the pod template, conditions, its
 * old and new ReplicaSets (lines left out when it has none) and events.
 */
export function describeDeployment(d: Deployment, rs: { old: ReplicaSet[]; newRS?: ReplicaSet }, events: Event[] | undefined, now: number): string {
  const out = new Out();
  const m = d.metadata ?? {};
  const st = d.status ?? {};
  out.w(0, `Name:\t${m.name ?? ''}\n`);
  out.w(0, `Namespace:\t${m.namespace ?? ''}\n`);
  out.w(0, `CreationTimestamp:\t${time(m.creationTimestamp)}\n`);
  multiline(out, 'Labels', m.labels);
  annotationsMultiline(out, m.annotations);
  out.w(0, `Selector:\t${labelSelectorString(d.spec?.selector) ?? ''}\n`);
  out.w(0, `Replicas:\t${d.spec?.replicas ?? 1} desired | ${st.updatedReplicas ?? 0} updated | ${st.replicas ?? 0} total | ` +
    `${st.availableReplicas ?? 0} available | ${st.unavailableReplicas ?? 0} unavailable\n`);
  const strategy = d.spec?.strategy;
  out.w(0, `StrategyType:\t${strategy?.type ?? ''}\n`);
  out.w(0, `MinReadySeconds:\t${d.spec?.minReadySeconds ?? 0}\n`);
  const ru = strategy?.rollingUpdate;
  if (ru) out.w(0, `RollingUpdateStrategy:\t${String(ru.maxUnavailable ?? '<nil>')} max unavailable, ${String(ru.maxSurge ?? '<nil>')} max surge\n`);
  describeTemplateInto(out, d.spec?.template);
  describeWorkloadConditions(out, st.conditions);
  if (rs.old.length || rs.newRS) {
    out.w(0, `OldReplicaSets:\t${replicaSetsByLabels(rs.old)}\n`);
    out.w(0, `NewReplicaSet:\t${replicaSetsByLabels(rs.newRS ? [rs.newRS] : [])}\n`);
  }
  describeEvents(out, events, now);
  return out.toString();
}

/**
 * `describe replicaset`: identity, its controller, replica counts, its pods by phase (those it
 * controls), the pod template, conditions and events.
 */
export function describeReplicaSet(rs: ReplicaSet, pods: PodPhaseCounts, events: Event[] | undefined, now: number): string {
  const out = new Out();
  const m = rs.metadata ?? {};
  out.w(0, `Name:\t${m.name ?? ''}\n`);
  out.w(0, `Namespace:\t${m.namespace ?? ''}\n`);
  out.w(0, `Selector:\t${formatLabelSelector(rs.spec?.selector)}\n`);
  multiline(out, 'Labels', m.labels);
  annotationsMultiline(out, m.annotations);
  const controller = (m.ownerReferences ?? []).find((o) => o.controller);
  if (controller) out.w(0, `Controlled By:\t${controller.kind}/${controller.name}\n`);
  out.w(0, `Replicas:\t${rs.status?.replicas ?? 0} current / ${rs.spec?.replicas ?? 1} desired\n`);
  out.w(0, `Pods Status:\t${podsStatusLine(pods)}\n`);
  describeTemplateInto(out, rs.spec?.template);
  describeWorkloadConditions(out, rs.status?.conditions);
  describeEvents(out, events, now);
  return out.toString();
}

// ---------------------------------------------------------------------------------------------
// Nodes

/** Roles from `node-role.kubernetes.io/<role>` and `kubernetes.io/role=<role>` labels. */
export function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) {
      roles.add(v);
    }
  }
  return [...roles].sort();
}

type ResourceTotals = Record<string, Quantity>;
export { podRequestsAndLimits };

/** A comparable number for a resource: millicores for cpu, base units otherwise. */
function quantityNumber(resource: string, q: Quantity): number {
  return resource === 'cpu' ? cpuToMillis(q) : memoryToBytes(q);
}

const percent = (resource: string, q: Quantity | undefined, of: Quantity | undefined): number => {
  if (!q || !of) return 0;
  const total = quantityNumber(resource, of);
  return total ? Math.trunc((quantityNumber(resource, q) / total) * 100) : 0;
};

const qstr = (q: Quantity | undefined): string => (q ? formatQuantity(q) : '0');

function describeNodeResources(out: Out, node: Node, pods: Pod[], now: number): void {
  const allocatable: Record<string, Quantity> = {};
  const source = Object.keys(node.status?.allocatable ?? {}).length ? node.status?.allocatable : node.status?.capacity;
  for (const [k, v] of Object.entries(source ?? {})) {
    const q = parseQuantity(v);
    if (q.ok) allocatable[k] = q.quantity;
  }
  out.w(0, `Non-terminated Pods:\t(${pods.length} in total)\n`);
  out.w(1, 'Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n');
  out.w(1, '---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n');
  const totals: { requests: ResourceTotals; limits: ResourceTotals } = { requests: {}, limits: {} };
  for (const pod of pods) {
    const { requests, limits } = podRequestsAndLimits(pod);
    for (const [field, set] of [['requests', requests], ['limits', limits]] as const) {
      for (const [k, q] of Object.entries(set)) totals[field][k] = totals[field][k] ? addQuantity(totals[field][k], q) : q;
    }
    const cell = (set: ResourceTotals, r: string): string => `${qstr(set[r])} (${percent(r, set[r], allocatable[r])}%)`;
    out.w(1, `${pod.metadata?.namespace ?? ''}\t${pod.metadata?.name ?? ''}\t\t${cell(requests, 'cpu')}\t${cell(limits, 'cpu')}\t` +
      `${cell(requests, 'memory')}\t${cell(limits, 'memory')}\t${since(pod.metadata?.creationTimestamp, now)}\n`);
  }
  out.w(0, 'Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n');
  out.w(1, 'Resource\tRequests\tLimits\n');
  out.w(1, '--------\t--------\t------\n');
  for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
    const req = totals.requests[r];
    const lim = totals.limits[r];
    out.w(1, `${r}\t${qstr(req)} (${percent(r, req, allocatable[r])}%)\t${qstr(lim)} (${percent(r, lim, allocatable[r])}%)\n`);
  }
}

/**
 * `describe node`: identity, taints, conditions, addresses, capacity, system info, the
 * non-terminated pods on it with their requests/limits, totals, and events.
 */
export function describeNode(node: Node, pods: Pod[], events: Event[] | undefined, now: number): string {
  const out = new Out();
  const m = node.metadata ?? {};
  const st = node.status ?? {};
  out.w(0, `Name:\t${m.name ?? ''}\n`);
  const roles = nodeRoles(node);
  out.w(0, `Roles:\t${roles.length ? roles.join(',') : '<none>'}\n`);
  multiline(out, 'Labels', m.labels);
  annotationsMultiline(out, m.annotations);
  out.w(0, `CreationTimestamp:\t${time(m.creationTimestamp)}\n`);
  out.w(0, 'Taints:\t');
  const taints = [...(node.spec?.taints ?? [])].sort((a, b) => (`${a.effect},${a.key}` < `${b.effect},${b.key}` ? -1 : 1));
  if (!taints.length) out.w(0, '<none>\n');
  taints.forEach((t, i) => out.w(0, `${i ? '\t' : ''}${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}\n`));
  out.w(0, `Unschedulable:\t${node.spec?.unschedulable === true}\n`);
  if (st.conditions?.length) {
    out.w(0, 'Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n');
    out.w(1, '----\t------\t-----------------\t------------------\t------\t-------\n');
    for (const c of st.conditions) {
      out.w(1, `${c.type} \t${c.status} \t${time(c.lastHeartbeatTime)} \t${time(c.lastTransitionTime)} \t${c.reason ?? ''} \t${c.message ?? ''}\n`);
    }
  }
  out.w(0, 'Addresses:\n');
  for (const a of st.addresses ?? []) out.w(1, `${a.type}:\t${a.address}\n`);
  for (const [title, list] of [['Capacity', st.capacity], ['Allocatable', st.allocatable]] as const) {
    const names = Object.keys(list ?? {}).sort();
    if (!names.length) continue;
    out.w(0, `${title}:\n`);
    for (const n of names) out.w(0, `  ${n}:\t${quantityString(list![n])}\n`);
  }
  const info = st.nodeInfo;
  out.w(0, 'System Info:\n');
  out.w(0, `  Machine ID:\t${info?.machineID ?? ''}\n`);
  out.w(0, `  System UUID:\t${info?.systemUUID ?? ''}\n`);
  out.w(0, `  Boot ID:\t${info?.bootID ?? ''}\n`);
  out.w(0, `  Kernel Version:\t${info?.kernelVersion ?? ''}\n`);
  out.w(0, `  OS Image:\t${info?.osImage ?? ''}\n`);
  out.w(0, `  Operating System:\t${info?.operatingSystem ?? ''}\n`);
  out.w(0, `  Architecture:\t${info?.architecture ?? ''}\n`);
  out.w(0, `  Container Runtime Version:\t${info?.containerRuntimeVersion ?? ''}\n`);
  out.w(0, `  Kubelet Version:\t${info?.kubeletVersion ?? ''}\n`);
  out.w(0, `  Kube-Proxy Version:\t${info?.kubeProxyVersion ?? ''}\n`);
  if (node.spec?.podCIDR) out.w(0, `PodCIDR:\t${node.spec.podCIDR}\n`);
  if (node.spec?.podCIDRs?.length) out.w(0, `PodCIDRs:\t${node.spec.podCIDRs.join(',')}\n`);
  if (node.spec?.providerID) out.w(0, `ProviderID:\t${node.spec.providerID}\n`);
  describeNodeResources(out, node, pods, now);
  describeEvents(out, events, now);
  return out.toString();
}

// ---------------------------------------------------------------------------------------------
// Any other kind

/** `podCIDR` → `Pod CIDR`, `resourceVersion` → `Resource Version`, as kubectl labels fields. */
export function smartLabel(field: string): string {
  if (/[^A-Za-z-]/.test(field)) return field;
  const parts = field.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2').split(' ');
  const acronyms = new Set(['API', 'URL', 'UID', 'OSB', 'GUID']);
  return parts.map((p) => (acronyms.has(p.toUpperCase()) ? p.toUpperCase() : p.charAt(0).toUpperCase() + p.slice(1))).join(' ');
}

function describeContent(out: Out, level: number, content: Record<string, unknown>, path: string, skip: Set<string>): void {
  for (const field of Object.keys(content).sort()) {
    const here = `${path}.${field}`;
    if (skip.has(here)) continue;
    const v = content[field];
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      out.w(level, `${smartLabel(field)}:\n`);
      describeContent(out, level + 1, v as Record<string, unknown>, here, skip);
    } else if (Array.isArray(v)) {
      out.w(level, `${smartLabel(field)}:\n`);
      for (const item of v) {
        if (item !== null && typeof item === 'object' && !Array.isArray(item)) describeContent(out, level + 1, item as Record<string, unknown>, here, skip);
        else out.w(level + 1, `${String(item)}\n`);
      }
    } else {
      out.w(level, `${smartLabel(field)}:\t${String(v)}\n`);
    }
  }
}

/** The generic describer for kinds without their own: every field, then events. */
export function describeGeneric(obj: KubeObject, events: Event[] | undefined, now: number): string {
  const out = new Out();
  out.w(0, `Name:\t${obj.metadata?.name ?? ''}\n`);
  out.w(0, `Namespace:\t${obj.metadata?.namespace ?? ''}\n`);
  multiline(out, 'Labels', obj.metadata?.labels);
  annotationsMultiline(out, obj.metadata?.annotations);
  describeContent(out, 0, obj as unknown as Record<string, unknown>, '', new Set(['.metadata.managedFields', '.metadata.name', '.metadata.namespace', '.metadata.labels', '.metadata.annotations']));
  describeEvents(out, events, now);
  return out.toString();
}

/** `describe configmap`: each data key with its value, binaryData keys with their sizes, events. */
export function describeConfigMap(cm: ConfigMap, events: Event[] | undefined, now: number): string {
  const out = new Out();
  out.w(0, `Name:\t${cm.metadata?.name ?? ''}\n`);
  out.w(0, `Namespace:\t${cm.metadata?.namespace ?? ''}\n`);
  multiline(out, 'Labels', cm.metadata?.labels);
  annotationsMultiline(out, cm.metadata?.annotations);
  out.flush();
  out.w(0, '\nData\n====\n');
  for (const k of Object.keys(cm.data ?? {}).sort()) {
    out.w(0, `${k}:\n----\n`);
    out.w(0, `${(cm.data ?? {})[k]}\n\n`);
  }
  out.w(0, '\nBinaryData\n====\n');
  for (const k of Object.keys(cm.binaryData ?? {}).sort()) out.w(0, `${k}: ${Buffer.byteLength((cm.binaryData ?? {})[k], 'base64')} bytes\n`);
  out.w(0, '\n');
  out.flush();
  describeEvents(out, events, now);
  return out.toString();
}

/** `describe secret`: the type and each key's size in bytes, never the values (as kubectl). */
export function describeSecret(s: Secret): string {
  const out = new Out();
  out.w(0, `Name:\t${s.metadata?.name ?? ''}\n`);
  out.w(0, `Namespace:\t${s.metadata?.namespace ?? ''}\n`);
  multiline(out, 'Labels', s.metadata?.labels);
  annotationsMultiline(out, s.metadata?.annotations);
  out.w(0, `\nType:\t${s.type ?? ''}\n`);
  out.w(0, '\nData\n====\n');
  for (const k of Object.keys(s.data ?? {}).sort()) {
    const v = (s.data ?? {})[k];
    // A service-account token secret shows its token, as kubectl does; everything else only sizes.
    if (k === 'token' && s.type === 'kubernetes.io/service-account-token') out.w(0, `${k}:\t${Buffer.from(v, 'base64').toString('utf8')}\n`);
    else out.w(0, `${k}:\t${Buffer.byteLength(v, 'base64')} bytes\n`);
  }
  return out.toString();
}
