/**
 * `rollout status|history|undo|pause|resume|restart (TYPE NAME | TYPE/NAME)`: kubectl's rollout
 * commands for Deployments. `status` follows the Deployment on the watch stream until its
 * rollout finishes; the others read the Deployment's ReplicaSets or change its spec (read,
 * change, write with optimistic concurrency) and print `deployment.apps/NAME <what happened>`.
 */
import { Command } from 'commander';
import { ApiError } from '../../api/errors.js';
import type { Deployment, KubeObject } from '../../api/types.js';
import { CliError, type GlobalOptions } from '../context.js';
import { rfc3339Local } from '../print.js';
import {
  applyRollback, equalIgnoreHash, historyTable, replicaSetsOf, revisions, RESTARTED_AT_ANNOTATION, rollbackTarget,
  rolloutStatus, type RolloutProgress,
} from './apps.js';
import { describePodTemplate } from './describers.js';
import { parseGetArgs } from './get.js';
import {
  aggregateError, findTargets, groupKindString, kindString, parseBoolFlag, parseDuration, parseIntFlag, refFor, resourceString,
  updateWithRetry, type Client, type CommandDeps, type Target,
} from './shared.js';
import { watchUntil, WaitTimeout } from './wait.js';
import { isRevisionedSet, sameTemplate, setRevisions, setRollbackTarget, setRolloutStatus } from './rolloutsets.js';

const isDeployment = (t: Target): boolean => t.def.group === 'apps' && t.def.resource === 'deployments';

/** The objects the arguments name; every one of the type when no name is given (as kubectl). */
async function targetsOf(client: Client, globals: GlobalOptions, args: string[]): Promise<Target[]> {
  if (!args.length) throw new CliError('required resource not specified');
  return findTargets(client, globals.namespace, parseGetArgs(args).requests, { allowEmpty: true });
}

// ---------------------------------------------------------------------------------------------
// status

export interface RolloutStatusFlags {
  watch: boolean;
  timeout: string;
  revision: number;
}

/** The longest a timer can wait in Node (about 24.8 days): what `--timeout=0` (never) means here. */
const FOREVER_MS = 2_147_483_647;

class Interrupted extends Error {}

/**
 * Prints the Deployment's rollout status, then (with --watch) one line per change seen on the
 * watch stream until the rollout is done. Throws kubectl's errors: progress deadline exceeded,
 * deleted, timed out.
 */
export async function runRolloutStatus(deps: CommandDeps, globals: GlobalOptions, args: string[], f: RolloutStatusFlags): Promise<void> {
  const { io } = deps;
  if (f.revision < 0) throw new CliError(`revision must be a positive integer: ${f.revision}`);
  const timeoutMs = parseDuration(f.timeout, '--timeout') || FOREVER_MS;
  const client = deps.client(globals);
  const targets = await targetsOf(client, globals, args);
  if (targets.length !== 1) {
    throw new CliError(`rollout status is only supported on individual resources and resource collections - ${targets.length} resources were found`);
  }
  const t = targets[0];
  if (!isDeployment(t) && !isRevisionedSet(t)) throw new CliError(`no status viewer has been implemented for ${groupKindString(t.def)}`);
  const ref = refFor(t.def, t.namespace);
  const deadline = Date.now() + timeoutMs;
  const show = (d: Deployment & KubeObject): RolloutProgress => {
    const p = isDeployment(t) ? rolloutStatus(d, f.revision) : setRolloutStatus(t, d);
    io.out(p.message + '\n');
    return p;
  };

  let current = await client.get<Deployment & KubeObject>(ref, t.name);
  if (show(current).done || !f.watch) return;
  const abort = new AbortController();
  const off = io.onInterrupt(() => abort.abort(new Interrupted()));
  try {
    for (;;) {
      try {
        await watchUntil<Deployment & KubeObject, true>(client, ref, t.name,
          { resourceVersion: current.metadata?.resourceVersion, timeoutMs: Math.max(0, deadline - Date.now()), signal: abort.signal }, (e) => {
            if (e.type === 'DELETED') throw new CliError('object has been deleted');
            return show(e.object).done ? true : undefined;
          });
        return;
      } catch (e) {
        // The watch window moved past our resourceVersion: read again and go on from there.
        if (!(e instanceof ApiError && e.code === 410)) throw e;
        current = await client.get<Deployment & KubeObject>(ref, t.name);
        if (show(current).done) return;
      }
    }
  } catch (e) {
    if (e instanceof WaitTimeout) throw new CliError('timed out waiting for the condition');
    if (e instanceof Interrupted) {
      io.setExitCode(130);
      return;
    }
    throw e;
  } finally {
    off();
  }
}

// ---------------------------------------------------------------------------------------------
// history

/**
 * `deployment.apps/NAME` and its revisions with their change causes, or with --revision=N that
 * revision's pod template (tabs left unaligned, as kubectl prints it).
 */
export async function runRolloutHistory(deps: CommandDeps, globals: GlobalOptions, args: string[], f: { revision: number }): Promise<void> {
  if (f.revision < 0) throw new CliError(`revision must be a positive integer: ${f.revision}`);
  const client = deps.client(globals);
  for (const t of await targetsOf(client, globals, args)) {
    if (!isDeployment(t) && !isRevisionedSet(t)) throw new CliError(`no history viewer has been implemented for "${groupKindString(t.def)}"`);
    const d = await client.get<Deployment & KubeObject>(refFor(t.def, t.namespace), t.name);
    const revs = isDeployment(t) ? revisions(await replicaSetsOf(client, d)) : await setRevisions(client, d);
    let text: string;
    if (!revs.length) {
      text = 'No rollout history found.';
    } else if (f.revision > 0) {
      const r = revs.find((x) => x.revision === f.revision);
      if (!r) throw new CliError('unable to find the specified revision');
      text = describePodTemplate(r.template, true);
    } else {
      text = historyTable(revs);
    }
    deps.io.out(`${kindString(t.def)}/${t.name} ${f.revision > 0 ? `with revision #${f.revision}` : ''}\n${text}\n`);
  }
}

// ---------------------------------------------------------------------------------------------
// undo

/**
 * Rolls each Deployment back to the previous revision (or --to-revision): its template and
 * annotations become those of that revision's ReplicaSet. Prints `rolled back`, or `skipped
 * rollback (...)` when the template already matches.
 */
export async function runRolloutUndo(deps: CommandDeps, globals: GlobalOptions, args: string[], f: { toRevision: number }): Promise<void> {
  const client = deps.client(globals);
  const errors: string[] = [];
  for (const t of await targetsOf(client, globals, args)) {
    if (isRevisionedSet(t)) {
      try {
        let skippedSet = false;
        await updateWithRetry<Deployment & KubeObject>(client, refFor(t.def, t.namespace), t.name, async (set) => {
          const target = setRollbackTarget(await setRevisions(client, set), f.toRevision);
          skippedSet = sameTemplate(target.template, set.spec?.template);
          if (skippedSet) return false;
          (set.spec ??= {} as NonNullable<Deployment['spec']>).template = target.template;
          return true;
        });
        deps.io.out(`${kindString(t.def)}/${t.name} ${skippedSet ? `skipped rollback (current template already matches revision ${f.toRevision})` : 'rolled back'}\n`);
      } catch (e) {
        if (!(e instanceof CliError)) throw e;
        errors.push(e.message);
      }
      continue;
    }
    if (!isDeployment(t)) {
      errors.push(`no rollbacker has been implemented for "${groupKindString(t.def)}"`);
      continue;
    }
    let skipped = false;
    try {
      await updateWithRetry<Deployment & KubeObject>(client, refFor(t.def, t.namespace), t.name, async (d) => {
        const target = rollbackTarget(d, await replicaSetsOf(client, d), f.toRevision);
        if (d.spec?.paused) {
          throw new CliError(`you cannot rollback a paused deployment; resume it first with 'minikube-lite rollout resume' and try again`);
        }
        skipped = equalIgnoreHash(target.spec?.template, d.spec?.template);
        if (skipped) return false;
        applyRollback(d, target);
        return true;
      });
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      errors.push(e.message);
      continue;
    }
    const result = skipped ? `skipped rollback (current template already matches revision ${f.toRevision})` : 'rolled back';
    deps.io.out(`${kindString(t.def)}/${t.name} ${result}\n`);
  }
  if (errors.length) throw aggregateError(errors);
}

// ---------------------------------------------------------------------------------------------
// pause, resume, restart

/** What `pause`, `resume` and `restart` do to a Deployment (or a DaemonSet or StatefulSet: restart only); throws the reason it cannot. */
type DeploymentChange = (d: Deployment, now: number) => void;

const CHANGES: Record<'pause' | 'resume' | 'restart', { verb: string; unsupported: string; sets?: boolean; change: DeploymentChange }> = {
  pause: {
    verb: 'paused',
    unsupported: 'pausing is not supported',
    change: (d) => {
      if (d.spec?.paused) throw new CliError('is already paused');
      d.spec!.paused = true;
    },
  },
  resume: {
    verb: 'resumed',
    unsupported: 'resuming is not supported',
    change: (d) => {
      if (!d.spec?.paused) throw new CliError('is not paused');
      delete d.spec.paused;
    },
  },
  restart: {
    verb: 'restarted',
    unsupported: 'restarting is not supported',
    // kubectl restarts DaemonSets and StatefulSets the same way (their template changes, so they roll).
    sets: true,
    change: (d, now) => {
      if (d.spec?.paused) throw new CliError("can't restart paused deployment (run rollout resume first)");
      const template = (d.spec!.template ??= {});
      template.metadata = { ...template.metadata, annotations: { ...template.metadata?.annotations, [RESTARTED_AT_ANNOTATION]: rfc3339Local(now) } };
    },
  },
};

/** Pauses, resumes or restarts each Deployment (restarts each DaemonSet and StatefulSet) named, printing one line each; errors come last. */
export async function runRolloutChange(deps: CommandDeps, globals: GlobalOptions, what: keyof typeof CHANGES, args: string[]): Promise<void> {
  const { verb, unsupported, sets, change } = CHANGES[what];
  const client = deps.client(globals);
  const errors: string[] = [];
  for (const t of await targetsOf(client, globals, args)) {
    const who = `${resourceString(t.def)} "${t.name}"`;
    if (!isDeployment(t) && !(sets && isRevisionedSet(t))) {
      errors.push(`${who} ${unsupported}`);
      continue;
    }
    try {
      await updateWithRetry<Deployment & KubeObject>(client, refFor(t.def, t.namespace), t.name, (d) => {
        change(d, deps.io.now());
        return true;
      });
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      errors.push(`${who} ${e.message}`);
      continue;
    }
    deps.io.out(`${kindString(t.def)}/${t.name} ${verb}\n`);
  }
  if (errors.length) throw aggregateError(errors);
}

// ---------------------------------------------------------------------------------------------
// The commands

const examples = (...lines: string[]): string => ['', 'Examples:', ...lines].join('\n');

/** The `rollout` command (commander) and its subcommands. */
export function rolloutCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  const rollout = new Command('rollout')
    .summary('Manage the rollout of a resource')
    .description('Manage the rollout of one or many resources.\n\nValid resource types include:\n\n  *  deployments\n  *  daemonsets\n  *  statefulsets')
    .usage('SUBCOMMAND (TYPE NAME | TYPE/NAME) [options]')
    .addHelpText('after', examples(
      '  # Roll back to the previous deployment',
      '  minikube-lite rollout undo deployment/abc',
      '',
      '  # Check the rollout status of a deployment',
      '  minikube-lite rollout status deployment/abc',
    ));

  rollout.addCommand(new Command('status')
    .summary('Show the status of the rollout')
    .description('Show the status of the rollout.\n\nBy default \'rollout status\' will watch the status of the latest rollout until it\'s done. ' +
      'If you don\'t want to wait for the rollout to finish then you can use --watch=false. If you want to pin to a specific revision ' +
      'and abort if it is rolled over by another revision, use --revision=N where N is the revision you need to watch for.')
    .usage('(TYPE NAME | TYPE/NAME) [options]')
    .argument('[args...]', 'TYPE NAME or TYPE/NAME')
    .option('-w, --watch [bool]', 'Watch the status of the rollout until it\'s done.', (v: string) => parseBoolFlag('--watch')(v.replace(/^=/, '')), true)
    .option('--timeout <duration>', 'The length of time to wait before ending watch, zero means never. Any other values should contain a corresponding time unit (e.g. 1s, 2m, 3h).', '0s')
    .option('--revision <n>', 'Pin to a specific revision for showing its status. Defaults to 0 (last revision).', (v: string) => parseIntFlag(v, '--revision'), 0)
    .addHelpText('after', examples('  # Watch the rollout status of a deployment', '  minikube-lite rollout status deployment/nginx'))
    .action(async (args: string[], opts: RolloutStatusFlags) => runRolloutStatus(deps, globals(), args, opts)));

  rollout.addCommand(new Command('history')
    .summary('View rollout history')
    .description('View previous rollout revisions and configurations.')
    .usage('(TYPE NAME | TYPE/NAME) [--revision=N] [options]')
    .argument('[args...]', 'TYPE NAME or TYPE/NAME')
    .option('--revision <n>', 'See the details, including podTemplate of the revision specified', (v: string) => parseIntFlag(v, '--revision'), 0)
    .addHelpText('after', examples(
      '  # View the rollout history of a deployment',
      '  minikube-lite rollout history deployment/abc',
      '',
      '  # View the details of deployment revision 3',
      '  minikube-lite rollout history deployment/abc --revision=3',
    ))
    .action(async (args: string[], opts: { revision: number }) => runRolloutHistory(deps, globals(), args, opts)));

  rollout.addCommand(new Command('undo')
    .summary('Undo a previous rollout')
    .description('Roll back to a previous rollout.')
    .usage('(TYPE NAME | TYPE/NAME) [--to-revision=N] [options]')
    .argument('[args...]', 'TYPE NAME or TYPE/NAME')
    .option('--to-revision <n>', 'The revision to rollback to. Default to 0 (last revision).', (v: string) => parseIntFlag(v, '--to-revision'), 0)
    .addHelpText('after', examples(
      '  # Roll back to the previous deployment',
      '  minikube-lite rollout undo deployment/abc',
      '',
      '  # Roll back to deployment revision 3',
      '  minikube-lite rollout undo deployment/abc --to-revision=3',
    ))
    .action(async (args: string[], opts: { toRevision: number }) => runRolloutUndo(deps, globals(), args, opts)));

  const simple: [keyof typeof CHANGES, string, string, string[]][] = [
    ['pause', 'Mark the provided resource as paused',
      'Mark the provided resource as paused.\n\nPaused resources will not be reconciled by a controller. Use "minikube-lite rollout resume" ' +
      'to resume a paused resource. Currently only deployments support being paused.',
      ['  # Mark the nginx deployment as paused', '  # Any current state of the deployment will continue its function; new updates', '  # to the deployment will not have an effect as long as the deployment is paused', '  minikube-lite rollout pause deployment/nginx']],
    ['resume', 'Resume a paused resource',
      'Resume a paused resource.\n\nPaused resources will not be reconciled by a controller. By resuming a resource, we allow it to be ' +
      'reconciled again. Currently only deployments support being resumed.',
      ['  # Resume an already paused deployment', '  minikube-lite rollout resume deployment/nginx']],
    ['restart', 'Restart a resource',
      'Restart a resource.\n\nResource rollout will be restarted: the pod template gets a kubectl.kubernetes.io/restartedAt annotation, ' +
      'so every pod is replaced by a rolling update.',
      ['  # Restart a deployment', '  minikube-lite rollout restart deployment/nginx']],
  ];
  for (const [name, summary, description, ex] of simple) {
    rollout.addCommand(new Command(name)
      .summary(summary)
      .description(description)
      .usage('(TYPE NAME | TYPE/NAME) [options]')
      .argument('[args...]', 'TYPE NAME or TYPE/NAME')
      .addHelpText('after', examples(...ex))
      .action(async (args: string[]) => runRolloutChange(deps, globals(), name, args)));
  }
  return rollout;
}
