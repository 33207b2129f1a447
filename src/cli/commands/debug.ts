/**
 * `debug [--image busybox:latest] [--node NODE] -- CMD...`: what `kubectl run --rm -i
 * --restart=Never` does, for looking at the cluster from inside: a throwaway Pod runs CMD, its
 * log is printed (and nothing else on stdout, so `debug -- wget -qO- http://IP/` prints exactly
 * the page), the Pod is deleted, and the command's exit code becomes ours.
 *
 * `debug POD [--image busybox:latest] [--target CONTAINER] [-c NAME] -- CMD...`: what `kubectl
 * debug POD` does, without a terminal: an ephemeral container running CMD is added to the running
 * POD (its network, and with `--target` that container's processes), its log is printed and its
 * exit code becomes ours. Ephemeral containers cannot be removed: it stays, ended, in the pod.
 */
import { randomInt } from 'node:crypto';
import { Command } from 'commander';
import type { EphemeralContainer } from 'kubernetes-types/core/v1.js';
import type { ContainerStatus, Pod } from '../../api/types.js';
import { NODES, PODS } from '../../client/client.js';
import { CliError, type GlobalOptions } from '../context.js';
import { parseDuration, type Client, type CommandDeps } from './shared.js';
import { watchUntil, WaitTimeout } from './wait.js';

/** Label on every debug pod, so leftovers can be found. */
export const DEBUG_LABEL = 'app.kubernetes.io/managed-by';
export const DEBUG_LABEL_VALUE = 'minikube-lite-debug';

export interface DebugFlags {
  image: string;
  node?: string;
  timeout: string;
  /** Ephemeral mode: the container whose process namespace the debug container joins. */
  target?: string;
  /** Ephemeral mode: the debug container's name (default `debugger-` and 5 random letters, as kubectl). */
  container?: string;
}

/** The throwaway Pod: one container running `command`, never restarted, killed without grace. */
export function debugPod(namespace: string, command: string[], image: string, node?: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'debug-', namespace, labels: { [DEBUG_LABEL]: DEBUG_LABEL_VALUE } },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      ...(node ? { nodeName: node } : {}),
      containers: [{ name: 'debug', image, imagePullPolicy: 'IfNotPresent', command }],
    },
  };
}

/** Where a debug pod is: still going, finished with an exit code, or stuck for good. */
export type DebugProgress =
  | { state: 'waiting' }
  | { state: 'done'; exitCode: number }
  | { state: 'failed'; message: string };

/** Container waiting reasons that will not resolve by themselves for a never-restarted pod. */
const FATAL_WAITING = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName',
  'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'CrashLoopBackOff']);

/** A debug container's own verdict: ended, or stuck for a reason that will not resolve; else undefined. */
function containerProgress(cs: ContainerStatus | undefined): DebugProgress | undefined {
  if (cs?.state?.terminated) return { state: 'done', exitCode: cs.state.terminated.exitCode };
  const waiting = cs?.state?.waiting;
  if (waiting?.reason && FATAL_WAITING.has(waiting.reason)) {
    return { state: 'failed', message: waiting.message ? `${waiting.reason}: ${waiting.message}` : waiting.reason };
  }
  return undefined;
}

/** Reads a debug pod's state (pure; the planner `runDebug` acts on). */
export function debugProgress(pod: Pod): DebugProgress {
  const own = containerProgress(pod.status?.containerStatuses?.[0]);
  if (own) return own;
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return { state: 'failed', message: scheduled.message || 'the pod cannot be scheduled' };
  }
  if (pod.status?.phase === 'Succeeded') return { state: 'done', exitCode: 0 };
  if (pod.status?.phase === 'Failed') return { state: 'failed', message: pod.status.message || pod.status.reason || 'the pod failed' };
  return { state: 'waiting' };
}

class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

/** Deletes the pod at once; it may already be gone. Best effort: the command's result wins. */
async function removePod(client: Client, namespace: string, name: string, warn: (s: string) => void): Promise<void> {
  try {
    await client.delete({ ...PODS, namespace }, name, { gracePeriodSeconds: 0 });
  } catch (e) {
    if ((e as { code?: number }).code !== 404) warn(`warning: could not delete debug pod ${name}: ${(e as Error).message}\n`);
  }
}

/**
 * Creates the debug pod, waits on the watch until its container has finished (or cannot run),
 * prints its log, sets the exit code to the container's, and always deletes the pod (also on
 * failure, timeout and Ctrl-C). A pod that cannot run throws a CliError with the reason; an
 * unknown `--node` is the server's NotFound, before anything is created.
 */
export async function runDebug(deps: CommandDeps, globals: GlobalOptions, command: string[], f: DebugFlags): Promise<void> {
  const { io } = deps;
  if (!command.length) throw new CliError('you must specify a command to run: minikube-lite debug -- COMMAND [args...]');
  const timeoutMs = parseDuration(f.timeout, '--timeout');
  const client = deps.client(globals);
  const ns = globals.namespace;
  // A pod bound to a node that does not exist would wait for nothing: refuse it up front.
  if (f.node) await client.get(NODES, f.node);
  const created = await client.create<Pod>({ ...PODS, namespace: ns }, debugPod(ns, command, f.image, f.node));
  const name = created.metadata?.name ?? '';
  const abort = new AbortController();
  const off = io.onInterrupt(() => abort.abort(new Interrupted()));
  try {
    const outcome = await watchUntil<Pod, DebugProgress>(client, { ...PODS, namespace: ns }, name, { timeoutMs, signal: abort.signal }, (e) => {
      if (e.type === 'DELETED') return { state: 'failed', message: `pod ${name} was deleted before its command finished` };
      const p = debugProgress(e.object);
      return p.state === 'waiting' ? undefined : p;
    });
    if (outcome.state === 'failed') throw new CliError(outcome.message);
    if (outcome.state === 'done') {
      const res = await client.logs(ns, name, {}, abort.signal);
      io.out(new Uint8Array(await res.arrayBuffer()));
      io.setExitCode(outcome.exitCode);
    }
  } catch (e) {
    if (e instanceof WaitTimeout) throw new CliError(`timed out waiting for the condition on pods/${name}`);
    if (e instanceof Interrupted || abort.signal.aborted) throw new CliError('interrupted', 130);
    throw e;
  } finally {
    off();
    await removePod(client, ns, name, (s) => io.err(s));
  }
}

const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** kubectl's default debug container name: `debugger-` and 5 random characters. */
export function debuggerName(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return `debugger-${s}`;
}

/** The ephemeral container `debug POD` adds: CMD in IMAGE, in TARGET's processes when given. */
export function ephemeralDebugContainer(name: string, image: string, command: string[], target?: string): EphemeralContainer {
  return {
    name, image, imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'File',
    ...(command.length ? { command } : {}),
    ...(target ? { targetContainerName: target } : {}),
  };
}

/** Where an ephemeral debug container is (pure; `runEphemeralDebug` acts on it). */
export function ephemeralProgress(pod: Pod, name: string): DebugProgress {
  const own = containerProgress(pod.status?.ephemeralContainerStatuses?.find((s) => s.name === name));
  if (own) return own;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return { state: 'failed', message: `pod ${pod.metadata?.name ?? ''} has ended (${phase}): its ephemeral containers will not run` };
  return { state: 'waiting' };
}

/**
 * Adds an ephemeral container running `command` to pod `podName` (through the
 * `ephemeralcontainers` subresource, conditional on the pod's resourceVersion), waits on the
 * watch until it has ended (or cannot run), prints its log and sets the exit code to its own.
 * Throws CliError for a container name already in use, a target that does not exist (the API
 * server's 422), or a container that cannot run.
 */
export async function runEphemeralDebug(deps: CommandDeps, globals: GlobalOptions, podName: string, command: string[], f: DebugFlags): Promise<void> {
  const { io } = deps;
  if (f.node) throw new CliError('--node cannot be used with a POD: the debug container runs on the pod\'s node');
  const timeoutMs = parseDuration(f.timeout, '--timeout');
  const client = deps.client(globals);
  const ref = { ...PODS, namespace: globals.namespace };
  const pod = await client.get<Pod>(ref, podName);
  const name = f.container || debuggerName();
  const added: Pod = {
    ...pod,
    spec: { ...pod.spec, containers: pod.spec?.containers ?? [], ephemeralContainers: [...(pod.spec?.ephemeralContainers ?? []), ephemeralDebugContainer(name, f.image, command, f.target)] },
  };
  await client.updateEphemeralContainers(ref, added);
  if (f.target) io.err(`Targeting container "${f.target}".\n`);
  const abort = new AbortController();
  const off = io.onInterrupt(() => abort.abort(new Interrupted()));
  try {
    const outcome = await watchUntil<Pod, DebugProgress>(client, ref, podName, { timeoutMs, signal: abort.signal }, (e) => {
      if (e.type === 'DELETED') return { state: 'failed', message: `pod ${podName} was deleted before the debug container finished` };
      const p = ephemeralProgress(e.object, name);
      return p.state === 'waiting' ? undefined : p;
    });
    if (outcome.state === 'failed') throw new CliError(outcome.message);
    if (outcome.state === 'done') {
      const res = await client.logs(globals.namespace, podName, { container: name }, abort.signal);
      io.out(new Uint8Array(await res.arrayBuffer()));
      io.setExitCode(outcome.exitCode);
    }
  } catch (e) {
    if (e instanceof WaitTimeout) throw new CliError(`timed out waiting for debug container ${name} of pods/${podName} to finish`);
    if (e instanceof Interrupted || abort.signal.aborted) throw new CliError('interrupted', 130);
    throw e;
  } finally {
    off();
  }
}

/**
 * Splits `debug`'s operands at the `--` of `argv` (the raw command line): operands before it
 * name the pod (`POD` or `pod/POD`), those after it are the command. Without `--` every operand
 * is the command (the throwaway pod form, as before).
 */
export function splitDebugOperands(operands: string[], argv: readonly string[]): { pod?: string; command: string[] } {
  const at = argv.indexOf('--', Math.max(0, argv.indexOf('debug')));
  if (at < 0) return { command: operands };
  const after = argv.length - at - 1;
  const before = operands.slice(0, operands.length - after);
  if (before.length === 0) return { command: operands };
  if (before.length > 1) throw new CliError(`one pod may be debugged at a time, got ${before.join(' ')}; the command comes after --`);
  const pod = before[0].replace(/^(pods?|po)\//, '');
  if (pod.includes('/')) throw new CliError(`only pods can be debugged with an ephemeral container, not ${before[0]}`);
  return { pod, command: operands.slice(operands.length - after) };
}

/** The `debug` command (commander), running {@link runDebug}. */
export function debugCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  return new Command('debug')
    .summary('Run a command in a throwaway pod and print its output')
    .description([
      'Run a command in a throwaway pod and print its output, like \'kubectl run --rm -i --restart=Never\'.',
      'The pod (generateName debug-, label app.kubernetes.io/managed-by=minikube-lite-debug) runs the command once, its log ' +
        'is printed to stdout, the pod is deleted, and the command\'s exit code becomes this command\'s. Nothing else is printed ' +
        'on stdout. If the pod cannot run (image pull failure, unschedulable), the reason is printed and the exit code is 1.',
    ].join('\n\n'))
    .usage('[--image IMAGE] [--node NODE] -- COMMAND [args...]\n       minikube-lite debug POD [--image IMAGE] [--target CONTAINER] [-c NAME] -- COMMAND [args...]')
    .argument('[command...]', 'the command and its arguments, after --; a POD before -- adds an ephemeral container to it')
    .option('--image <image>', 'Container image to run', 'busybox:latest')
    .option('--node <node>', 'Run on this node (bypasses the scheduler)')
    .option('--target <container>', 'With POD: share the processes of this container of the pod')
    .option('-c, --container <name>', 'With POD: name of the ephemeral container (default debugger-xxxxx)')
    .option('--timeout <duration>', 'How long to wait for the command to finish', '60s')
    .addHelpText('after', [
      '',
      'Examples:',
      '  # Fetch a page from a pod by its IP, from inside the cluster',
      '  minikube-lite debug -- wget -qO- http://10.244.1.2/',
      '',
      '  # Look at the network from node-2',
      '  minikube-lite debug --node node-2 -- ip addr',
      '',
      '  # Use another image',
      '  minikube-lite debug --image alpine:latest -- cat /etc/os-release',
      '',
      '  # Add an ephemeral container to pod web, seeing the processes of its container app',
      '  # (it shares the pod\'s network: localhost is the app)',
      '  minikube-lite debug web --target app -- sh -c \'ps; wget -qO- http://localhost/\'',
    ].join('\n'))
    .action(async (operands: string[], opts: DebugFlags, cmd: Command) => {
      let root: Command = cmd;
      while (root.parent) root = root.parent;
      // commander keeps the raw command line (not in its typings): where `--` was tells POD from COMMAND.
      const raw = (root as unknown as { rawArgs?: string[] }).rawArgs ?? process.argv;
      const { pod, command } = splitDebugOperands(operands, raw);
      if (pod !== undefined) await runEphemeralDebug(deps, globals(), pod, command, opts);
      else {
        if (opts.target || opts.container) throw new CliError('--target and --container need a POD: minikube-lite debug POD --target CONTAINER -- COMMAND');
        await runDebug(deps, globals(), command, opts);
      }
    });
}
