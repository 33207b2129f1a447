#!/usr/bin/env node
/**
 * Measures what N pods that fit nowhere cost the control plane (API server + scheduler in one
 * process, as `controlplane` runs them, on an in-memory store): store writes, CPU and log lines
 * over a quiet window once every pod has been marked Unschedulable.
 *
 *   node scripts/measure-unschedulable.mjs [distDir=dist] [pods=2000] [windowSeconds=30]
 *
 * Pass another checkout's dist/ to compare before/after (issue 12, finding 7).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [distArg = 'dist', nArg = '2000', windowArg = '30'] = process.argv.slice(2);
const dist = pathToFileURL(resolve(distArg)).href;
const N = Number(nArg);
const WINDOW_MS = Number(windowArg) * 1000;
const { RESOURCES } = await import(`${dist}/api/registry.js`);
const { startApiServer } = await import(`${dist}/apiserver/server.js`);
const { ApiClient, NODES, PODS } = await import(`${dist}/client/client.js`);
const { Scheduler } = await import(`${dist}/scheduler/scheduler.js`);
const { SqliteStore } = await import(`${dist}/store/sqlite.js`);

const inner = new SqliteStore(':memory:');
let writes = 0;
const store = new Proxy(inner, {
  get(target, prop) {
    const v = target[prop];
    if (typeof v !== 'function') return v;
    if (prop === 'create' || prop === 'update' || prop === 'delete') return (...a) => { writes++; return v.apply(target, a); };
    if (prop === 'guaranteedUpdate') {
      return async (key, fn) => {
        const before = (await target.get(key))?.metadata?.resourceVersion;
        const out = await v.call(target, key, fn);
        if (out.metadata?.resourceVersion !== before) writes++;
        return out;
      };
    }
    return v.bind(target);
  },
});
const token = 'measure-token';
const server = await startApiServer({ store, resources: RESOURCES, port: 0, token });
const client = new ApiClient({ server: server.url, token });
await client.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'small' } });
await client.patch(NODES, 'small', { status: { allocatable: { cpu: '1', memory: '1Gi', pods: '110' }, capacity: { cpu: '1', memory: '1Gi', pods: '110' },
  conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready' }] } }, 'status');
let logLines = 0;
const scheduler = new Scheduler({ client, log: () => { logLines++; } });
await scheduler.start();
const ns = { ...PODS, namespace: 'default' };
for (let i = 0; i < N; i += 50) {
  await Promise.all(Array.from({ length: Math.min(50, N - i) }, (_, j) => client.create(ns, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: `big-${i + j}` },
    spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '2' } } }] },
  })));
}
const marked = async () => (await client.list(ns)).items.filter((p) => p.status?.conditions?.some((c) => c.reason === 'Unschedulable')).length;
const deadline = Date.now() + 120_000;
while ((await marked()) < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
await new Promise((r) => setTimeout(r, 2000));
const w0 = writes;
const l0 = logLines;
const cpu0 = process.cpuUsage();
const t0 = Date.now();
await new Promise((r) => setTimeout(r, WINDOW_MS));
const cpu = process.cpuUsage(cpu0);
const secs = (Date.now() - t0) / 1000;
console.log(JSON.stringify({
  dist: distArg, pods: N, windowSeconds: secs,
  storeWritesPerSecond: +((writes - w0) / secs).toFixed(1),
  cpuPercent: +(((cpu.user + cpu.system) / 1e6 / secs) * 100).toFixed(1),
  logLinesPerSecond: +((logLines - l0) / secs).toFixed(1),
}));
await scheduler.stop();
await server.close();
process.exit(0);
