/**
 * `services`: what the Service path costs, on a real 2-node cluster.
 *
 * 1. Endpoint programming latency: one Service, then N nginx pods one after another (each
 *    created only once the previous one is gone). For each: the watch sees the pod Ready →
 *    the first HTTP request from the host through the ClusterIP that the pod answers (GET every
 *    5 ms; before the rules exist the ClusterIP refuses at once). That is Kubernetes'
 *    network-programming latency, whose SLO is p99 ≤ 30 s (quoted).
 * 2. HTTP requests/s from the host through the ClusterIP vs straight to the pod IP, same pod,
 *    same run, interleaved in rounds; a new connection per request, so every request goes
 *    through the nat rules (conntrack keeps later packets of a connection off them).
 * 3. DNS lookup latency from a pod: A queries for the Service's name sent from inside the last
 *    pod's network namespace to the kube-dns ClusterIP (so through the proxy's DNAT).
 */
import type { EndpointSlice, Pod, Service } from '../../api/types.js';
import { ENDPOINTSLICES, PODS, SERVICES, type ApiClient } from '../../client/client.js';
import { nowMs, sleep } from '../clock.js';
import { newCluster } from '../cluster.js';
import type { BenchContext } from '../context.js';
import { NGINX_IMAGE, PAUSE_IMAGE } from '../floor.js';
import { httpLoad, waitForHttp, type HttpLoad } from '../http.js';
import { PodWatch } from '../podwatch.js';
import { newPart, type PartResult } from '../report.js';
import { summarize } from '../stats.js';
import { nginxPod, requireImages } from './pods.js';
import { LABEL_POD_UID } from '../../api/types.js';
import { dnsLookupLatency } from '../../dns/latency.js';
import { exec } from '../exec.js';

const NS = 'default';
const LABEL = 'bench=services';

/** Requests/s of `concurrency` loops of GET http://host:port/ (new connection each) for `ms`. */
const requestRate = (host: string, port: number, ms: number, concurrency: number): Promise<HttpLoad> => httpLoad(host, port, ms, concurrency);

async function createService(client: ApiClient): Promise<string> {
  const svc = await client.create<Service>({ ...SERVICES, namespace: NS }, {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'bench-svc' },
    spec: { selector: { bench: 'services' }, ports: [{ name: 'http', port: 80, targetPort: 80 }] },
  });
  const ip = svc.spec?.clusterIP;
  if (!ip || ip === 'None') throw new Error('the Service got no ClusterIP: does this API server allocate them?');
  return ip;
}

export async function runServices(ctx: BenchContext): Promise<PartResult> {
  const n = ctx.quick ? 5 : 30;
  const rounds = ctx.quick ? 1 : 3;
  const windowMs = ctx.quick ? 1000 : 3000;
  const concurrency = 4;
  const part = newPart('services', `2-node cluster; ${n} nginx pods one after another behind one ClusterIP Service (pod Ready seen by the watch → first answer through the ClusterIP from the host, GET every 5 ms); ` +
    `then ${rounds} interleaved rounds of ${windowMs / 1000} s × ${concurrency} concurrent GET loops from the host (a new connection per request) to the ClusterIP and to the pod IP of one nginx pod`);
  await requireImages([PAUSE_IMAGE, NGINX_IMAGE]);
  const { cluster, release } = await newCluster(ctx, 'services', 2);
  await cluster.up();
  const client = cluster.client();
  const watch = new PodWatch(client, NS, LABEL);
  await watch.start();
  const podsRef = { ...PODS, namespace: NS };
  try {
    const vip = await createService(client);
    // When each pod first appears ready in the Service's EndpointSlices (the controller's part).
    const sliceReady = new Map<string, number>();
    const sliceRef = { ...ENDPOINTSLICES, namespace: NS };
    const sliceWatch = client.watch<EndpointSlice>(sliceRef, { labelSelector: 'kubernetes.io/service-name=bench-svc' }, (e) => {
      if (e.type !== 'ADDED' && e.type !== 'MODIFIED') return;
      for (const ep of e.object.endpoints ?? []) {
        // By pod name: the engine hands the next pod the same IP.
        const pod = ep.targetRef?.name;
        if (ep.conditions?.ready === true && pod && !sliceReady.has(pod)) sliceReady.set(pod, nowMs());
      }
    });
    sliceWatch.done.catch((err: unknown) => ctx.log(`services: slice watch: ${(err as Error).message}`));
    const latencies: number[] = [];
    const controllerPart: number[] = [];
    const proxyPart: number[] = [];
    let last: string | undefined;
    for (let i = -1; i < n; i++) {
      const name = `bench-svc-${i < 0 ? 'warmup' : i}`;
      if (last) {
        await client.delete(podsRef, last, { gracePeriodSeconds: 0 });
        const gone = last;
        await watch.until(() => (watch.marks.get(gone)?.deleted !== undefined ? true : undefined), 60_000, `pod ${gone} deleted`);
      }
      const pod: Pod = nginxPod(name, { bench: 'services' });
      await client.create(podsRef, { ...pod, spec: { ...pod.spec, containers: pod.spec?.containers ?? [], terminationGracePeriodSeconds: 0 } });
      const marks = await watch.waitPod(name, (m) => m.ready !== undefined, 120_000, 'Ready');
      const answered = await waitForHttp(vip, 80, nowMs() + 60_000, 5);
      if (i >= 0) {
        latencies.push(answered - (marks.ready ?? Number.NaN));
        const inSlice = sliceReady.get(name) ?? Number.NaN;
        controllerPart.push(inSlice - (marks.ready ?? Number.NaN));
        proxyPart.push(answered - inSlice);
      }
      last = name;
      if (i >= 0 && (i + 1) % 10 === 0) ctx.log(`services: ${i + 1}/${n} endpoints programmed`);
    }
    sliceWatch.stop();
    const med = (xs: number[]) => `${summarize(xs.filter(Number.isFinite)).p50.toFixed(0)} ms`;
    const p99 = (xs: number[]) => `${summarize(xs.filter(Number.isFinite)).p99.toFixed(0)} ms`;
    part.tables.push({ title: 'where the endpoint programming time goes', header: ['PHASE', 'P50', 'P99'], rows: [
      ['pod Ready (watch) → ready in the EndpointSlice (watch): endpointslice controller', med(controllerPart), p99(controllerPart)],
      ['in the EndpointSlice → first answer through the ClusterIP: proxy (watch, plan, iptables-restore) + 5 ms polling', med(proxyPart), p99(proxyPart)],
    ] });
    part.figures.push({
      name: 'pod Ready → first request served through the ClusterIP', unit: 'ms', summary: summarize(latencies), spread: 'p99', samples: latencies,
      references: [{ label: 'Kubernetes network programming latency SLO (p99 ≤ 30 s)', value: 30_000, measured: false, compare: 'p99',
        source: 'kubernetes/community sig-scalability/slos/network_programming_latency.md' }],
    });

    // Throughput: the last pod stays; same pod through both paths.
    const podIP = last ? watch.marks.get(last)?.ip : undefined;
    if (!podIP) throw new Error('the last pod has no IP');
    const vipRates: number[] = [];
    const podRates: number[] = [];
    let errors = 0;
    await requestRate(vip, 80, 500, concurrency); // warm-up
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? ['pod', 'vip'] : ['vip', 'pod'];
      for (const which of order) {
        const res = await requestRate(which === 'vip' ? vip : podIP, 80, windowMs, concurrency);
        (which === 'vip' ? vipRates : podRates).push(res.rate);
        errors += res.errors;
        await sleep(100);
      }
    }
    const podMedian = summarize(podRates).p50;
    part.figures.push(
      { name: 'HTTP req/s from the host through the ClusterIP', unit: 'req/s', summary: summarize(vipRates), spread: 'minmax', samples: vipRates,
        references: [{ label: 'straight to the pod IP', value: podMedian, measured: true }] },
      { name: 'HTTP req/s from the host straight to the pod IP', unit: 'req/s', summary: summarize(podRates), spread: 'minmax', samples: podRates, references: [] },
    );
    part.notes.push(`Proxy overhead = pod-IP rate / ClusterIP rate = ${(podMedian / summarize(vipRates).p50).toFixed(3)}× (goal ≤ 1.05×); ${errors} failed requests.`);

    const dns = await client.get<Service>({ ...SERVICES, namespace: 'kube-system' }, 'kube-dns').catch(() => undefined);
    const dnsIP = dns?.spec?.clusterIP;
    const uid = last ? watch.marks.get(last)?.uid : undefined;
    const sandbox = uid ? (await cluster.runtime().listPodSandboxes({ [LABEL_POD_UID]: uid }))[0] : undefined;
    const pid = sandbox ? Number((await exec('docker', ['inspect', '-f', '{{.State.Pid}}', sandbox.id])).stdout.trim()) : 0;
    if (!dnsIP || !pid) {
      part.notes.push('DNS lookup latency from a pod: not measured, this cluster has no kube-dns Service (or the pod\'s sandbox was not found).');
    } else {
      const { samples, failed } = await dnsLookupLatency({ podPid: pid, server: dnsIP, name: 'bench-svc.default.svc.cluster.local', count: ctx.quick ? 20 : 200 });
      part.figures.push({ name: 'DNS lookup from a pod (A bench-svc.default.svc.cluster.local, UDP, via the kube-dns ClusterIP)', unit: 'ms',
        summary: summarize(samples), spread: 'p99', samples, references: [] });
      if (failed) part.notes.push(`${failed} DNS lookups failed.`);
    }
    part.notes.push('With fewer than 100 samples p99 is the slowest sample.');
  } finally {
    watch.stop();
    await release();
  }
  return part;
}
