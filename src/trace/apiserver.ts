/**
 * The API server's part of the trace: pod creates (step 1), bindings (step 4) and status writes
 * (step 7), recorded once the store accepted the write; and the sink writing the server's own
 * records straight into its storage (no HTTP round trip to itself).
 */
import type { KubeObject, Pod } from '../api/types.js';
import type { ResourceDef } from '../api/resource.js';
import type { StorageHooks, Transaction } from '../apiserver/rest.js';
import { NO_TRACE, TraceRecorder, type TraceSink, type Tracer } from './recorder.js';
import { TRACE_GROUP } from './types.js';

export const APISERVER_COMPONENT = 'kube-apiserver';

/** What `RestStorage.create` offers (the sink needs nothing else). */
export interface TraceStorage {
  create(def: ResourceDef, namespace: string, obj: KubeObject): Promise<KubeObject>;
}

/** The API server's tracer: NO_TRACE unless asked for and the PodTrace kind is served. */
export function apiServerTracer(enabled: boolean | undefined, storage: TraceStorage, resources: readonly ResourceDef[], clock: () => Date): Tracer {
  const def = resources.find((d) => d.group === TRACE_GROUP && d.resource === 'podtraces');
  if (!enabled || !def) return NO_TRACE;
  const sink: TraceSink = async (t) => {
    await storage.create(def, t.metadata?.namespace ?? 'default', t);
  };
  return new TraceRecorder(sink, APISERVER_COMPONENT, { clock });
}

const DONE: Transaction = { commit: () => undefined, revert: () => undefined };

/** Pod storage hooks that record creates and status changes once they are stored. */
export function podTraceHooks(tracer: Tracer): StorageHooks {
  if (tracer === NO_TRACE) return {};
  return {
    beginCreate: (obj) => ({
      commit: () => tracer.record(obj, { step: 1, action: 'Created', message: createdMessage(obj as Pod) }),
      revert: () => undefined,
    }),
    beginUpdate: (obj, old) => {
      const summary = statusChange(old as Pod, obj as Pod);
      return summary ? { commit: () => tracer.record(obj, { step: 7, action: 'StatusWritten', message: summary.message, fields: summary.fields }), revert: () => undefined } : DONE;
    },
  };
}

/** Records a binding the server just stored. */
export function traceBinding(tracer: Tracer, pod: KubeObject): void {
  const node = (pod as Pod).spec?.nodeName ?? '';
  tracer.record(pod, { step: 4, action: 'Bound', message: `bound to ${node}`, node, fields: { node } });
}

function createdMessage(pod: Pod): string {
  const owner = pod.metadata?.ownerReferences?.find((r) => r.controller) ?? pod.metadata?.ownerReferences?.[0];
  return owner ? `pod stored (owner ${owner.kind} ${owner.name})` : 'pod stored';
}

/** One line for a status change the user would notice (phase, readiness, IP, container states); undefined for none. */
export function statusChange(old: Pod, pod: Pod): { message: string; fields: Record<string, string> } | undefined {
  const a = old.status ?? {};
  const b = pod.status ?? {};
  const ready = (s: typeof a) => s.conditions?.find((c) => c.type === 'Ready')?.status ?? '';
  const scheduled = (s: typeof a) => s.conditions?.find((c) => c.type === 'PodScheduled');
  const states = (s: typeof a) => (s.containerStatuses ?? []).map((c) => `${c.name}:${Object.keys(c.state ?? {})[0] ?? ''}${c.ready ? '+ready' : ''}`).join(',');
  const changed = a.phase !== b.phase || ready(a) !== ready(b) || a.podIP !== b.podIP || states(a) !== states(b)
    || scheduled(a)?.message !== scheduled(b)?.message;
  if (!changed) return undefined;
  const parts = [`status ${b.phase ?? 'Pending'}`];
  if (ready(b)) parts.push(`Ready=${ready(b)}`);
  if (b.podIP) parts.push(`IP ${b.podIP}`);
  const sc = scheduled(b);
  if (sc?.status === 'False' && sc.message) parts.push(`PodScheduled=False: ${sc.message}`);
  const waiting = (b.containerStatuses ?? []).flatMap((c) => (c.state?.waiting?.reason ? [`${c.name} waiting (${c.state.waiting.reason})`] : []));
  parts.push(...waiting);
  return { message: parts.join(', '), fields: { phase: b.phase ?? 'Pending', ready: ready(b) || 'Unknown', podIP: b.podIP ?? '', containers: states(b) } };
}
