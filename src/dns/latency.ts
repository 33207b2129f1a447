/**
 * DNS lookup latency from a pod, for `npm run bench -- services`: runs probe.js inside the pod's
 * network namespace (`nsenter --net=/proc/<pid>/ns/net`, the pid of any process of the pod,
 * e.g. its sandbox's) so queries take the path a pod's do: pod IP → kube-dns ClusterIP → the
 * proxy's DNAT → the DNS process. Returns the successful lookups' latencies (ms) and the
 * number that failed. Needs root (nsenter) and the built dist/.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The compiled probe: beside this module in dist/, or dist/dns/probe.js when this runs from the sources (tests). */
export const PROBE_SCRIPT = [new URL('./probe.js', import.meta.url), new URL('../../dist/dns/probe.js', import.meta.url)]
  .map((u) => fileURLToPath(u)).find((p) => existsSync(p)) ?? fileURLToPath(new URL('./probe.js', import.meta.url));

export function dnsLookupLatency(o: { podPid: number; server: string; name: string; count: number; transport?: 'udp' | 'tcp' }): Promise<{ samples: number[]; failed: number }> {
  const args = [`--net=/proc/${o.podPid}/ns/net`, process.execPath, PROBE_SCRIPT, o.server, o.name, String(o.count), o.transport ?? 'udp'];
  return new Promise((resolve, reject) => {
    execFile('nsenter', args, { timeout: 60_000 + o.count * 2500 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`nsenter ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
        return;
      }
      const all = JSON.parse(String(stdout)) as (number | null)[];
      resolve({ samples: all.filter((x): x is number => x !== null), failed: all.filter((x) => x === null).length });
    });
  });
}
