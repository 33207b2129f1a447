/** Probe workers on a fake clock and the fake runtime: periods, thresholds, initial delay, the startup gate, on-hold. */
import { Writable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Container, Pod } from '../../src/api/types.js';
import { ActionRunner } from '../../src/kubelet/handlers.js';
import { ProbeManager, type ProbedContainer } from '../../src/kubelet/prober.js';
import type { FakeRuntime } from '../../src/runtime/fake.js';
import { FakeClock, MemoryRecorder, fakeRuntime } from './kubelet.fixtures.js';

const sink = () => new Writable({ write: (_c, _e, cb) => cb() });

describe('ProbeManager', () => {
  let clock: FakeClock;
  let fake: FakeRuntime;
  let recorder: MemoryRecorder;
  let changes: string[];
  let manager: ProbeManager;
  let sandbox: { id: string; ip: string };

  beforeEach(async () => {
    clock = new FakeClock();
    fake = fakeRuntime(clock);
    recorder = new MemoryRecorder();
    changes = [];
    manager = new ProbeManager({ runner: new ActionRunner(fake, clock), clock, recorder, onChange: (uid) => changes.push(uid) });
    await fake.ensureNetwork({ name: 'node', subnet: '10.244.1.0/24', gateway: '10.244.1.1', labels: {} });
    sandbox = await fake.runPodSandbox({ name: 'pod', hostname: 'pod', network: 'node', image: 'registry.k8s.io/pause:3.10', labels: {}, portMappings: [] });
  });

  /** Starts an nginx container and hands it to the prober as the pod's only container `web`. */
  async function probe(spec: Omit<Container, 'name'>): Promise<{ pod: Pod; id: string; settle: () => Promise<void> }> {
    const id = await fake.createContainer(sandbox.id, { name: `web-${Math.random()}`, image: 'nginx:latest', env: [], mounts: [], labels: {} });
    await fake.startContainer(id);
    const pod: Pod = { metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'web', image: 'nginx:latest', ...spec }] } };
    const running: ProbedContainer = { name: 'web', id, sandboxId: sandbox.id, podIP: sandbox.ip, startedAt: clock.now() };
    manager.syncPod(pod, [running]);
    return { pod, id, settle: () => manager.idle() };
  }

  const exec = (id: string, cmd: string[]) => fake.exec(id, cmd, { stdout: sink(), stderr: sink() });
  const unhealthy = () => recorder.about('p').filter((e) => e.startsWith('Unhealthy'));

  it('fails a liveness probe after failureThreshold failed periods, once, then holds', async () => {
    const { id, settle } = await probe({ livenessProbe: { httpGet: { path: '/index.html', port: 80 }, periodSeconds: 10, failureThreshold: 3 } });
    await clock.advance(1000, settle);
    expect(manager.results('u1')).toEqual({ [id]: { liveness: 'success' } });
    await exec(id, ['rm', '/usr/share/nginx/html/index.html']);
    await clock.advance(28_000, settle);
    expect(unhealthy()).toHaveLength(2);
    expect(manager.failures('u1')).toEqual({});
    await clock.advance(2000, settle);
    expect(manager.failures('u1')).toEqual({ [id]: 'liveness' });
    expect(changes).toEqual(['u1']);
    expect(unhealthy()).toEqual(Array(3).fill('Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 404'));
    await clock.advance(60_000, settle);
    expect(unhealthy()).toHaveLength(3);
  });

  it('turns a container ready on its first passing readiness probe, and unready after failureThreshold failures', async () => {
    const { id, settle } = await probe({ readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 5, failureThreshold: 2 } });
    await clock.advance(100, settle);
    expect(manager.results('u1')).toEqual({ [id]: { readiness: 'failure' } });
    await exec(id, ['touch', '/tmp/ready']);
    await clock.advance(5000, settle);
    expect(manager.results('u1')[id]?.readiness).toBe('success');
    await exec(id, ['rm', '/tmp/ready']);
    await clock.advance(5000, settle);
    expect(manager.results('u1')[id]?.readiness).toBe('success');
    await clock.advance(5000, settle);
    expect(manager.results('u1')[id]?.readiness).toBe('failure');
    expect(changes).toEqual(['u1', 'u1']);
  });

  it('does not probe before initialDelaySeconds have passed since the container started', async () => {
    const { id, settle } = await probe({ readinessProbe: { tcpSocket: { port: 80 }, initialDelaySeconds: 15, periodSeconds: 10 } });
    await clock.advance(14_900, settle);
    expect(manager.results('u1')[id]?.readiness).toBe('failure');
    await clock.advance(200, settle);
    expect(manager.results('u1')[id]?.readiness).toBe('success');
  });

  it('holds liveness and readiness until the startup probe succeeded', async () => {
    const { pod, id, settle } = await probe({
      startupProbe: { exec: { command: ['cat', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 100 },
      livenessProbe: { exec: { command: ['cat', '/tmp/alive'] }, periodSeconds: 1, failureThreshold: 1 },
      readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
    });
    await clock.advance(5000, settle);
    expect(manager.results('u1')[id]).toEqual({ startup: 'unknown', liveness: 'success', readiness: 'failure' });
    expect(manager.isStarted('u1', pod.spec!.containers[0], id)).toBe(false);
    expect(unhealthy().every((e) => e.startsWith('Unhealthy: Startup probe failed'))).toBe(true);
    await exec(id, ['touch', '/tmp/started']);
    await clock.advance(3000, settle);
    expect(manager.results('u1')[id]).toEqual({ startup: 'success', liveness: 'failure', readiness: 'success' });
    expect(manager.failures('u1')).toEqual({ [id]: 'liveness' });
  });

  it('starts over with the initial verdicts for a new container instance, and stops for a removed pod', async () => {
    const first = await probe({ livenessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 1 } });
    await clock.advance(500, first.settle);
    expect(manager.failures('u1')).toEqual({ [first.id]: 'liveness' });
    const second = await probe({ livenessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 2 } });
    expect(manager.results('u1')).toEqual({ [second.id]: { liveness: 'success' } });
    manager.removePod('u1');
    expect(clock.pending).toBe(0);
    const before = unhealthy().length;
    await clock.advance(10_000, second.settle);
    expect(unhealthy()).toHaveLength(before);
    expect(manager.results('u1')).toEqual({});
  });
});
