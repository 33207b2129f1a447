/**
 * The kubelet against a real API server (in-process, in-memory store) and the fake runtime, on
 * a fake clock: liveness restarts, readiness, restart back-off timing, init container sequencing,
 * preStop within the grace period and postStart failures. Time only moves when a test moves it.
 */
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Container, KubeObject, Pod } from '../../src/api/types.js';
import { ApiClient, PODS } from '../../src/client/client.js';
import { Informer } from '../../src/client/informer.js';
import { Kubelet } from '../../src/kubelet/kubelet.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_UID, LABEL_RESTART_COUNT } from '../../src/kubelet/naming.js';
import type { FakeRuntime } from '../../src/runtime/fake.js';
import { FakeClock, MemoryRecorder, startKubeletHarness, waitForCachedPod, type KubeletHarness } from './kubelet.fixtures.js';

type PodObject = Pod & KubeObject;
const ref = { ...PODS, namespace: 'default' };

let client: ApiClient;
let clock: FakeClock;
let fake: FakeRuntime;
let recorder: MemoryRecorder;
let kubelet: Kubelet;
let pods: Informer<PodObject>;

let h: KubeletHarness;

beforeEach(async () => {
  h = await startKubeletHarness({ backoff: { baseMs: 1000, capMs: 4000, resetMs: 8000 } });
  ({ client, clock, fake, recorder, kubelet, pods } = h);
});

afterEach(() => h.stop());

const settle = () => kubelet.idle();

/** Creates a pod bound to the node and waits until the kubelet has synced it (its first status report). */
async function create(name: string, spec: Partial<NonNullable<Pod['spec']>>): Promise<string> {
  const created = await client.create<PodObject>(ref, { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: 'node-1', containers: [], ...spec } });
  await waitForPod(name, (p) => p.status?.hostIP !== undefined);
  await settle();
  return created.metadata?.uid ?? '';
}

/** Deletes a pod (gracefully) and waits until the kubelet started to stop it. */
async function remove(name: string, firstContainer: string): Promise<void> {
  await client.delete(ref, name);
  await recorder.seen(name, new RegExp(`^Killing: Stopping container ${firstContainer}$`));
}

const waitForPod = (name: string, ok: (p: PodObject) => boolean, ms = 5000): Promise<PodObject> => waitForCachedPod(pods, name, ok, ms);

/** Resolves once the pod is gone from the API. */
function waitForGone(name: string, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pod ${name} still exists`)), ms);
    const check = () => {
      if (!pods.get(`default/${name}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    pods.addHandlers({ onDelete: check });
    check();
  });
}

/** The pod's containers in the runtime: `name#restartCount=state` (newest first per name). */
async function instances(uid: string): Promise<string[]> {
  const list = await fake.listContainers({ [LABEL_POD_UID]: uid });
  return list
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
    .map((c) => `${c.labels[LABEL_CONTAINER_NAME]}#${c.labels[LABEL_RESTART_COUNT]}=${c.state}`);
}

async function exec(uid: string, container: string, cmd: string[]): Promise<number> {
  const c = (await fake.listContainers({ [LABEL_POD_UID]: uid, [LABEL_CONTAINER_NAME]: container })).find((x) => x.state === 'running');
  if (!c) throw new Error(`${container} does not run`);
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  return (await fake.exec(c.id, cmd, { stdout: sink, stderr: sink })).exitCode;
}

const nginx = (extra: Partial<Container> = {}): Container => ({ name: 'web', image: 'nginx:latest', imagePullPolicy: 'IfNotPresent', ...extra });
const busybox = (name: string, command: string[], extra: Partial<Container> = {}): Container =>
  ({ name, image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command, ...extra });
const status0 = (p: PodObject) => p.status?.containerStatuses?.[0];
const ready = (p: PodObject) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

describe('the kubelet on the fake runtime and a fake clock', () => {
  it('restarts a container whose liveness probe fails, with Unhealthy and Killing events, and counts the restart', async () => {
    const uid = await create('live', { containers: [nginx({ livenessProbe: { httpGet: { path: '/index.html', port: 80 }, periodSeconds: 10, failureThreshold: 2 } })] });
    await waitForPod('live', (p) => ready(p));
    await clock.advance(100, settle); // the first probe passes
    await exec(uid, 'web', ['rm', '/usr/share/nginx/html/index.html']);
    await clock.advance(10_000, settle);
    expect(await instances(uid)).toEqual(['web#0=running']);
    await clock.advance(10_000, settle);
    expect(await instances(uid)).toEqual(['web#0=exited', 'web#1=running']);
    const p = await waitForPod('live', (x) => status0(x)?.restartCount === 1 && ready(x));
    expect(status0(p)?.lastState?.terminated?.reason).toBe('Completed'); // nginx exits 0 on its stop signal
    expect(recorder.about('live').filter((e) => /Unhealthy|Killing/.test(e))).toEqual([
      'Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 404',
      'Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 404',
      'Killing: Container web failed liveness probe, will be restarted',
    ]);
    // The new instance serves its page again and stays up.
    await clock.advance(30_000, settle);
    expect(await instances(uid)).toEqual(['web#0=exited', 'web#1=running']);
  });

  it('keeps a pod unready until its readiness probe passes', async () => {
    const uid = await create('gate', { containers: [nginx({ readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 } })] });
    await settle();
    const p = await waitForPod('gate', (x) => x.status?.phase === 'Running');
    expect(ready(p)).toBe(false);
    expect(status0(p)).toMatchObject({ ready: false, started: true });
    await exec(uid, 'web', ['touch', '/tmp/ready']);
    await clock.advance(1000, settle);
    await waitForPod('gate', (x) => ready(x) && status0(x)?.ready === true);
  });

  it('restarts a crashing container after 0s, 1s, 2s, 4s, 4s of back-off on the injected clock', async () => {
    const uid = await create('crash', { containers: [busybox('c', ['sh', '-c', 'exit 1'])] });
    const newest = async () => Math.max(...(await instances(uid)).map((s) => Number(/#(\d+)=/.exec(s)?.[1])));
    expect(await newest()).toBe(1); // the first restart is immediate
    for (const [delay, next] of [[1000, 2], [2000, 3], [4000, 4], [4000, 5]]) {
      await clock.advance(delay - 50, settle);
      expect(await newest()).toBe(next - 1);
      await clock.advance(50, settle);
      expect(await newest()).toBe(next);
    }
    const p = await waitForPod('crash', (x) => status0(x)?.state?.waiting?.reason === 'CrashLoopBackOff' && status0(x)?.restartCount === 5);
    expect(status0(p)?.state?.waiting?.message).toBe(`back-off 4s restarting failed container=c pod=crash_default(${uid})`);
    expect(status0(p)?.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
  });

  it('runs init containers one at a time, in order, before the app container', async () => {
    const uid = await create('init', {
      initContainers: [busybox('first', ['sleep', '60']), busybox('second', ['sh', '-c', 'echo ok'])],
      containers: [nginx()],
    });
    expect(await instances(uid)).toEqual(['first#0=running']);
    let p = await waitForPod('init', (x) => x.status?.initContainerStatuses?.[0]?.state?.running !== undefined);
    expect(p.status?.phase).toBe('Pending');
    expect(status0(p)?.state?.waiting?.reason).toBe('PodInitializing');
    const first = (await fake.listContainers({ [LABEL_POD_UID]: uid, [LABEL_CONTAINER_NAME]: 'first' }))[0];
    fake.exitContainer(first.id, 0);
    await settle();
    await settle();
    expect(await instances(uid)).toEqual(['first#0=exited', 'second#0=exited', 'web#0=running']);
    p = await waitForPod('init', (x) => x.status?.phase === 'Running');
    expect(p.status?.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
    expect(recorder.about('init').filter((e) => e.startsWith('Started'))).toEqual([
      'Started: Started container first', 'Started: Started container second', 'Started: Started container web',
    ]);
  });

  it('retries a failing init container with back-off and never starts the app container', async () => {
    const uid = await create('init-fail', { initContainers: [busybox('setup', ['sh', '-c', 'exit 2'])], containers: [nginx()] });
    await clock.advance(3500, settle);
    expect((await instances(uid)).every((s) => s.startsWith('setup#'))).toBe(true);
    const p = await waitForPod('init-fail', (x) => x.status?.initContainerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff');
    expect(p.status?.phase).toBe('Pending');
    expect(p.status?.initContainerStatuses?.[0]?.restartCount).toBe(3);
  });

  it('runs preStop before the stop signal when a pod is deleted, and counts its time against the grace period', async () => {
    const uid = await create('bye', {
      terminationGracePeriodSeconds: 3,
      containers: [busybox('c', ['sleep', '3600'], { lifecycle: { preStop: { exec: { command: ['sleep', '30'] } } } })],
    });
    await waitForPod('bye', (x) => x.status?.phase === 'Running');
    await remove('bye', 'c');
    // The pod's worker waits in the hook: settle with plain flushes, not kubelet.idle().
    await clock.advance(2900);
    expect(await instances(uid)).toEqual(['c#0=running']);
    await clock.advance(200);
    await waitForGone('bye');
    expect(await instances(uid)).toEqual([]);
    expect(recorder.about('bye').filter((e) => /Killing|PreStop/.test(e))).toEqual(['Killing: Stopping container c']);
  });

  it('reports a failing preStop hook and stops the container anyway', async () => {
    await create('bad-stop', { containers: [busybox('c', ['sleep', '3600'], { lifecycle: { preStop: { exec: { command: ['sh', '-c', 'exit 1'] } } } })] });
    await waitForPod('bad-stop', (x) => x.status?.phase === 'Running');
    await remove('bad-stop', 'c');
    await settle();
    await waitForGone('bad-stop');
    expect(recorder.about('bad-stop').filter((e) => /Killing|PreStop/.test(e))).toEqual([
      'Killing: Stopping container c',
      expect.stringMatching(/^FailedPreStopHook: Exec lifecycle hook \(\[sh -c exit 1\]\) for Container "c" in Pod "bad-stop_default\(/),
    ]);
  });

  it('kills a container whose postStart hook fails and restarts it under the back-off', async () => {
    const uid = await create('hook', { containers: [busybox('c', ['sleep', '3600'], { lifecycle: { postStart: { exec: { command: ['sh', '-c', 'exit 3'] } } } })] });
    await clock.advance(100, settle);
    expect(await instances(uid)).toEqual(['c#0=exited', 'c#1=exited']);
    const p = await waitForPod('hook', (x) => status0(x)?.state?.waiting?.reason === 'CrashLoopBackOff');
    expect(status0(p)?.restartCount).toBe(1);
    const events = recorder.about('hook');
    expect(events.filter((e) => e.startsWith('FailedPostStartHook'))).toHaveLength(2);
    expect(events).toContain('Killing: FailedPostStartHook');
    await clock.advance(1000, settle);
    expect(await instances(uid)).toEqual(['c#1=exited', 'c#2=exited']);
  });

  it('runs a postStart hook right after the start', async () => {
    const uid = await create('hooked', { containers: [nginx({ lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo hi > /usr/share/nginx/html/hook.html'] } } } })] });
    expect(await exec(uid, 'web', ['cat', '/usr/share/nginx/html/hook.html'])).toBe(0);
    await waitForPod('hooked', ready);
  });
});
