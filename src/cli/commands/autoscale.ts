/**
 * `autoscale (TYPE NAME | TYPE/NAME) [--min=MINPODS] --max=MAXPODS [--cpu-percent=CPU]`: creates
 * an autoscaling/v2 HorizontalPodAutoscaler for a kind with a `scale` subresource, as kubectl's
 * `autoscale` does (named after the target unless `--name`; no `--min` leaves the server's
 * default of 1; no `--cpu-percent` leaves the server's default CPU target of 80%).
 */
import { Command } from 'commander';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import { apiVersionOf } from '../../api/resource.js';
import type { KubeObject } from '../../api/types.js';
import { CliError, type GlobalOptions } from '../context.js';
import { toJson, toYaml } from '../print.js';
import { HPAS } from '../../client/client.js';
import { parseGetArgs } from './get.js';
import { parseIntFlag, type CommandDeps } from './shared.js';


export interface AutoscaleFlags {
  min: number;
  max: number;
  cpuPercent: number;
  /** `--name` after `autoscale` (renamed by `exposeArgv`, since `--name` is also the cluster option). */
  hpaName?: string;
  dryRun?: string;
  output?: string;
}

/** The HPA `autoscale` creates for `kind/name` (pure; kubectl's `HorizontalPodAutoscalerV2` generator). */
export function autoscaleObject(target: { apiVersion: string; kind: string; name: string }, namespace: string, f: AutoscaleFlags): HorizontalPodAutoscaler {
  if (f.max < 1) throw new CliError(`--max=MAXPODS is required and must be at least 1, max: ${f.max}`);
  if (f.max < f.min) throw new CliError(`--max=MAXPODS must be larger or equal to --min=MINPODS, max: ${f.max}, min: ${f.min}`);
  return {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler',
    metadata: { name: f.hpaName || target.name, namespace },
    spec: {
      scaleTargetRef: { apiVersion: target.apiVersion, kind: target.kind, name: target.name },
      maxReplicas: f.max,
      ...(f.min > 0 ? { minReplicas: f.min } : {}),
      ...(f.cpuPercent >= 0 ? { metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: f.cpuPercent } } }] } : {}),
    },
  };
}

export async function runAutoscale(deps: CommandDeps, globals: GlobalOptions, args: string[], f: AutoscaleFlags): Promise<void> {
  if (!args.length) throw new CliError('You must provide one or more resources by argument or filename.');
  const { requests } = parseGetArgs(args);
  const client = deps.client(globals);
  if (f.dryRun && !['none', 'client'].includes(f.dryRun)) {
    throw new CliError(`Invalid dry-run value (${f.dryRun}). Must be "none" or "client" (server dry runs: use kubectl autoscale --dry-run=server).`);
  }
  for (const { def, names } of requests) {
    if (!names.length) throw new CliError('resource(s) were provided, but no name was specified');
    for (const name of names) {
      if (!def.subresources.includes('scale')) throw new CliError(`cannot autoscale a ${def.kind}: the ${def.resource} resource has no scale subresource`);
      const ref = { group: def.group, version: def.version, resource: def.resource, namespace: globals.namespace };
      // The target must exist (kubectl reads it first, too).
      await client.get<KubeObject>(ref, name);
      const hpa = autoscaleObject({ apiVersion: apiVersionOf(def), kind: def.kind, name }, globals.namespace, f);
      const dry = f.dryRun === 'client';
      const out = dry ? (hpa as KubeObject) : await client.create<KubeObject>({ ...HPAS, namespace: globals.namespace }, hpa as KubeObject);
      if (f.output === 'yaml') deps.io.out(toYaml(out));
      else if (f.output === 'json') deps.io.out(toJson(out) + '\n');
      else if (f.output === 'name') deps.io.out(`horizontalpodautoscaler.autoscaling/${out.metadata?.name ?? ''}\n`);
      else deps.io.out(`horizontalpodautoscaler.autoscaling/${out.metadata?.name ?? ''} autoscaled${dry ? ` (${f.dryRun} dry run)` : ''}\n`);
    }
  }
}

/** The `autoscale` command (commander), running {@link runAutoscale}. */
export function autoscaleCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  return new Command('autoscale')
    .summary('Auto-scale a deployment, replica set, stateful set, or replication controller')
    .description('Creates an autoscaler that automatically chooses and sets the number of pods that run in the cluster.\n\n' +
      'Looks up a deployment, replica set, stateful set, or replication controller by name and creates an autoscaler that ' +
      'uses the given resource as a reference. An autoscaler can automatically increase or decrease number of pods deployed within the system as needed.')
    .usage('(TYPE NAME | TYPE/NAME) [--min=MINPODS] --max=MAXPODS [--cpu-percent=CPU] [options]')
    .argument('[args...]')
    .option('--min <n>', 'The lower limit for the number of pods that can be set by the autoscaler. If it\'s not specified or negative, the server will apply a default value.', (v) => parseIntFlag(v, '--min'), -1)
    .option('--max <n>', 'The upper limit for the number of pods that can be set by the autoscaler. Required.', (v) => parseIntFlag(v, '--max'), -1)
    .option('--cpu-percent <n>', 'The target average CPU utilization (represented as a percent of requested CPU) over all the pods. If it\'s not specified or negative, a default autoscaling policy will be used.', (v) => parseIntFlag(v, '--cpu-percent'), -1)
    .option('--hpa-name <name>', 'The name for the newly created object (also accepted as --name after autoscale, as in kubectl). If not specified, the name of the input resource will be used.')
    .option('--dry-run <strategy>', 'Must be "none" or "client". With client, only print the object that would be sent.')
    .option('-o, --output <format>', 'Output format: json, yaml or name.')
    .addHelpText('after', '\nExamples:\n  # Auto scale a deployment "foo", with the number of pods between 2 and 10, no target CPU utilization specified so a default autoscaling policy will be used\n' +
      '  minikube-lite autoscale deployment foo --min=2 --max=10\n\n  # Auto scale a deployment "web", with the number of pods between 1 and 5, target CPU utilization at 80%\n  minikube-lite autoscale deployment web --max=5 --cpu-percent=80')
    .action(async (args: string[], f: AutoscaleFlags) => runAutoscale(deps, globals(), args, f));
}
