import { it } from 'vitest';
import http from 'node:http';
import { startApiServer } from '../../src/apiserver/server.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { call, NAMESPACES_DEF, PODS_DEF, TOKEN } from './apiserver.fixtures.js';

const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'app', image: 'busybox' }] } });
it('probe', async () => {
  for (const watchers of [0]) {
    const s = await startApiServer({ store: new SqliteStore(':memory:'), resources: [PODS_DEF, NAMESPACES_DEF], port: 0, token: TOKEN });
    const reqs: http.ClientRequest[] = [];
    let got = 0;
    for (let i = 0; i < watchers; i++) {
      const req = http.get(`${s.url}/api/v1/namespaces/default/pods?watch=true`, { headers: { Authorization: `Bearer ${TOKEN}` } }, (res) => res.on('data', (c: Buffer) => { for (const b of c) if (b === 10) got++; }));
      reqs.push(req);
    }
    await new Promise((r) => setTimeout(r, 200));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const n = 2000; let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < n) {
        const body = JSON.stringify(pod(`p-${next++}`));
        await new Promise<void>((resolve, reject) => {
          const req = http.request(`${s.url}/api/v1/namespaces/default/pods`, { method: 'POST', agent, headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' } }, (res) => { res.resume(); res.on('end', () => resolve()); });
          req.on('error', reject); req.end(body);
        });
      }
    }));
    const secs = (performance.now() - t0) / 1000;
    while (got < n * watchers) await new Promise((r) => setTimeout(r, 10));
    const total = (performance.now() - t0) / 1000;
    console.log(`watchers=${watchers}: ${Math.round(n / secs)} creates/s (node:http client), events ${got} in ${total.toFixed(2)}s`);
    reqs.forEach((r) => r.destroy()); agent.destroy();
    await s.close();
  }
  // fetch client for comparison
  const s = await startApiServer({ store: new SqliteStore(':memory:'), resources: [PODS_DEF, NAMESPACES_DEF], port: 0, token: TOKEN });
  const t0 = performance.now(); let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => { while (next < 2000) await call(s.url, 'POST', '/api/v1/namespaces/default/pods', { body: pod(`q-${next++}`) }); }));
  console.log(`fetch client: ${Math.round(2000 / ((performance.now() - t0) / 1000))} creates/s`);
  await s.close();
}, 60000);
