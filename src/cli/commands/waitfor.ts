/**
 * `wait (TYPE NAME | TYPE/NAME | TYPE -l SEL | TYPE --all) --for=delete|condition=NAME[=VALUE]|jsonpath='{PATH}'[=VALUE]`:
 * kubectl's wait. Each object is read, then followed on the watch stream (never polled) until
 * the condition holds; `TYPE/NAME condition met` is printed for each, in turn. One deadline
 * (`--timeout`, 30s by default) covers them all.
 */
import { Command } from 'commander';
import { ApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/types.js';
import { CliError, type GlobalOptions } from '../context.js';
import { parseGetArgs } from './get.js';
import { findResults, JsonPathExecError, parseJsonPath, relaxedJsonPath } from './jsonpath.js';
import { findTargets, kindString, NO_RESOURCES_MESSAGE, parseDuration, refFor, type Client, type CommandDeps, type Target } from './shared.js';
import { waitForDeletion, watchUntil, WaitTimeout } from './wait.js';

export interface WaitFlags {
  for?: string;
  timeout: string;
  selector?: string;
  all?: boolean;
}

/** What `--for` asks: deletion, or a check of the object's latest state. */
export type WaitCondition =
  | { kind: 'delete' }
  | { kind: 'check'; met: (obj: KubeObject) => boolean };

interface Condition {
  type?: string;
  status?: string;
  observedGeneration?: number;
}

/** Go's `strings.EqualFold`, for ASCII (what condition names and values are). */
const equalFold = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * Whether `obj` has condition `name` with status `value` (both compared case-insensitively), and
 * that condition is not older than the object's generation (when it or status records which
 * generation it observed), as kubectl checks it.
 */
export function conditionMet(obj: KubeObject, name: string, value: string): boolean {
  const status = (obj as { status?: { conditions?: Condition[]; observedGeneration?: number } }).status;
  const c = (status?.conditions ?? []).find((x) => typeof x.type === 'string' && equalFold(x.type, name) && typeof x.status === 'string');
  if (!c) return false;
  const generation = obj.metadata?.generation;
  const observed = c.observedGeneration ?? status?.observedGeneration;
  if (generation !== undefined && observed !== undefined && observed < generation) return false;
  return equalFold(c.status!, value);
}

/** Parses `--for` with kubectl's errors. */
export function parseWaitFor(spec: string | undefined): WaitCondition {
  const s = spec ?? '';
  if (s.toLowerCase() === 'delete') return { kind: 'delete' };
  if (s.startsWith('condition=')) {
    const rest = s.slice('condition='.length);
    const eq = rest.indexOf('=');
    const name = eq < 0 ? rest : rest.slice(0, eq);
    const value = eq < 0 ? 'true' : rest.slice(eq + 1);
    return { kind: 'check', met: (obj) => conditionMet(obj, name, value) };
  }
  if (s.startsWith('jsonpath=')) {
    const parts = s.split('=').slice(1);
    if (parts.length < 1 || parts.length > 2) {
      throw new CliError("jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3 or --for=jsonpath='{.status.readyReplicas}'");
    }
    const expr = relaxedJsonPath(parts[0]);
    if (!expr) throw new CliError('jsonpath expression cannot be empty');
    if (parts.length === 2 && parts[1] === '') throw new CliError('jsonpath wait value cannot be empty');
    const jp = parseJsonPath(expr);
    const want = parts.length === 2 ? parts[1].replace(/^['"]+|['"]+$/g, '') : undefined;
    return {
      kind: 'check',
      met: (obj) => {
        let found: unknown[];
        try {
          found = findResults(jp, obj);
        } catch (e) {
          if (e instanceof JsonPathExecError) throw new CliError(e.message);
          throw e;
        }
        if (!found.length) return false;
        if (found.length > 1) throw new CliError('given jsonpath expression matches more than one value');
        if (want === undefined) return true;
        const v = found[0];
        if (v !== null && typeof v === 'object') throw new CliError('jsonpath leads to a nested object or list which is not supported');
        return String(v === null ? '<nil>' : v).trim() === want.trim();
      },
    };
  }
  throw new CliError(`unrecognized condition: ${JSON.stringify(s)}`);
}

/** `pods/web`: how kubectl names an object in wait errors (resource without group). */
const objectName = (t: Target): string => `${t.def.resource}/${t.name}`;

/**
 * Waits for one object (within `deadline`). Resolves true when the condition holds, false when
 * there was nothing to wait for (deletion of an object that does not exist: kubectl skips it
 * silently); throws kubectl's errors otherwise: NotFound when a checked object does not exist,
 * `condition not met` for a zero timeout, `timed out waiting for the condition on pods/x`.
 */
async function waitOne(client: Client, t: Target, cond: WaitCondition, deadline: number, once: boolean): Promise<boolean> {
  const ref = refFor(t.def, t.namespace);
  const timedOut = new CliError(`timed out waiting for the condition on ${objectName(t)}`);
  if (cond.kind === 'delete') {
    let current: KubeObject;
    try {
      current = await client.get(ref, t.name);
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return false;
      throw e;
    }
    if (once) throw new CliError(`condition not met for ${objectName(t)}`);
    if (Date.now() >= deadline) throw timedOut;
    try {
      await waitForDeletion(client, ref, t.name, current.metadata?.uid, deadline - Date.now());
    } catch (e) {
      if (e instanceof WaitTimeout) throw timedOut;
      throw e;
    }
    return true;
  }
  for (;;) {
    const obj = await client.get(ref, t.name);
    if (cond.met(obj)) return true;
    if (once) throw new CliError(`condition not met for ${objectName(t)}`);
    if (Date.now() >= deadline) throw timedOut;
    try {
      // A deleted object may come back: keep waiting (kubectl does) until the deadline.
      await watchUntil(client, ref, t.name, { resourceVersion: obj.metadata?.resourceVersion, timeoutMs: deadline - Date.now() },
        (e) => (e.type !== 'DELETED' && cond.met(e.object) ? true : undefined));
      return true;
    } catch (e) {
      if (e instanceof WaitTimeout) throw timedOut;
      // The watch window moved past our resourceVersion: read again and go on.
      if (e instanceof ApiError && e.code === 410) continue;
      throw e;
    }
  }
}

/** Waits for each object named, printing `TYPE/NAME condition met` as each one is done. */
export async function runWait(deps: CommandDeps, globals: GlobalOptions, args: string[], f: WaitFlags): Promise<void> {
  const cond = parseWaitFor(f.for);
  const neg = f.timeout.trim().startsWith('-');
  const timeoutMs = neg ? 168 * 3_600_000 : parseDuration(f.timeout, '--timeout');
  if (!args.length) {
    throw new CliError(NO_RESOURCES_MESSAGE);
  }
  const client = deps.client(globals);
  const targets = await findTargets(client, globals.namespace, parseGetArgs(args).requests, { selector: f.selector, all: f.all });
  if (!targets.length && cond.kind !== 'delete') throw new CliError('no matching resources found');
  const deadline = Date.now() + timeoutMs;
  for (const t of targets) {
    if (await waitOne(client, t, cond, deadline, timeoutMs === 0)) deps.io.out(`${kindString(t.def)}/${t.name} condition met\n`);
  }
}

/** The `wait` command (commander), running {@link runWait}. */
export function waitCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  return new Command('wait')
    .summary('Wait for a specific condition on one or many resources')
    .description([
      'Wait for a specific condition on one or many resources.',
      'The command takes multiple resources and waits until the specified condition is seen in the Status field of every given resource.',
      'Alternatively, the command can wait for the given set of resources to be deleted by providing the "delete" keyword as the value to the --for flag.',
      'A successful message will be printed to stdout indicating when the specified condition has been met.',
    ].join('\n\n'))
    .usage("(TYPE NAME | TYPE/NAME | TYPE -l label | TYPE --all) [--for=delete|--for condition=available|--for=jsonpath='{}'[=value]] [options]")
    .argument('[args...]', 'TYPE NAME..., TYPE/NAME..., or TYPE with -l/--all')
    .option('--for <condition>', 'The condition to wait on: [delete|condition=condition-name[=condition-value]|jsonpath=\'{JSONPath expression}\'=[JSONPath value]]. ' +
      'The default condition-value is true. Condition values are compared after Unicode simple case folding, which is a more general form of case-insensitivity.')
    .option('--timeout <duration>', 'The length of time to wait before giving up. Zero means check once and don\'t wait, negative means wait for a week.', '30s')
    .option('-l, --selector <selector>', 'Selector (label query) to filter on, supports \'=\', \'==\', and \'!=\'.(e.g. -l key1=value1,key2=value2)')
    .option('--all', 'Select all resources in the namespace of the specified resource types')
    .addHelpText('after', [
      '',
      'Examples:',
      '  # Wait for the pod "busybox1" to contain the status condition of type "Ready"',
      '  minikube-lite wait --for=condition=Ready pod/busybox1',
      '',
      '  # The default value of status condition is true; you can wait for other targets after an equal delimiter',
      '  minikube-lite wait --for=condition=Ready=false pod/busybox1',
      '',
      '  # Wait for the pod "busybox1" to contain the status phase to be "Running"',
      '  minikube-lite wait --for=jsonpath=\'{.status.phase}\'=Running pod/busybox1',
      '',
      '  # Wait for the deployment "myapp" to be available',
      '  minikube-lite wait --for=condition=Available deployment/myapp',
      '',
      '  # Wait for the pod "busybox1" to be deleted, with a timeout of 60s, after having issued the "delete" command',
      '  minikube-lite delete pod/busybox1',
      '  minikube-lite wait --for=delete pod/busybox1 --timeout=60s',
    ].join('\n'))
    .action(async (args: string[], opts: WaitFlags) => runWait(deps, globals(), args, opts));
}
