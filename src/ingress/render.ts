/**
 * The nginx configuration of the ingress controller, rendered from Ingresses, Services,
 * EndpointSlices and TLS Secrets (ingress-nginx's template in miniature). Pure: objects in, the
 * text of `nginx.conf` plus the certificate files it names out; the controller writes them and
 * reloads nginx.
 *
 * Kubernetes' matching rules become nginx's, which then does the matching:
 * - a host rule is a `server` with `server_name host` (exact names win over everything in
 *   nginx); a wildcard `*.foo.com` matches exactly one label, so it is the regex
 *   `~^[^.]+\.foo\.com$` (nginx's own `*.foo.com` would match any depth); rules without a host
 *   go to the default server, which also answers every host no rule names;
 * - `Exact /p` is `location = /p`; `Prefix /p` matches `/p` and `/p/…` element-wise, so it is
 *   `location = /p` plus `location ^~ /p/` (`Prefix /` is `location ^~ /`); nginx picks an exact
 *   location first, then the longest prefix, which is Kubernetes' order (Exact over Prefix,
 *   longest prefix first). `ImplementationSpecific /p` is a plain string prefix, `^~ /p`, as
 *   ingress-nginx treats it;
 * - two paths that render to the same location: Exact beats Prefix, then the older Ingress
 *   (creationTimestamp, then namespace/name) wins, as in ingress-nginx; the loser is reported;
 * - a request no location takes gets the Ingress's `defaultBackend` (of the oldest Ingress
 *   naming the host, or, on the default server, the oldest Ingress with one), else the
 *   default backend: 404 `default backend - 404`.
 * Backends are the ready endpoints (pod IP:port) of the Service port an Ingress names, from its
 * EndpointSlices, as ingress-nginx routes; none (or no such Service/port) answers 503.
 * ingress-nginx's own annotations (`nginx.ingress.kubernetes.io/*`) are not implemented: each is
 * reported (a Warning event on the Ingress), never silently dropped.
 */
import { createHash } from 'node:crypto';
import type { EndpointSlice, Service } from '../api/types.js';
import type { HTTPIngressPath, Ingress, IngressBackend } from '../api/ingressvalidation.js';

/** A `kubernetes.io/tls` Secret's PEM certificate and key, already decoded. */
export interface TLSPair { cert: string; key: string }

export interface RenderInput {
  /** The Ingresses this controller serves (its class), any order. */
  ingresses: readonly Ingress[];
  services: readonly Service[];
  slices: readonly EndpointSlice[];
  /** Usable TLS pairs by `namespace/name` of their Secret. */
  tls: ReadonlyMap<string, TLSPair>;
  /** Where the certificate files are inside the nginx container (e.g. `/etc/ingress-nginx`). */
  confDir: string;
  /** Port nginx answers health checks on (`/healthz`). */
  healthPort: number;
}

export interface Rendered {
  /** The whole nginx.conf. */
  config: string;
  /** Files to write beside it (name → content), the certificates. */
  files: Record<string, string>;
  /** Problems worth an event on an Ingress (`namespace/name` → messages). */
  problems: Map<string, string[]>;
  /** The servers, for tests and `describe`-like checks: host ('' = default server) → locations. */
  servers: Map<string, RenderedLocation[]>;
  /** sha256 of everything above, to know whether a reload is due. */
  hash: string;
}

/** One nginx location: its match (`= /p`, `^~ /p/`) and where it sends requests. */
export interface RenderedLocation {
  match: string;
  /** `ns/svc:port` for a backend, `default-backend` for the 404, `503` when there is no endpoint. */
  target: string;
  /** The upstream servers (pod ip:port), empty for the 404/503 targets. */
  endpoints: string[];
  /** Which Ingress path made it (`ns/name`), '' for the generated fallback. */
  from: string;
}

const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const DEFAULT_BACKEND_BODY = 'default backend - 404';

/** Oldest first, then namespace/name: the order in which Ingresses win conflicts. */
function byAge(a: Ingress, b: Ingress): number {
  const ta = Date.parse(a.metadata?.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata?.creationTimestamp ?? '') || 0;
  return ta - tb || keyOf(a).localeCompare(keyOf(b));
}
const keyOf = (o: { metadata?: { namespace?: string; name?: string } }): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** The nginx location matches of one Ingress path, most specific first. */
export function locationMatches(p: Pick<HTTPIngressPath, 'path' | 'pathType'>): string[] {
  const path = p.path || '/';
  if (p.pathType === 'Exact') return [`= ${path}`];
  if (p.pathType === 'Prefix') {
    const trimmed = path.replace(/\/+$/, '');
    return trimmed === '' ? ['^~ /'] : [`= ${trimmed}`, `^~ ${trimmed}/`];
  }
  return [`^~ ${path}`];
}

/** nginx's `server_name` for a rule host. */
export function serverName(host: string): string {
  if (!host.startsWith('*.')) return host;
  return `~^[^.]+${host.slice(1).replace(/\./g, '\\.')}$`;
}

/** The ready endpoints (`ip:port`) behind one Service port an Ingress backend names, or why there are none. */
export function resolveBackend(ns: string, b: IngressBackend | undefined, services: readonly Service[], slices: readonly EndpointSlice[]): { target: string; endpoints: string[]; problem?: string } {
  const s = b?.service;
  if (!s) return { target: '503', endpoints: [], problem: 'backend has no service' };
  const port = s.port?.name || String(s.port?.number ?? '');
  const target = `${ns}/${s.name}:${port}`;
  const svc = services.find((x) => x.metadata?.namespace === ns && x.metadata?.name === s.name);
  if (!svc) return { target, endpoints: [], problem: `service "${ns}/${s.name}" not found` };
  if (svc.spec?.type === 'ExternalName') return { target, endpoints: [], problem: `service "${ns}/${s.name}" is of type ExternalName, which minikube-lite's ingress does not route to` };
  const sp = (svc.spec?.ports ?? []).find((p) => (s.port?.name ? p.name === s.port.name : p.port === s.port?.number));
  if (!sp) return { target, endpoints: [], problem: `service "${ns}/${s.name}" does not have port ${port}` };
  const eps = new Set<string>();
  for (const slice of slices) {
    if (slice.metadata?.namespace !== ns || slice.metadata?.labels?.[LABEL_SERVICE_NAME] !== s.name || slice.addressType !== 'IPv4') continue;
    const ep = (slice.ports ?? []).find((p) => (p.name ?? '') === (sp.name ?? ''));
    if (!ep?.port) continue;
    for (const e of slice.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      if (e.addresses[0]) eps.add(`${e.addresses[0]}:${ep.port}`);
    }
  }
  const endpoints = [...eps].sort();
  return { target, endpoints, ...(endpoints.length ? {} : { problem: `service "${ns}/${s.name}" has no ready endpoints for port ${port}` }) };
}

interface Candidate { match: string; exact: boolean; order: number; ing: Ingress; backend: IngressBackend }

/** Renders the configuration; see the module comment for the rules. */
export function renderNginx(input: RenderInput): Rendered {
  const ingresses = [...input.ingresses].sort(byAge);
  const problems = new Map<string, string[]>();
  const problem = (ing: Ingress, msg: string): void => {
    const k = keyOf(ing);
    const list = problems.get(k) ?? [];
    if (!list.includes(msg)) list.push(msg);
    problems.set(k, list);
  };
  // host → candidates, and host → fallback backend (the oldest Ingress's defaultBackend).
  const candidates = new Map<string, Candidate[]>([['', []]]);
  const fallback = new Map<string, { ing: Ingress; backend: IngressBackend }>();
  const hostTLS = new Map<string, string>();
  let order = 0;
  for (const ing of ingresses) {
    const ns = ing.metadata?.namespace ?? 'default';
    const spec = ing.spec ?? {};
    for (const a of Object.keys(ing.metadata?.annotations ?? {}).sort()) {
      if (a.startsWith('nginx.ingress.kubernetes.io/')) problem(ing, `annotation ${a} is not supported by minikube-lite's ingress controller; ignored`);
    }
    for (const t of spec.tls ?? []) {
      const pair = t.secretName ? input.tls.get(`${ns}/${t.secretName}`) : undefined;
      if (t.secretName && !pair) problem(ing, `TLS secret "${ns}/${t.secretName}" is missing or not a valid kubernetes.io/tls secret; its hosts get the default certificate`);
      if (!pair) continue;
      for (const h of t.hosts ?? []) if (!hostTLS.has(h)) hostTLS.set(h, `${ns}/${t.secretName}`);
    }
    if (spec.defaultBackend && !fallback.has('')) fallback.set('', { ing, backend: spec.defaultBackend });
    for (const rule of spec.rules ?? []) {
      const host = rule.host ?? '';
      if (!candidates.has(host)) candidates.set(host, []);
      if (host && spec.defaultBackend && !fallback.has(host)) fallback.set(host, { ing, backend: spec.defaultBackend });
      for (const p of rule.http?.paths ?? []) {
        if (/[\s"\\]|[\u0000-\u001f\u007f]/.test(p.path ?? '')) {
          problem(ing, `path ${JSON.stringify(p.path)} contains whitespace, quotes, backslashes or control characters, which minikube-lite's nginx configuration does not carry; skipped`);
          continue;
        }
        for (const match of locationMatches(p)) {
          candidates.get(host)?.push({ match, exact: p.pathType === 'Exact', order: order++, ing, backend: p.backend });
        }
      }
    }
  }

  const upstreams = new Map<string, string[]>();
  const servers = new Map<string, RenderedLocation[]>();
  const locate = (ing: Ingress | undefined, backend: IngressBackend | undefined, match: string): RenderedLocation => {
    if (!ing || !backend) return { match, target: 'default-backend', endpoints: [], from: '' };
    const r = resolveBackend(ing.metadata?.namespace ?? 'default', backend, input.services, input.slices);
    if (r.problem) problem(ing, r.problem);
    if (r.endpoints.length) upstreams.set(r.target, r.endpoints);
    return { match, target: r.endpoints.length ? r.target : '503', endpoints: r.endpoints, from: keyOf(ing) };
  };
  for (const [host, list] of candidates) {
    // Exact beats Prefix on the same location, then the older Ingress (earlier order).
    const sorted = [...list].sort((a, b) => Number(b.exact) - Number(a.exact) || a.order - b.order);
    const chosen = new Map<string, Candidate>();
    for (const c of sorted) {
      const winner = chosen.get(c.match);
      if (!winner) chosen.set(c.match, c);
      else if (winner.ing !== c.ing || winner.backend !== c.backend) {
        problem(c.ing, `path "${c.match.replace(/^\S+ /, '')}" of host "${host || '*'}" is already served by ${keyOf(winner.ing)}`);
      }
    }
    const locations = [...chosen.values()].map((c) => locate(c.ing, c.backend, c.match));
    if (!chosen.has('^~ /')) {
      const fb = fallback.get(host);
      locations.push(locate(fb?.ing, fb?.backend, '^~ /'));
    }
    locations.sort((a, b) => a.match.localeCompare(b.match));
    servers.set(host, locations);
  }

  const files: Record<string, string> = {};
  const certFile = (secret: string): string => {
    const name = `tls-${secret.replace('/', '_')}.pem`;
    const pair = input.tls.get(secret);
    if (pair) files[name] = `${pair.cert.trim()}\n${pair.key.trim()}\n`;
    return `${input.confDir}/${name}`;
  };
  const upstreamName = (target: string): string => `up_${target.replace(/[^A-Za-z0-9]/g, '_')}`;
  const lines: string[] = [
    '# Rendered by the minikube-lite ingress controller; rewritten on every change.',
    'worker_processes 2;',
    'pid /tmp/nginx.pid;',
    'error_log stderr notice;',
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    '  server_tokens off;',
    '  default_type text/plain;',
    '  server_names_hash_bucket_size 128;',
    '  client_max_body_size 1m;',
    '  proxy_http_version 1.1;',
    '  proxy_set_header Host $host;',
    '  proxy_set_header Connection "";',
    '  proxy_set_header X-Real-IP $remote_addr;',
    '  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '  proxy_set_header X-Forwarded-Proto $scheme;',
    '  proxy_set_header X-Forwarded-Host $host;',
    '  proxy_next_upstream error timeout;',
    '  proxy_connect_timeout 5s;',
    '  ssl_protocols TLSv1.2 TLSv1.3;',
  ];
  for (const [target, eps] of [...upstreams].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  upstream ${upstreamName(target)} {  # ${target}`);
    for (const ep of eps) lines.push(`    server ${ep} max_fails=0;`);
    lines.push('    keepalive 16;', '  }');
  }
  const hosts = [...servers.keys()].sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b)));
  for (const host of hosts) {
    const isDefault = host === '';
    const secret = hostTLS.get(host);
    lines.push('  server {');
    lines.push(`    listen 80${isDefault ? ' default_server' : ''};`);
    lines.push(`    listen 443 ssl${isDefault ? ' default_server' : ''};`);
    lines.push(`    server_name ${isDefault ? '_' : serverName(host)};`);
    const cert = secret ? certFile(secret) : `${input.confDir}/default-fake-certificate.pem`;
    lines.push(`    ssl_certificate ${cert};`, `    ssl_certificate_key ${cert};`);
    for (const loc of servers.get(host) ?? []) {
      const [op, where] = loc.match.split(' ');
      lines.push(`    location ${op} "${where}" {${loc.from ? `  # ${loc.from}` : ''}`);
      if (loc.target === 'default-backend') lines.push(`      return 404 "${DEFAULT_BACKEND_BODY}\\n";`);
      else if (loc.target === '503') lines.push('      return 503 "503 Service Temporarily Unavailable\\n";');
      else lines.push(`      proxy_pass http://${upstreamName(loc.target)};`);
      lines.push('    }');
    }
    lines.push('  }');
  }
  lines.push('  server {', `    listen ${input.healthPort};`, '    location = /healthz { return 200 "ok\\n"; }', '    location / { return 404; }', '  }');
  lines.push('}', '');
  const config = lines.join('\n');
  const hash = createHash('sha256').update(config).update(JSON.stringify(files)).digest('hex');
  return { config, files, problems, servers, hash };
}

/**
 * Which location nginx would pick for `host` and `path` in `servers` (exact `=` match first,
 * then the longest `^~` prefix; exact server names before the one-label wildcard regexes, the
 * default server last). Used by tests to check the rendered table against Kubernetes' rules.
 */
export function pickLocation(servers: ReadonlyMap<string, RenderedLocation[]>, host: string, path: string): RenderedLocation | undefined {
  let name = servers.has(host) && !host.startsWith('*.') ? host : undefined;
  if (name === undefined) {
    name = [...servers.keys()].filter((h) => h.startsWith('*.')).find((h) => new RegExp(serverName(h).slice(1)).test(host)) ?? '';
  }
  const locs = servers.get(name) ?? [];
  const exact = locs.find((l) => l.match === `= ${path}`);
  if (exact) return exact;
  return locs.filter((l) => l.match.startsWith('^~ ') && path.startsWith(l.match.slice(3)))
    .sort((a, b) => b.match.length - a.match.length)[0];
}
