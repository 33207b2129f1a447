/**
 * What the endpoints and endpointslice controllers share about Services and their pods: which
 * pods a Service selects, which Services a pod belongs to, which pod changes matter, and the
 * informer handlers that turn Service and pod changes into Service keys (STYLE 4: handlers only
 * enqueue). Pure helpers plus one wiring function.
 */
import { fromLabelSelector, matches } from '../api/labels.js';
import type { KubeObject, Pod, Service } from '../api/types.js';
import type { Informer } from '../client/informer.js';
import { hasSelector } from './endpointsplan.js';

export type ServiceObject = Service & KubeObject;
export type PodObject = Pod & KubeObject;

/**
 * What about a pod matters to endpoints: its IP, readiness, phase, deletion, node, hostname,
 * ports and labels. A pod update that changes none of them (a container's restart count, say)
 * is ignored.
 */
export function podEndpointsFingerprint(p: Pod): string {
  const ready = (p.status?.conditions ?? []).find((c) => c.type === 'Ready')?.status ?? '';
  return JSON.stringify([
    p.status?.podIP, p.status?.phase, ready, !!p.metadata?.deletionTimestamp, p.spec?.nodeName, p.spec?.hostname, p.spec?.subdomain,
    (p.spec?.containers ?? []).map((c) => c.ports ?? []), p.metadata?.labels ?? {},
  ]);
}

/** The Services of the pod's namespace whose selector picks it (`GetPodServiceMemberships`). */
export function servicesSelecting(services: readonly ServiceObject[], pod: Pod): ServiceObject[] {
  return services.filter((s) => {
    if (s.metadata?.namespace !== pod.metadata?.namespace || !hasSelector(s)) return false;
    const sel = fromLabelSelector({ matchLabels: s.spec?.selector });
    return sel.ok && matches(sel.selector, pod.metadata?.labels);
  });
}

/** The pods a Service's selector picks, from a pod cache. */
export function podsSelectedBy(pods: readonly PodObject[], svc: Service): PodObject[] {
  const sel = fromLabelSelector({ matchLabels: svc.spec?.selector });
  if (!sel.ok || !hasSelector(svc)) return [];
  return pods.filter((p) => p.metadata?.namespace === svc.metadata?.namespace && matches(sel.selector, p.metadata?.labels));
}

/**
 * Enqueues a Service's key when it changes, and the keys of the Services selecting a pod (before
 * and after a label change) when something about the pod that matters to endpoints changes.
 */
export function enqueueServicesOfPods(services: Informer<ServiceObject>, pods: Informer<PodObject>, enqueue: (obj: KubeObject) => void): void {
  services.addHandlers({ onAdd: enqueue, onUpdate: (_old, s) => enqueue(s), onDelete: enqueue });
  const podChanged = (p: PodObject): void => {
    for (const s of servicesSelecting(services.list(), p)) enqueue(s);
  };
  pods.addHandlers({
    onAdd: podChanged,
    onUpdate: (old, p) => {
      if (podEndpointsFingerprint(old) === podEndpointsFingerprint(p)) return;
      podChanged(p);
      if (JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(p.metadata?.labels ?? {})) podChanged(old);
    },
    onDelete: podChanged,
  });
}
