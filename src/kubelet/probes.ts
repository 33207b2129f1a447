/**
 * The pure part of the kubelet's prober (Kubernetes `pkg/kubelet/prober`): probe timings with
 * their defaults, the threshold state machine of one probe worker, when a worker probes at all,
 * and how probe results make a container `started` and `ready`. No I/O and no timers: the
 * workers in `prober.ts` carry these out, and the unit tests drive them directly.
 */
import type { Container, Probe } from '../api/types.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
/** A worker's current verdict; `unknown` until a startup probe has decided. */
export type ProbeResult = 'success' | 'failure' | 'unknown';
/** The outcome of one probe run that counts (errors are thrown away, as Kubernetes does). */
export type ProbeOutcome = 'success' | 'failure';

/** The probe kinds in the order their workers start. */
export const PROBE_KINDS: readonly ProbeKind[] = ['startup', 'liveness', 'readiness'];

/** `Liveness`, `Readiness`, `Startup`: how events name a probe. */
export const probeTitle = (kind: ProbeKind): string => kind[0].toUpperCase() + kind.slice(1);

export function probeOf(c: Container, kind: ProbeKind): Probe | undefined {
  return kind === 'liveness' ? c.livenessProbe : kind === 'readiness' ? c.readinessProbe : c.startupProbe;
}

export interface ProbeTimings {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

/**
 * A probe's timings with Kubernetes' defaults for unset or zero fields (the API server defaults
 * them too; a pod stored before that still probes the same): initialDelaySeconds 0,
 * periodSeconds 10, timeoutSeconds 1, successThreshold 1, failureThreshold 3.
 */
export function probeTimings(p: Probe): ProbeTimings {
  const pos = (v: number | undefined, d: number) => (v !== undefined && v > 0 ? v : d);
  return {
    initialDelayMs: Math.max(0, p.initialDelaySeconds ?? 0) * 1000,
    periodMs: pos(p.periodSeconds, 10) * 1000,
    timeoutMs: pos(p.timeoutSeconds, 1) * 1000,
    successThreshold: pos(p.successThreshold, 1),
    failureThreshold: pos(p.failureThreshold, 3),
  };
}

/** What one probe worker remembers between runs. */
export interface ProbeState {
  result: ProbeResult;
  /** The last outcome, and how many runs in a row had it. */
  last?: ProbeOutcome;
  run: number;
  /**
   * A liveness or startup probe that failed stops probing: its container is about to be
   * restarted, and the new container gets a new worker.
   */
  onHold: boolean;
}

/**
 * The verdict before any probe ran: a container is alive until proven otherwise, not ready
 * until proven ready, and its start is undecided.
 */
export function initialProbeState(kind: ProbeKind): ProbeState {
  return { result: kind === 'liveness' ? 'success' : kind === 'readiness' ? 'failure' : 'unknown', run: 0, onHold: false };
}

/**
 * The state after one counted probe run: the verdict changes only after `successThreshold`
 * successes or `failureThreshold` failures in a row; a failed liveness or startup verdict puts
 * the worker on hold.
 */
export function nextProbeState(kind: ProbeKind, state: ProbeState, outcome: ProbeOutcome, t: Pick<ProbeTimings, 'successThreshold' | 'failureThreshold'>): ProbeState {
  const run = state.last === outcome ? state.run + 1 : 1;
  const needed = outcome === 'success' ? t.successThreshold : t.failureThreshold;
  if (run < needed) return { ...state, last: outcome, run };
  if (outcome === 'failure' && kind !== 'readiness') return { result: 'failure', last: outcome, run: 0, onHold: true };
  return { result: outcome, last: outcome, run, onHold: false };
}

export interface ProbeContext {
  now: number;
  /** When the container started (epoch ms). */
  startedAt: number;
  initialDelayMs: number;
  /** Whether the container counts as started (its startup probe succeeded, or it has none). */
  started: boolean;
}

/**
 * Whether a worker probes on this tick: not while on hold, not a startup probe that already
 * succeeded, not a liveness or readiness probe before the container started, and not within
 * `initialDelaySeconds` of the container's start.
 */
export function shouldProbe(kind: ProbeKind, state: ProbeState, ctx: ProbeContext): boolean {
  if (state.onHold) return false;
  if (kind === 'startup' && state.result === 'success') return false;
  if (kind !== 'startup' && !ctx.started) return false;
  return ctx.now - ctx.startedAt >= ctx.initialDelayMs;
}

/** Current probe verdicts of one container instance, by kind (absent: no worker, or none yet). */
export type ContainerProbeResults = Partial<Record<ProbeKind, ProbeResult>>;

/**
 * `started` and `ready` of an app container, as the kubelet reports them: a running container
 * has started once its startup probe succeeded (at once without one), and is ready once started
 * and its readiness probe succeeded (at once without one).
 */
export function containerReadiness(c: Container, running: boolean, results: ContainerProbeResults | undefined): { started: boolean; ready: boolean } {
  if (!running) return { started: false, ready: false };
  const started = c.startupProbe ? results?.startup === 'success' : true;
  if (!started) return { started, ready: false };
  return { started, ready: c.readinessProbe ? results?.readiness === 'success' : true };
}

/**
 * The port number a probe or hook names: a number, or the name of one of the container's
 * ports (a numeric string counts as a number). Throws with a sentence for the event otherwise.
 */
export function resolvePort(port: number | string | undefined, c: Container): number {
  if (typeof port === 'number') {
    if (Number.isInteger(port) && port > 0 && port < 65536) return port;
    throw new Error(`invalid port number: ${port}`);
  }
  const named = (c.ports ?? []).find((p) => p.name !== undefined && p.name === port);
  if (named) return named.containerPort;
  if (port !== undefined && /^\d+$/.test(port)) return resolvePort(Number(port), c);
  throw new Error(`couldn't find port: ${port ?? '(none)'} in container ${c.name}`);
}
