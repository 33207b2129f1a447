/**
 * `node dist/dns/probe.js SERVER NAME COUNT [udp|tcp]`: asks SERVER:53 for NAME (A) COUNT times,
 * one after another, and prints the latencies (ms) as a JSON array; a failed query prints
 * `null` in its place. Run inside a pod's network namespace (`nsenter --net=…`), it measures
 * DNS lookup latency as a pod sees it: pod → kube-dns ClusterIP → proxy DNAT → DNS process.
 */
import { queryDns, rcodeOf } from './client.js';

export async function probe(server: string, name: string, count: number, transport: 'udp' | 'tcp' = 'udp'): Promise<(number | null)[]> {
  const out: (number | null)[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    try {
      const r = await queryDns(server, 53, name, { transport, timeoutMs: 2000 });
      out.push(rcodeOf(r) === 0 && (r.answers ?? []).length > 0 ? performance.now() - t0 : null);
    } catch {
      out.push(null);
    }
  }
  return out;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const [server, name, count, transport] = process.argv.slice(2);
  if (!server || !name) {
    process.stderr.write('usage: probe.js SERVER NAME [COUNT] [udp|tcp]\n');
    process.exit(2);
  }
  probe(server, name, Number(count ?? '100'), transport === 'tcp' ? 'tcp' : 'udp')
    .then((ms) => process.stdout.write(JSON.stringify(ms) + '\n'))
    .catch((e: unknown) => {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exit(1);
    });
}
