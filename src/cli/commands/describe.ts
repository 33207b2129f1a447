/**
 * `describe TYPE [NAME_PREFIX...]`: fetches the object(s) and their events and prints the
 * detailed text (`describers.ts`). A name that matches nothing exactly describes every object
 * whose name starts with it, as kubectl does.
 */
import { Command } from 'commander';
import { ApiError } from '../../api/errors.js';
import type { ResourceDef } from '../../api/resource.js';
import { podPhaseCounts } from '../../api/podstatus.js';
import type { ConfigMap, Deployment, Endpoints, EndpointSlice, Event, KubeObject, LabelSelector, Node, Pod, ReplicaSet, Secret, Service } from '../../api/types.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { ENDPOINTS, ENDPOINTSLICES, EVENTS, PODS, SERVICES } from '../../client/client.js';
import { CliError, type GlobalOptions } from '../context.js';
import { formatApiError } from '../print.js';
import { replicaSetsOf, selectorString, splitReplicaSets } from './apps.js';
import { describeConfigMap, describeDeployment, describeGeneric, describeNode, describePod, describeReplicaSet, describeSecret } from './describers.js';
import { describeCronJob, describeDaemonSet, describeJob, describeReplicationController, describeStatefulSet } from './describeworkloads.js';
import type { LimitRange, ReplicationController, ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { DaemonSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import { describeEndpoints, describeService } from './servicedescribers.js';
import { describeHorizontalPodAutoscaler } from './hpadescriber.js';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import { describeLimitRange, describePodDisruptionBudget, describeResourceQuota } from './admissiondescribers.js';
import { describeIngress } from './ingressdescriber.js';
import type { Ingress } from '../../api/ingressvalidation.js';
import { LABEL_SERVICE_NAME } from '../../api/endpoints.js';
import { formatLabels } from '../../api/labels.js';
import { listWithFieldSelector, refFor, resolveType, splitTypeName, type Client, type CommandDeps } from './shared.js';

export interface DescribeFlags {
  selector?: string;
  allNamespaces?: boolean;
  showEvents: boolean;
}

/**
 * Events about one object: asks the server for `involvedObject.name=...,involvedObject.namespace=...`
 * (falling back to filtering client-side if it refuses the selector), then keeps those about this
 * very object (same uid, same kind when the event says).
 */
export async function eventsFor(client: Client, obj: KubeObject, kind: string, namespaced: boolean): Promise<Event[]> {
  const name = obj.metadata?.name ?? '';
  const ns = obj.metadata?.namespace ?? '';
  const selector = namespaced ? `involvedObject.name=${name},involvedObject.namespace=${ns}` : `involvedObject.name=${name}`;
  const events = await listWithFieldSelector<Event & KubeObject>(client, { ...EVENTS, namespace: namespaced ? ns : undefined }, selector);
  const uid = obj.metadata?.uid;
  return events.filter((e) => {
    const io = e.involvedObject;
    if (io.kind && io.kind !== kind) return false;
    // Node events may carry the node name as uid (the kubelet's habit); accept both.
    if (uid && io.uid && io.uid !== uid && io.uid !== name) return false;
    return true;
  });
}

/** The describe text of one object of `def`, events included when `showEvents`. */
async function describeOne(client: Client, def: ResourceDef, obj: KubeObject, showEvents: boolean, now: number): Promise<string> {
  const events = showEvents ? await eventsFor(client, obj, def.kind, def.namespaced) : undefined;
  if (def.resource === 'pods' && !def.group) return describePod(obj as Pod & KubeObject, events, now);
  if (def.resource === 'configmaps' && !def.group) return describeConfigMap(obj as ConfigMap, events, now);
  if (def.resource === 'secrets' && !def.group) return describeSecret(obj as Secret);
  if (def.resource === 'poddisruptionbudgets' && def.group === 'policy') return describePodDisruptionBudget(obj as PodDisruptionBudget, events, now);
  if (def.resource === 'limitranges' && !def.group) return describeLimitRange(obj as LimitRange);
  if (def.resource === 'resourcequotas' && !def.group) return describeResourceQuota(obj as ResourceQuota);
  if (def.resource === 'horizontalpodautoscalers' && def.group === 'autoscaling' && def.version === 'v2') return describeHorizontalPodAutoscaler(obj as HorizontalPodAutoscaler, events, now);
  if (def.resource === 'nodes' && !def.group) {
    const name = obj.metadata?.name ?? '';
    const pods = await listWithFieldSelector<Pod & KubeObject>(client, PODS,
      `spec.nodeName=${name},status.phase!=Succeeded,status.phase!=Failed`);
    return describeNode(obj as Node & KubeObject, pods, events, now);
  }
  if (def.resource === 'deployments' && def.group === 'apps') {
    const d = obj as Deployment;
    const { allOld, newRS } = splitReplicaSets(d, await replicaSetsOf(client, d));
    return describeDeployment(d, { old: allOld, newRS }, events, now);
  }
  if (def.resource === 'replicasets' && def.group === 'apps') {
    const rs = obj as ReplicaSet;
    const pods = await client.list<Pod & KubeObject>({ ...PODS, namespace: rs.metadata?.namespace }, { labelSelector: selectorString(rs.spec?.selector) });
    return describeReplicaSet(rs, podPhaseCounts(pods.items, rs.metadata?.uid ?? ''), events, now);
  }
  if (def.resource === 'services' && !def.group) {
    const ns = obj.metadata?.namespace;
    const slices = await client.list<EndpointSlice & KubeObject>({ ...ENDPOINTSLICES, namespace: ns }, { labelSelector: `${LABEL_SERVICE_NAME}=${obj.metadata?.name ?? ''}` });
    return describeService(obj as Service, slices.items, events, now);
  }
  if (def.resource === 'endpoints' && !def.group) return describeEndpoints(obj as Endpoints, events, now);
  if (def.resource === 'ingresses' && def.group === 'networking.k8s.io') {
    const ns = obj.metadata?.namespace;
    const [svcs, eps] = await Promise.all([client.list<Service & KubeObject>({ ...SERVICES, namespace: ns }), client.list<Endpoints & KubeObject>({ ...ENDPOINTS, namespace: ns })]);
    const byName = <T extends KubeObject>(items: T[]) => (n: string): T | undefined => items.find((o) => o.metadata?.name === n);
    return describeIngress(obj as Ingress, { service: byName(svcs.items), endpoints: byName(eps.items) }, events, now);
  }
  const workload = await describeWorkload(client, def, obj, events, now);
  return workload ?? describeGeneric(obj, events, now);
}

/** `describe job|cronjob|daemonset|statefulset|replicationcontroller`; undefined for other kinds. */
async function describeWorkload(client: Client, def: ResourceDef, obj: KubeObject, events: Event[] | undefined, now: number): Promise<string | undefined> {
  const podsOf = async (selector: LabelSelector | undefined): Promise<Pod[]> =>
    (await client.list<Pod & KubeObject>({ ...PODS, namespace: obj.metadata?.namespace }, { labelSelector: selectorString(selector) })).items;
  const uid = obj.metadata?.uid ?? '';
  switch (`${def.group}/${def.resource}`) {
    case 'batch/jobs': return describeJob(obj as Job, events, now);
    case 'batch/cronjobs': return describeCronJob(obj as CronJob, events, now);
    case 'apps/daemonsets': {
      const ds = obj as DaemonSet;
      return describeDaemonSet(ds, podPhaseCounts(await podsOf(ds.spec?.selector), uid), events, now);
    }
    case '/replicationcontrollers': {
      const rc = obj as ReplicationController;
      const pods = (await client.list<Pod & KubeObject>({ ...PODS, namespace: obj.metadata?.namespace }, { labelSelector: Object.keys(rc.spec?.selector ?? {}).length ? formatLabels(rc.spec?.selector) : undefined })).items;
      return describeReplicationController(rc, podPhaseCounts(pods, uid), events, now);
    }
    case 'apps/statefulsets': {
      const ss = obj as StatefulSet;
      return describeStatefulSet(ss, podPhaseCounts(await podsOf(ss.spec?.selector), uid), events, now);
    }
    default: return undefined;
  }
}

/**
 * Fetches what the arguments name (exact names, else name prefixes; no name = all, `-l`
 * filtering), prints each description separated by blank lines, then NotFound errors (exit 1).
 */
export async function runDescribe(deps: CommandDeps, globals: GlobalOptions, args: string[], f: DescribeFlags): Promise<void> {
  const { io } = deps;
  if (!args.length) {
    io.err('You must specify the type of resource to describe. Use "minikube-lite get pods|nodes|events|namespaces|TYPE".\n\n');
    throw new CliError("Required resource not specified.\nSee 'minikube-lite describe -h' for help and examples");
  }
  let targets: { def: ResourceDef; names: string[] }[];
  if (args.every((a) => a.includes('/'))) {
    targets = args.map((a) => {
      const tn = splitTypeName(a)!;
      return { def: resolveType(tn.type), names: [tn.name] };
    });
  } else {
    targets = [{ def: resolveType(args[0]), names: args.slice(1) }];
  }
  const client = deps.client(globals);
  const namespace = f.allNamespaces ? undefined : globals.namespace;
  const objects: { def: ResourceDef; obj: KubeObject }[] = [];
  const errors: ApiError[] = [];
  for (const { def, names } of targets) {
    if (!names.length) {
      const list = await client.list(refFor(def, namespace), { labelSelector: f.selector });
      objects.push(...list.items.map((obj) => ({ def, obj })));
      continue;
    }
    for (const name of names) {
      try {
        objects.push({ def, obj: await client.get(refFor(def, globals.namespace), name) });
      } catch (e) {
        if (!(e instanceof ApiError) || e.code !== 404) throw e;
        const list = await client.list(refFor(def, globals.namespace), { labelSelector: f.selector });
        const prefixed = list.items.filter((o) => (o.metadata?.name ?? '').startsWith(name));
        if (!prefixed.length) errors.push(e);
        objects.push(...prefixed.map((obj) => ({ def, obj })));
      }
    }
  }
  if (!objects.length && !errors.length) {
    const allNamespaced = !f.allNamespaces && targets.every((t) => t.def.namespaced);
    io.err(allNamespaced ? `No resources found in ${globals.namespace} namespace.\n` : 'No resources found\n');
    return;
  }
  let first = true;
  for (const { def, obj } of objects) {
    const text = await describeOne(client, def, obj, f.showEvents, io.now());
    if (!first) io.out('\n\n');
    first = false;
    io.out(text);
  }
  if (errors.length) {
    for (const e of errors) io.err(formatApiError(e) + '\n');
    io.setExitCode(1);
  }
}

/** The `describe` command (commander), running {@link runDescribe}. */
export function describeCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  return new Command('describe')
    .summary('Show details of a specific resource or group of resources')
    .description([
      'Show details of a specific resource or group of resources.',
      '',
      'Print a detailed description of the selected resources, including related resources such',
      'as events.',
      '',
      '  $ minikube-lite describe TYPE NAME_PREFIX',
      '',
      'will first check for an exact match on TYPE and NAME_PREFIX. If no such resource exists, it',
      'will output details for every resource that has a name prefixed with NAME_PREFIX.',
      '',
      'Pods, nodes, deployments, replicasets, services and endpoints have their own descriptions; other kinds show every field.',
    ].join('\n'))
    .usage('(TYPE [NAME_PREFIX | -l label] | TYPE/NAME) [options]')
    .argument('[args...]', 'TYPE [NAME_PREFIX...] or TYPE/NAME...')
    .option('-l, --selector <selector>', 'Selector (label query) to filter on, supports \'=\', \'==\', and \'!=\'.(e.g. -l key1=value1,key2=value2)')
    .option('-A, --all-namespaces', 'If present, list the requested object(s) across all namespaces.')
    .option('--show-events [bool]', 'If true, display events related to the described object.', (v: string) => !/^(false|0|f)$/i.test(v), true)
    .addHelpText('after', [
      '',
      'Examples:',
      '  # Describe a node',
      '  minikube-lite describe nodes node-1',
      '',
      '  # Describe a pod',
      '  minikube-lite describe pods/nginx',
      '',
      '  # Describe a deployment, with its replica sets and rollout conditions',
      '  minikube-lite describe deployment myapp',
      '',
      '  # Describe pods by label name=myLabel',
      '  minikube-lite describe pods -l name=myLabel',
      '',
      '  # Describe all pods whose names start with web',
      '  minikube-lite describe pods web',
    ].join('\n'))
    .action(async (args: string[], opts: DescribeFlags) => {
      await runDescribe(deps, globals(), args, opts);
    });
}
