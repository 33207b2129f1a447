/**
 * Waiting until nginx answers: HTTP GETs from the host to a pod IP on one of the project's own
 * bridge networks (never any other address). There is no event for "a process started
 * listening", so this is the one place that polls, with a short pause between attempts.
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
