/**
 * Turns a pod's stored PodTraces into its timeline, and prints it. Pure functions: the CLI and
 * the dashboard's data layer share them.
 */
import type { Pod } from '../api/types.js';
import { STEP_TITLES, type PodTrace, type SeedStep, type TraceRecord } from './types.js';

export interface TimelineEntry extends TraceRecord {
  /** Milliseconds since the pod was created (negative for the controller's decision before it). */
  offsetMs: number;
}

export interface Timeline {
  pod: { namespace: string; name: string; uid: string; node?: string };
  /** When the API server stored the pod (its `Created` record, else `creationTimestamp`). */
  createdAt: string;
  entries: TimelineEntry[];
  /** Seed steps present, in the order they first happen. */
  steps: SeedStep[];
  /** Created → first status write with Ready=True, if it happened. */
  readyAfterMs?: number;
}

/** The pod's timeline from its traces, ordered by time (stable for equal times: seed step, then arrival). */
export function buildTimeline(pod: Pod, traces: readonly PodTrace[]): Timeline {
  const uid = pod.metadata?.uid ?? '';
  const records = traces.filter((t) => t.pod?.uid === uid).flatMap((t) => t.records ?? []);
  const created = records.find((r) => r.step === 1 && r.action === 'Created');
  const t0 = Date.parse(created?.time ?? pod.metadata?.creationTimestamp ?? '') || 0;
  const entries = records
    .map((r, i) => ({ r, i, at: Date.parse(r.time) }))
    .sort((a, b) => a.at - b.at || a.r.step - b.r.step || a.i - b.i)
    .map(({ r, at }) => ({ ...r, offsetMs: at - t0 }));
  const steps: SeedStep[] = [];
  for (const e of entries) if (!steps.includes(e.step)) steps.push(e.step);
  const ready = entries.find((e) => e.action === 'StatusWritten' && e.fields?.ready === 'True');
  return {
    pod: { namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '', uid, ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}) },
    createdAt: new Date(t0).toISOString(),
    entries,
    steps,
    ...(ready ? { readyAfterMs: ready.offsetMs } : {}),
  };
}

/** How a component is named in a timeline: `API server`, `scheduler`, `kubelet/node-1`, ... */
export function actorName(e: Pick<TraceRecord, 'component' | 'node'>): string {
  switch (e.component) {
    case 'kube-apiserver': return 'API server';
    case 'default-scheduler': return 'scheduler';
    case 'kubelet': return e.node ? `kubelet/${e.node}` : 'kubelet';
    case 'runtime': return e.node ? `runtime/${e.node}` : 'runtime';
    default: return e.component.replace(/-controller$/, ' controller');
  }
}

/** `12 ms`, `1.42 s`, `-3 ms`. */
export function formatOffset(ms: number): string {
  const r = Math.round(ms);
  return Math.abs(r) < 10_000 ? `${r} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** One line per entry: `  420 ms  [5] runtime/node-1      container web created ... `, then a summary. */
export function formatTimeline(t: Timeline, indent = ''): string {
  const lines = [`${indent}pod ${t.pod.namespace}/${t.pod.name}${t.pod.node ? ` on ${t.pod.node}` : ''}`];
  if (!t.entries.length) {
    lines.push(`${indent}  (no trace records: the pod predates tracing, tracing is off, or its traces were pruned)`);
    return lines.join('\n') + '\n';
  }
  const offW = Math.max(...t.entries.map((e) => formatOffset(e.offsetMs).length));
  const actW = Math.max(...t.entries.map((e) => actorName(e).length));
  for (const e of t.entries) {
    lines.push(`${indent}  ${formatOffset(e.offsetMs).padStart(offW)}  [${e.step}] ${actorName(e).padEnd(actW)}  ${e.message}`);
  }
  const missing = ([1, 2, 3, 4, 5, 6, 7] as SeedStep[]).filter((s) => !t.steps.includes(s));
  const summary = [`seed steps seen: ${[...t.steps].sort().join(' ')}`];
  if (missing.length) summary.push(`not seen: ${missing.map((s) => `${s} (${STEP_TITLES[s]})`).join(', ')}`);
  if (t.readyAfterMs !== undefined) summary.push(`Ready ${formatOffset(t.readyAfterMs)} after creation`);
  lines.push(`${indent}  ${summary.join('; ')}`);
  return lines.join('\n') + '\n';
}

/** The seed's step list, for legends. */
export function stepLegend(): string {
  return (Object.entries(STEP_TITLES) as [string, string][]).map(([n, s]) => `[${n}] ${s}`).join('  ');
}
