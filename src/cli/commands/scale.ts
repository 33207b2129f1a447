/**
 * `scale (TYPE NAME | TYPE/NAME | TYPE -l SEL | TYPE --all) --replicas=N`: sets the desired
 * replicas through the `scale` subresource (GET the Scale, PUT it back with the new
 * `spec.replicas`), with kubectl's preconditions (`--current-replicas`, `--resource-version`)
 * and, with `--timeout`, waits on the watch until the status caught up.
 */
import { Command } from 'commander';
import { ApiError } from '../../api/errors.js';
import type { KubeObject, Scale } from '../../api/types.js';
import type { ResourceRef } from '../../client/client.js';
import { CliError, type GlobalOptions } from '../context.js';
import { parseGetArgs } from './get.js';
import { findTargets, kindString, NO_RESOURCES_MESSAGE, parseDuration, parseIntFlag, refFor, type Client, type CommandDeps } from './shared.js';
import { watchUntil, WaitTimeout } from './wait.js';

export interface ScaleFlags {
  replicas?: number;
  currentReplicas: number;
  resourceVersion?: string;
  selector?: string;
  all?: boolean;
  timeout: string;
}

/** Conditions the Scale must meet before it is changed (kubectl's `ScalePrecondition`). */
export interface ScalePrecondition {
  /** -1: any. */
  size: number;
  resourceVersion?: string;
}

/** Checks a Scale against the precondition; kubectl's wording when it does not hold. */
export function checkPrecondition(scale: Scale, p: ScalePrecondition): void {
  const current = scale.spec?.replicas ?? 0;
  if (p.size !== -1 && current !== p.size) throw new CliError(`Expected replicas to be ${p.size}, was ${current}`);
  const rv = scale.metadata?.resourceVersion ?? '';
  if (p.resourceVersion && rv !== p.resourceVersion) throw new CliError(`Expected resource version to be ${p.resourceVersion}, was ${rv}`);
}

/** Retries of a Scale write that lost a race (409 Conflict) before giving up. */
const CONFLICT_RETRIES = 5;

/**
 * GETs the Scale, checks the precondition, PUTs it with `replicas` (conditional on the
 * resourceVersion read). A conflict reads again and retries; the precondition is checked on
 * every read, so a stale `--resource-version` fails rather than retrying.
 */
export async function scaleTo(client: Client, ref: ResourceRef, name: string, replicas: number, p: ScalePrecondition): Promise<Scale> {
  for (let attempt = 1; ; attempt++) {
    const scale = await client.getScale(ref, name);
    checkPrecondition(scale, p);
    try {
      return await client.updateScale(ref, name, { ...scale, spec: { ...scale.spec, replicas } });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409 && e.reason === 'Conflict') || attempt >= CONFLICT_RETRIES) throw e;
    }
  }
}

interface Scalable extends KubeObject {
  spec?: { replicas?: number };
  status?: { replicas?: number };
}

/**
 * Waits on the watch until the object's status has `replicas` replicas (or someone else changed
 * its desired replicas meanwhile), as kubectl's `scale --timeout` does.
 */
async function waitForReplicas(client: Client, ref: ResourceRef, name: string, replicas: number, timeoutMs: number): Promise<void> {
  const synced = (o: Scalable): boolean => (o.spec?.replicas ?? 1) !== replicas || (o.status?.replicas ?? 0) === replicas;
  const current = await client.get<Scalable>(ref, name);
  if (synced(current)) return;
  try {
    await watchUntil<Scalable, true>(client, ref, name, { resourceVersion: current.metadata?.resourceVersion, timeoutMs },
      (e) => (e.type !== 'DELETED' && synced(e.object) ? true : undefined));
  } catch (e) {
    if (e instanceof WaitTimeout) throw new CliError(`timed out waiting for "${name}" to be synced`);
    throw e;
  }
}

/** Scales each object named and prints `deployment.apps/NAME scaled`. */
export async function runScale(deps: CommandDeps, globals: GlobalOptions, args: string[], f: ScaleFlags): Promise<void> {
  if (f.replicas === undefined) throw new CliError('required flag(s) "replicas" not set');
  if (f.replicas < 0) throw new CliError('The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0');
  if (f.currentReplicas < -1) throw new CliError('The --current-replicas must specify an integer of -1 or greater');
  if (!args.length) {
    throw new CliError(NO_RESOURCES_MESSAGE);
  }
  const timeoutMs = parseDuration(f.timeout, '--timeout');
  const client = deps.client(globals);
  const targets = await findTargets(client, globals.namespace, parseGetArgs(args).requests, { selector: f.selector, all: f.all });
  if (f.resourceVersion && targets.length > 1) throw new CliError('cannot use --resource-version with multiple resources');
  if (!targets.length) throw new CliError('no objects passed to scale');
  for (const t of targets) {
    if (!t.def.subresources.includes('scale')) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const ref = refFor(t.def, t.namespace);
    try {
      await scaleTo(client, ref, t.name, f.replicas, { size: f.currentReplicas, resourceVersion: f.resourceVersion });
    } catch (e) {
      // As kubectl words it when the only object named does not exist.
      if (e instanceof ApiError && e.code === 404 && targets.length === 1) throw new CliError(`no objects passed to scale ${e.message}`);
      throw e;
    }
    if (timeoutMs > 0) await waitForReplicas(client, ref, t.name, f.replicas, timeoutMs);
    deps.io.out(`${kindString(t.def)}/${t.name} scaled\n`);
  }
}

/** The `scale` command (commander), running {@link runScale}. */
export function scaleCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  return new Command('scale')
    .summary('Set a new size for a deployment or replica set')
    .description([
      'Set a new size for a deployment or replica set.',
      'Scale also allows users to specify one or more preconditions for the scale action.',
      'If --current-replicas or --resource-version is specified, it is validated before the scale is attempted, and it is ' +
        'guaranteed that the precondition holds true when the scale is sent to the server.',
    ].join('\n\n'))
    .usage('[--resource-version=version] [--current-replicas=count] --replicas=COUNT (TYPE NAME | TYPE/NAME | TYPE -l label | TYPE --all) [options]')
    .argument('[args...]', 'TYPE NAME..., TYPE/NAME..., or TYPE with -l/--all')
    .option('--replicas <count>', 'The new desired number of replicas. Required.', (v: string) => parseIntFlag(v, '--replicas'))
    .option('--current-replicas <count>', 'Precondition for current size. Requires that the current size of the resource match this value in order to scale. -1 (default) for no condition.',
      (v: string) => parseIntFlag(v, '--current-replicas'), -1)
    .option('--resource-version <version>', 'Precondition for resource version. Requires that the current resource version match this value in order to scale.')
    .option('-l, --selector <selector>', 'Selector (label query) to filter on, supports \'=\', \'==\', and \'!=\'.(e.g. -l key1=value1,key2=value2)')
    .option('--all', 'Select all resources in the namespace of the specified resource types')
    .option('--timeout <duration>', 'The length of time to wait before giving up on a scale operation, zero means don\'t wait. Any other values should contain a corresponding time unit (e.g. 1s, 2m, 3h).', '0s')
    .addHelpText('after', [
      '',
      'Examples:',
      '  # Scale a deployment named \'myapp\' to 3',
      '  minikube-lite scale deployment myapp --replicas=3',
      '',
      '  # If the deployment named mysql\'s current size is 2, scale mysql to 3',
      '  minikube-lite scale --current-replicas=2 --replicas=3 deployment/mysql',
      '',
      '  # Scale a replica set named \'foo\' to 3',
      '  minikube-lite scale --replicas=3 rs/foo',
    ].join('\n'))
    .action(async (args: string[], opts: ScaleFlags) => runScale(deps, globals(), args, opts));
}
