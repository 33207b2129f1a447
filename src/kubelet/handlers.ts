/**
 * Runs the actions that probes and lifecycle hooks share (`exec`, `httpGet`, `tcpSocket`, and
 * `sleep` for hooks) against one container, with a timeout on the kubelet's clock (Kubernetes
 * `pkg/kubelet/prober/prober.go` and `pkg/kubelet/lifecycle/handlers.go`).
 *
 * `exec` runs in the container through the runtime. `httpGet` and `tcpSocket` go to the pod's
 * IP from the node, through the runtime's pod network (`podHttpGet`/`podTcpConnect`), as the
 * real kubelet does: each node's pod subnet is a bridge network of the node itself, so this
 * works on every node without host ports and without tools inside the image.
 */
import { Writable } from 'node:stream';
import type { Container, Pod, Probe, LifecycleHandler } from '../api/types.js';
import { RuntimeError, type Runtime } from '../runtime/types.js';
import { sleepOn, timeoutSignal, type Clock } from './clock.js';
import { resolvePort } from './probes.js';

/** The container an action runs against. */
export interface ActionTarget {
  container: Container;
  containerId: string;
  sandboxId: string;
  /** The pod's IP (for messages; the runtime connects to it). */
  podIP: string;
}

/** What an action may be: a probe's or a hook's handler. */
export type Action = Pick<Probe, 'exec' | 'httpGet' | 'tcpSocket'> & Pick<LifecycleHandler, 'sleep'>;

/**
 * `success`/`failure` as a probe counts them; `error` when the action could not run at all
 * (a named port that does not exist, a container already gone): probes throw those away.
 * `output` is the message for events and status (command output, HTTP status, dial error).
 */
export interface ActionOutcome {
  status: 'success' | 'failure' | 'error';
  output: string;
  /** The failure is the timeout running out (a preStop hook cut short by the grace period). */
  timedOut?: boolean;
}

/** Most of an exec's output kept for messages, as the kubelet keeps 10 KiB. */
const MAX_OUTPUT = 10 * 1024;

export class ActionRunner {
  constructor(private readonly runtime: Runtime, private readonly clock: Clock) {}

  /** Runs `action` with a timeout of `timeoutMs`; never rejects. */
  async run(target: ActionTarget, action: Action, timeoutMs: number): Promise<ActionOutcome> {
    try {
      if (action.exec) return await this.exec(target, action.exec.command ?? [], timeoutMs);
      if (action.httpGet) return await this.httpGet(target, action.httpGet, timeoutMs);
      if (action.tcpSocket) return await this.tcpSocket(target, action.tcpSocket, timeoutMs);
      if (action.sleep) {
        await sleepOn(this.clock, Math.min(action.sleep.seconds * 1000, timeoutMs));
        return { status: 'success', output: '' };
      }
      return { status: 'error', output: 'missing probe handler' };
    } catch (e) {
      return { status: 'error', output: (e as Error).message };
    }
  }

  private async exec(target: ActionTarget, command: string[], timeoutMs: number): Promise<ActionOutcome> {
    let output = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (output.length < MAX_OUTPUT) output += Buffer.from(chunk).toString('utf8');
        cb();
      },
    });
    const timer = timeoutSignal(this.clock, timeoutMs);
    try {
      const res = await this.runtime.exec(target.containerId, command, { stdout: sink, stderr: sink }, { signal: timer.signal });
      return { status: res.exitCode === 0 ? 'success' : 'failure', output: output.slice(0, MAX_OUTPUT) };
    } catch (e) {
      if (timer.timedOut()) return { status: 'failure', output: `command "${command.join(' ')}" timed out`, timedOut: true };
      return { status: 'error', output: (e as Error).message };
    } finally {
      timer.clear();
    }
  }

  private async httpGet(target: ActionTarget, h: NonNullable<Probe['httpGet']>, timeoutMs: number): Promise<ActionOutcome> {
    const port = resolvePort(h.port, target.container);
    const scheme = (h.scheme ?? 'HTTP').toUpperCase() === 'HTTPS' ? 'HTTPS' : 'HTTP';
    const rawPath = h.path || '/';
    const path = rawPath.startsWith('/') ? rawPath : `/${rawPath}`;
    const host = h.host || undefined;
    const url = `${scheme.toLowerCase()}://${host ?? target.podIP}:${port}${path}`;
    const timer = timeoutSignal(this.clock, timeoutMs);
    try {
      const res = await this.runtime.podHttpGet(
        target.sandboxId,
        { host, port, path, scheme, headers: (h.httpHeaders ?? []).map((x) => ({ name: x.name, value: x.value })) },
        { signal: timer.signal },
      );
      if (res.statusCode >= 200 && res.statusCode < 400) return { status: 'success', output: res.body };
      return { status: 'failure', output: `HTTP probe failed with statuscode: ${res.statusCode}` };
    } catch (e) {
      if (timer.timedOut()) return { status: 'failure', output: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, timedOut: true };
      if (e instanceof RuntimeError && !e.notFound) return { status: 'failure', output: e.message };
      return { status: 'error', output: (e as Error).message };
    } finally {
      timer.clear();
    }
  }

  private async tcpSocket(target: ActionTarget, t: NonNullable<Probe['tcpSocket']>, timeoutMs: number): Promise<ActionOutcome> {
    const port = resolvePort(t.port, target.container);
    const host = t.host || undefined;
    const timer = timeoutSignal(this.clock, timeoutMs);
    try {
      await this.runtime.podTcpConnect(target.sandboxId, { host, port }, { signal: timer.signal });
      return { status: 'success', output: '' };
    } catch (e) {
      if (timer.timedOut()) return { status: 'failure', output: `dial tcp ${host ?? target.podIP}:${port}: i/o timeout`, timedOut: true };
      if (e instanceof RuntimeError && !e.notFound) return { status: 'failure', output: e.message };
      return { status: 'error', output: (e as Error).message };
    } finally {
      timer.clear();
    }
  }
}

/** `web_default(uid)`, as the kubelet names a pod in messages. */
export const podDesc = (pod: Pod): string => `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;

/**
 * The message of a failed lifecycle hook, worded like the kubelet's
 * (`Exec lifecycle hook ([sh -c exit 1]) for Container "web" in Pod "p_default(uid)" failed - error: …`).
 */
export function hookFailureMessage(pod: Pod, container: string, action: Action, outcome: ActionOutcome): string {
  const where = `for Container "${container}" in Pod "${podDesc(pod)}" failed`;
  if (action.exec) return `Exec lifecycle hook ([${(action.exec.command ?? []).join(' ')}]) ${where} - error: ${outcome.output.trim() || 'command exited with a non-zero status'}`;
  if (action.httpGet) return `HTTP lifecycle hook (${action.httpGet.path ?? '/'}) ${where} - error: ${outcome.output}`;
  return `Lifecycle hook ${where} - error: ${outcome.output}`;
}
