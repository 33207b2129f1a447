/** The scheduler's part of the trace: it saw a pending pod (step 2) and what it decided (step 4). */
import type { Pod } from '../api/types.js';
import type { CycleResult } from '../scheduler/schedule.js';
import type { Tracer } from './recorder.js';
import type { TraceValue } from './types.js';

/** The scheduler's informer delivered a pod it will schedule. */
export function traceSeen(tracer: Tracer, pod: Pod): void {
  tracer.record(pod, { step: 2, action: 'Seen', message: 'scheduler saw the pending pod (watch ADDED), queued it' });
}

/** One scheduling cycle's outcome, with every filtered node's reasons or score. */
export function traceDecision(tracer: Tracer, pod: Pod, cycle: CycleResult): void {
  const nodes: TraceValue[] = cycle.verdicts.map((v) => ({
    node: v.node, fits: v.fits, ...(v.reasons ? { reasons: v.reasons } : {}), ...(v.score !== undefined ? { score: Math.round(v.score) } : {}),
  }));
  const described = cycle.verdicts.map((v) => (v.fits
    ? `${v.node} fits${v.score !== undefined ? ` (score ${Math.round(v.score)})` : ''}`
    : `${v.node} does not fit (${(v.reasons ?? []).join(', ')})`)).join(', ');
  const n = cycle.verdicts.length;
  const head = `considered ${n} node${n === 1 ? '' : 's'}${n ? `: ${described}` : ''}`;
  if ('node' in cycle.result) {
    const node = cycle.result.node;
    tracer.record(pod, { step: 4, action: 'Scheduled', node, message: `${head} → ${node}`, fields: { chosen: node, nodes } });
  } else {
    tracer.record(pod, { step: 4, action: 'Unschedulable', message: `${head}: ${cycle.result.message}`, fields: { nodes } });
  }
}
