/**
 * The kubelet's part of the trace (step 5: it saw the pod, the image decision, the sandbox and
 * containers the runtime made, with the runtime's own timestamps; step 6: probe verdicts).
 * Each function is one call at the place the kubelet acts; the runtime's timestamps of a
 * container are looked up when the record is flushed, not while the pod starts.
 */
import type { Pod, Probe } from '../api/types.js';
import type { ContainerStatus, SandboxStatus } from '../runtime/types.js';
import type { Tracer } from './recorder.js';
import { traceTime } from './types.js';

const ms = (since: number): number => performance.now() - since;

/** The kubelet's watch delivered a pod bound to its node. */
export function traceKubeletSaw(tracer: Tracer, pod: Pod): void {
  if (pod.metadata?.deletionTimestamp) return;
  tracer.record(pod, { step: 5, action: 'Seen', message: 'kubelet saw the pod bound to its node (watch ADDED), queued its worker' });
}

export type ImageDecision = 'present' | 'pulled' | 'not-present';

/** What `imagePullPolicy` made of an image; `startedAt` is `performance.now()` before the check. */
export function traceImage(tracer: Tracer, pod: Pod, image: string, policy: string, decision: ImageDecision, startedAt: number): void {
  const what = decision === 'present' ? (policy === 'Never' ? 'present' : 'present, no pull') : decision === 'pulled' ? 'pulled' : 'not present, cannot pull';
  const took = ms(startedAt);
  tracer.record(pod, {
    step: 5, action: decision === 'pulled' ? 'ImagePulled' : 'ImageChecked', durationMs: took,
    message: `image ${image}, policy ${policy} → ${what} (${Math.round(took)} ms)`, fields: { image, policy, decision },
  });
}

/** The runtime made the pod's sandbox; `startedAt` is `performance.now()` before the request. */
export function traceSandbox(tracer: Tracer, pod: Pod, sandbox: SandboxStatus, image: string, startedAt: number): void {
  const took = ms(startedAt);
  tracer.record(pod, {
    step: 5, action: 'SandboxStarted', component: 'runtime', durationMs: took,
    message: `pause sandbox created and started (${sandbox.ip || 'no IP'}) in ${Math.round(took)} ms`,
    fields: { sandboxId: sandbox.id.slice(0, 12), ip: sandbox.ip, image, runtimeCreatedAt: traceTime(sandbox.createdAt) },
  });
}

/**
 * The runtime created and started a container: `t0` before create, `t1` after it, now after
 * start (all `performance.now()`). The runtime's own created/started times come at flush.
 */
export function traceContainer(tracer: Tracer, pod: Pod, name: string, id: string, t0: number, t1: number,
  status: (id: string) => Promise<ContainerStatus | undefined>): void {
  const createMs = Math.round((t1 - t0) * 10) / 10;
  const startMs = Math.round(ms(t1) * 10) / 10;
  tracer.record(pod, {
    step: 5, action: 'ContainerStarted', component: 'runtime', durationMs: createMs + startMs,
    message: `container ${name} created (${Math.round(createMs)} ms) and started (${Math.round(startMs)} ms)`,
    fields: { container: name, containerId: id.slice(0, 12), createMs, startMs },
    enrich: async () => {
      const s = await status(id);
      return s ? { runtimeCreatedAt: traceTime(s.createdAt), ...(s.startedAt ? { runtimeStartedAt: traceTime(s.startedAt) } : {}) } : undefined;
    },
  });
}

/** How a probe is done, in a few words: `http :80/`, `tcp :5432`, `exec cat /tmp/ok`. */
export function describeProbe(p: Probe | undefined): string {
  if (!p) return 'probe';
  if (p.httpGet) return `http :${String(p.httpGet.port)}${p.httpGet.path ?? '/'}`;
  if (p.tcpSocket) return `tcp :${String(p.tcpSocket.port)}`;
  if (p.grpc) return `grpc :${p.grpc.port}`;
  if (p.exec) return `exec ${(p.exec.command ?? []).join(' ')}`.slice(0, 80);
  return 'probe';
}

/** A probe's verdict changed (`result` is the new one). */
export function traceProbe(tracer: Tracer, pod: Pod, kind: string, container: string, probe: Probe | undefined, outcome: string, result: string): void {
  const verdict = kind === 'readiness' ? (result === 'success' ? 'Ready' : 'not Ready') : kind === 'liveness' ? (result === 'success' ? 'alive' : 'will restart') : (result === 'success' ? 'started' : 'not started');
  tracer.record(pod, {
    step: 6, action: 'Probe', message: `${kind} probe ${describeProbe(probe)} of ${container} → ${outcome}, ${verdict}`,
    fields: { kind, container, outcome, result },
  });
}
