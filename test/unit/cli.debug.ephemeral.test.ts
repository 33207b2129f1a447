/**
 * `minikube-lite debug POD [--target C] -- CMD`: the ephemeral container form of `debug`, on the
 * CLI's fake client (the API and the kubelet side are covered by kubelet.ephemeral.test.ts and
 * the e2e test). The throwaway-pod form keeps working as before (cli.run.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/types.js';
import { debuggerName, ephemeralDebugContainer, ephemeralProgress, runEphemeralDebug, splitDebugOperands } from '../../src/cli/commands/debug.js';
import { FakeClient, GLOBALS, POD_REF, fakeDeps } from './cli.fakes.js';

describe('debug POD: operands', () => {
  const table: [string, string[], string[], { pod?: string; command: string[] }][] = [
    ['no -- : every operand is the command (the throwaway pod, as before)', ['wget', 'x'], ['node', 'mkl', 'debug', 'wget', 'x'], { command: ['wget', 'x'] }],
    ['-- first: the throwaway pod', ['wget', 'x'], ['node', 'mkl', 'debug', '--image', 'b', '--', 'wget', 'x'], { command: ['wget', 'x'] }],
    ['a POD before --: an ephemeral container', ['web', 'ps'], ['node', 'mkl', 'debug', 'web', '--target', 'app', '--', 'ps'], { pod: 'web', command: ['ps'] }],
    ['pod/NAME is accepted as kubectl does', ['pod/web', 'ps'], ['node', 'mkl', 'debug', 'pod/web', '--', 'ps'], { pod: 'web', command: ['ps'] }],
    ['a POD and -- with nothing after it: the image\'s own command', ['web'], ['node', 'mkl', 'debug', 'web', '--'], { pod: 'web', command: [] }],
  ];
  for (const [name, operands, argv, want] of table) it(name, () => expect(splitDebugOperands(operands, argv)).toEqual(want));

  it('refuses two pods and other kinds', () => {
    expect(() => splitDebugOperands(['a', 'b', 'ps'], ['debug', 'a', 'b', '--', 'ps'])).toThrow(/one pod may be debugged at a time/);
    expect(() => splitDebugOperands(['node/n1', 'ps'], ['debug', 'node/n1', '--', 'ps'])).toThrow(/only pods can be debugged/);
  });

  it('names the container as kubectl does and builds it without ports, probes or resources', () => {
    expect(debuggerName()).toMatch(/^debugger-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(ephemeralDebugContainer('d', 'busybox', ['ps'], 'app')).toEqual({
      name: 'd', image: 'busybox', imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'File', command: ['ps'], targetContainerName: 'app',
    });
  });

  it('reads the debug container\'s progress from ephemeralContainerStatuses', () => {
    const pod = (status: Pod['status']): Pod => ({ metadata: { name: 'web' }, spec: { containers: [] }, status });
    const st = (state: object) => ({ name: 'd', image: 'b', imageID: '', ready: false, restartCount: 0, state });
    expect(ephemeralProgress(pod({ phase: 'Running' }), 'd')).toEqual({ state: 'waiting' });
    expect(ephemeralProgress(pod({ phase: 'Running', ephemeralContainerStatuses: [st({ running: {} })] }), 'd')).toEqual({ state: 'waiting' });
    expect(ephemeralProgress(pod({ phase: 'Running', ephemeralContainerStatuses: [st({ terminated: { exitCode: 4 } })] }), 'd')).toEqual({ state: 'done', exitCode: 4 });
    expect(ephemeralProgress(pod({ phase: 'Running', ephemeralContainerStatuses: [st({ waiting: { reason: 'CreateContainerConfigError', message: 'unable to find target container app' } })] }), 'd'))
      .toEqual({ state: 'failed', message: 'CreateContainerConfigError: unable to find target container app' });
    expect(ephemeralProgress(pod({ phase: 'Succeeded' }), 'd').state).toBe('failed');
  });
});

describe('debug POD: running', () => {
  function cluster(exitCode: number, log: string): FakeClient {
    const c = new FakeClient();
    c.seed(POD_REF, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'nginx' }] }, status: { phase: 'Running' } } as Pod);
    c.onEphemeral = (p) => {
      c.logs_.set('web', log);
      const name = p.spec?.ephemeralContainers?.at(-1)?.name ?? '';
      setTimeout(() => c.modify(POD_REF, 'web', (o) => {
        (o as Pod).status = { phase: 'Running', ephemeralContainerStatuses: [{ name, image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode } } }] };
      }), 5);
    };
    return c;
  }

  it('adds the container through ephemeralcontainers, prints its log and exits with its code; the pod stays', async () => {
    const c = cluster(3, 'PID USER COMMAND\n 1 root nginx: master process\n');
    const deps = fakeDeps(c);
    await runEphemeralDebug(deps, GLOBALS, 'web', ['ps'], { image: 'busybox:latest', timeout: '5s', target: 'app', container: 'dbg' });
    expect(deps.io.stdout).toBe('PID USER COMMAND\n 1 root nginx: master process\n');
    expect(deps.io.stderr).toBe('Targeting container "app".\n');
    expect(deps.io.exitCode).toBe(3);
    expect(c.calls).toEqual(expect.arrayContaining(['GET pods web', 'PUT pods/ephemeralcontainers web', 'LOGS web -c dbg']));
    expect(c.calls.some((x) => x.startsWith('DELETE'))).toBe(false);
    const pod = await c.get<Pod>(POD_REF, 'web');
    expect(pod.spec?.ephemeralContainers).toEqual([ephemeralDebugContainer('dbg', 'busybox:latest', ['ps'], 'app')]);
    expect(c.openWatches).toBe(0);
  });

  it('refuses --node with a POD, and a pod that does not exist is NotFound', async () => {
    const c = cluster(0, '');
    await expect(runEphemeralDebug(fakeDeps(c), GLOBALS, 'web', ['ps'], { image: 'b', timeout: '5s', node: 'n1' })).rejects.toThrow(/--node cannot be used with a POD/);
    await expect(runEphemeralDebug(fakeDeps(c), GLOBALS, 'nope', ['ps'], { image: 'b', timeout: '5s' })).rejects.toThrow(/not found/);
  });
});
