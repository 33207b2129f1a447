/**
 * `drain NODE`, `cordon NODE`, `uncordon NODE`, as kubectl has them: cordon marks the node
 * unschedulable; drain cordons it and evicts its pods through the eviction API (honouring
 * PodDisruptionBudgets, retrying refused evictions every 5 s), with kubectl's flags and filters
 * (see ../drain.ts).
 */
import { Command } from 'commander';
import type { GlobalOptions } from '../context.js';
import { CliError } from '../context.js';
import { cordon, drainNode } from '../drain.js';
import { parseDuration, parseIntFlag, type CommandDeps } from './shared.js';

interface DrainFlags {
  ignoreDaemonsets?: boolean;
  deleteEmptydirData?: boolean;
  force?: boolean;
  timeout: string;
  gracePeriod: number;
}

function cordonCommand(deps: CommandDeps, globals: () => GlobalOptions, name: 'cordon' | 'uncordon'): Command {
  const on = name === 'cordon';
  return new Command(name)
    .summary(on ? 'Mark node as unschedulable' : 'Mark node as schedulable')
    .description(on ? 'Mark node as unschedulable: new pods are not scheduled on it; the pods on it keep running.' : 'Mark node as schedulable again.')
    .argument('<node>', 'the node')
    .addHelpText('after', `\nExamples:\n  minikube-lite ${name} node-2`)
    .action(async (node: string) => {
      const r = await cordon(deps.client(globals()), node, on);
      if (r === 'missing') throw new CliError(`nodes "${node}" not found`);
      deps.io.out(`node/${node} ${r === 'unchanged' ? 'already ' : ''}${name}ed\n`);
    });
}

export function drainCommands(deps: CommandDeps, globals: () => GlobalOptions): Command[] {
  const drain = new Command('drain')
    .summary('Drain node in preparation for maintenance')
    .description('Mark the node unschedulable, then evict its pods through the eviction API, which honours PodDisruptionBudgets: ' +
      'an eviction a budget refuses is retried every 5 seconds until it is allowed or --timeout passes.')
    .argument('<node>', 'the node')
    .option('--ignore-daemonsets', 'Ignore DaemonSet-managed pods.')
    .option('--delete-emptydir-data', 'Continue even if there are pods using emptyDir (local data that will be deleted when the node is drained).')
    .option('--force', 'Continue even if there are pods that do not declare a controller.')
    .option('--grace-period <seconds>', 'Period of time in seconds given to each pod to terminate gracefully. If negative, the default value specified in the pod will be used.',
      (v: string) => parseIntFlag(v, '--grace-period'), -1)
    .option('--timeout <duration>', 'The length of time to wait before giving up, zero means infinite', '0s')
    .addHelpText('after', '\nExamples:\n  minikube-lite drain node-2 --ignore-daemonsets --delete-emptydir-data')
    .action(async (node: string, o: DrainFlags) => {
      await drainNode(deps.client(globals()), node, {
        ignoreDaemonSets: !!o.ignoreDaemonsets, deleteEmptyDirData: !!o.deleteEmptydirData, force: !!o.force,
        timeoutMs: parseDuration(o.timeout, '--timeout'), ...(o.gracePeriod >= 0 ? { gracePeriodSeconds: o.gracePeriod } : {}),
      }, (line) => deps.io.out(`${line}\n`));
    });
  return [drain, cordonCommand(deps, globals, 'cordon'), cordonCommand(deps, globals, 'uncordon')];
}
