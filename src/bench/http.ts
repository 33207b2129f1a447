/**
 * HTTP from the host to the cluster's own addresses (pod IPs, ClusterIPs on the project's bridge
 * networks, 127.0.0.1 relays; never any other address): waiting until nginx answers (there is no
 * event for "a process started listening", so this polls with a short pause), and a bounded
 * request loop measuring requests/s and latency.
 */
import http from 'node:http';
import { nowMs, sleep } from './clock.js';

/** One GET; resolves with the status code, rejects on connection errors or after `timeoutMs`. */
function getOnce(ip: string, port: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: ip, port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${ip}:${port} in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/**
 * Resolves with the time (epoch ms, see `nowMs`) of the first HTTP answer (any status below
 * 500) from `ip:port`, trying every `intervalMs`; rejects once `deadlineMs` (epoch) has passed.
 */
export async function waitForHttp(ip: string, port: number, deadlineMs: number, intervalMs = 5): Promise<number> {
  let last = '';
  while (nowMs() < deadlineMs) {
    try {
      const code = await getOnce(ip, port, 1000);
      if (code > 0 && code < 500) return nowMs();
      last = `HTTP ${code}`;
    } catch (e) {
      last = (e as Error).message; // not listening yet (refused / unreachable): try again
    }
    await sleep(intervalMs);
  }
  throw new Error(`${ip}:${port} did not answer HTTP before the deadline (last: ${last})`);
}

/** What {@link httpLoad} measured: successful requests/s, their latencies (ms), failures. */
export interface HttpLoad { rate: number; latencies: number[]; errors: number }

/**
 * `concurrency` loops of GET http://ip:port/ (a new connection each, optional Host header) for
 * `ms`; a 200 counts as success, anything else (or a 2 s timeout) as an error. Bounded in time.
 */
export async function httpLoad(ip: string, port: number, ms: number, concurrency: number, host?: string): Promise<HttpLoad> {
  const end = nowMs() + ms;
  const latencies: number[] = [];
  let errors = 0;
  const one = () => new Promise<void>((resolve) => {
    const t0 = nowMs();
    const req = http.get({ host: ip, port, path: '/', ...(host ? { headers: { host } } : {}), agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) latencies.push(nowMs() - t0);
        else errors++;
        resolve();
      });
      res.on('error', () => { errors++; resolve(); });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => { errors++; resolve(); });
  });
  const t0 = nowMs();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (nowMs() < end) await one();
  }));
  return { rate: latencies.length / ((nowMs() - t0) / 1000), latencies, errors };
}
