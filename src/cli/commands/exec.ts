/**
 * `exec POD [-c C] [-i] -- CMD...`: runs a command in a running container through the API's
 * exec subresource, copies its stdout/stderr, and exits with its exit code (printing kubectl's
 * `command terminated with exit code N` when that is not 0).
 */
import { Command } from 'commander';
import type { Pod } from '../../api/types.js';
import { PODS } from '../../client/client.js';
import { CliError, type GlobalOptions } from '../context.js';
import { defaultContainer, podNameArg } from './logs.js';
import type { CommandDeps } from './shared.js';

/**
 * The container to run in, as kubectl picks it: `-c` if given; else the pod's default-container
 * annotation or its first container, with kubectl's `Defaulted container` note when there was a
 * choice. Refuses pods that have finished, like kubectl.
 */
export function chooseContainer(pod: Pod, requested: string | undefined): { container: string; note?: string } {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    throw new CliError(`cannot exec into a container in a completed pod; current phase is ${phase}`);
  }
  if (requested) return { container: requested };
  const { container, note } = defaultContainer(pod);
  return note ? { container, note } : { container };
}

export interface ExecFlags {
  container?: string;
  stdin?: boolean;
  tty?: boolean;
}

/**
 * Runs `command` in the pod (container chosen as kubectl does), copying its output; a non-zero
 * exit code is reported on stderr and becomes the process's exit code.
 */
export async function runExec(deps: CommandDeps, globals: GlobalOptions, podArg: string, command: string[], f: ExecFlags): Promise<void> {
  const { io } = deps;
  if (!command.length) throw new CliError('you must specify at least one command for the container');
  const pod = podNameArg(podArg);
  const client = deps.client(globals);
  const { container, note } = chooseContainer(await client.get<Pod>({ ...PODS, namespace: globals.namespace }, pod), f.container);
  if (note) io.err(note);
  const stdin = f.stdin ? await io.readStdin() : undefined;
  const code = await client.exec(globals.namespace, pod, { container, command, stdin }, {
    stdout: (b) => io.out(b),
    stderr: (b) => io.err(b),
  });
  if (code < 0) throw new CliError('the exec stream ended without an exit code');
  if (code !== 0) {
    io.err(`command terminated with exit code ${code}\n`);
    io.setExitCode(code);
  }
}

/** The `exec` command (commander), running {@link runExec}. */
export function execCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  return new Command('exec')
    .summary('Execute a command in a container')
    .description('Execute a command in a container. Output is copied back as it comes; the command\'s exit code becomes this one\'s.')
    .usage('POD [-c CONTAINER] [-i] -- COMMAND [args...]')
    .argument('<pod>', 'pod name (or pod/NAME)')
    .argument('[command...]', 'the command and its arguments, after --')
    .option('-c, --container <name>', 'Container name. If omitted, use the kubectl.kubernetes.io/default-container annotation for selecting the container to be attached or the first container in the pod will be chosen')
    .option('-i, --stdin', 'Pass stdin to the container (read to its end first)')
    .option('-t, --tty', 'Accepted for kubectl compatibility; no terminal is allocated')
    .addHelpText('after', [
      '',
      'Examples:',
      '  # Get output from running the \'date\' command from pod nginx, using the first container by default',
      '  minikube-lite exec nginx -- date',
      '',
      '  # Get output from running the \'ls\' command in container sidecar of pod localhost-demo',
      '  minikube-lite exec localhost-demo -c sidecar -- ls /',
      '',
      '  # Pass stdin to \'cat\' in pod nginx',
      '  echo hello | minikube-lite exec -i nginx -- cat',
    ].join('\n'))
    .action(async (pod: string, command: string[], opts: ExecFlags) => {
      await runExec(deps, globals(), pod, command, opts);
    });
}
