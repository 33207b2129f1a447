/**
 * Ephemeral containers end to end on the fake runtime: the `pods/ephemeralcontainers`
 * subresource of a real (in-process) API server with Kubernetes' validation, the kubelet's plan
 * for them (start once, before init containers, never restart), and a kubelet on a fake clock
 * starting one in a running pod's sandbox, joined to its target's process namespace, reporting
 * `status.ephemeralContainerStatuses` and removing it with the pod.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EphemeralContainer } from 'kubernetes-types/core/v1.js';
import type { KubeObject, Pod, Status } from '../../src/api/types.js';
import { applyPodDefaults } from '../../src/api/defaults.js';
import { validatePod } from '../../src/api/validation.js';
import { decodeProtobuf, encodeProtobuf } from '../../src/apiserver/protobuf.js';
import { PODS } from '../../src/client/client.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_UID } from '../../src/kubelet/naming.js';
import { computePodActions } from '../../src/kubelet/plan.js';
import { computePodStatus } from '../../src/kubelet/status.js';
import type { ContainerStatus, SandboxStatus } from '../../src/runtime/types.js';
import { startKubeletHarness, waitForCachedPod, type KubeletHarness } from './kubelet.fixtures.js';

type PodObject = Pod & KubeObject;
const ref = { ...PODS, namespace: 'default' };

// ---- validation ----------------------------------------------------------------------------

/** A stored, defaulted pod with one app container `app` and one init container `setup`. */
function storedPod(ephemeral: EphemeralContainer[] = []): Pod {
  const p: Pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1', resourceVersion: '5' },
    spec: {
      containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 80 }] }],
      initContainers: [{ name: 'setup', image: 'busybox' }],
      ephemeralContainers: ephemeral,
    },
  };
  applyPodDefaults(p);
  return p;
}

const debug = (over: Partial<EphemeralContainer> = {}): EphemeralContainer => ({ name: 'debugger', image: 'busybox', stdin: true, tty: true, ...over });

/** Validation of adding `added` (after `existing`) through the ephemeralcontainers subresource. */
function addErrors(added: EphemeralContainer[], existing: EphemeralContainer[] = [], replace?: EphemeralContainer[]): string[] {
  const old = storedPod(existing);
  const next = storedPod(replace ?? [...existing, ...added]);
  return validatePod(next, old, 'ephemeralcontainers').map((e) => `${e.field}: ${e.message}`);
}

describe('validation of the ephemeralcontainers subresource', () => {
  const table: [string, () => string[], string[]][] = [
    ['a debug container with a target is valid', () => addErrors([debug({ targetContainerName: 'app' })]), []],
    ['a target may be an init container', () => addErrors([debug({ targetContainerName: 'setup' })]), []],
    ['ports are refused', () => addErrors([debug({ ports: [{ containerPort: 81, protocol: 'TCP' }] })]),
      ['spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container']],
    ['resources are refused', () => addErrors([debug({ resources: { limits: { cpu: '1' } } })]),
      ['spec.ephemeralContainers[0].resources: Forbidden: cannot be set for an Ephemeral Container']],
    ['probes are refused', () => addErrors([debug({ readinessProbe: { exec: { command: ['true'] } } })]),
      ['spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container']],
    ['lifecycle hooks are refused', () => addErrors([debug({ lifecycle: { preStop: { exec: { command: ['true'] } } } })]),
      ['spec.ephemeralContainers[0].lifecycle: Forbidden: cannot be set for an Ephemeral Container']],
    ['a restartPolicy is refused', () => addErrors([debug({ restartPolicy: 'Always' })]),
      ['spec.ephemeralContainers[0].restartPolicy: Forbidden: cannot be set for an Ephemeral Container']],
    ['a name used by an app container is a duplicate', () => addErrors([debug({ name: 'app' })]),
      ['spec.ephemeralContainers[0].name: Duplicate value: "app"']],
    ['a name used by an init container is a duplicate', () => addErrors([debug({ name: 'setup' })]),
      ['spec.ephemeralContainers[0].name: Duplicate value: "setup"']],
    ['two ephemeral containers may not share a name', () => addErrors([debug()], [debug()], [debug(), debug()]),
      ['spec.ephemeralContainers[1].name: Duplicate value: "debugger"']],
    ['the target must name an app or init container', () => addErrors([debug({ targetContainerName: 'nope' })]),
      ['spec.ephemeralContainers[0].targetContainerName: Not found: "nope"']],
    ['an ephemeral container may not target another one', () => addErrors([debug({ name: 'second', targetContainerName: 'debugger' })], [debug()]),
      ['spec.ephemeralContainers[1].targetContainerName: Not found: "debugger"']],
    ['an existing ephemeral container may not be changed', () => addErrors([], [debug()], [debug({ image: 'nginx' })]),
      ['spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be changed\n(changed: image)']],
    ['an existing ephemeral container may not be removed', () => addErrors([], [debug()], []),
      ['spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be removed\n']],
    ['the image is required', () => addErrors([debug({ image: '' })]), ['spec.ephemeralContainers[0].image: Required value']],
  ];
  for (const [name, run, want] of table) it(name, () => expect(run()).toEqual(want));

  it('refuses hostPID together with shareProcessNamespace, as Kubernetes', () => {
    const p = storedPod();
    p.spec = { ...p.spec!, hostPID: true, shareProcessNamespace: true };
    expect(validatePod(p).map((e) => `${e.field}: ${e.message}`)).toContain(
      'spec.securityContext.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled');
  });

  it('refuses ephemeral containers on create and through a plain pod update', () => {
    const p = storedPod([debug()]);
    expect(validatePod(p).map((e) => e.field)).toContain('spec.ephemeralContainers');
    const updateErrs = validatePod(storedPod([debug()]), storedPod()).map((e) => `${e.field}: ${e.message}`);
    expect(updateErrs.some((e) => e.startsWith('spec: Forbidden: pod updates may not change fields other than'))).toBe(true);
  });
});

describe('protobuf of a pod as kubectl debug reads and copies it', () => {
  it('keeps the names of the ConfigMaps and Secrets a pod refers to (embedded LocalObjectReference) and its ephemeral containers', () => {
    const pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' },
      spec: {
        volumes: [
          { name: 'kube-api-access', projected: { sources: [{ configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }, { secret: { name: 's' } }] } },
          { name: 'cm', configMap: { name: 'settings' } },
        ],
        containers: [{
          name: 'app', image: 'nginx',
          env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'settings', key: 'a' } } }, { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'b' } } }],
          envFrom: [{ configMapRef: { name: 'settings' } }, { secretRef: { name: 's' } }],
        }],
        ephemeralContainers: [{ name: 'debugger', image: 'busybox', targetContainerName: 'app', stdin: true, tty: true }],
      },
    };
    expect(decodeProtobuf(encodeProtobuf(pod) as Buffer).spec).toEqual(pod.spec);
  });
});

// ---- the plan ------------------------------------------------------------------------------

const T0 = Date.parse('2026-01-01T00:00:00Z');
const policy = { baseMs: 10_000, capMs: 300_000, resetMs: 600_000 };
const sandbox = (over: Partial<SandboxStatus> = {}): SandboxStatus => ({
  id: 'sb1', name: 'sb', state: 'ready', ip: '10.244.1.5', labels: { 'io.kubernetes.sandbox.attempt': '0' }, createdAt: new Date(T0), ...over,
});
const ctr = (name: string, over: Partial<ContainerStatus> = {}): ContainerStatus => ({
  id: `${name}-id`, name, sandboxId: 'sb1', state: 'running', image: 'busybox', imageRef: 'sha256:abc', exitCode: 0,
  reason: '', message: '', createdAt: new Date(T0), startedAt: new Date(T0),
  labels: { 'io.kubernetes.container.name': name, 'io.kubernetes.container.restartCount': '0' }, ...over,
});
const planPod = (withInit = false): Pod => ({
  metadata: { name: 'p', namespace: 'default', uid: 'u1' },
  spec: {
    restartPolicy: 'Always', containers: [{ name: 'app', image: 'nginx' }],
    ...(withInit ? { initContainers: [{ name: 'setup', image: 'busybox' }] } : {}),
    ephemeralContainers: [{ name: 'debugger', image: 'busybox', targetContainerName: 'app' }],
  },
  status: {},
});

describe('the kubelet plan for ephemeral containers', () => {
  const cases: [string, Pod, { sandboxes: SandboxStatus[]; containers: ContainerStatus[] }, string[]][] = [
    ['starts a new ephemeral container in the running sandbox', planPod(), { sandboxes: [sandbox()], containers: [ctr('app')] }, ['debugger (ephemeral)']],
    ['starts it before an init container that is still running', planPod(true), { sandboxes: [sandbox()], containers: [ctr('setup')] }, ['debugger (ephemeral)']],
    ['starts it before the next init container', planPod(true), { sandboxes: [sandbox()], containers: [] }, ['debugger (ephemeral)', 'setup (init)']],
    ['never restarts one that exited', planPod(), { sandboxes: [sandbox()], containers: [ctr('app'), ctr('debugger', { state: 'exited', exitCode: 1, finishedAt: new Date(T0) })] }, []],
    ['leaves a running one alone', planPod(), { sandboxes: [sandbox()], containers: [ctr('app'), ctr('debugger')] }, []],
    ['does not start it with a new sandbox (only the pod\'s own containers)', planPod(), { sandboxes: [], containers: [] }, ['app']],
    ['replaces one created but never started', planPod(), { sandboxes: [sandbox()], containers: [ctr('app'), ctr('debugger', { state: 'created', startedAt: undefined })] }, ['debugger (ephemeral)']],
  ];
  for (const [name, pod, state, want] of cases) {
    it(name, () => {
      const a = computePodActions(pod, state, T0 + 60_000, policy);
      expect(a.containersToStart.map((c) => `${c.name}${c.ephemeral ? ' (ephemeral)' : c.init ? ' (init)' : ''}`)).toEqual(want);
    });
  }

  it('does not start one again whose instance went away with an old sandbox, and reports it ended', () => {
    const pod = planPod();
    pod.status = { ephemeralContainerStatuses: [{ name: 'debugger', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }] };
    const state = { sandboxes: [sandbox()], containers: [ctr('app')] };
    expect(computePodActions(pod, state, T0, policy).containersToStart).toEqual([]);
    const status = computePodStatus({ pod, state, waiting: {}, backoff: {}, hostIP: '10.0.0.1', now: new Date(T0) });
    expect(status.ephemeralContainerStatuses?.[0].state?.terminated).toMatchObject({ exitCode: 137, reason: 'ContainerStatusUnknown' });
  });

  it('reports ephemeral containers apart, never ready, without changing the phase or readiness', () => {
    const pod = planPod();
    const state = { sandboxes: [sandbox()], containers: [ctr('app'), ctr('debugger', { state: 'exited', exitCode: 3, finishedAt: new Date(T0 + 1000) })] };
    const status = computePodStatus({ pod, state, waiting: {}, backoff: {}, hostIP: '10.0.0.1', now: new Date(T0) });
    expect(status.phase).toBe('Running');
    expect(status.containerStatuses?.map((s) => s.name)).toEqual(['app']);
    expect(status.ephemeralContainerStatuses).toEqual([expect.objectContaining({
      name: 'debugger', ready: false, restartCount: 0, containerID: 'docker://debugger-id',
      state: { terminated: expect.objectContaining({ exitCode: 3, reason: 'Error' }) },
    })]);
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });
});

// ---- API server and kubelet ------------------------------------------------------------------

let h: KubeletHarness;
const TOKEN = 'kubelet-test-token';

/** A raw request to the API server (for content types the typed client does not send). */
async function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ code: number; json: PodObject & Status }> {
  const res = await fetch(`${h.server.url}${path}`, {
    method, headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': contentType }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { code: res.status, json: (await res.json()) as PodObject & Status };
}
const EC_PATH = '/api/v1/namespaces/default/pods/web/ephemeralcontainers';
const SMP = 'application/strategic-merge-patch+json';

describe('pods/ephemeralcontainers and the kubelet on the fake runtime', () => {
  beforeEach(async () => {
    h = await startKubeletHarness({ backoff: { baseMs: 1000, capMs: 4000, resetMs: 8000 } });
    await h.client.create<PodObject>(ref, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' } },
      spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'nginx:latest', imagePullPolicy: 'IfNotPresent' }] },
    });
    await waitForCachedPod(h.pods, 'web', (p) => p.status?.phase === 'Running');
  });

  afterEach(() => h.stop());

  const settle = () => h.kubelet.idle();
  const debugger1 = { name: 'debugger', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], targetContainerName: 'app', stdin: true, tty: true };

  it('GET answers the pod; a strategic merge patch adds the container and nothing else', async () => {
    const got = await call('GET', EC_PATH);
    expect(got.code).toBe(200);
    expect(got.json.kind).toBe('Pod');
    const patched = await call('PATCH', EC_PATH, { metadata: { labels: { sneaky: 'yes' } }, spec: { ephemeralContainers: [debugger1] } }, SMP);
    expect(patched.code).toBe(200);
    expect(patched.json.metadata?.labels).toEqual({ app: 'web' });
    expect(patched.json.spec?.ephemeralContainers).toEqual([{ ...debugger1, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }]);
    // A second patch (as a second `kubectl debug`) merges by name: both are kept.
    const second = await call('PATCH', EC_PATH, { spec: { ephemeralContainers: [{ ...debugger1, name: 'debugger2' }] } }, SMP);
    expect(second.json.spec?.ephemeralContainers?.map((c) => c.name)).toEqual(['debugger', 'debugger2']);
  });

  it('takes a protobuf PUT and answers in protobuf when asked, as client-go may', async () => {
    const pod = (await call('GET', EC_PATH)).json;
    const body = encodeProtobuf({ ...pod, spec: { ...pod.spec, ephemeralContainers: [debugger1] } } as Record<string, unknown>) as Buffer;
    const res = await fetch(`${h.server.url}${EC_PATH}`, {
      method: 'PUT', body,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/vnd.kubernetes.protobuf', Accept: 'application/vnd.kubernetes.protobuf, application/json' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/vnd.kubernetes.protobuf');
    const back = decodeProtobuf(Buffer.from(await res.arrayBuffer())) as unknown as Pod;
    expect(back.spec?.ephemeralContainers?.map((c) => [c.name, c.targetContainerName])).toEqual([['debugger', 'app']]);
  });

  it('refuses invalid ephemeral containers with 422 and field paths, and other verbs with 405', async () => {
    const bad = await call('PATCH', EC_PATH, { spec: { ephemeralContainers: [{ ...debugger1, ports: [{ containerPort: 9 }] }] } }, SMP);
    expect(bad.code).toBe(422);
    expect(bad.json.reason).toBe('Invalid');
    expect(bad.json.details?.causes?.map((c) => c.field)).toEqual(['spec.ephemeralContainers[0].ports']);
    const put = await call('PUT', EC_PATH, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [], ephemeralContainers: [{ ...debugger1, name: 'app' }] } });
    expect(put.code).toBe(422);
    expect(put.json.message).toContain('spec.ephemeralContainers[0].name: Duplicate value: "app"');
    expect((await call('DELETE', EC_PATH)).code).toBe(405);
    // Through the pod itself they cannot be added.
    const pod = (await call('GET', '/api/v1/namespaces/default/pods/web')).json;
    const viaPod = await call('PUT', '/api/v1/namespaces/default/pods/web', { ...pod, spec: { ...pod.spec, ephemeralContainers: [debugger1] } });
    expect(viaPod.code).toBe(422);
  });

  it('starts the container once in the pod\'s sandbox, in the target\'s process namespace, reports it, never restarts it and removes it with the pod', async () => {
    const uid = (await h.client.get<PodObject>(ref, 'web')).metadata?.uid ?? '';
    expect((await call('PATCH', EC_PATH, { spec: { ephemeralContainers: [debugger1] } }, SMP)).code).toBe(200);
    const running = await waitForCachedPod(h.pods, 'web', (p) => p.status?.ephemeralContainerStatuses?.[0]?.state?.running !== undefined);
    expect(running.status?.ephemeralContainerStatuses?.[0]).toMatchObject({ name: 'debugger', ready: false, restartCount: 0 });
    const list = await h.fake.listContainers({ [LABEL_POD_UID]: uid });
    const app = list.find((c) => c.labels[LABEL_CONTAINER_NAME] === 'app');
    const dbg = list.find((c) => c.labels[LABEL_CONTAINER_NAME] === 'debugger');
    expect(dbg?.sandboxId).toBe(app?.sandboxId);
    expect(h.fake.containerConfig(dbg?.id ?? '')).toMatchObject({ pidNamespaceOf: app?.id, stdin: true, tty: true });
    expect(h.recorder.about('web')).toEqual(expect.arrayContaining(['Created: Created container debugger', 'Started: Started container debugger']));

    h.fake.exitContainer(dbg?.id ?? '', 0);
    const ended = await waitForCachedPod(h.pods, 'web', (p) => p.status?.ephemeralContainerStatuses?.[0]?.state?.terminated !== undefined);
    expect(ended.status?.ephemeralContainerStatuses?.[0].state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(ended.status?.phase).toBe('Running');
    await h.clock.advance(60_000, settle);
    const after = (await h.fake.listContainers({ [LABEL_POD_UID]: uid })).filter((c) => c.labels[LABEL_CONTAINER_NAME] === 'debugger');
    expect(after.map((c) => c.state)).toEqual(['exited']);

    const gone = new Promise<void>((resolve) => h.pods.addHandlers({ onDelete: (p) => (p.metadata?.name === 'web' ? resolve() : undefined) }));
    await h.client.delete(ref, 'web');
    await h.clock.advance(31_000, settle);
    await gone;
    expect(await h.fake.listContainers({ [LABEL_POD_UID]: uid })).toEqual([]);
  });

  it('puts every container of a pod with shareProcessNamespace in the sandbox\'s process namespace', async () => {
    await h.client.create<PodObject>(ref, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'shared' },
      spec: { nodeName: 'node-1', shareProcessNamespace: true, containers: [
        { name: 'app', image: 'nginx:latest', imagePullPolicy: 'IfNotPresent' },
        { name: 'side', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] },
      ] },
    });
    const p = await waitForCachedPod(h.pods, 'shared', (x) => x.status?.phase === 'Running');
    const list = await h.fake.listContainers({ [LABEL_POD_UID]: p.metadata?.uid ?? '' });
    expect(list).toHaveLength(2);
    for (const c of list) expect(h.fake.containerConfig(c.id)?.pidNamespaceOf).toBe(c.sandboxId);
  });

  it('runs the containers of a hostPID/hostIPC pod in the node\'s process and IPC namespaces', async () => {
    await h.client.create<PodObject>(ref, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'node-debug' },
      spec: { nodeName: 'node-1', hostPID: true, hostIPC: true, containers: [{ name: 'sh', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
    });
    const p = await waitForCachedPod(h.pods, 'node-debug', (x) => x.status?.phase === 'Running');
    const [c] = await h.fake.listContainers({ [LABEL_POD_UID]: p.metadata?.uid ?? '' });
    expect(h.fake.containerConfig(c.id)).toMatchObject({ hostPid: true, hostIpc: true });
    expect(h.fake.containerConfig(c.id)?.pidNamespaceOf).toBeUndefined();
  });

  it('waits with CreateContainerConfigError while the target does not run', async () => {
    await call('PATCH', EC_PATH, { spec: { ephemeralContainers: [{ ...debugger1, name: 'late', targetContainerName: 'app' }] } }, SMP);
    await waitForCachedPod(h.pods, 'web', (p) => p.status?.ephemeralContainerStatuses?.[0]?.state?.running !== undefined);
    // A pod whose app container has exited: a new debug container targeting it must wait.
    const uid = (await h.client.get<PodObject>(ref, 'web')).metadata?.uid ?? '';
    // The first restart is immediate, the second waits for its back-off: then no app runs.
    for (let i = 0; i < 2; i++) {
      const app = (await h.fake.listContainers({ [LABEL_POD_UID]: uid, [LABEL_CONTAINER_NAME]: 'app' })).find((c) => c.state === 'running');
      h.fake.exitContainer(app?.id ?? '', 1);
      await settle();
    }
    await call('PATCH', EC_PATH, { spec: { ephemeralContainers: [{ ...debugger1, name: 'late2', targetContainerName: 'app' }] } }, SMP);
    const p = await waitForCachedPod(h.pods, 'web', (x) => x.status?.ephemeralContainerStatuses?.[1]?.state?.waiting?.reason === 'CreateContainerConfigError');
    expect(p.status?.ephemeralContainerStatuses?.[1].state?.waiting?.message).toBe('unable to find target container app');
  });
});
