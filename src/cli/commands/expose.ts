/**
 * `expose (TYPE NAME | TYPE/NAME) [--port=port] [--target-port=number-or-name] [--name=name]
 * [--type=type] [--protocol=TCP|UDP|SCTP] [--selector=...]`: creates a Service for a
 * deployment, replica set, replication controller, pod or service, as `kubectl expose` does —
 * the selector and (without `--port`) the ports come from the object, the Service takes the
 * object's labels and, without `--name`, its name.
 */
import { Command } from 'commander';
import type { KubeObject, LabelSelector, PodSpec, Service, ServicePort } from '../../api/types.js';
import { parseSelector } from '../../api/labels.js';
import { SERVICES } from '../../client/client.js';
import { CliError, type GlobalOptions } from '../context.js';
import { toJson, toYaml } from '../print.js';
import { refFor, resolveType, splitTypeName, type CommandDeps } from './shared.js';

export interface ExposeFlags {
  port?: string;
  targetPort?: string;
  /** `--name` after `expose` (see {@link exposeArgv}). */
  serviceName?: string;
  type?: string;
  protocol?: string;
  selector?: string;
  labels?: string;
  clusterIp?: string;
  externalIp?: string;
  sessionAffinity?: string;
  /** `none` (default), `client` (print what would be created, create nothing). */
  dryRun?: string;
  /** `yaml`, `json` or `name`; default: `service/NAME exposed`. */
  output?: string;
}

const OUTPUTS = ['yaml', 'json', 'name'];

/** Global options that take a value (to find where the subcommand starts in argv). */
const GLOBAL_VALUED = new Set(['--name', '--home', '-n', '--namespace']);

/** Subcommands whose own `--name` (kubectl's) names what they create, and what it is renamed to. */
const OWN_NAME_FLAG: Record<string, string> = { expose: '--service-name', autoscale: '--hpa-name' };

/**
 * `expose --name NAME` names the Service and `autoscale --name NAME` the HPA, as in kubectl,
 * but `--name` is also the global cluster option, which commander recognises anywhere. So
 * after those subcommands, `--name` is renamed (`--service-name`, `--hpa-name`) before
 * parsing; before them, it stays the cluster's.
 */
export function exposeArgv(argv: readonly string[]): string[] {
  const out = [...argv];
  let i = 2;
  while (i < out.length && out[i].startsWith('-')) i += GLOBAL_VALUED.has(out[i]) ? 2 : 1;
  const renamed = OWN_NAME_FLAG[out[i] ?? ''];
  if (!renamed) return out;
  for (let j = i + 1; j < out.length && out[j] !== '--'; j++) {
    if (out[j] === '--name') out[j] = renamed;
    else if (out[j].startsWith('--name=')) out[j] = `${renamed}=${out[j].slice('--name='.length)}`;
  }
  return out;
}

/** Kinds `kubectl expose` accepts. */
const EXPOSABLE = new Set(['Pod', 'Service', 'ReplicationController', 'Deployment', 'ReplicaSet']);

interface Exposable extends KubeObject {
  spec?: {
    selector?: LabelSelector | Record<string, string>;
    template?: { spec?: PodSpec };
    ports?: ServicePort[];
  } & Partial<PodSpec>;
}

/** `k=v,k2=v2` into a map; a CliError naming the flag for anything but plain equalities. */
function parseMap(s: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = /^([^=!]+)==?([^=]*)$/.exec(part);
    if (!m) throw new CliError(`couldn't retrieve ${what}: "${part}" is not a key=value pair`);
    out[m[1].trim()] = m[2].trim();
  }
  return out;
}

/** The object's selector as a map (`MapBasedSelectorForObject`). */
function selectorOf(obj: Exposable): Record<string, string> {
  const kind = obj.kind ?? '';
  const spec = obj.spec ?? {};
  switch (kind) {
    case 'Pod':
      if (!Object.keys(obj.metadata?.labels ?? {}).length) throw new CliError("couldn't retrieve selectors via --selector flag or introspection: the pod has no labels and cannot be exposed");
      return { ...(obj.metadata?.labels ?? {}) };
    case 'Service':
    case 'ReplicationController': {
      const sel = spec.selector as Record<string, string> | undefined;
      if (!sel || !Object.keys(sel).length) throw new CliError(`couldn't retrieve selectors via --selector flag or introspection: the ${kind === 'Service' ? 'service' : 'replication controller'} has no pod selector set`);
      return { ...sel };
    }
    default: {
      const ls = spec.selector as LabelSelector | undefined;
      if (ls?.matchExpressions?.length) {
        throw new CliError(`couldn't retrieve selectors via --selector flag or introspection: couldn't convert expressions - "${JSON.stringify(ls.matchExpressions)}" to map-based selector format`);
      }
      return { ...(ls?.matchLabels ?? {}) };
    }
  }
}

/** The object's ports with their protocols (`PortsForObject`, `ProtocolsForObject`). */
function portsOf(obj: Exposable): { port: number; protocol: string }[] {
  const spec = obj.spec ?? {};
  if (obj.kind === 'Service') return (spec.ports ?? []).map((p) => ({ port: p.port, protocol: p.protocol ?? 'TCP' }));
  const podSpec = obj.kind === 'Pod' ? (spec as PodSpec) : spec.template?.spec;
  return (podSpec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => ({ port: p.containerPort, protocol: p.protocol ?? 'TCP' })));
}

/**
 * The Service `expose` creates for `obj` (a pure function of the object and the flags, so it can
 * be tested alone): one port per `--port` or introspected container port, named `port-N` when
 * there are several; targetPort `--target-port` (a number or a name) or the port itself.
 */
export function serviceForExpose(obj: Exposable, f: ExposeFlags, namespace: string): Service {
  const kind = obj.kind ?? '';
  if (!EXPOSABLE.has(kind)) throw new CliError(`cannot expose a ${kind}`);
  const selector = f.selector !== undefined ? parseMap(f.selector, 'selectors via --selector flag') : selectorOf(obj);
  let ports: { port: number; protocol: string }[];
  if (f.port !== undefined) {
    ports = f.port.split(',').map((p) => {
      const n = Number(p.trim());
      if (!Number.isInteger(n)) throw new CliError(`invalid --port "${p}": must be a port number`);
      return { port: n, protocol: f.protocol ?? 'TCP' };
    });
  } else {
    ports = portsOf(obj);
    if (!ports.length) throw new CliError("couldn't find port via --port flag or introspection");
    if (f.protocol) ports = ports.map((p) => ({ ...p, protocol: f.protocol ?? p.protocol }));
  }
  const target = f.targetPort === undefined ? undefined : /^\d+$/.test(f.targetPort) ? Number(f.targetPort) : f.targetPort;
  const servicePorts: ServicePort[] = ports.map((p, i) => ({
    ...(ports.length > 1 ? { name: `port-${i + 1}` } : {}),
    port: p.port, protocol: p.protocol, targetPort: target ?? p.port,
  }));
  const labels = f.labels !== undefined ? parseMap(f.labels, 'labels via --labels flag') : { ...(obj.metadata?.labels ?? {}) };
  const name = f.serviceName ?? obj.metadata?.name ?? '';
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace, ...(Object.keys(labels).length ? { labels } : {}) },
    spec: {
      ports: servicePorts, selector,
      ...(f.type ? { type: f.type } : {}),
      ...(f.clusterIp ? { clusterIP: f.clusterIp } : {}),
      ...(f.externalIp ? { externalIPs: f.externalIp.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
      ...(f.sessionAffinity ? { sessionAffinity: f.sessionAffinity } : {}),
    },
  };
}

/** Reads the object, builds its Service, creates it and prints `service/NAME exposed`. */
export async function runExpose(deps: CommandDeps, globals: GlobalOptions, args: string[], f: ExposeFlags): Promise<void> {
  let type: string;
  let name: string;
  const tn = args.length === 1 ? splitTypeName(args[0]) : undefined;
  if (tn) ({ type, name } = tn);
  else if (args.length === 2) [type, name] = args;
  else throw new CliError('You must provide the resource type and name to expose, e.g. "minikube-lite expose deployment myapp --port 80"');
  if (f.selector !== undefined) {
    const parsed = parseSelector(f.selector);
    if (!parsed.ok) throw new CliError(parsed.error);
  }
  const dryRun = f.dryRun ?? 'none';
  if (dryRun !== 'none' && dryRun !== 'client') {
    throw new CliError(`Invalid dry-run value (${dryRun}). Must be "none" or "client" (server-side dry run is not offered by expose here)`);
  }
  if (f.output !== undefined && !OUTPUTS.includes(f.output)) {
    throw new CliError(`unable to match a printer suitable for the output format "${f.output}", allowed formats are: ${OUTPUTS.join(',')}`);
  }
  const def = resolveType(type);
  const client = deps.client(globals);
  const obj = await client.get<Exposable>(refFor(def, globals.namespace), name);
  const svc = serviceForExpose({ ...obj, kind: def.kind }, f, globals.namespace);
  const result = dryRun === 'client' ? svc : await client.create<Service>({ ...SERVICES, namespace: globals.namespace }, svc);
  const svcName = result.metadata?.name ?? '';
  if (f.output === 'yaml') deps.io.out(toYaml(result));
  else if (f.output === 'json') deps.io.out(toJson(result));
  else if (f.output === 'name') deps.io.out(`service/${svcName}\n`);
  else deps.io.out(`service/${svcName} exposed${dryRun === 'client' ? ' (dry run)' : ''}\n`);
}

/** The `expose` command (commander), running {@link runExpose}. */
export function exposeCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  return new Command('expose')
    .summary('Take a replication controller, service, deployment or pod and expose it as a new Kubernetes service')
    .description([
      'Expose a resource as a new Kubernetes service.',
      '',
      'Looks up a deployment, service, replica set, replication controller or pod by name and uses the selector for that',
      'resource as the selector for a new service on the specified port. A deployment or replica set will be exposed as a',
      'service only if its selector is convertible to a selector that service supports, i.e. when the selector contains',
      'only the matchLabels component. Without --port, the ports the object\'s containers declare are used.',
      '',
      'Possible resources include (case insensitive): pod (po), service (svc), replicationcontroller (rc), deployment (deploy), replicaset (rs)',
    ].join('\n'))
    .usage('(TYPE NAME | TYPE/NAME) [--port=port] [--protocol=TCP|UDP|SCTP] [--target-port=number-or-name] [--name=name] [--type=type] [options]')
    .argument('[args...]', 'TYPE NAME or TYPE/NAME')
    .option('--port <port>', 'The port that the service should serve on. Copied from the resource being exposed, if unspecified')
    .option('--target-port <port>', 'Name or number for the port on the container that the service should direct traffic to. Optional.')
    .option('--service-name <name>', 'The name for the newly created object (also given as --name after "expose").')
    .option('--type <type>', 'Type for this service: ClusterIP, NodePort, LoadBalancer, or ExternalName. Default is \'ClusterIP\'.')
    .option('--protocol <protocol>', 'The network protocol for the service to be created. Default is \'TCP\'.')
    .option('--selector <selector>', 'A label selector to use for this service. Only equality-based selector requirements are supported.')
    .option('-l, --labels <labels>', 'Labels to apply to the service created by this call.')
    .option('--cluster-ip <ip>', 'ClusterIP to be assigned to the service. Leave empty to auto-allocate, or set to \'None\' to create a headless service.')
    .option('--external-ip <ips>', 'Additional external IP address (not managed by Kubernetes) to accept for the service.')
    .option('--session-affinity <affinity>', 'If non-empty, set the session affinity for the service to this; legal values: \'None\', \'ClientIP\'')
    .option('--dry-run [strategy]', 'Must be "none" or "client". If client strategy, only print the object that would be sent, without sending it.', (v: string | boolean) => (v === true ? 'client' : String(v)))
    .option('-o, --output <format>', 'Output format. One of: (json, yaml, name).')
    .addHelpText('after', [
      '',
      'Examples:',
      '  # Create a service for myapp\'s pods, serving on port 80 and connecting to the containers on port 80',
      '  minikube-lite expose deployment myapp --port 80',
      '',
      '  # Create a service for a pod, serving on port 444 with the name "frontend"',
      '  minikube-lite expose pod valid-pod --port=444 --name=frontend',
      '',
      '  # Print the Service expose would create, as YAML, without creating it',
      '  minikube-lite expose deployment myapp --port 80 --dry-run=client -o yaml',
      '',
      '  # Reach it from the host on a node port',
      '  minikube-lite expose deployment myapp --port 80 --type NodePort --name myapp-np',
    ].join('\n'))
    .action(async (args: string[], opts: ExposeFlags) => {
      await runExpose(deps, globals(), args, opts);
    });
}
