/**
 * `logs POD [-c C] [-f] [--tail N] [--previous] [--timestamps]`: streams a container's log to
 * stdout as the API server's log subresource sends it. Choosing among several containers is the
 * server's job: without `-c` it answers 400 with the list to choose from, printed as kubectl does.
 */
import { Command } from 'commander';
import type { GlobalOptions } from '../context.js';
import { CliError } from '../context.js';
import { parseIntFlag, splitTypeName, type CommandDeps } from './shared.js';

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
  const abort = new AbortController();
  // Ctrl-C ends a followed log quietly, with the exit code a killed kubectl would have.
  const off = deps.io.onInterrupt(() => {
    abort.abort();
    deps.io.setExitCode(130);
  });
  try {
    const res = await client.logs(globals.namespace, pod, {
      container: f.container, follow: f.follow, tailLines: f.tail >= 0 ? f.tail : undefined, previous: f.previous, timestamps: f.timestamps,
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
    .description('Print the logs for a container in a pod. If the pod has only one container, the container name is optional.')
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
