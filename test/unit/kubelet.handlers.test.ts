/** Probe and hook actions (exec, httpGet, tcpSocket, sleep) against the fake runtime, with timeouts on a fake clock. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Container } from '../../src/api/types.js';
import { ActionRunner, hookFailureMessage, type ActionTarget } from '../../src/kubelet/handlers.js';
import type { FakeRuntime } from '../../src/runtime/fake.js';
import { FakeClock, fakeRuntime } from './kubelet.fixtures.js';

const web: Container = { name: 'web', image: 'nginx:latest', ports: [{ name: 'http', containerPort: 80 }] };

describe('ActionRunner', () => {
  let clock: FakeClock;
  let fake: FakeRuntime;
  let runner: ActionRunner;
  let target: ActionTarget;

  beforeEach(async () => {
    clock = new FakeClock();
    fake = fakeRuntime(clock);
    runner = new ActionRunner(fake, clock);
    await fake.ensureNetwork({ name: 'node', subnet: '10.244.1.0/24', gateway: '10.244.1.1', labels: {} });
    const sb = await fake.runPodSandbox({ name: 'pod', hostname: 'pod', network: 'node', image: 'registry.k8s.io/pause:3.10', labels: {}, portMappings: [] });
    const id = await fake.createContainer(sb.id, { name: 'web', image: 'nginx:latest', env: [], mounts: [], labels: {} });
    await fake.startContainer(id);
    target = { container: web, containerId: id, sandboxId: sb.id, podIP: sb.ip };
  });

  it.each<[string, Parameters<ActionRunner['run']>[1], { status: string; output: string | RegExp }]>([
    ['an exec that exits 0 succeeds with its output', { exec: { command: ['echo', 'fine'] } }, { status: 'success', output: 'fine\n' }],
    ['an exec that exits non-zero fails with its output', { exec: { command: ['cat', '/healthz'] } }, { status: 'failure', output: "cat: can't open '/healthz': No such file or directory\n" }],
    ['an httpGet answered 200 succeeds', { httpGet: { path: '/', port: 80 } }, { status: 'success', output: /Welcome to nginx/ }],
    ['an httpGet on a named port succeeds', { httpGet: { path: '/index.html', port: 'http' } }, { status: 'success', output: /nginx/ }],
    ['an httpGet answered 404 fails with the status code', { httpGet: { path: '/healthz', port: 80 } }, { status: 'failure', output: 'HTTP probe failed with statuscode: 404' }],
    ['an httpGet to a closed port fails like Go', { httpGet: { path: '/healthz', port: 81 } },
      { status: 'failure', output: 'Get "http://10.244.1.2:81/healthz": dial tcp 10.244.1.2:81: connect: connection refused' }],
    ['an httpGet on a port name the container lacks cannot run', { httpGet: { path: '/', port: 'metrics' } }, { status: 'error', output: "couldn't find port: metrics in container web" }],
    ['a tcpSocket to a listening port succeeds', { tcpSocket: { port: 'http' } }, { status: 'success', output: '' }],
    ['a tcpSocket to a closed port fails like Go', { tcpSocket: { port: 8080 } }, { status: 'failure', output: 'dial tcp 10.244.1.2:8080: connect: connection refused' }],
    ['an action without a handler cannot run', {}, { status: 'error', output: 'missing probe handler' }],
  ])('%s', async (_name, action, expected) => {
    const out = await runner.run(target, action, 1000);
    expect(out.status).toBe(expected.status);
    if (expected.output instanceof RegExp) expect(out.output).toMatch(expected.output);
    else expect(out.output).toBe(expected.output);
  });

  it('fails an exec that outlives its timeout, once the clock passes it', async () => {
    let settled = false;
    const pending = runner.run(target, { exec: { command: ['sleep', '30'] } }, 2000).finally(() => (settled = true));
    await clock.advance(1900);
    expect(settled).toBe(false);
    await clock.advance(100);
    expect(await pending).toEqual({ status: 'failure', output: 'command "sleep 30" timed out', timedOut: true });
  });

  it('sleeps on the clock for a sleep action, cut short by the timeout', async () => {
    let done = false;
    const pending = runner.run(target, { sleep: { seconds: 10 } }, 3000).then((o) => ((done = true), o));
    await clock.advance(2900);
    expect(done).toBe(false);
    await clock.advance(100);
    expect(await pending).toEqual({ status: 'success', output: '' });
  });

  it('reports an exec into a container that no longer runs as an error, not a failure', async () => {
    await fake.stopContainer(target.containerId, 0);
    expect((await runner.run(target, { exec: { command: ['true'] } }, 1000)).status).toBe('error');
  });

  it('words a failed hook like the kubelet', () => {
    const pod = { metadata: { name: 'p', namespace: 'default', uid: 'u1' } };
    expect(hookFailureMessage(pod, 'web', { exec: { command: ['sh', '-c', 'exit 1'] } }, { status: 'failure', output: 'no\n' }))
      .toBe('Exec lifecycle hook ([sh -c exit 1]) for Container "web" in Pod "p_default(u1)" failed - error: no');
    expect(hookFailureMessage(pod, 'web', { httpGet: { path: '/stop', port: 80 } }, { status: 'failure', output: 'HTTP probe failed with statuscode: 500' }))
      .toBe('HTTP lifecycle hook (/stop) for Container "web" in Pod "p_default(u1)" failed - error: HTTP probe failed with statuscode: 500');
  });
});
