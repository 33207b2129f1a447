/**
 * `create ingress NAME --rule=host/path=service:port[,tls[=secret]]`: builds the Ingress the
 * way kubectl's `create ingress` does (same rule syntax: a path ending in `*` is a Prefix path,
 * any other an Exact one; rules of one host share one IngressRule; `,tls=secret` adds a TLS
 * entry for the host), then creates it or prints it with `--dry-run=client -o yaml`.
 */
import { Command } from 'commander';
import type { HTTPIngressPath, Ingress, IngressBackend, IngressRule, IngressTLS } from '../../api/ingressvalidation.js';
import { INGRESSES } from '../../client/client.js';
import { CliError, type GlobalOptions } from '../context.js';
import { collect, type CommandDeps } from './shared.js';
import { finish, withOutput, type OutputFlags } from './create.js';
export { INGRESSES } from '../../client/client.js';


const RULE = /^(?<host>[\w*\-.]*)(?<path>\/.*)=(?<svc>[\w-]+):(?<port>[\w-]+)(,(?<tls>tls)=?(?<secret>[\w-]+)?)?$/;

/** `svc:port` → a service backend (a numeric port is a number, anything else a port name). */
export function parseBackend(s: string): IngressBackend {
  const i = s.indexOf(':');
  if (i <= 0 || i === s.length - 1) throw new CliError(`backend ${s} is invalid and should be in format svcname:svcport`);
  const name = s.slice(0, i);
  const port = s.slice(i + 1);
  return { service: { name, port: /^\d+$/.test(port) ? { number: Number(port) } : { name: port } } };
}

export interface IngressFlags {
  rule: string[];
  class?: string;
  defaultBackend?: string;
  annotation: string[];
}

/** The Ingress `kubectl create ingress NAME` would send. */
export function buildIngress(name: string, namespace: string, f: IngressFlags): Ingress {
  if (f.rule.length === 0 && !f.defaultBackend) throw new CliError('not enough information provided: every ingress has to either specify a default-backend (which catches all traffic) or a list of rules (which catch specific paths)');
  const rules: IngressRule[] = [];
  const tls: IngressTLS[] = [];
  for (const r of f.rule) {
    const m = RULE.exec(r);
    if (!m?.groups) throw new CliError(`rule ${r} is invalid and should be in format host/path=svcname:svcport[,tls[=secret]]`);
    const { host, svc, port, secret } = m.groups;
    let path = m.groups.path;
    let pathType: HTTPIngressPath['pathType'] = 'Exact';
    if (path.endsWith('*')) {
      pathType = 'Prefix';
      path = path.slice(0, -1);
    }
    const entry: HTTPIngressPath = { path, pathType, backend: parseBackend(`${svc}:${port}`) };
    const same = rules.find((x) => (x.host ?? '') === host);
    if (same) same.http?.paths.push(entry);
    else rules.push({ ...(host ? { host } : {}), http: { paths: [entry] } });
    if (m.groups.tls) tls.push({ ...(host ? { hosts: [host] } : {}), ...(secret ? { secretName: secret } : {}) });
  }
  const annotations: Record<string, string> = {};
  for (const a of f.annotation) {
    const i = a.indexOf('=');
    if (i <= 0) throw new CliError(`annotation ${a} is invalid and should be in format key=[value]`);
    annotations[a.slice(0, i)] = a.slice(i + 1);
  }
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
    metadata: { name, namespace, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: {
      ...(f.class ? { ingressClassName: f.class } : {}),
      ...(f.defaultBackend ? { defaultBackend: parseBackend(f.defaultBackend) } : {}),
      ...(rules.length ? { rules } : {}),
      ...(tls.length ? { tls } : {}),
    },
  };
}

export function createIngressCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  return withOutput(new Command('ingress').alias('ing')
    .summary('Create an ingress with the specified name')
    .description('Create an ingress: each --rule is host/path=service:port[,tls[=secret]]; a path ending in * is a Prefix path, any other an Exact one.')
    .usage('NAME --rule=host/path=service:port[,tls[=secret]] [--class=name] [--default-backend=svc:port] [--annotation=k=v]')
    .argument('<name>')
    .option('--rule <rule>', 'Rule in format host/path=service:port[,tls=secretname]. Paths containing the leading character \'*\' are considered pathType=Prefix. tls argument is optional.', collect, [])
    .option('--class <name>', 'Ingress Class to be used')
    .option('--default-backend <svc:port>', 'Default service for backend, in format of svcname:port')
    .option('--annotation <key=value>', 'Annotation to insert in the ingress object, in the format annotation=value', collect, []))
    .addHelpText('after', [
      '', 'Examples:',
      '  minikube-lite create ingress shop --class=nginx --rule="shop.local/=web:80" --rule="shop.local/api*=api:80"',
      '  minikube-lite create ingress secure --rule="shop.local/*=web:80,tls=shop-tls"',
    ].join('\n'))
    .action(async (name: string, o: IngressFlags & OutputFlags) => {
      const g = globals();
      await finish(deps, g, buildIngress(name, g.namespace, o), 'ingress.networking.k8s.io', o, INGRESSES);
    });
}
