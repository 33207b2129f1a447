/**
 * `logs POD [-c C] [-f] [--tail N] [--previous] [--timestamps]`: streams a container's log to
 * stdout as the API server's log subresource sends it. Without `-c`, the container is chosen as
 * kubectl 1.32 chooses it: the pod's `kubectl.kubernetes.io/default-container`, else the first,
 * saying on stderr which one was picked when there was a choice.
 */
import { Command } from 'commander';
import { ApiError } from '../../api/errors.js';
import type { Pod } from '../../api/types.js';
import { PODS } from '../../client/client.js';
import type { GlobalOptions } from '../context.js';
import { CliError } from '../context.js';
import { parseIntFlag, splitTypeName, type CommandDeps } from './shared.js';

/** Annotation naming the container kubectl picks when `-c` is not given. */
export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

/**
 * The container kubectl uses when none is named (`podcmd.FindOrDefaultContainerByName`): the
 * default-container annotation's when it names a container of the pod, else the first. `note`
 * is kubectl's `Defaulted container "a" out of: a, b, c (init)` when it picked the first of
 * several; `annotationMissing` names an annotated container that does not exist.
 */
export function defaultContainer(pod: Pod): { container: string; note?: string; annotationMissing?: string } {
  const containers = pod.spec?.containers ?? [];
  const annotated = pod.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  if (annotated && containers.some((c) => c.name === annotated)) return { container: annotated };
  const container = containers[0]?.name ?? '';
  const inits = pod.spec?.initContainers ?? [];
  const ephemeral = pod.spec?.ephemeralContainers ?? [];
  const r: { container: string; note?: string; annotationMissing?: string } = { container };
  if (annotated) r.annotationMissing = annotated;
  if (containers.length > 1 || inits.length || ephemeral.length) {
    const all = [...containers.map((c) => c.name), ...ephemeral.map((c) => `${c.name} (ephem)`), ...inits.map((c) => `${c.name} (init)`)];
    r.note = `Defaulted container "${container}" out of: ${all.join(', ')}\n`;
  }
  return r;
}

export interface LogsFlags {
  container?: string;
  follow?: boolean;
  tail: number;
  previous?: boolean;
  timestamps?: boolean;
}

/** `web`, `pod/web` or `pods/web` → `web`; other types are refused. */
export function podNameArg(arg: string): string {
  const tn = splitTypeName(arg);
  if (!tn) return arg;
  if (!['po', 'pod', 'pods'].includes(tn.type.toLowerCase())) throw new CliError(`cannot get logs of ${tn.type}: only pods are supported`);
  return tn.name;
}

/**
 * Copies the log stream to stdout until it ends (or, with `-f`, until Ctrl-C). Server errors
 * (unknown pod, ambiguous container) are thrown for main to print.
 */
export async function runLogs(deps: CommandDeps, globals: GlobalOptions, podArg: string, f: LogsFlags): Promise<void> {
  const pod = podNameArg(podArg);
  const client = deps.client(globals);
  // Like kubectl, read the pod first: to say it does not exist, and to pick its container.
  let found: Pod;
  try {
    found = await client.get<Pod>({ ...PODS, namespace: globals.namespace }, pod);
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) throw new CliError(`error from server (NotFound): ${e.message} in namespace "${globals.namespace}"`);
    throw e;
  }
  let container = f.container;
  if (!container) {
    const chosen = defaultContainer(found);
    if (chosen.annotationMissing) deps.io.err(`Default container name "${chosen.annotationMissing}" not found in pod ${pod}\n`);
    if (chosen.note) deps.io.err(chosen.note);
    container = chosen.container;
  }
  const abort = new AbortController();
  // Ctrl-C ends a followed log quietly, with the exit code a killed kubectl would have.
  const off = deps.io.onInterrupt(() => {
    abort.abort();
    deps.io.setExitCode(130);
  });
  try {
    const res = await client.logs(globals.namespace, pod, {
      container, follow: f.follow, tailLines: f.tail >= 0 ? f.tail : undefined, previous: f.previous, timestamps: f.timestamps,
    }, abort.signal);
    if (!res.body) return;
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        deps.io.out(value);
      }
    } catch (e) {
      if (!abort.signal.aborted) throw e;
    }
  } catch (e) {
    if (!abort.signal.aborted) throw e;
  } finally {
    off();
  }
}

/** The `logs` command (commander), running {@link runLogs}. */
export function logsCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  return new Command('logs')
    .summary('Print the logs for a container in a pod')
    .description('Print the logs for a container in a pod. If the pod has only one container, the container name is optional; ' +
      'otherwise the pod\'s kubectl.kubernetes.io/default-container annotation, or its first container, is used.')
    .usage('[-f] POD [-c CONTAINER] [options]')
    .argument('<pod>', 'pod name (or pod/NAME)')
    .option('-c, --container <name>', 'Print the logs of this container')
    .option('-f, --follow', 'Specify if the logs should be streamed.')
    .option('--tail <lines>', 'Lines of recent log file to display. Defaults to -1, showing all log lines.', (v: string) => parseIntFlag(v, '--tail'), -1)
    .option('-p, --previous', 'If true, print the logs for the previous instance of the container in a pod if it exists.')
    .option('--timestamps', 'Include timestamps on each line in the log output')
    .addHelpText('after', [
      '',
      'Examples:',
      '  # Return snapshot logs from pod nginx with only one container',
      '  minikube-lite logs nginx',
      '',
      '  # Return snapshot logs from container nginx of pod web-with-writer',
      '  minikube-lite logs web-with-writer -c nginx',
      '',
      '  # Begin streaming the logs of the ruby container in pod web-1',
      '  minikube-lite logs -f -c ruby web-1',
      '',
      '  # Display only the most recent 20 lines of output in pod nginx',
      '  minikube-lite logs --tail=20 nginx',
      '',
      '  # Return snapshot of previous terminated ruby container logs from pod web-1',
      '  minikube-lite logs -p -c ruby web-1',
    ].join('\n'))
    .action(async (pod: string, opts: LogsFlags) => {
      await runLogs(deps, globals(), pod, opts);
    });
}
