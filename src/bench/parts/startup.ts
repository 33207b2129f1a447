/**
 * `startup`: `minikube-lite up` with 2 nodes until the API server is ready and both nodes are
 * Ready, then `down`, run one after another with the built CLI. The references are quoted from
 * minikube's time-to-k8s benchmark (not run here: no other distribution is installed, and
 * theirs include pulling and booting node images).
 */
import type { BenchContext } from '../context.js';
import { newCluster } from '../cluster.js';
import { newPart, type PartResult, type Reference } from '../report.js';
import { summarize } from '../stats.js';

/** minikube's time-to-k8s benchmark (https://minikube.sigs.k8s.io/docs/benchmarks/timeToK8s/). */
const TIME_TO_K8S = 'minikube time-to-k8s benchmark (docs/benchmarks/timeToK8s), cluster up to ready';
export const STARTUP_REFERENCES: Reference[] = [
  { label: 'k3d', value: 20_000, measured: false, source: TIME_TO_K8S },
  { label: 'kind', value: 33_000, measured: false, source: TIME_TO_K8S },
  { label: 'minikube', value: 51_000, measured: false, source: TIME_TO_K8S },
];

export async function runStartup(ctx: BenchContext): Promise<PartResult> {
  const runs = ctx.quick ? 2 : 5;
  const part = newPart('startup', `${runs} runs of \`minikube-lite up --nodes 2\` then \`down\`, each a fresh cluster (own --name, --home in a temp dir, --pod-cidr); times from spawning the CLI`);
  const apiReady: number[] = [];
  const ready: number[] = [];
  const down: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { cluster, release } = await newCluster(ctx, 'startup', 2, String(i));
    try {
      const t = await cluster.up();
      apiReady.push(t.apiReadyMs);
      ready.push(t.readyMs);
      down.push(await cluster.down());
      ctx.log(`startup run ${i + 1}/${runs}: API ready ${t.apiReadyMs.toFixed(0)} ms, nodes Ready ${t.readyMs.toFixed(0)} ms, down ${down[down.length - 1].toFixed(0)} ms`);
    } finally {
      await release();
    }
  }
  part.figures.push(
    { name: 'up → API server ready', unit: 'ms', summary: summarize(apiReady), spread: 'minmax', references: [], samples: apiReady },
    { name: 'up → 2 nodes Ready (up exits)', unit: 'ms', summary: summarize(ready), spread: 'minmax', references: STARTUP_REFERENCES, samples: ready },
    { name: 'down (all removed)', unit: 'ms', summary: summarize(down), spread: 'minmax', references: [], samples: down },
  );
  part.notes.push('The quoted times include creating node containers/VMs from images; minikube-lite starts Node.js processes and Docker networks on the host, so the comparison says what the design buys, not that the same work ran faster.');
  return part;
}
