/**
 * The kubelet's pod lifecycle (pod_workers.go) against a real API server (in-memory store) and
 * the fake runtime on a fake clock: terminating pods and image pulls never hold back other
 * pods' starts, a pod's worker goes syncing → terminating → gone, and duplicates of a pod's
 * sandbox or containers — made behind the kubelet's back — are killed with an event.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Container, KubeObject, Pod } from '../../src/api/types.js';
import { ApiClient, PODS } from '../../src/client/client.js';
import { Informer } from '../../src/client/informer.js';
import { Kubelet } from '../../src/kubelet/kubelet.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_UID, LABEL_RESTART_COUNT, LABEL_SANDBOX_ATTEMPT, LABEL_SANDBOX_ID, podLabels } from '../../src/kubelet/naming.js';
import type { FakeRuntime } from '../../src/runtime/fake.js';
import { FakeClock, MemoryRecorder, flush, startKubeletHarness, type KubeletHarness } from './kubelet.fixtures.js';

type PodObject = Pod & KubeObject;
const ref = { ...PODS, namespace: 'default' };
const ID = { cluster: 'test', node: 'node-1' };

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

function waitForPod(name: string, ok: (p: PodObject | undefined) => boolean, ms = 10_000): Promise<PodObject | undefined> {
  return new Promise((resolve, reject) => {
    let done = false;
    const check = () => {
      const p = pods.get(`default/${name}`);
      if (!done && ok(p)) {
        done = true;
        clearTimeout(timer);
        resolve(p);
      }
    };
    const timer = setTimeout(() => {
      done = true;
      reject(new Error(`pod ${name}: condition not met; last status ${JSON.stringify(pods.get(`default/${name}`)?.status)}`));
    }, ms);
    pods.addHandlers({ onAdd: check, onUpdate: check, onDelete: check });
    check();
  });
}

const running = (p: PodObject | undefined) => p?.status?.phase === 'Running' && (p.status.containerStatuses ?? []).every((c) => c.state?.running);
const sleeper = (extra: Partial<Container> = {}): Container =>
  ({ name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], ...extra });

async function createPod(name: string, spec: Partial<NonNullable<Pod['spec']>>): Promise<PodObject> {
  return client.create<PodObject>(ref, { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: ID.node, containers: [], ...spec } });
}

describe('the kubelet\'s pod workers', () => {
  it('starts a debug pod at once while 50 pods spend their 30 s grace period in preStop hooks (the clock never moves)', async () => {
    const n = 50;
    // The fake's `sleep` never ends: each hook takes the whole 30 s grace period.
    const preStop = { exec: { command: ['sleep', '3600'] } };
    await Promise.all(Array.from({ length: n }, (_, i) => createPod(`old-${i}`, { terminationGracePeriodSeconds: 30, containers: [sleeper({ lifecycle: { preStop } })] })));
    await Promise.all(Array.from({ length: n }, (_, i) => waitForPod(`old-${i}`, running)));
    await Promise.all(Array.from({ length: n }, (_, i) => client.delete(ref, `old-${i}`)));
    await Promise.all(Array.from({ length: n }, (_, i) => recorder.seen(`old-${i}`, /^Killing: Stopping container c$/)));
    const uids = Array.from({ length: n }, (_, i) => pods.get(`default/old-${i}`)?.metadata?.uid ?? '');
    expect(uids.map((u) => kubelet.podLifecycle(u))).toEqual(Array(n).fill('terminating'));

    // The fake clock never moves, so the debug pod can only run if its start waited for none of
    // the 50 terminations (which need 30 s of clock time each).
    await createPod('debug', { containers: [sleeper()] });
    await waitForPod('debug', running);
    // All 50 are still in their hooks: nothing moved time.
    expect((await fake.listContainers({ [LABEL_CONTAINER_NAME]: 'c' })).filter((c) => c.state === 'running')).toHaveLength(n + 1);

    await clock.advance(30_100);
    await Promise.all(Array.from({ length: n }, (_, i) => waitForPod(`old-${i}`, (p) => p === undefined)));
    await kubelet.idle();
    expect(uids.map((u) => kubelet.podLifecycle(u))).toEqual(Array(n).fill(undefined));
  }, 30_000);

  it('starts a pod whose image is present while 10 others wait on a pull that does not finish', async () => {
    let release = () => {};
    const blocked = new Promise<void>((r) => { release = r; });
    const pull = fake.pullImage.bind(fake);
    fake.pullImage = async (image: string) => {
      if (image.startsWith('slow')) await blocked;
      return pull(image);
    };
    fake.addImage('slow:latest', { cmd: ['sleep', '3600'] });
    await Promise.all(Array.from({ length: 10 }, (_, i) => createPod(`pull-${i}`, { containers: [{ name: 'c', image: 'slow:latest', imagePullPolicy: 'Always' }] })));
    await Promise.all(Array.from({ length: 10 }, (_, i) => recorder.seen(`pull-${i}`, /^Pulling: /)));
    await createPod('ready-image', { containers: [sleeper()] });
    await waitForPod('ready-image', running);
    expect(running(pods.get('default/pull-0'))).toBe(false);
    release();
    await Promise.all(Array.from({ length: 10 }, (_, i) => waitForPod(`pull-${i}`, running)));
  });

  it('kills a second sandbox and a second instance of a container made behind its back, with events', async () => {
    const pod = await createPod('dup', { containers: [sleeper()] });
    await waitForPod('dup', running);
    await kubelet.idle();
    const uid = pod.metadata?.uid ?? '';
    const [sandbox] = await fake.listPodSandboxes({ [LABEL_POD_UID]: uid });
    // What a second kubelet of the node would make: another sandbox (same attempt), and another
    // instance of the container in the pod's sandbox.
    const labels = podLabels(ID, pod);
    await fake.runPodSandbox({ name: 'k8s_POD_dup_extra', hostname: 'dup', network: kubelet.networkName, image: 'registry.k8s.io/pause:3.10',
      labels: { ...labels, [LABEL_SANDBOX_ATTEMPT]: '0' }, portMappings: [] });
    const extra = await fake.createContainer(sandbox.id, {
      name: 'k8s_c_dup_extra', image: 'busybox:latest', entrypoint: ['sleep', '3600'], env: [], mounts: [],
      labels: { ...labels, [LABEL_CONTAINER_NAME]: 'c', [LABEL_RESTART_COUNT]: '0', [LABEL_SANDBOX_ID]: sandbox.id },
    });
    await fake.startContainer(extra);
    await flush();
    await kubelet.idle();
    const sandboxes = (await fake.listPodSandboxes({ [LABEL_POD_UID]: uid })).filter((s) => s.state === 'ready');
    const containers = (await fake.listContainers({ [LABEL_POD_UID]: uid })).filter((c) => c.state === 'running');
    expect(sandboxes.map((s) => s.id)).toEqual([sandbox.id]);
    expect(containers).toHaveLength(1);
    const kills = recorder.about('dup').filter((e) => /^Killing: .*duplicate/.test(e));
    expect(kills).toHaveLength(2);
    expect(kills.some((e) => /sandbox/.test(e))).toBe(true);
    expect(running(pods.get('default/dup'))).toBe(true);
  });
});
