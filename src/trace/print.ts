/** Prints a {@link TraceTree} as `trace` shows it. */
import { formatTimeline, stepLegend } from './timeline.js';
import type { TraceTree } from './query.js';

export function formatTraceTree(t: TraceTree): string {
  let out = '';
  if (t.kind === 'deployment') out += `Deployment ${t.namespace}/${t.name}\n`;
  for (const rs of t.replicaSets ?? []) {
    const ind = t.kind === 'deployment' ? '  ' : '';
    out += `${ind}${t.kind === 'deployment' ? '└─ ' : ''}ReplicaSet ${rs.name}${rs.revision ? ` (revision ${rs.revision})` : ''}: ${rs.readyReplicas}/${rs.replicas} ready\n`;
    if (!rs.pods.length) out += `${ind}     (no pods)\n`;
    for (const p of rs.pods) out += formatTimeline(p, `${ind}   `);
  }
  for (const p of t.pods ?? []) out += formatTimeline(p);
  return out + `steps: ${stepLegend()}\n`;
}
