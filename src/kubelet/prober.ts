/**
 * The kubelet's probe workers (Kubernetes `prober_manager.go` + `worker.go`): one worker per
 * running app container or sidecar and probe kind, ticking every `periodSeconds` on the kubelet's clock.
 * Each run records `Unhealthy` events for failures; when a worker's verdict changes it only
 * asks for a sync of the pod (`onChange`), and the pod's worker reads the verdicts back
 * (`results`, `failures`) when it plans and reports status. Verdicts live in memory: a new
 * container instance — or a restarted kubelet — starts from the initial verdicts.
 */
import { NO_TRACE, type Tracer } from '../trace/recorder.js';
import { traceProbe } from '../trace/kubelet.js';
import type { Container, Pod } from '../api/types.js';
import { sidecarsOf } from './plan.js';
import type { Clock } from './clock.js';
import type { ActionRunner } from './handlers.js';
import type { Recorder } from './images.js';
import {
  initialProbeState, nextProbeState, PROBE_KINDS, probeOf, probeTimings, probeTitle, shouldProbe,
  type ContainerProbeResults, type ProbeKind, type ProbeState,
} from './probes.js';

/** A running app container instance, as the pod's sync hands it to the prober. */
export interface ProbedContainer {
  name: string;
  id: string;
  sandboxId: string;
  podIP: string;
  startedAt: Date;
}

export interface ProberOptions {
  runner: ActionRunner;
  clock: Clock;
  recorder: Recorder;
  /** Where verdict changes are traced (default: nowhere). */
  tracer?: Tracer;
  /** Called (synchronously, from a worker) when a verdict changed: enqueue the pod, nothing more. */
  onChange: (podUid: string) => void;
}

class Worker {
  state: ProbeState;
  private cancel?: () => void;
  private stopped = false;

  constructor(
    readonly kind: ProbeKind,
    public pod: Pod,
    readonly spec: Container,
    readonly target: ProbedContainer,
    private readonly manager: ProbeManager,
    private readonly opts: ProberOptions,
  ) {
    this.state = initialProbeState(kind);
  }

  start(): void {
    const p = probeOf(this.spec, this.kind);
    if (!p) return;
    // The first run comes when the initial delay is over (at once for a container that started long ago).
    const sinceStart = this.opts.clock.now().getTime() - this.target.startedAt.getTime();
    this.schedule(Math.max(0, probeTimings(p).initialDelayMs - sinceStart));
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.cancel = this.opts.clock.after(ms, () => void this.tick());
  }

  private async tick(): Promise<void> {
    const probe = probeOf(this.spec, this.kind);
    if (this.stopped || !probe) return;
    const t = probeTimings(probe);
    const uid = this.pod.metadata?.uid ?? '';
    const ctx = {
      now: this.opts.clock.now().getTime(), startedAt: this.target.startedAt.getTime(), initialDelayMs: t.initialDelayMs,
      started: this.manager.isStarted(uid, this.spec, this.target.id),
    };
    if (shouldProbe(this.kind, this.state, ctx)) {
      const outcome = await this.manager.track(this.opts.runner.run({ container: this.spec, containerId: this.target.id, sandboxId: this.target.sandboxId, podIP: this.target.podIP }, probe, t.timeoutMs));
      if (this.stopped) return;
      const title = probeTitle(this.kind);
      if (outcome.status === 'error') {
        this.opts.recorder.event(this.pod, 'Warning', 'Unhealthy', `${title} probe errored: ${outcome.output.trim()}`);
      } else {
        if (outcome.status === 'failure') this.opts.recorder.event(this.pod, 'Warning', 'Unhealthy', `${title} probe failed: ${outcome.output.trim()}`);
        const next = nextProbeState(this.kind, this.state, outcome.status, t);
        const changed = next.result !== this.state.result;
        this.state = next;
        if (changed) traceProbe(this.opts.tracer ?? NO_TRACE, this.pod, this.kind, this.spec.name, probe, outcome.status, next.result);
        if (changed) this.opts.onChange(uid);
      }
    }
    this.schedule(t.periodMs);
  }
}

export class ProbeManager {
  /** Workers by `uid/container/kind`. */
  private readonly workers = new Map<string, Worker>();
  private inflight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: ProberOptions) {}

  /**
   * Makes the pod's workers match its running app containers: a worker per probe of each
   * running instance, a fresh one when the instance changed, none for a container that does not
   * run. Called by the pod's sync (never concurrently for one pod); cheap when nothing changed.
   */
  syncPod(pod: Pod, running: ProbedContainer[]): void {
    const uid = pod.metadata?.uid ?? '';
    for (const spec of [...sidecarsOf(pod), ...(pod.spec?.containers ?? [])]) {
      const inst = running.find((r) => r.name === spec.name);
      for (const kind of PROBE_KINDS) {
        const key = `${uid}/${spec.name}/${kind}`;
        const existing = this.workers.get(key);
        if (!inst || !probeOf(spec, kind)) {
          existing?.stop();
          this.workers.delete(key);
          continue;
        }
        if (existing && existing.target.id === inst.id) {
          existing.pod = pod;
          continue;
        }
        existing?.stop();
        const w = new Worker(kind, pod, spec, inst, this, this.opts);
        this.workers.set(key, w);
        w.start();
      }
    }
  }

  /** Stops every worker of the pod (it is being deleted, or finished). */
  removePod(uid: string): void {
    for (const [key, w] of this.workers) {
      if (key.startsWith(`${uid}/`)) {
        w.stop();
        this.workers.delete(key);
      }
    }
  }

  stop(): void {
    for (const w of this.workers.values()) w.stop();
    this.workers.clear();
  }

  /** The verdicts of the pod's probed containers, by container id. */
  results(uid: string): Record<string, ContainerProbeResults> {
    const out: Record<string, ContainerProbeResults> = {};
    for (const [key, w] of this.workers) {
      if (key.startsWith(`${uid}/`)) (out[w.target.id] ??= {})[w.kind] = w.state.result;
    }
    return out;
  }

  /** Containers whose liveness or startup probe failed (they are to be killed), by container id. */
  failures(uid: string): Record<string, 'liveness' | 'startup'> {
    const out: Record<string, 'liveness' | 'startup'> = {};
    for (const [key, w] of this.workers) {
      if (key.startsWith(`${uid}/`) && w.kind !== 'readiness' && w.state.result === 'failure') out[w.target.id] = w.kind;
    }
    return out;
  }

  /** The running containers (by id) whose startup probe succeeded. */
  startupPassed(uid: string): Set<string> {
    const out = new Set<string>();
    for (const [key, w] of this.workers) {
      if (key.startsWith(`${uid}/`) && w.kind === 'startup' && w.state.result === 'success') out.add(w.target.id);
    }
    return out;
  }

  /** Whether a container instance counts as started: its startup probe succeeded, or it has none. */
  isStarted(uid: string, spec: Container, containerId: string): boolean {
    if (!spec.startupProbe) return true;
    const w = this.workers.get(`${uid}/${spec.name}/startup`);
    return w !== undefined && w.target.id === containerId && w.state.result === 'success';
  }

  /** Counts a probe run in flight, for `idle`. */
  async track<T>(p: Promise<T>): Promise<T> {
    this.inflight++;
    try {
      return await p;
    } finally {
      this.inflight--;
      if (this.inflight === 0) this.idleWaiters.splice(0).forEach((r) => r());
    }
  }

  /** Resolves when no probe is running (for tests). */
  idle(): Promise<void> {
    return this.inflight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get busy(): boolean {
    return this.inflight > 0;
  }
}
