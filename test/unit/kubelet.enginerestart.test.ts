/**
 * The kubelet when its container engine goes away: a real API server (in-memory store), the
 * fake runtime behind `EngineFaults` (down = every call refused, hang = every call held) on a
 * fake clock. What Kubernetes does after a runtime restart: the Node is NotReady while the
 * runtime does not answer ("container runtime is down"), then every pod gets a new sandbox
 * (attempt + 1) and its containers start again with their restart counts + 1; stopped instances
 * the engine cannot remove are skipped, reported and retried, never in the way.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject, Node, Pod } from '../../src/api/types.js';
import { NODES, PODS, type ApiClient } from '../../src/client/client.js';
import type { Informer } from '../../src/client/informer.js';
import { RUNTIME_PING_TIMEOUT_MS, type Kubelet } from '../../src/kubelet/kubelet.js';
import { LABEL_POD_UID, LABEL_RESTART_COUNT, LABEL_SANDBOX_ATTEMPT } from '../../src/kubelet/naming.js';
import { EngineFaults, type FakeRuntime } from '../../src/runtime/fake.js';
import { startKubeletHarness, waitForCachedPod, type FakeClock, type KubeletHarness, type MemoryRecorder } from './kubelet.fixtures.js';

type PodObject = Pod & KubeObject;
const ref = { ...PODS, namespace: 'default' };
const BUSY = 'driver "overlay2" failed to remove root filesystem: unlinkat /var/lib/docker/overlay2/x/merged: device or resource busy';

let clock: FakeClock;
let fake: FakeRuntime;
let faults: EngineFaults;
let recorder: MemoryRecorder;
let kubelet: Kubelet;
let pods: Informer<PodObject>;
let client: ApiClient;
let harness: KubeletHarness;

beforeEach(async () => {
  faults = new EngineFaults();
  harness = await startKubeletHarness({ runtimeCheckMs: 3_600_000 }, (f) => faults.wrap(f));
  ({ clock, fake, recorder, kubelet, pods, client } = harness);
});

afterEach(async () => {
  faults.set('up');
  await harness.stop();
});

const restarts = (p: PodObject) => p.status?.containerStatuses?.[0]?.restartCount ?? -1;
const runningWith = (n: number) => (p: PodObject) => p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.state?.running !== undefined && restarts(p) === n;

async function createPods(n: number): Promise<PodObject[]> {
  const created = await Promise.all(Array.from({ length: n }, (_, i) => client.create<PodObject>(ref, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: `web-${i}` },
    spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
  })));
  await Promise.all(created.map((p) => waitForCachedPod(pods, p.metadata?.name ?? '', runningWith(0))));
  await kubelet.idle();
  return created;
}

async function readyCondition(): Promise<{ status?: string; reason?: string; message?: string }> {
  const node = await client.get<Node>(NODES, 'node-1');
  return node.status?.conditions?.find((c) => c.type === 'Ready') ?? {};
}

/** The engine stops (the kubelet sees it down), restarts with every container stopped, and answers again. */
async function restartEngine(): Promise<void> {
  faults.set('down');
  await kubelet.checkRuntime();
  fake.restartEngine();
  faults.set('up');
  await kubelet.checkRuntime();
}

describe('the kubelet when its container engine restarts', () => {
  it('reports the node NotReady with "container runtime is down" while the engine refuses calls, and Ready again once it answers', async () => {
    expect(await readyCondition()).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    faults.set('down');
    await kubelet.checkRuntime();
    expect(kubelet.runtimeReady).toBe(false);
    const down = await readyCondition();
    expect(down).toMatchObject({ status: 'False', reason: 'KubeletNotReady' });
    expect(down.message).toMatch(/^container runtime is down: Cannot connect to the Docker engine/);
    faults.set('up');
    await kubelet.checkRuntime();
    expect(await readyCondition()).toMatchObject({ status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' });
    expect(recorder.about('node-1').filter((e) => /NodeNotReady|NodeReady/.test(e))).toEqual([
      'NodeReady: Node node-1 status is now: NodeReady',
      'NodeNotReady: Node node-1 status is now: NodeNotReady',
      'NodeReady: Node node-1 status is now: NodeReady',
    ]);
  });

  it('counts a hung engine as down once its ping has not answered within the timeout on the clock, and lets the held calls go when it answers', async () => {
    faults.set('hang');
    const check = kubelet.checkRuntime();
    const again = kubelet.checkRuntime();
    await clock.advance(RUNTIME_PING_TIMEOUT_MS);
    await again;
    await check;
    expect(kubelet.runtimeReady).toBe(false);
    expect((await readyCondition()).message).toMatch(/^container runtime is down: the container runtime did not answer a ping within 10 s/);
    // A second check while one is held does not pile up another ping.
    expect(faults.hung).toBe(1);
    faults.set('up');
    await kubelet.checkRuntime();
    expect(kubelet.runtimeReady).toBe(true);
    expect(faults.hung).toBe(0);
  });

  it('brings every pod back after an engine restart whose events are lost: a new sandbox (attempt 1), restart count 1, nothing duplicated', async () => {
    const created = await createPods(4);
    await restartEngine();
    await Promise.all(created.map((p) => waitForCachedPod(pods, p.metadata?.name ?? '', runningWith(1))));
    await kubelet.idle();
    for (const p of created) {
      const uid = p.metadata?.uid ?? '';
      const sandboxes = await fake.listPodSandboxes({ [LABEL_POD_UID]: uid });
      const containers = await fake.listContainers({ [LABEL_POD_UID]: uid });
      // The stopped sandbox stays while its stopped container is kept (it carries restart count 0).
      expect(sandboxes.map((s) => `${s.labels[LABEL_SANDBOX_ATTEMPT]}:${s.state}`).sort()).toEqual(['0:notready', '1:ready']);
      expect(containers.map((c) => `${c.labels[LABEL_RESTART_COUNT]}:${c.state}`).sort()).toEqual(['0:exited', '1:running']);
      expect(recorder.about(p.metadata?.name ?? '')).toContain('SandboxChanged: Pod sandbox changed, it will be killed and re-created.');
    }
  });

  it('numbers sandboxes and containers on across two restarts, so that a new name never meets an old one', async () => {
    const [pod] = await createPods(1);
    await restartEngine();
    await waitForCachedPod(pods, 'web-0', runningWith(1));
    await kubelet.idle();
    await restartEngine();
    await waitForCachedPod(pods, 'web-0', runningWith(2));
    await kubelet.idle();
    const uid = pod.metadata?.uid ?? '';
    const names = [...await fake.listPodSandboxes({ [LABEL_POD_UID]: uid }), ...await fake.listContainers({ [LABEL_POD_UID]: uid })].map((o) => o.name);
    expect(new Set(names).size).toBe(names.length);
    // The sandbox of attempt 0 lost its last kept container (restart 0 is older than the last two): collected.
    const attempts = (await fake.listPodSandboxes({ [LABEL_POD_UID]: uid })).map((s) => s.labels[LABEL_SANDBOX_ATTEMPT]).sort();
    expect(attempts).toEqual(['1', '2']);
  });

  it('skips a dead sandbox the engine cannot remove: the pod comes back, the failure is reported once, and removal is retried until it works', async () => {
    const [pod] = await createPods(1);
    const uid = pod.metadata?.uid ?? '';
    const [old] = await fake.listPodSandboxes({ [LABEL_POD_UID]: uid });
    fake.failRemoval(old.id, BUSY);
    await restartEngine();
    await waitForCachedPod(pods, 'web-0', runningWith(1));
    await kubelet.idle();
    // Two more container restarts make the old sandbox garbage; its removal fails on every sync.
    for (const n of [2, 3]) {
      const running = (await fake.listContainers({ [LABEL_POD_UID]: uid })).find((c) => c.state === 'running');
      fake.exitContainer(running?.id ?? '', 1);
      await clock.advance(60_000);
      await waitForCachedPod(pods, 'web-0', runningWith(n));
      await kubelet.idle();
    }
    expect(kubelet.unremovableCount).toBe(1);
    expect(recorder.about('web-0').filter((e) => e.startsWith('ContainerGCFailed'))).toEqual([
      `ContainerGCFailed: Failed to remove pod sandbox ${old.id.slice(0, 12)}: ${BUSY}; it is retried later`,
    ]);
    fake.failRemoval(old.id, undefined);
    const running = (await fake.listContainers({ [LABEL_POD_UID]: uid })).find((c) => c.state === 'running');
    fake.exitContainer(running?.id ?? '', 1);
    await clock.advance(60_000);
    await waitForCachedPod(pods, 'web-0', runningWith(4));
    await kubelet.idle();
    expect(kubelet.unremovableCount).toBe(0);
    expect((await fake.listPodSandboxes({ [LABEL_POD_UID]: uid })).map((s) => s.id)).not.toContain(old.id);
  });

  it('deletes a pod whose stopped container the engine cannot remove, and leaves the container to later cleanup', async () => {
    const [pod] = await createPods(1);
    const uid = pod.metadata?.uid ?? '';
    const [container] = await fake.listContainers({ [LABEL_POD_UID]: uid });
    fake.failRemoval(container.id, BUSY);
    await client.delete(ref, 'web-0', { gracePeriodSeconds: 0 });
    await new Promise<void>((resolve) => {
      const check = () => { if (!pods.get('default/web-0')) resolve(); };
      pods.addHandlers({ onDelete: check });
      check();
    });
    await kubelet.idle();
    expect((await fake.listContainers({ [LABEL_POD_UID]: uid })).map((c) => c.state)).toEqual(['exited']);
    expect(kubelet.unremovableCount).toBe(1);
  });
});
