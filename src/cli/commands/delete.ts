/**
 * `delete -f FILE | TYPE NAME... | TYPE -l SEL | TYPE --all`: deletes, prints kubectl's
 * `pod "web" deleted`, then (by default, like kubectl's --wait=true) waits on the watch stream
 * until every deleted object is really gone.
 */
import { Command } from 'commander';
import { ApiError } from '../../api/errors.js';
import type { ResourceDef } from '../../api/resource.js';
import { findKind } from '../../api/registry.js';
import type { KubeObject } from '../../api/types.js';
import { CliError, type GlobalOptions } from '../context.js';
import { mapManifests, readManifests } from '../manifest.js';
import { formatApiError } from '../print.js';
import {
  collect, kindString, NO_RESOURCES_MESSAGE, parseBoolFlag, parseDuration, parseIntFlag, refFor, resolveType, resourceString, splitTypeName,
  type CommandDeps,
} from './shared.js';
import { waitForDeletion, WaitTimeout } from './wait.js';

export interface DeleteFlags {
  filename: string[];
  selector?: string;
  all?: boolean;
  allNamespaces?: boolean;
  gracePeriod: number;
  force?: boolean;
  now?: boolean;
  wait: boolean;
  ignoreNotFound?: boolean;
  timeout: string;
  output?: string;
  /** `background` (default; also a bare `--cascade`), `foreground`, `orphan`, or the legacy `true`/`false`. */
  cascade?: string | boolean;
}

type Propagation = 'Background' | 'Foreground' | 'Orphan';

/**
 * `--cascade` as kubectl reads it: `background|foreground|orphan`, or the deprecated booleans
 * (`true` = background, `false` = orphan, with a warning). Throws for anything else.
 */
export function cascadingStrategy(value: string | boolean | undefined, warn: (s: string) => void): Propagation {
  const v = value === undefined || value === true ? 'background' : String(value);
  if (/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(v)) {
    const on = /^(1|t|T|TRUE|true|True)$/.test(v);
    warn(`warning: --cascade=${on} is deprecated (boolean value) and can be replaced with --cascade=${on ? 'background' : 'orphan'}.\n`);
    return on ? 'Background' : 'Orphan';
  }
  switch (v) {
    case 'background': return 'Background';
    case 'foreground': return 'Foreground';
    case 'orphan': return 'Orphan';
    default: throw new CliError(`invalid cascade value (${v}). Must be "background", "foreground", or "orphan"`);
  }
}

/** One object to delete. */
interface Target {
  def: ResourceDef;
  namespace?: string;
  name: string;
  /** The manifest file it came from, for `error when deleting "FILE"`. */
  source?: string;
}

export const FORCE_WARNING = 'Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. ' +
  'The resource may continue to run on the cluster indefinitely.\n';

/** Extra time, past the grace period, that delete waits for an object to disappear. */
const WAIT_SLACK_MS = 60_000;
/** Kubernetes' default termination grace period, used when the server does not say. */
const DEFAULT_GRACE_SECONDS = 30;

/**
 * The grace period to send (undefined = the object's own), after kubectl's rules: `--now` is 1,
 * `--grace-period=0` without `--force` becomes 1, `--force` alone means 0.
 */
export function effectiveGracePeriod(f: Pick<DeleteFlags, 'gracePeriod' | 'force' | 'now'>): number | undefined {
  let g = f.gracePeriod;
  if (f.now) {
    if (g !== -1) throw new CliError('--now and --grace-period cannot be specified together');
    g = 1;
  }
  if (g === 0 && !f.force) g = 1;
  if (f.force && g < 0) g = 0;
  if (f.force && g > 0) throw new CliError('--force and --grace-period greater than 0 cannot be specified together');
  return g < 0 ? undefined : g;
}

async function targetsFromArgs(deps: CommandDeps, globals: GlobalOptions, args: string[], f: DeleteFlags): Promise<Target[]> {
  const namespace = f.allNamespaces ? undefined : globals.namespace;
  if (args.length && args.every((a) => a.includes('/'))) {
    return args.map((a) => {
      const tn = splitTypeName(a)!;
      return { def: resolveType(tn.type), namespace: globals.namespace, name: tn.name };
    });
  }
  if (args.slice(1).some((a) => a.includes('/'))) {
    throw new CliError('there is no need to specify a resource type as a separate argument when passing arguments in resource/name form ' +
      `(e.g. 'minikube-lite delete resource/<resource_name>' instead of 'minikube-lite delete resource resource/<resource_name>')`);
  }
  const defs = args[0].split(',').filter(Boolean).map(resolveType);
  const names = args.slice(1);
  if (names.length) {
    if (f.selector || f.all) throw new CliError('name cannot be provided when a selector or --all is specified');
    return defs.flatMap((def) => names.map((name) => ({ def, namespace: globals.namespace, name })));
  }
  if (!f.selector && !f.all) throw new CliError('resource(s) were provided, but no name was specified');
  const client = deps.client(globals);
  const out: Target[] = [];
  for (const def of defs) {
    const list = await client.list(refFor(def, namespace), { labelSelector: f.selector });
    for (const o of list.items) out.push({ def, namespace: o.metadata?.namespace, name: o.metadata?.name ?? '' });
  }
  return out;
}

/**
 * Deletes every target, printing one line each, collects server errors (NotFound ignored with
 * --ignore-not-found, the default with -l/--all), then waits for the deleted ones to vanish.
 */
export async function runDelete(deps: CommandDeps, globals: GlobalOptions, args: string[], f: DeleteFlags): Promise<void> {
  const { io } = deps;
  if (f.output && f.output !== 'name') throw new CliError(`unexpected -o output mode: ${f.output}. We only support '-o name'`);
  if (f.all && f.selector) throw new CliError('cannot set --all and --selector at the same time');
  const propagationPolicy = cascadingStrategy(f.cascade, (s) => io.err(s));
  const grace = effectiveGracePeriod(f);
  if (grace === 0 && f.force) io.err(FORCE_WARNING);
  const timeoutMs = f.timeout ? parseDuration(f.timeout, '--timeout') : 0;

  let targets: Target[];
  if (f.filename.length) {
    if (args.length) throw new CliError('resource arguments cannot be given together with -f');
    const docs = mapManifests(await readManifests(f.filename, async () => (await io.readStdin()).toString('utf8')), findKind);
    if (!docs.length) throw new CliError('no objects passed to delete');
    targets = docs.map((d) => ({
      def: d.def, namespace: d.object.metadata?.namespace || globals.namespace, name: d.object.metadata?.name ?? '', source: d.source,
    }));
  } else if (args.length) {
    targets = await targetsFromArgs(deps, globals, args, f);
  } else {
    throw new CliError(NO_RESOURCES_MESSAGE);
  }
  const ignoreNotFound = f.ignoreNotFound ?? !!(f.selector || f.all);

  const client = deps.client(globals);
  const errors: ApiError[] = [];
  const deleted: { target: Target; uid?: string; graceSeconds: number }[] = [];
  for (const t of targets) {
    const ref = refFor(t.def, t.namespace);
    try {
      const res = await client.delete<KubeObject>(ref, t.name, { gracePeriodSeconds: grace, propagationPolicy });
      const meta = (res as KubeObject).metadata;
      const details = (res as { details?: { uid?: string } }).details;
      deleted.push({ target: t, uid: meta?.uid ?? details?.uid, graceSeconds: meta?.deletionGracePeriodSeconds ?? grace ?? DEFAULT_GRACE_SECONDS });
      if (f.output === 'name') io.out(`${kindString(t.def)}/${t.name}\n`);
      else io.out(`${kindString(t.def)} "${t.name}" ${grace === 0 ? 'force deleted' : 'deleted'}\n`);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (e.code === 404 && ignoreNotFound) continue;
      errors.push(t.source ? new ApiError(e.code, e.reason, `error when deleting "${t.source}": ${e.message}`, e.causes, e.details) : e);
    }
  }
  if (!deleted.length && !errors.length) io.out('No resources found\n');

  if (f.wait && deleted.length) {
    const waits = deleted.map(async ({ target: t, uid, graceSeconds }) => {
      const ms = timeoutMs > 0 ? timeoutMs : graceSeconds * 1000 + WAIT_SLACK_MS;
      try {
        await waitForDeletion(client, refFor(t.def, t.namespace), t.name, uid, ms);
      } catch (e) {
        if (e instanceof WaitTimeout) throw new CliError(`timed out waiting for the condition on ${resourceString(t.def)}/${t.name}`);
        if (e instanceof ApiError && (e.code === 403 || e.code === 405)) return; // may not watch: do not fail the delete
        throw e;
      }
    });
    const results = await Promise.allSettled(waits);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed && !errors.length) throw failed.reason;
  }
  if (errors.length) {
    for (const e of errors) io.err(formatApiError(e, { inList: errors.length > 1 }) + '\n');
    io.setExitCode(1);
  }
}

/** The `delete` command (commander), running {@link runDelete}. */
export function deleteCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  return new Command('delete')
    .summary('Delete resources by file names, stdin, resources and names, or by resources and label selector')
    .description([
      'Delete resources by file names, stdin, resources and names, or by resources and label selector.',
      'JSON and YAML formats are accepted. Only one type of argument may be specified: file names, resources and names, or ' +
        'resources and label selector.',
      'Pods are deleted gracefully: they get a grace period (their own terminationGracePeriodSeconds, or --grace-period) ' +
        'to stop before they are killed; --now sets a grace period of 1. By default the command waits until every deleted ' +
        'object is really gone (--wait=false returns at once). To force delete a resource, use --force with ' +
        '--grace-period=0: the object is removed at once, without waiting for its containers to stop.',
    ].join('\n\n'))
    .usage('([-f FILENAME] | TYPE [(NAME | -l label | --all)]) [options]')
    .argument('[args...]', 'TYPE NAME..., TYPE/NAME..., or TYPE with -l/--all')
    .option('-f, --filename <file>', 'containing the resource to delete (file, directory or - for stdin); repeatable', collect, [])
    .option('-l, --selector <selector>', 'Selector (label query) to filter on, supports \'=\', \'==\', and \'!=\'.(e.g. -l key1=value1,key2=value2)')
    .option('--all', 'Delete all resources, in the namespace of the specified resource types.')
    .option('-A, --all-namespaces', 'If present, list the requested object(s) across all namespaces (with -l or --all).')
    .option('--grace-period <seconds>', 'Period of time in seconds given to the resource to terminate gracefully. Ignored if negative. Set to 1 for immediate shutdown. Can only be set to 0 when --force is true (force deletion).',
      (v: string) => parseIntFlag(v, '--grace-period'), -1)
    .option('--force', 'If true, immediately remove resources from API and bypass graceful deletion. Note that immediate deletion of some resources may result in inconsistency or data loss and requires confirmation.')
    .option('--cascade [strategy]', 'Must be "background", "orphan", or "foreground". Selects the deletion cascading strategy for the dependents ' +
      '(e.g. Pods created by a ReplicationController). Defaults to background.', 'background')
    .option('--now', 'If true, resources are signaled for immediate shutdown (same as --grace-period=1).')
    .option('--wait [bool]', 'If true, wait for resources to be gone before returning. This waits for finalizers.', parseBoolFlag('--wait'), true)
    .option('--ignore-not-found [bool]', 'Treat "resource not found" as a successful delete. Defaults to "true" when --all or -l is specified.', parseBoolFlag('--ignore-not-found'))
    .option('--timeout <duration>', 'The length of time to wait before giving up on a delete, zero means the grace period plus 60s', '0s')
    .option('-o, --output <format>', 'Output mode. Use "-o name" for shorter output (resource/name).')
    .addHelpText('after', [
      '',
      'Examples:',
      '  # Delete a pod using the type and name specified in pod.yaml',
      '  minikube-lite delete -f ./pod.yaml',
      '',
      '  # Delete a pod based on the type and name in the YAML passed into stdin',
      '  cat pod.yaml | minikube-lite delete -f -',
      '',
      '  # Delete pods with label name=myLabel',
      '  minikube-lite delete pods -l name=myLabel',
      '',
      '  # Delete a deployment but keep its replica sets and pods',
      '  minikube-lite delete deployment myapp --cascade=orphan',
      '',
      '  # Delete a pod with minimal delay',
      '  minikube-lite delete pod foo --now',
      '',
      '  # Force delete a pod on a dead node',
      '  minikube-lite delete pod foo --grace-period=0 --force',
      '',
      '  # Delete all pods',
      '  minikube-lite delete pods --all',
    ].join('\n'))
    .action(async (args: string[], opts: DeleteFlags) => {
      await runDelete(deps, globals(), args, opts);
    });
}
