import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/errors.js';
import type { KubeObject, Pod } from '../../src/api/types.js';
import { debugPod, debugProgress, runDebug } from '../../src/cli/commands/debug.js';
import { chooseContainer, runExec } from '../../src/cli/commands/exec.js';
import { podNameArg, runLogs } from '../../src/cli/commands/logs.js';
import { FakeClient, GLOBALS, NODE_REF, POD_REF, fakeDeps } from './cli.fakes.js';
import { nginxPod, readyNode } from './cli.fixtures.js';

describe('debug', () => {
  it('builds a throwaway pod: generateName, label, busybox IfNotPresent, Never restarted, no grace', () => {
    expect(debugPod('default', ['wget', '-qO-', 'http://10.0.0.1/'], 'busybox:latest')).toEqual({
      apiVersion: 'v1', kind: 'Pod',
      metadata: { generateName: 'debug-', namespace: 'default', labels: { 'app.kubernetes.io/managed-by': 'minikube-lite-debug' } },
      spec: {
        restartPolicy: 'Never', terminationGracePeriodSeconds: 0,
        containers: [{ name: 'debug', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['wget', '-qO-', 'http://10.0.0.1/'] }],
      },
    });
    expect(debugPod('default', ['true'], 'busybox:latest', 'node-2').spec?.nodeName).toBe('node-2');
  });

  it('reads the pod\'s progress from its status', () => {
    const pod = (status: Pod['status']): Pod => ({ metadata: { name: 'd' }, spec: { containers: [] }, status });
    expect(debugProgress(pod({ phase: 'Pending' }))).toEqual({ state: 'waiting' });
    expect(debugProgress(pod({ phase: 'Pending', containerStatuses: [{ name: 'debug', image: 'b', imageID: '', ready: false, restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating' } } }] }))).toEqual({ state: 'waiting' });
    expect(debugProgress(pod({ phase: 'Failed', containerStatuses: [{ name: 'debug', image: 'b', imageID: '', ready: false, restartCount: 0,
      state: { terminated: { exitCode: 3 } } }] }))).toEqual({ state: 'done', exitCode: 3 });
    expect(debugProgress(pod({ phase: 'Pending', containerStatuses: [{ name: 'debug', image: 'b', imageID: '', ready: false, restartCount: 0,
      state: { waiting: { reason: 'ErrImagePull', message: 'pull access denied' } } }] }))).toEqual({ state: 'failed', message: 'ErrImagePull: pull access denied' });
    expect(debugProgress(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available' }] })))
      .toEqual({ state: 'failed', message: '0/2 nodes are available' });
  });

  /** A fake cluster whose "kubelet" runs every created debug pod to the given end. */
  function runner(end: (name: string) => Partial<NonNullable<Pod['status']>>, log = ''): FakeClient {
    const c = new FakeClient();
    c.onCreate = (o) => {
      const name = o.metadata?.name ?? '';
      c.logs_.set(name, log);
      setTimeout(() => c.modify(POD_REF, name, (p) => { (p as Pod).status = { phase: 'Pending', ...end(name) }; }), 5);
    };
    return c;
  }

  it('prints exactly the log, deletes the pod and exits with the command\'s code', async () => {
    const c = runner(() => ({ phase: 'Failed', containerStatuses: [{ name: 'debug', image: 'busybox', imageID: '', ready: false, restartCount: 0,
      state: { terminated: { exitCode: 7 } } }] }), '<html>Welcome to nginx!</html>\n');
    const deps = fakeDeps(c);
    await runDebug(deps, GLOBALS, ['wget', '-qO-', 'http://10.244.1.5/'], { image: 'busybox:latest', timeout: '5s' });
    expect(deps.io.stdout).toBe('<html>Welcome to nginx!</html>\n');
    expect(deps.io.stderr).toBe('');
    expect(deps.io.exitCode).toBe(7);
    expect(c.calls).toContain('DELETE pods debug-x7k2q grace=0');
    expect(c.openWatches).toBe(0);
  });

  it('fails with the reason when the image cannot be pulled, and still deletes the pod', async () => {
    const c = runner(() => ({ containerStatuses: [{ name: 'debug', image: 'nope', imageID: '', ready: false, restartCount: 0,
      state: { waiting: { reason: 'ErrImagePull', message: 'manifest unknown' } } }] }));
    const deps = fakeDeps(c);
    await expect(runDebug(deps, GLOBALS, ['true'], { image: 'nope:1', timeout: '5s' })).rejects.toThrow('ErrImagePull: manifest unknown');
    expect(c.calls).toContain('DELETE pods debug-x7k2q grace=0');
  });

  it('times out, deleting the pod', async () => {
    const c = new FakeClient();
    const deps = fakeDeps(c);
    await expect(runDebug(deps, GLOBALS, ['sleep', '100'], { image: 'busybox:latest', timeout: '50ms' })).rejects.toThrow('timed out waiting for the condition on pods/debug-x7k2q');
    expect(c.calls).toContain('DELETE pods debug-x7k2q grace=0');
    expect(c.openWatches).toBe(0);
  });

  it('deletes the pod when interrupted', async () => {
    const c = new FakeClient();
    const deps = fakeDeps(c);
    const run = runDebug(deps, GLOBALS, ['sleep', '100'], { image: 'busybox:latest', timeout: '60s' });
    await new Promise((r) => setTimeout(r, 10));
    deps.io.interrupt();
    await expect(run).rejects.toThrow('interrupted');
    expect(c.calls).toContain('DELETE pods debug-x7k2q grace=0');
  });

  it('checks that --node names a node before creating anything', async () => {
    const c = new FakeClient();
    await expect(runDebug(fakeDeps(c), GLOBALS, ['true'], { image: 'busybox:latest', node: 'node-9', timeout: '5s' })).rejects.toThrow('nodes "node-9" not found');
    expect(c.calls).toEqual(['GET nodes node-9']);
    const ok = runner(() => ({ phase: 'Succeeded', containerStatuses: [{ name: 'debug', image: 'busybox', imageID: '', ready: false, restartCount: 0,
      state: { terminated: { exitCode: 0 } } }] }));
    ok.seed(NODE_REF, readyNode('node-1', '172.18.0.2') as KubeObject);
    await runDebug(fakeDeps(ok), GLOBALS, ['true'], { image: 'busybox:latest', node: 'node-1', timeout: '5s' });
    expect(ok.calls.slice(0, 2)).toEqual(['GET nodes node-1', 'CREATE pods debug-x7k2q']);
  });

  it('needs a command', async () => {
    await expect(runDebug(fakeDeps(new FakeClient()), GLOBALS, [], { image: 'busybox:latest', timeout: '60s' })).rejects.toThrow('you must specify a command');
  });
});

describe('exec', () => {
  const twoContainers = (): Pod => {
    const p = nginxPod();
    p.spec!.containers.push({ name: 'sidecar', image: 'busybox' });
    return p;
  };

  it('defaults to the first container of several, saying so like kubectl', () => {
    expect(chooseContainer(twoContainers(), undefined)).toEqual({ container: 'nginx', note: 'Defaulted container "nginx" out of: nginx, sidecar\n' });
    expect(chooseContainer(twoContainers(), 'sidecar')).toEqual({ container: 'sidecar' });
    expect(chooseContainer(nginxPod(), undefined)).toEqual({ container: 'nginx' });
  });

  it('honours the default-container annotation', () => {
    const p = twoContainers();
    p.metadata!.annotations = { 'kubectl.kubernetes.io/default-container': 'sidecar' };
    expect(chooseContainer(p, undefined)).toEqual({ container: 'sidecar' });
  });

  it('refuses a completed pod', () => {
    const p = nginxPod();
    p.status!.phase = 'Succeeded';
    expect(() => chooseContainer(p, undefined)).toThrow('cannot exec into a container in a completed pod; current phase is Succeeded');
  });

  it('copies output and exits with the command\'s code, saying so on stderr', async () => {
    const c = new FakeClient();
    c.seed(POD_REF, nginxPod() as KubeObject);
    c.execResult = { stdout: 'out\n', stderr: 'sh: can\'t create x: Read-only file system\n', code: 2 };
    const deps = fakeDeps(c);
    await runExec(deps, GLOBALS, 'nginx', ['sh', '-c', 'echo x > x'], {});
    expect(deps.io.stdout).toBe('out\n');
    expect(deps.io.stderr).toBe('sh: can\'t create x: Read-only file system\ncommand terminated with exit code 2\n');
    expect(deps.io.exitCode).toBe(2);
    expect(c.lastExec).toMatchObject({ pod: 'nginx', container: 'nginx', command: ['sh', '-c', 'echo x > x'] });
  });

  it('passes stdin with -i', async () => {
    const c = new FakeClient();
    c.seed(POD_REF, nginxPod() as KubeObject);
    const deps = fakeDeps(c);
    deps.io.stdin = 'hello';
    await runExec(deps, GLOBALS, 'pod/nginx', ['cat'], { stdin: true });
    expect(c.lastExec?.stdin?.toString()).toBe('hello');
    expect(deps.io.exitCode).toBe(0);
  });

  it('needs a command', async () => {
    await expect(runExec(fakeDeps(new FakeClient()), GLOBALS, 'nginx', [], {})).rejects.toThrow('you must specify at least one command for the container');
  });
});

describe('logs', () => {
  /** A cluster with pod `web`: containers a and b (and init container setup when asked), logs of each. */
  function multi(opts: { annotation?: string; init?: boolean } = {}): FakeClient {
    const c = new FakeClient();
    const p = nginxPod();
    p.metadata = { name: 'web', namespace: 'default', ...(opts.annotation ? { annotations: { 'kubectl.kubernetes.io/default-container': opts.annotation } } : {}) };
    p.spec!.containers = [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'busybox' }];
    if (opts.init) p.spec!.initContainers = [{ name: 'setup', image: 'busybox' }];
    c.seed(POD_REF, p as KubeObject);
    c.logs_.set('web', 'log\n');
    return c;
  }

  it('streams the log of a single-container pod to stdout, saying nothing else', async () => {
    const c = new FakeClient();
    c.seed(POD_REF, nginxPod() as KubeObject);
    c.logs_.set('nginx', 'line 1\nline 2\n');
    const deps = fakeDeps(c);
    await runLogs(deps, GLOBALS, 'nginx', { tail: -1 });
    expect(deps.io.stdout).toBe('line 1\nline 2\n');
    expect(deps.io.stderr).toBe('');
    expect(c.calls).toContain('LOGS nginx -c nginx');
  });

  it('defaults to the first of several containers and says so on stderr, like kubectl 1.32', async () => {
    const c = multi({ init: true });
    const deps = fakeDeps(c);
    await runLogs(deps, GLOBALS, 'web', { tail: -1 });
    expect(deps.io.stderr).toBe('Defaulted container "a" out of: a, b, setup (init)\n');
    expect(deps.io.stdout).toBe('log\n');
    expect(c.calls).toContain('LOGS web -c a');
  });

  it('uses the default-container annotation silently, and says when it names no container', async () => {
    const annotated = multi({ annotation: 'b' });
    const deps = fakeDeps(annotated);
    await runLogs(deps, GLOBALS, 'web', { tail: -1 });
    expect(deps.io.stderr).toBe('');
    expect(annotated.calls).toContain('LOGS web -c b');

    const wrong = multi({ annotation: 'nope' });
    const deps2 = fakeDeps(wrong);
    await runLogs(deps2, GLOBALS, 'web', { tail: -1 });
    expect(deps2.io.stderr).toBe('Default container name "nope" not found in pod web\nDefaulted container "a" out of: a, b\n');
    expect(wrong.calls).toContain('LOGS web -c a');
  });

  it('takes -c as given, and words a missing pod as kubectl logs does', async () => {
    const c = multi();
    await runLogs(fakeDeps(c), GLOBALS, 'web', { tail: -1, container: 'b' });
    expect(c.calls).toContain('LOGS web -c b');
    await expect(runLogs(fakeDeps(c), GLOBALS, 'nope', { tail: -1 })).rejects.toThrow('error from server (NotFound): pods "nope" not found in namespace "default"');
  });

  it('lets the server\'s errors through to be printed', async () => {
    const c = multi();
    c.logs = async () => { throw new ApiError(400, 'BadRequest', 'container c is not valid for pod web'); };
    await expect(runLogs(fakeDeps(c), GLOBALS, 'web', { tail: -1, container: 'c' })).rejects.toThrow('container c is not valid for pod web');
  });

  it('accepts pod/NAME and refuses other types', () => {
    expect(podNameArg('pod/web')).toBe('web');
    expect(podNameArg('web')).toBe('web');
    expect(() => podNameArg('node/n1')).toThrow('cannot get logs of node');
  });
});
