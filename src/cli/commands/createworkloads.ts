/**
 * `create job NAME --image=IMAGE [-- COMMAND...]`, `create job NAME --from=cronjob/CJ` and
 * `create cronjob NAME --image=IMAGE --schedule=SPEC [-- COMMAND...]`, building the objects
 * kubectl builds (`kubectl create job|cronjob`): one container named after the object, restart
 * policy Never for a Job and OnFailure for a CronJob; a Job made from a CronJob takes its job
 * template, the annotation `cronjob.kubernetes.io/instantiate: manual` and the CronJob as owner.
 */
import { Command } from 'commander';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { KubeObject } from '../../api/types.js';
import { CliError, type GlobalOptions } from '../context.js';
import { toJson, toYaml } from '../print.js';
import { refFor, resolveType, splitTypeName, type CommandDeps } from './shared.js';
import { createCommand } from './create.js';

export interface CreateFlags {
  image?: string;
  from?: string;
  schedule?: string;
  restart?: string;
  dryRun?: string;
  output?: string;
}

/** The Job `kubectl create job NAME --image=IMAGE -- COMMAND...` builds. */
export function jobFromFlags(name: string, image: string, command: string[]): Job {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name },
    spec: {
      template: {
        metadata: {},
        spec: { containers: [{ name, image, ...(command.length ? { command } : {}), resources: {} }], restartPolicy: 'Never' },
      },
    },
  };
}

/** The Job `kubectl create job NAME --from=cronjob/CJ` builds from the CronJob. */
export function jobFromCronJob(name: string, cj: CronJob): Job {
  const t = structuredClone(cj.spec?.jobTemplate ?? {});
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: {
      name,
      annotations: { 'cronjob.kubernetes.io/instantiate': 'manual', ...(t.metadata?.annotations ?? {}) },
      ...(t.metadata?.labels ? { labels: t.metadata.labels } : {}),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata?.name ?? '', uid: cj.metadata?.uid ?? '', controller: true }],
    },
    spec: t.spec ?? { template: {} },
  };
}

/** The CronJob `kubectl create cronjob NAME --image=IMAGE --schedule=SPEC -- COMMAND...` builds. */
export function cronJobFromFlags(name: string, image: string, schedule: string, restart: string, command: string[]): CronJob {
  return {
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name },
    spec: {
      schedule,
      jobTemplate: {
        metadata: { name },
        spec: {
          template: {
            metadata: {},
            spec: { containers: [{ name, image, ...(command.length ? { command } : {}), resources: {} }], restartPolicy: restart },
          },
        },
      },
    },
  };
}

async function createOrPrint(deps: CommandDeps, globals: GlobalOptions, obj: KubeObject, f: CreateFlags): Promise<void> {
  const def = resolveType(obj.kind ?? '');
  const dry = f.dryRun ?? 'none';
  if (!['none', 'client', 'server'].includes(dry)) throw new CliError(`Invalid dry-run value (${dry}). Must be "none", "server", or "client".`);
  if (dry === 'server') throw new CliError('--dry-run=server is not supported by minikube-lite create; use --dry-run=client');
  const result = dry === 'client' ? obj : await deps.client(globals).create(refFor(def, globals.namespace), obj);
  const kind = `${def.singular}.${def.group}`;
  if (f.output === 'yaml') deps.io.out(toYaml(result));
  else if (f.output === 'json') deps.io.out(`${toJson(result)}\n`);
  else if (f.output === 'name') deps.io.out(`${kind}/${result.metadata?.name ?? ''}\n`);
  else if (f.output) throw new CliError(`unable to match a printer suitable for the output format "${f.output}", allowed formats are: json,name,yaml`);
  else deps.io.out(`${kind}/${result.metadata?.name ?? ''} created${dry === 'none' ? '' : ` (${dry} dry run)`}\n`);
}

/** `create job`. */
export async function runCreateJob(deps: CommandDeps, globals: GlobalOptions, name: string, command: string[], f: CreateFlags): Promise<void> {
  if (f.from) {
    if (f.image) throw new CliError('either --image or --from must be specified');
    const from = splitTypeName(f.from);
    if (!from || resolveType(from.type).resource !== 'cronjobs') throw new CliError(`from must be an existing cronjob: ${f.from}`);
    const cj = await deps.client(globals).get<CronJob & KubeObject>(refFor(resolveType('cronjobs'), globals.namespace), from.name);
    if (command.length) throw new CliError('cannot specify --from and command');
    return createOrPrint(deps, globals, jobFromCronJob(name, cj), f);
  }
  if (!f.image) throw new CliError('either --image or --from must be specified');
  return createOrPrint(deps, globals, jobFromFlags(name, f.image, command), f);
}

/** `create cronjob`. */
export async function runCreateCronJob(deps: CommandDeps, globals: GlobalOptions, name: string, command: string[], f: CreateFlags): Promise<void> {
  if (!f.image) throw new CliError('required flag(s) "image" not set');
  if (!f.schedule) throw new CliError('required flag(s) "schedule" not set');
  const restart = f.restart || 'OnFailure';
  return createOrPrint(deps, globals, cronJobFromFlags(name, f.image, f.schedule, restart, command), f);
}

const outputOptions = (c: Command): Command => c
  .option('--dry-run <strategy>', 'Must be "none" or "client" ("server" is refused). If client strategy, only print the object that would be sent, without sending it.', 'none')
  .option('-o, --output <format>', 'Output format. One of: (json, yaml, name).');

/** Adds the `job` and `cronjob` subcommands to the `create` command. */
export function addWorkloadCreateCommands(create: Command, deps: CommandDeps, globals: () => GlobalOptions): Command {
  const job = outputOptions(new Command('job')
    .summary('Create a job with the specified name')
    .description('Create a job with the specified name.')
    .usage('NAME --image=image [--from=cronjob/name] -- [COMMAND] [args...]')
    .argument('<name>')
    .argument('[command...]')
    .option('--image <image>', 'Image name to run.')
    .option('--from <resource>', 'The name of the resource to create a Job from (only cronjob is supported).'))
    .addHelpText('after', [
      '', 'Examples:',
      '  # Create a job', '  minikube-lite create job my-job --image=busybox',
      '', '  # Create a job with a command', '  minikube-lite create job my-job --image=busybox -- date',
      '', '  # Create a job from a cron job named "a-cronjob"', '  minikube-lite create job test-job --from=cronjob/a-cronjob',
    ].join('\n'))
    .action(async (name: string, command: string[], f: CreateFlags) => runCreateJob(deps, globals(), name, command, f));
  const cronjob = outputOptions(new Command('cronjob').alias('cj')
    .summary('Create a cron job with the specified name')
    .description('Create a cron job with the specified name.')
    .usage('NAME --image=image --schedule=\'0/5 * * * ?\' -- [COMMAND] [args...]')
    .argument('<name>')
    .argument('[command...]')
    .option('--image <image>', 'Image name to run.')
    .option('--schedule <spec>', 'A schedule in the Cron format the job should be run with.')
    .option('--restart <policy>', 'job\'s restart policy. supported values: OnFailure, Never'))
    .addHelpText('after', [
      '', 'Examples:',
      '  # Create a cron job', '  minikube-lite create cronjob my-job --image=busybox --schedule="*/1 * * * *"',
      '', '  # Create a cron job with a command', '  minikube-lite create cronjob my-job --image=busybox --schedule="*/1 * * * *" -- date',
    ].join('\n'))
    .action(async (name: string, command: string[], f: CreateFlags) => runCreateCronJob(deps, globals(), name, command, f));
  return create.addCommand(job).addCommand(cronjob);
}

/** `create` (configmap, secret, …) with the workload subcommands added. */
export function createWithWorkloadsCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  return addWorkloadCreateCommands(createCommand(deps, globals), deps, globals);
}
