/**
 * `service NAME [--url] [-n NS]` (minikube's command): the URLs on this host that reach a
 * Service. NodePort Services answer on the listen address at each nodePort, LoadBalancer
 * Services at `status.loadBalancer.ingress[0].ip` and their port, and every other Service with
 * a ClusterIP on the loopback relay the service proxy publishes in the `minikube-lite.io/loopback`
 * annotation. Waits (by watch) for what is not there yet, e.g. right after `expose`.
 */
import { Command } from 'commander';
import type { Service } from '../../api/types.js';
import { SERVICES } from '../../client/client.js';
import { LOOPBACK_ANNOTATION } from '../../proxy/plan.js';
import { CliError, readClusterConfig, type GlobalOptions } from '../context.js';
import { parseDuration, type CommandDeps } from './shared.js';
import { watchUntil, WaitTimeout } from './wait.js';

export interface ServiceURL {
  port: number;
  portName: string;
  targetPort: string;
  url: string;
}

/**
 * The URLs of a Service, one per TCP port, or undefined while one is not known yet (no
 * nodePort allocated, no load balancer ingress, no loopback relay published). Throws for
 * Services that have no address on this host (headless, ExternalName).
 */
export function serviceURLs(svc: Service, listenAddress = '127.0.0.1'): ServiceURL[] | undefined {
  const spec = svc.spec ?? {};
  const id = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
  if (spec.type === 'ExternalName') throw new CliError(`service ${id} is of type ExternalName (${spec.externalName ?? ''}): it has no address on this host`);
  if (spec.clusterIP === 'None') throw new CliError(`service ${id} is headless (clusterIP: None): reach its pods by their IPs or by DNS from a pod`);
  const host = listenAddress === '0.0.0.0' ? '127.0.0.1' : listenAddress;
  let loopback: Record<string, string> = {};
  try {
    loopback = JSON.parse(svc.metadata?.annotations?.[LOOPBACK_ANNOTATION] ?? '{}') as Record<string, string>;
  } catch {
    loopback = {};
  }
  const urls: ServiceURL[] = [];
  for (const p of spec.ports ?? []) {
    if ((p.protocol ?? 'TCP') !== 'TCP') continue;
    let addr: string | undefined;
    if (spec.type === 'LoadBalancer') {
      const ip = svc.status?.loadBalancer?.ingress?.[0]?.ip;
      addr = ip ? `${ip}:${p.port}` : undefined;
    } else if (spec.type === 'NodePort') {
      addr = p.nodePort ? `${host}:${p.nodePort}` : undefined;
    } else {
      addr = loopback[`${p.port}/TCP`];
    }
    if (!addr) return undefined;
    // As kubectl's port-forward users expect: an `https` port (by name, or 443) gets an https URL.
    const scheme = p.name === 'https' || p.port === 443 ? 'https' : 'http';
    urls.push({ port: p.port, portName: p.name ?? '', targetPort: String(p.targetPort ?? p.port), url: `${scheme}://${addr}` });
  }
  if (!urls.length) throw new CliError(`service ${id} has no TCP port to open`);
  return urls;
}

/** minikube's table: NAMESPACE, NAME, TARGET PORT, URL. */
function table(ns: string, name: string, urls: ServiceURL[]): string {
  const rows = [['NAMESPACE', 'NAME', 'TARGET PORT', 'URL'], ...urls.map((u, i) => [i === 0 ? ns : '', i === 0 ? name : '', u.portName ? `${u.portName}/${u.port}` : String(u.port), u.url])];
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = '|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|';
  const fmt = (r: string[]) => '|' + r.map((cell, c) => ` ${cell.padEnd(w[c])} `).join('|') + '|';
  return [line, fmt(rows[0]), line, ...rows.slice(1).map(fmt), line].join('\n');
}

export async function runService(deps: CommandDeps, g: GlobalOptions, name: string, f: { url?: boolean; wait: string }): Promise<void> {
  const client = deps.client(g);
  const listen = readClusterConfig(g.home, g.name)?.listenAddress;
  const ref = { ...SERVICES, namespace: g.namespace };
  const svc = await client.get<Service>(ref, name);
  let urls = serviceURLs(svc, listen);
  if (!urls) {
    try {
      urls = await watchUntil<Service, ServiceURL[]>(client, ref, name, { resourceVersion: svc.metadata?.resourceVersion, timeoutMs: parseDuration(f.wait, '--wait') }, (e) => {
        if (e.type === 'DELETED') throw new CliError(`service ${g.namespace}/${name} was deleted`);
        return serviceURLs(e.object, listen);
      });
    } catch (e) {
      if (e instanceof WaitTimeout) throw new CliError(`service ${g.namespace}/${name} has no URL yet after ${f.wait}: is the cluster's service proxy running? (minikube-lite status)`);
      throw e;
    }
  }
  if (f.url) deps.io.out(urls.map((u) => u.url).join('\n') + '\n');
  else deps.io.out(table(g.namespace, name, urls) + '\n');
}

export function serviceCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  return new Command('service')
    .summary('Print the URLs that reach a Service from this host')
    .description('Print the URLs that reach a Service from this host: NodePort and LoadBalancer ports on 127.0.0.1 (or up --listen-address), and for other Services a loopback port the service proxy relays to the ClusterIP.')
    .argument('<name>', 'the Service')
    .option('--url', 'print only the URLs, one per port')
    .option('--wait <duration>', 'how long to wait for the Service to get an address on this host', '30s')
    .addHelpText('after', '\nExamples:\n  minikube-lite expose deployment myapp --port 80\n  minikube-lite service myapp --url\n  curl "$(minikube-lite service myapp --url)"')
    .action(async (name: string, f: { url?: boolean; wait: string }) => runService(deps, globals(), name, f));
}
