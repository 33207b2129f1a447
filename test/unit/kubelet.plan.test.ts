import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/types.js';
import type { ContainerStatus, SandboxStatus } from '../../src/runtime/types.js';
import { restartDelayMs, DEFAULT_BACKOFF } from '../../src/kubelet/backoff.js';
import { computePodActions, nextRestartCount, shouldRestart } from '../../src/kubelet/plan.js';
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
    expect(a.containersToStart).toEqual([{ name: 'web', init: false, restartCount: 3, reason: 'sandbox recreated' }]);
  });

  it('starts a container that is missing from a ready sandbox', () => {
    const a = computePodActions(pod('Always', ['a', 'b']), { sandboxes: [sandbox()], containers: [ctr('a')] }, T0, policy);
    expect(a.containersToStart).toEqual([{ name: 'b', init: false, restartCount: 0, reason: 'first start' }]);
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
    expect(first.containersToStart).toEqual([{ name: 'web', init: false, restartCount: 1, reason: 'restart' }]);
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

  it.each([
    ['no condition for the gate', [], 'False', 'ReadinessGatesNotReady', 'corresponding condition of pod readiness gate "example.com/lb" does not exist.'],
    ['the gate\'s condition False', [{ type: 'example.com/lb', status: 'False' }], 'False', 'ReadinessGatesNotReady', 'the status of pod readiness gate "example.com/lb" is not "True", but False'],
    ['the gate\'s condition True', [{ type: 'example.com/lb', status: 'True' }], 'True', undefined, undefined],
  ])('holds Ready back for a readiness gate with %s, and keeps the gate\'s condition', (_n, extra, status, reason, message) => {
    const p = pod();
    p.spec!.readinessGates = [{ conditionType: 'example.com/lb' }];
    p.status!.conditions = [...(p.status?.conditions ?? []), ...extra];
    const s = computePodStatus({ pod: p, state: { sandboxes: [sandbox()], containers: [ctr('web')] }, waiting: {}, backoff: {}, hostIP: 'h', now });
    const ready = s.conditions?.find((c) => c.type === 'Ready');
    expect([ready?.status, ready?.reason, ready?.message]).toEqual([status, reason, message]);
    expect(s.conditions?.find((c) => c.type === 'ContainersReady')?.status).toBe('True');
    expect(s.conditions?.filter((c) => c.type === 'example.com/lb')).toEqual(extra);
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

describe('the restart decision: restartPolicy × how the container ended × its probes', () => {
  const running = () => ctr('web', { restart: 2 });
  const ended = (exitCode: number) => ctr('web', { state: 'exited', exitCode, restart: 2, startedAt: new Date(T0 - 1000), finishedAt: new Date(T0 - 60_000 + 59_000) });
  type Row = [string, string, ContainerStatus, 'liveness' | 'startup' | undefined, string | undefined, number | undefined];
  const table: Row[] = [
    ['Always', 'a healthy running container', running(), undefined, undefined, undefined],
    ['Always', 'a container failing its liveness probe', running(), 'liveness', 'Container web failed liveness probe, will be restarted', 3],
    ['OnFailure', 'a container failing its liveness probe', running(), 'liveness', 'Container web failed liveness probe, will be restarted', 3],
    ['Never', 'a container failing its liveness probe', running(), 'liveness', 'Container web failed liveness probe', undefined],
    ['Always', 'a container failing its startup probe', running(), 'startup', 'Container web failed startup probe, will be restarted', 3],
    ['Never', 'a container failing its startup probe', running(), 'startup', 'Container web failed startup probe', undefined],
    ['Always', 'a container that exited 0', ended(0), undefined, undefined, 3],
    ['Always', 'a container that exited 1', ended(1), undefined, undefined, 3],
    ['OnFailure', 'a container that exited 0', ended(0), undefined, undefined, undefined],
    ['OnFailure', 'a container that was killed (137)', ended(137), undefined, undefined, 3],
    ['Never', 'a container that exited 1', ended(1), undefined, undefined, undefined],
  ];
  it.each(table)('restartPolicy %s, %s (probe failure: %s) → kill with %j, restart as %j', (restartPolicy, _d, c, failure, kill, restartAs) => {
    // The back-off before restart 3 (20 s) is over: the last instance finished a minute ago.
    const a = computePodActions(pod(restartPolicy), { sandboxes: [sandbox()], containers: [c] }, T0 + 60_000, policy, failure ? { [c.id]: failure } : {});
    expect(a.containersToKill.map((k) => k.message)).toEqual(kill ? [kill] : []);
    if (kill) expect(a.containersToKill[0]).toMatchObject({ id: c.id, name: 'web', cause: failure });
    expect(a.containersToStart.map((s) => s.restartCount)).toEqual(restartAs === undefined ? [] : [restartAs]);
    if (failure && restartAs !== undefined) expect(a.containersToStart[0].reason).toBe(`failed ${failure} probe`);
  });

  it('ignores probe verdicts about instances that are not the running one', () => {
    const a = computePodActions(pod(), { sandboxes: [sandbox()], containers: [running()] }, T0, policy, { 'some-old-id': 'liveness' });
    expect(a.containersToKill).toEqual([]);
  });

  it('counts on from the reported restart count when the runtime lost the container (docker rm -f)', () => {
    const base = pod();
    const p: Pod = { ...base, status: { ...base.status, containerStatuses: [{ name: 'web', image: 'nginx', imageID: '', ready: true, restartCount: 2, containerID: 'docker://gone' }] } };
    const a = computePodActions(p, { sandboxes: [sandbox()], containers: [] }, T0, policy);
    expect(a.containersToStart).toEqual([{ name: 'web', init: false, restartCount: 3, reason: 'restart' }]);
  });

  it('stops what still runs of a Never pod whose sandbox died, without a new sandbox', () => {
    const a = computePodActions(pod('Never'), { sandboxes: [sandbox({ state: 'notready', ip: '' })], containers: [ctr('web')] }, T0, policy);
    expect(a).toMatchObject({ killPod: false, createSandbox: false, containersToStart: [] });
    expect(a.containersToKill).toEqual([{ id: 'web-0', name: 'web', cause: 'sandbox', message: 'Stopping container web' }]);
  });
});

describe('init containers', () => {
  function initPod(restartPolicy = 'Always'): Pod {
    const p = pod(restartPolicy, ['web']);
    p.spec = { ...p.spec, containers: p.spec?.containers ?? [], initContainers: [{ name: 'one', image: 'busybox' }, { name: 'two', image: 'busybox' }] };
    return p;
  }
  const done = (name: string, over: Partial<ContainerStatus> & { restart?: number } = {}) =>
    ctr(name, { state: 'exited', exitCode: 0, startedAt: new Date(T0 - 2000), finishedAt: new Date(T0 - 1000), ...over });
  const plan = (p: Pod, containers: ContainerStatus[], now = T0, sb: SandboxStatus[] = [sandbox()]) =>
    computePodActions(p, { sandboxes: sb, containers }, now, policy);
  const started = (a: ReturnType<typeof plan>) => a.containersToStart.map((s) => `${s.init ? 'init:' : ''}${s.name}#${s.restartCount}`);

  it('starts only the first init container in a new sandbox', () => {
    const a = plan(initPod(), [], T0, []);
    expect(a.createSandbox).toBe(true);
    expect(started(a)).toEqual(['init:one#0']);
  });

  it.each<[string, ContainerStatus[], string[]]>([
    ['waits while the first one runs', [ctr('one')], []],
    ['starts the second once the first succeeded', [done('one')], ['init:two#0']],
    ['waits while the second one runs', [done('one'), ctr('two')], []],
    ['starts the app containers once all succeeded', [done('one'), done('two')], ['web#0']],
    ['runs no init container again once an app container ran in this sandbox', [ctr('web')], []],
  ])('%s', (_name, containers, expected) => {
    expect(started(plan(initPod(), containers))).toEqual(expected);
  });

  it('retries a failed init container at once the first time, then after the back-off', () => {
    expect(started(plan(initPod(), [done('one', { exitCode: 1 })]))).toEqual(['init:one#1']);
    const held = plan(initPod(), [done('one', { exitCode: 1, restart: 1 })], T0 + 3000);
    expect(started(held)).toEqual([]);
    expect(held.backoff).toEqual({ one: 6000 });
    expect(started(plan(initPod(), [done('one', { exitCode: 1, restart: 1 })], T0 + 9000))).toEqual(['init:one#2']);
  });

  it('does not retry a failed init container under restartPolicy Never, nor start the app containers', () => {
    expect(started(plan(initPod('Never'), [done('one', { exitCode: 1 })]))).toEqual([]);
  });

  it('runs the init containers again, counting on, in a recreated sandbox', () => {
    const dead = sandbox({ state: 'notready', ip: '' });
    const a = plan(initPod(), [done('one'), done('two'), ctr('web')], T0, [dead]);
    expect(a).toMatchObject({ killPod: true, createSandbox: true, sandboxAttempt: 1 });
    expect(a.containersToStart).toEqual([{ name: 'one', init: true, restartCount: 1, reason: 'sandbox recreated' }]);
  });
});

describe('computePodStatus with init containers and probes', () => {
  const now = new Date(T0 + 5000);
  function initPod(restartPolicy = 'Always'): Pod {
    const p = pod(restartPolicy, ['web']);
    p.spec = { ...p.spec, containers: p.spec?.containers ?? [], initContainers: [{ name: 'one', image: 'busybox' }, { name: 'two', image: 'busybox' }] };
    return p;
  }
  const status = (p: Pod, containers: ContainerStatus[], extra: Partial<Parameters<typeof computePodStatus>[0]> = {}) =>
    computePodStatus({ pod: p, state: { sandboxes: [sandbox()], containers }, waiting: {}, backoff: {}, hostIP: 'h', now, ...extra });
  const exited = (name: string, exitCode: number, restart = 0) =>
    ctr(name, { state: 'exited', exitCode, restart, startedAt: new Date(T0), finishedAt: new Date(T0 + 1000) });
  const cond = (s: ReturnType<typeof status>, type: string) => s.conditions?.find((c) => c.type === type);

  it('shows PodInitializing for what has not run yet, and Initialized False while the first init container runs', () => {
    const s = status(initPod(), [ctr('one')]);
    expect(s.phase).toBe('Pending');
    expect(s.initContainerStatuses?.map((c) => Object.keys(c.state ?? {})[0])).toEqual(['running', 'waiting']);
    expect(s.initContainerStatuses?.[1]?.state?.waiting?.reason).toBe('PodInitializing');
    expect(s.containerStatuses?.[0]?.state?.waiting?.reason).toBe('PodInitializing');
    expect(cond(s, 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [one two]' });
  });

  it('reports finished init containers as Completed and ready, and the pod Initialized and Running', () => {
    const s = status(initPod(), [exited('one', 0), exited('two', 0), ctr('web')]);
    expect(s.initContainerStatuses?.map((c) => [c.state?.terminated?.reason, c.ready])).toEqual([['Completed', true], ['Completed', true]]);
    expect(cond(s, 'Initialized')?.status).toBe('True');
    expect(s.phase).toBe('Running');
  });

  it('fails a Never pod whose init container failed', () => {
    const s = status(initPod('Never'), [exited('one', 3)]);
    expect(s.phase).toBe('Failed');
    expect(s.initContainerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
  });

  it('keeps a pod whose init container is in back-off Pending with CrashLoopBackOff', () => {
    const s = status(initPod(), [exited('one', 3, 1)], { backoff: { one: 2000 } });
    expect(s.phase).toBe('Pending');
    expect(s.initContainerStatuses?.[0]).toMatchObject({ restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 3 } } });
  });

  it('makes readiness follow the readiness probe, and holds it until the startup probe passed', () => {
    const p = pod();
    p.spec = { ...p.spec, containers: [{ name: 'web', image: 'nginx', startupProbe: { exec: { command: ['true'] } }, readinessProbe: { exec: { command: ['true'] } } }] };
    const c = ctr('web');
    const view = (probes: Record<string, Record<string, string>>) => {
      const s = status(p, [c], { probes: probes as Parameters<typeof computePodStatus>[0]['probes'] });
      return [s.containerStatuses?.[0]?.started, s.containerStatuses?.[0]?.ready, cond(s, 'Ready')?.status];
    };
    expect(view({})).toEqual([false, false, 'False']);
    expect(view({ [c.id]: { startup: 'unknown', readiness: 'success' } })).toEqual([false, false, 'False']);
    expect(view({ [c.id]: { startup: 'success', readiness: 'failure' } })).toEqual([true, false, 'False']);
    expect(view({ [c.id]: { startup: 'success', readiness: 'success' } })).toEqual([true, true, 'True']);
  });

  it('keeps the reported restart count for a container the runtime lost', () => {
    const base = pod();
    const p: Pod = { ...base, status: { ...base.status, containerStatuses: [{ name: 'web', image: 'nginx', imageID: '', ready: true, restartCount: 4, containerID: 'docker://gone' }] } };
    expect(status(p, []).containerStatuses?.[0]?.restartCount).toBe(4);
  });
});

describe('findDuplicates (at most one sandbox and one instance per container survive a sync)', () => {
  const table: [string, SandboxStatus[], ContainerStatus[], { sandboxes: string[]; containers: string[]; start: string[] }][] = [
    ['nothing for a pod with one of each', [sandbox()], [ctr('web')], { sandboxes: [], containers: [], start: [] }],
    ['kills the older of two running instances of one container', [sandbox()],
      [ctr('web', { id: 'old', createdAt: new Date(T0) }), ctr('web', { id: 'new', createdAt: new Date(T0 + 5) })],
      { sandboxes: [], containers: ['old'], start: [] }],
    ['kills a second ready sandbox and every container in it, keeping the pod running', [sandbox(), sandbox({ id: 'sb0', createdAt: new Date(T0 - 10) })],
      [ctr('web'), ctr('web', { id: 'in-extra', sandboxId: 'sb0' })],
      { sandboxes: ['sb0'], containers: ['in-extra'], start: [] }],
    ['removes a never-started instance next to a running one instead of starting a third', [sandbox()],
      [ctr('web', { id: 'run', createdAt: new Date(T0) }), ctr('web', { id: 'created', state: 'created', createdAt: new Date(T0 + 9) })],
      { sandboxes: [], containers: ['created'], start: [] }],
    ['stops a container left running in an old, dead sandbox', [sandbox(), sandbox({ id: 'sb0', state: 'notready', ip: '', labels: { 'io.kubernetes.sandbox.attempt': '0' }, createdAt: new Date(T0 - 10) })],
      [ctr('web'), ctr('web', { id: 'stray', sandboxId: 'sb0', restart: 0, createdAt: new Date(T0 - 5) })],
      { sandboxes: [], containers: ['stray'], start: [] }],
  ];
  it.each(table)('%s', (_name, sandboxes, containers, want) => {
    const a = computePodActions(pod(), { sandboxes, containers }, T0, policy);
    expect(a.duplicates.sandboxes.map((s) => s.id)).toEqual(want.sandboxes);
    expect(a.duplicates.containers.map((c) => c.id).sort()).toEqual(want.containers.sort());
    expect(a.containersToStart.map((c) => c.name)).toEqual(want.start);
    expect(a.killPod).toBe(false);
  });
});

describe('native sidecars (init containers with restartPolicy Always)', () => {
  /** init `setup` (ordinary), sidecar `log` (optionally with a startup probe), app `web`. */
  function sidecarPod(restartPolicy = 'Always', startupProbe = false): Pod {
    const p = pod(restartPolicy, ['web']);
    p.spec = {
      ...p.spec, containers: p.spec?.containers ?? [],
      initContainers: [
        { name: 'log', image: 'busybox', restartPolicy: 'Always', ...(startupProbe ? { startupProbe: { exec: { command: ['true'] } } } : {}) },
        { name: 'setup', image: 'busybox' },
      ],
    };
    return p;
  }
  const done = (name: string, exitCode = 0, restart = 0) =>
    ctr(name, { state: 'exited', exitCode, restart, startedAt: new Date(T0 - 2000), finishedAt: new Date(T0 - 1000) });
  const plan = (p: Pod, containers: ContainerStatus[], opts: { now?: number; failures?: Record<string, 'liveness' | 'startup'>; startupPassed?: string[] } = {}) =>
    computePodActions(p, { sandboxes: [sandbox()], containers }, opts.now ?? T0, policy, opts.failures ?? {}, new Set(opts.startupPassed ?? []));
  const started = (a: ReturnType<typeof plan>) => a.containersToStart.map((s) => `${s.init ? 'init:' : ''}${s.name}#${s.restartCount}`);
  const killed = (a: ReturnType<typeof plan>) => a.containersToKill.map((k) => `${k.name}:${k.cause}`);

  it.each<[string, Pod, ContainerStatus[], string[], string[]]>([
    ['starts the sidecar first', sidecarPod(), [], ['init:log#0'], []],
    ['starts the next init container once a sidecar without a startup probe runs', sidecarPod(), [ctr('log')], ['init:setup#0'], []],
    ['holds the next init container until the sidecar\'s startup probe passed', sidecarPod('Always', true), [ctr('log')], [], []],
    ['starts the app containers while the sidecar keeps running', sidecarPod(), [ctr('log'), done('setup')], ['web#0'], []],
    ['restarts a sidecar that exited during initialisation', sidecarPod(), [done('log', 1)], ['init:log#1'], []],
    ['restarts a sidecar that exited beside a running app, even with exit code 0', sidecarPod(), [done('log', 0), done('setup'), ctr('web')], ['init:log#1'], []],
    ['restarts a sidecar under restartPolicy Never too', sidecarPod('Never'), [done('log', 2), done('setup'), ctr('web')], ['init:log#1'], []],
    ['stops the sidecar once the app container of a Never pod is done', sidecarPod('Never'), [ctr('log'), done('setup'), done('web', 0)], [], ['log:completed']],
    ['stops the sidecar once the app container of an OnFailure pod succeeded', sidecarPod('OnFailure'), [ctr('log'), done('setup'), done('web', 0)], [], ['log:completed']],
    ['keeps the sidecar while an OnFailure pod restarts its failed app container', sidecarPod('OnFailure'), [ctr('log'), done('setup'), done('web', 1)], ['web#1'], []],
    ['does not restart a stopped sidecar of a finished pod', sidecarPod('Never'), [done('log', 137), done('setup'), done('web', 0)], [], []],
  ])('%s', (_name, p, containers, expectedStarts, expectedKills) => {
    const a = plan(p, containers);
    expect(started(a)).toEqual(expectedStarts);
    expect(killed(a)).toEqual(expectedKills);
  });

  it('starts the next init container once the sidecar\'s startup probe passed', () => {
    const log = ctr('log');
    expect(started(plan(sidecarPod('Always', true), [log], { startupPassed: [log.id] }))).toEqual(['init:setup#0']);
  });

  it('kills and restarts a sidecar that failed its liveness probe, under any restartPolicy', () => {
    const log = ctr('log');
    const a = plan(sidecarPod('Never'), [log, done('setup'), ctr('web')], { failures: { [log.id]: 'liveness' } });
    expect(killed(a)).toEqual(['log:liveness']);
    expect(a.containersToKill[0]?.message).toBe('Container log failed liveness probe, will be restarted');
    expect(started(a)).toEqual(['init:log#1']);
  });

  it('holds a crashing sidecar in back-off', () => {
    const a = plan(sidecarPod(), [done('log', 1, 1), done('setup'), ctr('web')], { now: T0 + 2000 });
    expect(started(a)).toEqual([]);
    expect(a.backoff).toEqual({ log: 7000 });
  });
});

describe('computePodStatus with native sidecars', () => {
  const now = new Date(T0 + 5000);
  function sidecarPod(restartPolicy = 'Always', readinessProbe = false): Pod {
    const p = pod(restartPolicy, ['web']);
    p.spec = {
      ...p.spec, containers: p.spec?.containers ?? [],
      initContainers: [{ name: 'log', image: 'busybox', restartPolicy: 'Always', ...(readinessProbe ? { readinessProbe: { exec: { command: ['true'] } } } : {}) }],
    };
    return p;
  }
  const status = (p: Pod, containers: ContainerStatus[], extra: Partial<Parameters<typeof computePodStatus>[0]> = {}) =>
    computePodStatus({ pod: p, state: { sandboxes: [sandbox()], containers }, waiting: {}, backoff: {}, hostIP: 'h', now, ...extra });
  const exited = (name: string, exitCode: number) => ctr(name, { state: 'exited', exitCode, startedAt: new Date(T0), finishedAt: new Date(T0 + 1000) });
  const cond = (s: ReturnType<typeof status>, type: string) => s.conditions?.find((c) => c.type === type)?.status;

  it('reports a running sidecar as started and ready, the pod Initialized, and Pending until the app runs', () => {
    const s = status(sidecarPod(), [ctr('log')]);
    expect(s.initContainerStatuses?.[0]).toMatchObject({ started: true, ready: true, state: { running: {} } });
    expect(cond(s, 'Initialized')).toBe('True');
    expect(s.phase).toBe('Pending');
  });

  it('counts the sidecar\'s readiness in the pod\'s Ready condition', () => {
    const log = ctr('log');
    const notReady = status(sidecarPod('Always', true), [log, ctr('web')]);
    expect([notReady.phase, cond(notReady, 'Ready')]).toEqual(['Running', 'False']);
    expect(notReady.conditions?.find((c) => c.type === 'Ready')?.message).toBe('containers with unready status: [log]');
    const ready = status(sidecarPod('Always', true), [log, ctr('web')], { probes: { [log.id]: { readiness: 'success' } } });
    expect(cond(ready, 'Ready')).toBe('True');
  });

  it.each<[string, string, ContainerStatus[], string]>([
    ['keeps a Never pod Running while its sidecar still runs after the app finished', 'Never', [ctr('log'), exited('web', 0)], 'Running'],
    ['makes a Never pod Succeeded once the sidecar was stopped after the app succeeded', 'Never', [exited('log', 143), exited('web', 0)], 'Succeeded'],
    ['makes a Never pod Failed once the sidecar was stopped after the app failed', 'Never', [exited('log', 143), exited('web', 1)], 'Failed'],
  ])('%s', (_name, restartPolicy, containers, phase) => {
    expect(status(sidecarPod(restartPolicy), containers).phase).toBe(phase);
  });
});

describe('computePodActions after an engine restart: stopped sandboxes are garbage once no kept container uses them', () => {
  const old = sandbox({ id: 'sb0', state: 'notready', ip: '', labels: { 'io.kubernetes.sandbox.attempt': '0' } });
  const cur = sandbox({ id: 'sb1', labels: { 'io.kubernetes.sandbox.attempt': '1' } });
  const dead = (restart: number, sandboxId: string) => ctr('web', { state: 'exited', exitCode: 137, restart, sandboxId, finishedAt: new Date(T0) });
  const cases: { name: string; sandboxes: SandboxStatus[]; containers: ContainerStatus[]; remove: string[]; removeContainers: string[] }[] = [
    { name: 'keeps the old sandbox while its stopped container is one of the two kept instances', sandboxes: [old, cur], containers: [dead(0, 'sb0'), ctr('web', { restart: 1 })], remove: [], removeContainers: [] },
    { name: 'removes the old sandbox together with its container once that is older than the last two', sandboxes: [old, cur], containers: [dead(0, 'sb0'), dead(1, 'sb1'), ctr('web', { restart: 2 })], remove: ['sb0'], removeContainers: ['web-0'] },
    { name: 'removes an old sandbox that has no container at all', sandboxes: [old, cur], containers: [ctr('web', { restart: 1 })], remove: ['sb0'], removeContainers: [] },
    { name: 'removes nothing while the current sandbox is the only one', sandboxes: [cur], containers: [ctr('web', { restart: 1 })], remove: [], removeContainers: [] },
    { name: 'removes nothing while a new sandbox is still to be made (the old one numbers the next attempt)', sandboxes: [old], containers: [dead(0, 'sb0')], remove: [], removeContainers: [] },
  ];
  it.each(cases)('$name', ({ sandboxes, containers, remove, removeContainers }) => {
    const a = computePodActions(pod(), { sandboxes, containers }, T0, policy);
    expect(a.sandboxesToRemove).toEqual(remove);
    expect(a.containersToRemove).toEqual(removeContainers);
  });

  it('stops what is left when the sandbox died and numbers the next sandbox and container on from the stopped ones', () => {
    const a = computePodActions(pod(), { sandboxes: [cur, old].map((s) => ({ ...s, state: 'notready' as const, ip: '' })), containers: [dead(0, 'sb0'), dead(1, 'sb1')] }, T0, policy);
    expect(a).toMatchObject({ killPod: true, createSandbox: true, sandboxAttempt: 2, sandboxesToRemove: [], containersToRemove: [] });
    expect(a.containersToStart).toEqual([{ name: 'web', init: false, restartCount: 2, reason: 'sandbox recreated' }]);
  });
});

describe('nextRestartCount when the newest instance was removed behind the kubelet\'s back', () => {
  const withStatus = (containerID: string, restartCount: number): Pod => ({
    ...pod(), status: { phase: 'Running', containerStatuses: [{ name: 'web', image: 'nginx', imageID: '', ready: true, restartCount, containerID }] },
  });
  const older = ctr('web', { state: 'exited', restart: 0, sandboxId: 'sb0' });
  it.each([
    { name: 'counts on from the reported status when an older, stopped instance is all that is left', p: withStatus('docker://web-1', 1), containers: [older], next: 2 },
    { name: 'counts on from the newest instance while the reported one is still there', p: withStatus('docker://web-0', 0), containers: [older], next: 1 },
    { name: 'counts on from the reported status when nothing is left', p: withStatus('docker://web-3', 3), containers: [], next: 4 },
    { name: 'starts at 0 for a container never reported', p: pod(), containers: [], next: 0 },
  ])('$name', ({ p, containers, next }) => {
    expect(nextRestartCount(p, { sandboxes: [sandbox()], containers }, 'web', false)).toBe(next);
  });
});

describe('computePodActions: an ended ephemeral container of an older sandbox', () => {
  it('is removed with that sandbox, and not started again in the new one', () => {
    const p: Pod = { ...pod(), spec: { ...pod().spec, containers: [{ name: 'web', image: 'nginx' }], ephemeralContainers: [{ name: 'debug', image: 'busybox' }] },
      status: { phase: 'Running', ephemeralContainerStatuses: [{ name: 'debug', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0 } } }] } };
    const old = sandbox({ id: 'sb0', state: 'notready', ip: '', labels: { 'io.kubernetes.sandbox.attempt': '0' } });
    const cur = sandbox({ id: 'sb1', labels: { 'io.kubernetes.sandbox.attempt': '1' } });
    const debug = ctr('debug', { state: 'exited', sandboxId: 'sb0' });
    const a = computePodActions(p, { sandboxes: [old, cur], containers: [debug, ctr('web', { restart: 1 })] }, T0, policy);
    expect(a.containersToRemove).toEqual(['debug-0']);
    expect(a.sandboxesToRemove).toEqual(['sb0']);
    expect(a.containersToStart).toEqual([]);
  });
});
