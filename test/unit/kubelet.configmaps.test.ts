/**
 * The kubelet with ConfigMaps and Secrets, against a real API server (in-process) and the fake
 * runtime: a container waits with CreateContainerConfigError until its Secret is created and
 * then starts because of the watch (the fake clock never moves, so no timer can be the cause);
 * configMap volumes are written under the kubelet's root, rewritten when the ConfigMap changes,
 * wait (FailedMount) for a missing ConfigMap, and are removed with the pod.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigMap, KubeObject, Pod, Secret } from '../../src/api/types.js';
import { ApiClient, CONFIGMAPS, PODS, SECRETS } from '../../src/client/client.js';
import { Informer } from '../../src/client/informer.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_UID, LABEL_VOLUME_NAME } from '../../src/kubelet/naming.js';
import type { FakeRuntime } from '../../src/runtime/fake.js';
import { MemoryRecorder, startKubeletHarness, waitForCachedPod, type KubeletHarness } from './kubelet.fixtures.js';

type PodObject = Pod & KubeObject;
const ref = { ...PODS, namespace: 'default' };

let client: ApiClient;
let fake: FakeRuntime;
let recorder: MemoryRecorder;
let pods: Informer<PodObject>;
let rootDir: string;

let h: KubeletHarness;

beforeEach(async () => {
  rootDir = mkdtempSync(join(tmpdir(), 'mkl-kubelet-root-'));
  h = await startKubeletHarness({ rootDir });
  ({ client, fake, recorder, pods } = h);
});

afterEach(async () => {
  await h.stop();
  rmSync(rootDir, { recursive: true, force: true });
});

const waitForPod = (name: string, ok: (p: PodObject) => boolean, ms = 5000): Promise<PodObject> => waitForCachedPod(pods, name, ok, ms);

async function output(uid: string, cmd: string[]): Promise<string> {
  const c = (await fake.listContainers({ [LABEL_POD_UID]: uid, [LABEL_CONTAINER_NAME]: 'c' })).find((x) => x.state === 'running');
  if (!c) throw new Error('container c does not run');
  let out = '';
  const sink = new Writable({ write: (chunk, _e, cb) => { out += String(chunk); cb(); } });
  await fake.exec(c.id, cmd, { stdout: sink, stderr: sink });
  return out;
}

const waitingReason = (p: PodObject) => p.status?.containerStatuses?.[0]?.state?.waiting;
const running = (p: PodObject) => !!p.status?.containerStatuses?.[0]?.state?.running;

describe('the kubelet with ConfigMaps and Secrets', () => {
  it('holds a container in CreateContainerConfigError until its Secret exists, then starts it from the watch', async () => {
    const pod = await client.create<PodObject>(ref, { metadata: { name: 'w' }, spec: { nodeName: 'node-1', containers: [{
      name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'],
      env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'api', key: 'token' } } }],
    }] } });
    const waiting = await waitForPod('w', (p) => waitingReason(p)?.reason === 'CreateContainerConfigError');
    expect(waitingReason(waiting)?.message).toBe('secret "api" not found');
    expect(recorder.events).toContainEqual({ object: 'w', type: 'Warning', reason: 'Failed', message: 'Error: secret "api" not found' });
    expect(await fake.listContainers({ [LABEL_POD_UID]: pod.metadata?.uid ?? '', [LABEL_CONTAINER_NAME]: 'c' })).toEqual([]);
    await client.create<Secret>({ ...SECRETS, namespace: 'default' }, { metadata: { name: 'api' }, stringData: { token: 'abc' } });
    await waitForPod('w', running);
    expect(await output(pod.metadata?.uid ?? '', ['printenv', 'TOKEN'])).toBe('abc\n');
  });

  it('names a missing key of an existing ConfigMap', async () => {
    await client.create<ConfigMap>({ ...CONFIGMAPS, namespace: 'default' }, { metadata: { name: 'cfg' }, data: { other: '1' } });
    await client.create<PodObject>(ref, { metadata: { name: 'k' }, spec: { nodeName: 'node-1', containers: [{
      name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } }],
    }] } });
    const p = await waitForPod('k', (x) => waitingReason(x)?.reason === 'CreateContainerConfigError');
    expect(waitingReason(p)?.message).toBe("couldn't find key mode in ConfigMap default/cfg");
  });

  it('writes a configMap volume under its root, rewrites it when the ConfigMap changes, and removes it with the pod', async () => {
    const cms = { ...CONFIGMAPS, namespace: 'default' };
    await client.create<PodObject>(ref, { metadata: { name: 'v' }, spec: { nodeName: 'node-1', containers: [{
      name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg' }],
    }], volumes: [{ name: 'cfg', configMap: { name: 'later' } }] } });
    await waitForPod('v', (p) => waitingReason(p)?.reason === 'ContainerCreating' && recorder.events.some((e) => e.reason === 'FailedMount'));
    expect(recorder.events.find((e) => e.reason === 'FailedMount')?.message).toBe('MountVolume.SetUp failed for volume "cfg" : configmap "later" not found');
    const cm = await client.create<ConfigMap>(cms, { metadata: { name: 'later' }, data: { mode: 'one' } });
    const p = await waitForPod('v', running);
    const dir = join(rootDir, 'pods', p.metadata?.uid ?? '', 'volumes', 'kubernetes.io~configmap', 'cfg');
    expect(readFileSync(join(dir, 'mode'), 'utf8')).toBe('one');
    await client.update<ConfigMap>(cms, { ...cm, data: { mode: 'two' } });
    await new Promise<void>((resolve) => {
      const check = () => { if (readFileSync(join(dir, 'mode'), 'utf8') === 'two') resolve(); else setTimeout(check, 5); };
      check();
    });
    expect(readFileSync(join(dir, 'mode'), 'utf8')).toBe('two');
    await client.delete(ref, 'v', { gracePeriodSeconds: 0 });
    await new Promise<void>((resolve) => {
      const check = () => { if (!existsSync(join(rootDir, 'pods', p.metadata?.uid ?? ''))) resolve(); else setTimeout(check, 5); };
      check();
    });
    expect(existsSync(join(rootDir, 'pods', p.metadata?.uid ?? ''))).toBe(false);
  });

  it('keeps a pod waiting (FailedMount) for a volume it cannot set up (a claim that does not exist), rather than running it without the volume', async () => {
    await client.create<PodObject>(ref, { metadata: { name: 'pvc' }, spec: { nodeName: 'node-1', containers: [{
      name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', volumeMounts: [{ name: 'data', mountPath: '/data' }],
    }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }] } });
    const p = await waitForPod('pvc', (x) => waitingReason(x)?.reason === 'ContainerCreating' && recorder.events.some((e) => e.reason === 'FailedMount'));
    expect(recorder.events.find((e) => e.reason === 'FailedMount')?.message).toBe('Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data]: error processing PVC default/data: persistentvolumeclaim "data" not found');
    expect(await fake.listContainers({ [LABEL_POD_UID]: p.metadata?.uid ?? '', [LABEL_CONTAINER_NAME]: 'c' })).toEqual([]);
  });

  it('backs an emptyDir with medium Memory by a tmpfs of its sizeLimit', async () => {
    const pod = await client.create<PodObject>(ref, { metadata: { name: 'mem' }, spec: { nodeName: 'node-1', containers: [{
      name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], volumeMounts: [{ name: 'shm', mountPath: '/dev/shm' }, { name: 'disk', mountPath: '/d' }],
    }], volumes: [{ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } }, { name: 'disk', emptyDir: {} }] } });
    await waitForPod('mem', running);
    const vols = await fake.listVolumes({ [LABEL_POD_UID]: pod.metadata?.uid ?? '' });
    const byName = Object.fromEntries(vols.map((v) => [v.labels[LABEL_VOLUME_NAME], fake.volumeOptions(v.name)]));
    expect(byName).toEqual({ shm: { tmpfs: { sizeBytes: 64 * 1024 * 1024 } }, disk: {} });
  });
});
