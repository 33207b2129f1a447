/**
 * `trace pod|replicaset|deployment NAME [-o json] [--follow]`: what each component did for the
 * pod(s), as the components recorded it (see src/trace), each line numbered by the seed's step,
 * times relative to the pod's creation. `--follow` then prints records as they are written.
 */
import { Command } from 'commander';
import { ApiError } from '../../api/errors.js';
import type { KubeObject, Pod } from '../../api/types.js';
import { PODS } from '../../client/client.js';
import { REPLICASETS } from '../../controllers/types.js';
import { CliError, type GlobalOptions } from '../context.js';
import { readTraceTree, traceKind, type TraceKind } from '../../trace/query.js';
import { formatTraceTree } from '../../trace/print.js';
import { actorName, formatOffset } from '../../trace/timeline.js';
import { PODTRACES, type PodTrace } from '../../trace/types.js';
import type { Client, CommandDeps } from './shared.js';

export interface TraceFlags {
  output?: string;
  follow?: boolean;
}

/** Runs `trace`; with `--follow` it returns when interrupted. */
export async function runTrace(deps: CommandDeps, globals: GlobalOptions, type: string, name: string, f: TraceFlags): Promise<void> {
  const kind = traceKind(type);
  if (!kind) throw new CliError(`cannot trace "${type}": use pod, replicaset or deployment`);
  if (f.output && f.output !== 'json') throw new CliError(`unable to match a printer suitable for the output format "${f.output}", allowed formats are: json`);
  const client = deps.client(globals);
  const ns = globals.namespace;
  const before = f.follow ? new Set((await client.list<PodTrace>({ ...PODTRACES, namespace: ns })).items.map((t) => t.metadata?.name ?? '')) : new Set<string>();
  let tree;
  try {
    tree = await readTraceTree(client, kind, ns, name);
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) throw new CliError(`Error from server (NotFound): ${e.message}`);
    throw e;
  }
  if (f.output === 'json') deps.io.out(JSON.stringify(tree, null, 2) + '\n');
  else deps.io.out(formatTraceTree(tree));
  if (!f.follow) return;
  await follow(deps, client, kind, ns, tree, before, f.output === 'json');
}

/** Prints records of the traced pods as they are stored, until Ctrl-C. */
async function follow(deps: CommandDeps, client: Client, kind: TraceKind, ns: string, tree: Awaited<ReturnType<typeof readTraceTree>>,
  seen: Set<string>, json: boolean): Promise<void> {
  const pods = new Map<string, { relevant: boolean; t0: number }>();
  for (const p of [...(tree.pods ?? []), ...(tree.replicaSets ?? []).flatMap((r) => r.pods)]) pods.set(p.pod.uid, { relevant: true, t0: Date.parse(p.createdAt) });
  const rsUids = new Set((tree.replicaSets ?? []).map((r) => r.uid));
  const ownerUid = kind === 'deployment' ? await client.get<KubeObject>({ group: 'apps', version: 'v1', resource: 'deployments', namespace: ns }, tree.name).then((d) => d.metadata?.uid ?? '') : '';
  const ctl = (o: KubeObject) => o.metadata?.ownerReferences?.find((r) => r.controller);
  const classify = async (t: PodTrace): Promise<{ relevant: boolean; t0: number }> => {
    const known = pods.get(t.pod.uid);
    if (known) return known;
    let result = { relevant: false, t0: Date.parse(t.records[0]?.time ?? '') || 0 };
    if (kind !== 'pod') {
      const pod = await client.get<Pod>({ ...PODS, namespace: ns }, t.pod.name).catch(() => undefined);
      const ref = pod && pod.metadata?.uid === t.pod.uid ? ctl(pod) : undefined;
      if (ref?.kind === 'ReplicaSet' && !rsUids.has(ref.uid) && kind === 'deployment') {
        const rs = await client.get<KubeObject>({ ...REPLICASETS, namespace: ns }, ref.name).catch(() => undefined);
        if (rs && rs.metadata?.uid === ref.uid && ctl(rs)?.uid === ownerUid) rsUids.add(ref.uid);
      }
      if (ref && rsUids.has(ref.uid)) result = { relevant: true, t0: Date.parse(pod?.metadata?.creationTimestamp ?? '') || result.t0 };
    }
    pods.set(t.pod.uid, result);
    return result;
  };
  let chain = Promise.resolve();
  const handle = client.watch<PodTrace>({ ...PODTRACES, namespace: ns }, {}, (e) => {
    if (e.type !== 'ADDED' || seen.has(e.object.metadata?.name ?? '')) return;
    const t = e.object;
    chain = chain.then(async () => {
      const c = await classify(t);
      if (!c.relevant) return;
      const created = t.records.find((r) => r.step === 1 && r.action === 'Created');
      if (created) c.t0 = Date.parse(created.time);
      for (const r of t.records) {
        if (json) deps.io.out(JSON.stringify({ pod: t.pod, ...r, offsetMs: Date.parse(r.time) - c.t0 }) + '\n');
        else deps.io.out(`${t.pod.name}  ${formatOffset(Date.parse(r.time) - c.t0)}  [${r.step}] ${actorName(r)}  ${r.message}\n`);
      }
    }).catch((err: unknown) => deps.io.err(`trace: ${(err as Error).message}\n`));
  });
  const off = deps.io.onInterrupt(() => handle.stop());
  try {
    await handle.done;
  } finally {
    off();
  }
}

export function traceCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  return new Command('trace')
    .summary('Show what each component did for a pod, step by step (the seed\'s seven steps)')
    .description('Print the timeline the components recorded for a pod, or for every pod of a ReplicaSet or Deployment ' +
      '(Deployment → ReplicaSet → pods): API server writes, controller and scheduler decisions, the kubelet\'s image, ' +
      'sandbox and container steps with the runtime\'s timings, probe results and status writes. Each line names the ' +
      'seed\'s step [1-7]; times are relative to the pod\'s creation.')
    .usage('(pod|replicaset|deployment) NAME [-o json] [--follow]')
    .argument('<type>', 'pod, replicaset (rs) or deployment (deploy)')
    .argument('<name>', 'object name')
    .option('-o, --output <format>', 'Output format: json')
    .option('-f, --follow', 'After the timeline, print steps as they are recorded (Ctrl-C to stop)')
    .addHelpText('after', [
      '', 'Examples:',
      '  # The timeline of one pod, each line naming the seed\'s step',
      '  minikube-lite trace pod myapp-7c5d9-abcde',
      '', '  # Deployment → ReplicaSets → pods, then new steps as they happen',
      '  minikube-lite trace deployment myapp --follow',
      '', '  # The records as JSON',
      '  minikube-lite trace rs myapp-7c5d9 -o json',
    ].join('\n'))
    .action(async (type: string, name: string, opts: TraceFlags) => {
      await runTrace(deps, globals(), type, name, opts);
    });
}
