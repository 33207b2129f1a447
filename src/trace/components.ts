/**
 * How `up`'s processes get their tracers, and the pruner that bounds the stored traces by age
 * (as Kubernetes' `--event-ttl` bounds Events, default 1 h here too).
 */
import type { ApiClient } from '../client/client.js';
import { PODS } from '../client/client.js';
import type { KubeObject } from '../api/types.js';
import { clientSink, NO_TRACE, TraceRecorder, type Tracer } from './recorder.js';
import { PODTRACES, type PodTrace } from './types.js';

/** Tracing is on unless `MINIKUBE_LITE_TRACE` is `0`/`off`/`false` (for A/B benchmarks). */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return !['0', 'off', 'false'].includes((env.MINIKUBE_LITE_TRACE ?? '').toLowerCase());
}

/** A component's tracer writing through the API (NO_TRACE when tracing is off). */
export function componentTracer(client: ApiClient, component: string, host?: string): Tracer {
  if (!tracingEnabled()) return NO_TRACE;
  return new TraceRecorder(clientSink(client), component, { host, log: (m) => process.stderr.write(`${component}: ${m}\n`) });
}

export interface PrunerOptions {
  /** Traces older than this go (default 1 h). */
  ttlMs?: number;
  /** Traces of pods that no longer exist go once this old (default 10 min: `trace` still works a while after a delete). */
  orphanTtlMs?: number;
  /** At most this many traces are kept; the oldest beyond it go (default 20000). */
  maxObjects?: number;
  /** How often to look (default 60 s). */
  intervalMs?: number;
  clock?: () => Date;
  log?: (msg: string) => void;
}

/** Which traces to delete, oldest first: too old, orphaned for long enough, or beyond the cap. Pure. */
export function tracesToPrune(traces: readonly PodTrace[], livePodUids: ReadonlySet<string>, now: number, o: Required<Pick<PrunerOptions, 'ttlMs' | 'orphanTtlMs' | 'maxObjects'>>): PodTrace[] {
  const age = (t: KubeObject) => now - Date.parse(t.metadata?.creationTimestamp ?? '');
  const sorted = [...traces].sort((a, b) => age(b) - age(a));
  const out: PodTrace[] = [];
  const excess = sorted.length - o.maxObjects;
  sorted.forEach((t, i) => {
    const a = age(t);
    if (i < excess || a > o.ttlMs || (!livePodUids.has(t.pod?.uid ?? '') && a > o.orphanTtlMs)) out.push(t);
  });
  return out;
}

/** Starts the periodic pruning (unref'd timer); `stop()` ends it. Failures are logged and retried next time. */
export function startTracePruner(client: ApiClient, opts: PrunerOptions = {}): { stop(): void; prune(): Promise<number> } {
  const clock = opts.clock ?? (() => new Date());
  const log = opts.log ?? ((m: string) => console.warn(m));
  const limits = { ttlMs: opts.ttlMs ?? 3_600_000, orphanTtlMs: opts.orphanTtlMs ?? 600_000, maxObjects: opts.maxObjects ?? 20_000 };
  let running = false;
  const prune = async (): Promise<number> => {
    if (running) return 0;
    running = true;
    try {
      const [traces, pods] = await Promise.all([client.list<PodTrace>(PODTRACES), client.list(PODS)]);
      const live = new Set(pods.items.map((p) => p.metadata?.uid ?? ''));
      const doomed = tracesToPrune(traces.items, live, clock().getTime(), limits);
      for (const t of doomed) {
        await client.delete({ ...PODTRACES, namespace: t.metadata?.namespace }, t.metadata?.name ?? '').catch((e: unknown) => {
          log(`could not delete ${t.metadata?.name ?? ''}: ${(e as Error).message}`);
        });
      }
      return doomed.length;
    } catch (e) {
      log(`pruning traces: ${(e as Error).message} (will retry)`);
      return 0;
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void prune(), opts.intervalMs ?? 60_000);
  timer.unref();
  return { stop: () => clearInterval(timer), prune };
}
