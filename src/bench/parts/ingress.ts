/**
 * `ingress`: what the ingress path costs, on a real 2-node cluster running examples/ingress/
 * (web: 2 nginx replicas, api: 1; one Ingress, shop.local/ → web).
 *
 * HTTP requests from the host, a new connection per request, `concurrency` loops, in
 * interleaved rounds, to the same app three ways in one run:
 * 1. through the ingress: 127.0.0.1:<ingress port> with `Host: shop.local` (service proxy relay →
 *    nginx pod → a web pod IP);
 * 2. straight to the web Service's ClusterIP:80 (the proxy's nat rules → a web pod);
 * 3. straight to one web pod's IP:80.
 * Each gives requests/s per window and the latency of every request (p50/p99).
 */
import { join } from 'node:path';
import type { Pod, Service } from '../../api/types.js';
import { PODS, SERVICES } from '../../client/client.js';
import { nowMs, sleep } from '../clock.js';
import { newCluster } from '../cluster.js';
import type { BenchContext } from '../context.js';
import { NGINX_IMAGE, PAUSE_IMAGE } from '../floor.js';
import { REPO_ROOT } from '../machine.js';
import { httpLoad, type HttpLoad } from '../http.js';
import { newPart, type PartResult } from '../report.js';
import { summarize } from '../stats.js';
import { requireImages } from './pods.js';

/** GETs through the ingress carry the Ingress rule's host. */
const load = (ip: string, port: number, host: string, ms: number, concurrency: number): Promise<HttpLoad> => httpLoad(ip, port, ms, concurrency, host);

export async function runIngress(ctx: BenchContext): Promise<PartResult> {
  const rounds = ctx.quick ? 1 : 3;
  const windowMs = ctx.quick ? 1000 : 2000;
  const concurrency = 4;
  const part = newPart('ingress', `2-node cluster running examples/ingress/ (web: 2 nginx replicas behind Service web and Ingress shop, shop.local/ → web); ` +
    `${rounds} interleaved rounds of ${windowMs / 1000} s × ${concurrency} concurrent GET loops from the host (a new connection per request) ` +
    'through the ingress (127.0.0.1:<ingress port>, Host shop.local), to the web ClusterIP and to one web pod IP');
  await requireImages([PAUSE_IMAGE, NGINX_IMAGE]);
  const { cluster, release } = await newCluster(ctx, 'ingress', 2);
  await cluster.up();
  try {
    const applied = await cluster.cli(['apply', '-f', join(REPO_ROOT, 'examples/ingress')]);
    if (applied.code !== 0) throw new Error(`apply examples/ingress: ${applied.stderr}`);
    for (const [d, ns] of [['web', 'default'], ['ingress-nginx-controller', 'ingress-nginx']]) {
      const r = await cluster.cli(['rollout', 'status', `deployment/${d}`, '-n', ns, '--timeout', '120s'], 130_000);
      if (r.code !== 0) throw new Error(`rollout status ${d}: ${r.stderr || r.stdout}`);
    }
    const port = Number((await cluster.cli(['ingress', 'port'])).stdout.trim());
    const client = cluster.client();
    const vip = (await client.get<Service>({ ...SERVICES, namespace: 'default' }, 'web')).spec?.clusterIP ?? '';
    const pods = await client.list<Pod>({ ...PODS, namespace: 'default' }, { labelSelector: 'app=web' });
    const podIP = pods.items.find((p) => p.status?.podIP)?.status?.podIP ?? '';
    // The route is live once the ingress answers with web.
    const deadline = nowMs() + 60_000;
    while ((await load('127.0.0.1', port, 'shop.local', 100, 1)).latencies.length === 0) {
      if (nowMs() > deadline) throw new Error('the ingress never answered for shop.local');
      await sleep(100);
    }
    const targets = [
      { key: 'ingress', ip: '127.0.0.1', port, host: 'shop.local' },
      { key: 'service', ip: vip, port: 80, host: 'shop.local' },
      { key: 'pod', ip: podIP, port: 80, host: 'shop.local' },
    ];
    const rates: Record<string, number[]> = { ingress: [], service: [], pod: [] };
    const lat: Record<string, number[]> = { ingress: [], service: [], pod: [] };
    let errors = 0;
    for (const t of targets) await load(t.ip, t.port, t.host, 300, concurrency); // warm-up
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) {
        const res = await load(t.ip, t.port, t.host, windowMs, concurrency);
        rates[t.key].push(res.rate);
        lat[t.key].push(...res.latencies);
        errors += res.errors;
        await sleep(100);
      }
    }
    const podRate = summarize(rates.pod).p50;
    const svcRate = summarize(rates.service).p50;
    const podLat = summarize(lat.pod).p50;
    part.figures.push(
      { name: 'HTTP req/s from the host through the ingress (Host shop.local)', unit: 'req/s', summary: summarize(rates.ingress), spread: 'minmax', samples: rates.ingress,
        references: [{ label: 'straight to the Service', value: svcRate, measured: true }, { label: 'straight to a pod', value: podRate, measured: true }] },
      { name: 'HTTP req/s from the host straight to the web Service (ClusterIP)', unit: 'req/s', summary: summarize(rates.service), spread: 'minmax', samples: rates.service,
        references: [{ label: 'straight to a pod', value: podRate, measured: true }] },
      { name: 'HTTP req/s from the host straight to a web pod IP', unit: 'req/s', summary: summarize(rates.pod), spread: 'minmax', samples: rates.pod, references: [] },
      { name: 'request latency through the ingress', unit: 'ms', summary: summarize(lat.ingress), spread: 'p99',
        references: [{ label: 'straight to a pod', value: podLat, measured: true }] },
      { name: 'request latency straight to the Service', unit: 'ms', summary: summarize(lat.service), spread: 'p99', references: [] },
      { name: 'request latency straight to a pod', unit: 'ms', summary: summarize(lat.pod), spread: 'p99', references: [] },
    );
    part.notes.push(`${errors} failed requests. The ingress path is two hops more than the Service path: the proxy's loopback relay (a Node.js TCP pipe) and nginx (which keeps its upstream connections to the pods alive).`);
  } finally {
    await release();
  }
  return part;
}
