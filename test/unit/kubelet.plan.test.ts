import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/types.js';
import type { ContainerStatus, SandboxStatus } from '../../src/runtime/types.js';
import { restartDelayMs, DEFAULT_BACKOFF } from '../../src/kubelet/backoff.js';
import { computePodActions, shouldRestart } from '../../src/kubelet/plan.js';
import { computePodStatus, podPhase } from '../../src/kubelet/status.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const policy = { baseMs: 10_000, capMs: 300_000, resetMs: 600_000 };

function pod(restartPolicy = 'Always', names = ['web']): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: { restartPolicy, containers: names.map((name) => ({ name, image: 'nginx' })) },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] },
  };
}

const sandbox = (over: Partial<SandboxStatus> = {}): SandboxStatus => ({
  id: 'sb1', name: 'sb', state: 'ready', ip: '10.244.1.5', labels: { 'io.kubernetes.sandbox.attempt': '0' }, createdAt: new Date(T0), ...over,
});

const ctr = (name: string, over: Partial<ContainerStatus> & { restart?: number } = {}): ContainerStatus => ({
  id: `${name}-${over.restart ?? 0}`, name, sandboxId: 'sb1', state: 'running', image: 'nginx', imageRef: 'sha256:abc', exitCode: 0,
  reason: '', message: '', createdAt: new Date(T0 + (over.restart ?? 0)), startedAt: new Date(T0),
  labels: { 'io.kubernetes.container.name': name, 'io.kubernetes.container.restartCount': String(over.restart ?? 0) }, ...over,
});

describe('computePodActions', () => {
  it('creates a sandbox and starts every container for a new pod', () => {
    const a = computePodActions(pod('Always', ['a', 'b']), { sandboxes: [], containers: [] }, T0, policy);
    expect(a).toMatchObject({ killPod: false, createSandbox: true, sandboxAttempt: 0 });
    expect(a.containersToStart.map((c) => [c.name, c.restartCount])).toEqual([['a', 0], ['b', 0]]);
  });

  it('does nothing for a pod whose containers all run', () => {
    const a = computePodActions(pod(), { sandboxes: [sandbox()], containers: [ctr('web')] }, T0, policy);
    expect(a.containersToStart).toEqual([]);
    expect(a.createSandbox).toBe(false);
    expect(a.sandboxId).toBe('sb1');
  });

  it('recreates the sandbox and restarts the containers when the pause container died', () => {
    const a = computePodActions(pod(), { sandboxes: [sandbox({ state: 'notready', ip: '' })], containers: [ctr('web', { restart: 2 })] }, T0, policy);
    expect(a).toMatchObject({ killPod: true, createSandbox: true, sandboxAttempt: 1 });
    expect(a.containersToStart).toEqual([{ name: 'web', restartCount: 3, reason: 'sandbox recreated' }]);
  });

  it('starts a container that is missing from a ready sandbox', () => {
    const a = computePodActions(pod('Always', ['a', 'b']), { sandboxes: [sandbox()], containers: [ctr('a')] }, T0, policy);
    expect(a.containersToStart).toEqual([{ name: 'b', restartCount: 0, reason: 'first start' }]);
  });

  const exited = (exitCode: number, restart = 0, finishedAt = T0) =>
    ctr('web', { state: 'exited', exitCode, restart, startedAt: new Date(finishedAt - 1000), finishedAt: new Date(finishedAt) });

  const table: [string, string, number, boolean][] = [
    ['Always', 'exit 0', 0, true],
    ['Always', 'exit 1', 1, true],
    ['OnFailure', 'exit 0', 0, false],
    ['OnFailure', 'exit 1', 1, true],
    ['Never', 'exit 0', 0, false],
    ['Never', 'exit 1', 1, false],
  ];
  it.each(table)('with restartPolicy %s a container that ends with %s is restarted: %s', (restartPolicy, _d, code, restarts) => {
    expect(shouldRestart(restartPolicy, code)).toBe(restarts);
    const a = computePodActions(pod(restartPolicy), { sandboxes: [sandbox()], containers: [exited(code)] }, T0, policy);
    expect(a.containersToStart.length).toBe(restarts ? 1 : 0);
  });

  it('restarts the first crash at once and holds the second in back-off for the base delay', () => {
    const first = computePodActions(pod(), { sandboxes: [sandbox()], containers: [exited(1, 0)] }, T0, policy);
    expect(first.containersToStart).toEqual([{ name: 'web', restartCount: 1, reason: 'restart' }]);
    const second = computePodActions(pod(), { sandboxes: [sandbox()], containers: [exited(1, 1)] }, T0 + 4000, policy);
    expect(second.containersToStart).toEqual([]);
    expect(second.backoff).toEqual({ web: 6000 });
    const later = computePodActions(pod(), { sandboxes: [sandbox()], containers: [exited(1, 1)] }, T0 + 10_000, policy);
    expect(later.containersToStart.map((c) => c.restartCount)).toEqual([2]);
  });

  it('gives no new sandbox to a pod whose containers all ended for good', () => {
    const a = computePodActions(pod('Never'), { sandboxes: [sandbox({ state: 'notready', ip: '' })], containers: [exited(0)] }, T0, policy);
    expect(a.createSandbox).toBe(false);
    expect(a.containersToStart).toEqual([]);
  });

  it('keeps the last two instances of a container and removes older ones', () => {
    const cs = [exited(1, 0), exited(1, 1), exited(1, 2)];
    cs.forEach((c, i) => { c.id = `i${i}`; });
    const a = computePodActions(pod(), { sandboxes: [sandbox()], containers: cs }, T0 + 1e6, policy);
    expect(a.containersToRemove).toEqual(['i0']);
  });
});

describe('restartDelayMs', () => {
  it.each([
    [0, 0], [1, 10_000], [2, 20_000], [3, 40_000], [5, 160_000], [6, 300_000], [20, 300_000],
  ])('after %i restarts waits %i ms', (count, ms) => {
    expect(restartDelayMs(DEFAULT_BACKOFF, count, 1000)).toBe(ms);
  });

  it('starts over after a container ran for ten minutes', () => {
    expect(restartDelayMs(DEFAULT_BACKOFF, 5, 600_000)).toBe(0);
  });
});

describe('computePodStatus', () => {
  const now = new Date(T0 + 5000);
  it('reports a running pod as Running and Ready with its IP and container IDs', () => {
    const s = computePodStatus({ pod: pod(), state: { sandboxes: [sandbox()], containers: [ctr('web')] }, waiting: {}, backoff: {}, hostIP: '10.244.1.1', now });
    expect(s.phase).toBe('Running');
    expect(s.podIP).toBe('10.244.1.5');
    expect(s.hostIP).toBe('10.244.1.1');
    const c = s.containerStatuses?.[0];
    expect(c).toMatchObject({ name: 'web', ready: true, restartCount: 0, containerID: 'docker://web-0', imageID: 'docker-pullable://sha256:abc' });
    expect(c?.state?.running?.startedAt).toBe('2026-01-01T00:00:00Z');
    expect(Object.fromEntries((s.conditions ?? []).map((x) => [x.type, x.status]))).toMatchObject({ Ready: 'True', ContainersReady: 'True', Initialized: 'True', PodScheduled: 'True' });
  });

  it('reports a waiting reason the kubelet knows, such as ErrImageNeverPull', () => {
    const s = computePodStatus({ pod: pod(), state: { sandboxes: [sandbox()], containers: [] }, waiting: { web: { reason: 'ErrImageNeverPull', message: 'm' } }, backoff: {}, hostIP: 'h', now });
    expect(s.phase).toBe('Pending');
    expect(s.containerStatuses?.[0]?.state?.waiting).toEqual({ reason: 'ErrImageNeverPull', message: 'm' });
    const ready = s.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [web]' });
  });

  it('reports CrashLoopBackOff with the last termination while a restart is held back', () => {
    const c = ctr('web', { state: 'exited', exitCode: 2, restart: 1, finishedAt: new Date(T0) });
    const s = computePodStatus({ pod: pod(), state: { sandboxes: [sandbox()], containers: [c] }, waiting: {}, backoff: { web: 8000 }, hostIP: 'h', now });
    const cs = s.containerStatuses?.[0];
    expect(cs?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(cs?.state?.waiting?.message).toBe('back-off 8s restarting failed container=web pod=p_default(u1)');
    expect(cs?.lastState?.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
    expect(cs?.restartCount).toBe(1);
    expect(s.phase).toBe('Running');
  });

  it.each([
    ['Never', 0, 'Succeeded'],
    ['Never', 1, 'Failed'],
    ['OnFailure', 0, 'Succeeded'],
  ])('with restartPolicy %s a pod whose container exited %i is %s', (restartPolicy, code, phase) => {
    const c = ctr('web', { state: 'exited', exitCode: code, finishedAt: new Date(T0) });
    const s = computePodStatus({ pod: pod(restartPolicy), state: { sandboxes: [sandbox({ state: 'notready', ip: '' })], containers: [c] }, waiting: {}, backoff: {}, hostIP: 'h', now });
    expect(s.phase).toBe(phase);
    expect(s.containerStatuses?.[0]?.state?.terminated?.reason).toBe(code === 0 ? 'Completed' : 'Error');
  });

  it('calls a pod with no container statuses Pending', () => {
    expect(podPhase(pod(), [])).toBe('Pending');
  });
});
