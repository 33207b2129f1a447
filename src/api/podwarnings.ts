/**
 * Pod fields minikube-lite accepts but does not honour. The API server returns one warning per
 * field set (HTTP `Warning: 299 - "…"`, printed by the CLI as `Warning: …` the way kubectl
 * prints them), so nothing is silently ignored; the README lists the same table.
 *
 * Fields other areas implement (`dnsPolicy`, `dnsConfig`, `hostAliases`, `setHostnameAsFQDN`,
 * `subdomain`, `enableServiceLinks`: Services and DNS; `serviceAccountName`,
 * `automountServiceAccountToken`: identity) are not listed.
 * Pure functions of the spec.
 */
import type { Container, PodSpec } from './types.js';

/** One unhonoured field: a test on the spec (or a container) and what is ignored. */
interface PodRule {
  field: string;
  set: (spec: PodSpec) => boolean;
  why: string;
}
interface ContainerRule {
  field: string;
  set: (c: Container) => boolean;
  why: string;
}

const has = (v: unknown): boolean => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0) &&
  !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

/** Pod-level fields the kubelet (or scheduler) of minikube-lite ignores. */
export const UNHONOURED_POD_FIELDS: readonly PodRule[] = [
  { field: 'hostNetwork', set: (s) => s.hostNetwork === true, why: 'the pod gets its own address on the pod network, not the node\'s network' },
  { field: 'securityContext', set: (s) => has(s.securityContext), why: 'pod security settings (runAsUser, fsGroup, sysctls, seccomp...) are not applied' },
  { field: 'hostUsers', set: (s) => s.hostUsers === false, why: 'user namespaces are not used' },
  { field: 'activeDeadlineSeconds', set: (s) => has(s.activeDeadlineSeconds), why: 'the kubelet does not end pods at their deadline' },
  { field: 'imagePullSecrets', set: (s) => has(s.imagePullSecrets), why: 'images are pulled without registry credentials' },
  { field: 'priorityClassName', set: (s) => has(s.priorityClassName), why: 'there is no priority or preemption' },
  { field: 'priority', set: (s) => has(s.priority) && s.priority !== 0, why: 'there is no priority or preemption' },
  { field: 'preemptionPolicy', set: (s) => has(s.preemptionPolicy) && s.preemptionPolicy !== 'PreemptLowerPriority', why: 'there is no priority or preemption' },
  { field: 'runtimeClassName', set: (s) => has(s.runtimeClassName), why: 'every pod runs with the engine\'s default runtime' },
  { field: 'schedulingGates', set: (s) => has(s.schedulingGates), why: 'the scheduler does not wait for scheduling gates' },
  { field: 'topologySpreadConstraints', set: (s) => has(s.topologySpreadConstraints), why: 'the scheduler does not evaluate topology spread constraints' },
  { field: 'affinity.podAffinity', set: (s) => has(s.affinity?.podAffinity), why: 'the scheduler does not evaluate inter-pod affinity' },
  { field: 'affinity.podAntiAffinity', set: (s) => has(s.affinity?.podAntiAffinity), why: 'the scheduler does not evaluate inter-pod anti-affinity' },
  { field: 'resourceClaims', set: (s) => has((s as { resourceClaims?: unknown }).resourceClaims), why: 'dynamic resource allocation is not implemented' },
  { field: 'resources', set: (s) => has((s as { resources?: unknown }).resources), why: 'pod-level resources are not enforced' },
  { field: 'os', set: (s) => has(s.os) && s.os?.name !== 'linux', why: 'every pod runs on linux' },
];

/** Container fields the kubelet ignores (init and app containers alike). */
export const UNHONOURED_CONTAINER_FIELDS: readonly ContainerRule[] = [
  { field: 'securityContext', set: (c) => has(c.securityContext), why: 'container security settings (privileged, capabilities, runAsUser, readOnlyRootFilesystem...) are not applied' },
  { field: 'volumeDevices', set: (c) => has(c.volumeDevices), why: 'block devices are not attached' },
  { field: 'resizePolicy', set: (c) => has(c.resizePolicy), why: 'resources are not resized in place' },
  { field: 'terminationMessagePath', set: (c) => has(c.terminationMessagePath) && c.terminationMessagePath !== '/dev/termination-log', why: 'the termination message file is not read' },
  { field: 'terminationMessagePolicy', set: (c) => c.terminationMessagePolicy === 'FallbackToLogsOnError', why: 'the termination message is not taken from the log' },
];

/** Resources the kubelet enforces on a container (others are only counted by the scheduler). */
const ENFORCED_RESOURCES = new Set(['cpu', 'memory']);

function containerWarnings(c: Container, path: string, init: boolean): string[] {
  const out: string[] = [];
  for (const r of UNHONOURED_CONTAINER_FIELDS) if (r.set(c)) out.push(`${path}.${r.field}: ignored by minikube-lite: ${r.why}`);
  for (const kind of ['limits', 'requests'] as const) {
    for (const name of Object.keys(c.resources?.[kind] ?? {})) {
      if (!ENFORCED_RESOURCES.has(name)) out.push(`${path}.resources.${kind}[${name}]: ignored by minikube-lite: only cpu and memory are enforced on containers`);
    }
  }
  if (init && c.restartPolicy === 'Always') out.push(`${path}.restartPolicy: ignored by minikube-lite: sidecar init containers are run to completion like other init containers`);
  (Array.isArray(c.volumeMounts) ? c.volumeMounts : []).forEach((m, i) => {
    const mp = `${path}.volumeMounts[${i}]`;
    if (m.mountPropagation && m.mountPropagation !== 'None') out.push(`${mp}.mountPropagation: ignored by minikube-lite: mounts are private`);
    if ((m as { recursiveReadOnly?: string }).recursiveReadOnly && (m as { recursiveReadOnly?: string }).recursiveReadOnly !== 'Disabled') {
      out.push(`${mp}.recursiveReadOnly: ignored by minikube-lite: only the mount itself is read-only`);
    }
  });
  return out;
}

/** One volume's unhonoured settings. */
function volumeWarnings(spec: PodSpec, path: string): string[] {
  const out: string[] = [];
  (Array.isArray(spec.volumes) ? spec.volumes : []).forEach((v, i) => {
    const subPathMounted = [...(spec.initContainers ?? []), ...(spec.containers ?? [])]
      .some((c) => (Array.isArray(c.volumeMounts) ? c.volumeMounts : []).some((m) => m.name === v.name && (m.subPath || m.subPathExpr)));
    if (v.emptyDir?.medium === 'Memory' && subPathMounted) {
      out.push(`${path}.volumes[${i}].emptyDir.medium: ignored by minikube-lite: a memory-backed emptyDir mounted through a subPath is kept on disk`);
    }
    // A memory-backed emptyDir is a tmpfs of at most sizeLimit; on disk the limit is not enforced.
    if (v.emptyDir && v.emptyDir.medium !== 'Memory' && v.emptyDir.sizeLimit !== undefined && v.emptyDir.sizeLimit !== null) {
      out.push(`${path}.volumes[${i}].emptyDir.sizeLimit: ignored by minikube-lite: a disk-backed emptyDir is not limited (medium: Memory is)`);
    }
  });
  return out;
}

/**
 * The warnings for a pod spec at `path` (`spec`, or `spec.template.spec` for workloads), one
 * line per unhonoured field that is set, e.g.
 * `spec.hostNetwork: ignored by minikube-lite: the pod gets its own address on the pod network, not the node's network`.
 */
export function podSpecWarnings(spec: PodSpec | undefined, path = 'spec'): string[] {
  if (!spec) return [];
  const out: string[] = [];
  for (const r of UNHONOURED_POD_FIELDS) if (r.set(spec)) out.push(`${path}.${r.field}: ignored by minikube-lite: ${r.why}`);
  out.push(...volumeWarnings(spec, path));
  const list = (x: readonly Container[] | undefined): readonly Container[] => (Array.isArray(x) ? x.filter((c) => c && typeof c === 'object') : []);
  list(spec.initContainers).forEach((c, i) => out.push(...containerWarnings(c, `${path}.initContainers[${i}]`, true)));
  list(spec.containers).forEach((c, i) => out.push(...containerWarnings(c, `${path}.containers[${i}]`, false)));
  list(spec.ephemeralContainers as Container[] | undefined).forEach((c, i) => out.push(...containerWarnings(c, `${path}.ephemeralContainers[${i}]`, false)));
  return out;
}

/** Warnings of an update: those of the new spec that the old one did not already have. */
export function newWarnings(next: string[], old: string[] | undefined): string[] {
  if (!old) return next;
  const seen = new Set(old);
  return next.filter((w) => !seen.has(w));
}
