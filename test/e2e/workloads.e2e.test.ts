/**
 * The workload controllers and native sidecars on a real Docker engine: Jobs, CronJobs,
 * DaemonSets, StatefulSets and a pod with a native sidecar, in a 3-node cluster of this file's
 * own (prefix `e2e-wl`, pod CIDR 10.227.0.0/16).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { KubeObject, Pod } from '../../src/api/types.js';
import { PODS, type ApiClient, type ResourceRef } from '../../src/client/client.js';
import { TestCluster, dockerAvailable, sh } from './helpers.js';

const hasDocker = await dockerAvailable();
const pods = { ...PODS, namespace: 'default' };
const jobs: ResourceRef = { group: 'batch', version: 'v1', resource: 'jobs', namespace: 'default' };

/** Resolves with the first object of `ref` named `name` that `ok` accepts, by watch. */
function waitFor<T extends KubeObject>(client: ApiClient, ref: ResourceRef, name: string, ok: (o: T) => boolean, ms = 60_000): Promise<T> {
  let last: T | undefined;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      handle.stop();
      reject(new Error(`timed out waiting for ${ref.resource}/${name}; last seen: ${JSON.stringify((last as { status?: unknown } | undefined)?.status ?? null)}`));
    }, ms);
    const handle = client.watch<T>(ref, { fieldSelector: `metadata.name=${name}` }, (e) => {
      if (e.type === 'ERROR' || e.type === 'DELETED') return;
      last = e.object;
      if (ok(e.object)) {
        clearTimeout(timer);
        handle.stop();
        resolve(e.object);
      }
    });
    handle.done.catch((err: unknown) => {
      clearTimeout(timer);
      reject(err as Error);
    });
  });
}

const hasCondition = (j: Job, type: string) => (j.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');

function busyboxJob(name: string, spec: Record<string, unknown>, command: string[]): Job {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name },
    spec: {
      ...spec,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command }] } },
    },
  };
}

describe.skipIf(!hasDocker)('workloads on a real Docker engine (skipped when no Docker engine answers `docker info`)', () => {
  const cluster = new TestCluster(`e2e-wl-${process.pid}`, '10.227.0.0/16');

  beforeAll(async () => {
    const r = await cluster.cli(['up', '--nodes', '3', '--pod-cidr', cluster.podCIDR, '--kubelet-backoff-base', '1s']);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await cluster.destroy();
    expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('starts a native sidecar before the app, counts it in READY, and completes a Never pod when the app is done', async () => {
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'with-sidecar' },
      spec: {
        restartPolicy: 'Never',
        volumes: [{ name: 'shared', emptyDir: {} }],
        initContainers: [{
          name: 'log', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', restartPolicy: 'Always',
          command: ['sh', '-c', 'echo sidecar started > /shared/log; trap "exit 0" TERM; tail -f /shared/log & wait'],
          volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
        }],
        containers: [{
          name: 'app', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', 'echo app started >> /shared/log; sleep 4'],
          volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
        }],
      },
    };
    await cluster.client().create(pods, pod);
    await cluster.waitForPod('with-sidecar', (p) => p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).every((c) => c.ready)
      && (p.status.initContainerStatuses ?? []).every((c) => c.ready));
    const get = await cluster.cli(['get', 'pod', 'with-sidecar']);
    expect(get.stdout).toMatch(/^with-sidecar\s+2\/2\s+Running\s+0/m);
    const done = await cluster.waitForPod('with-sidecar', (p) => p.status?.phase === 'Succeeded', 60_000);
    expect(done.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(0);
    expect(done.status?.initContainerStatuses?.[0]?.state?.terminated).toBeDefined();
    const logs = await cluster.cli(['logs', 'with-sidecar', '-c', 'log']);
    expect(logs.stdout).toBe('sidecar started\napp started\n');
  }, 90_000);

  it('runs a 6-completion Job two pods at a time to Complete', async () => {
    const client = cluster.client();
    const active = new Set<string>();
    let maxActive = 0;
    const seen = new Set<string>();
    const watch = client.watch<Pod & KubeObject>(pods, { labelSelector: 'job-name=six' }, (e) => {
      if (e.type === 'ERROR') return;
      const name = e.object.metadata?.name ?? '';
      seen.add(name);
      const phase = e.object.status?.phase;
      if (e.type !== 'DELETED' && phase !== 'Succeeded' && phase !== 'Failed' && !e.object.metadata?.deletionTimestamp) active.add(name);
      else active.delete(name);
      maxActive = Math.max(maxActive, active.size);
    });
    await client.create(jobs, busyboxJob('six', { completions: 6, parallelism: 2 }, ['sh', '-c', 'sleep 1']));
    const done = await waitFor<Job & KubeObject>(client, jobs, 'six', (j) => hasCondition(j, 'Complete'), 90_000);
    watch.stop();
    expect(done.status).toMatchObject({ succeeded: 6, uncountedTerminatedPods: {} });
    expect(done.status?.conditions?.map((c) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete']);
    expect(maxActive).toBe(2);
    expect(seen.size).toBe(6);
    const get = await cluster.cli(['get', 'job', 'six']);
    expect(get.stdout).toMatch(/^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\n/);
    expect(get.stdout).toMatch(/^six\s+Complete\s+6\/6\s+\d+s\s+\d+s$/m);
    const left = await client.list<Pod & KubeObject>(pods, { labelSelector: 'job-name=six' });
    expect(left.items.every((p) => !(p.metadata?.finalizers ?? []).length)).toBe(true);
  }, 120_000);

  it('stops a failing Job at its backoffLimit with the Failed condition', async () => {
    const client = cluster.client();
    await client.create(jobs, busyboxJob('fails', { backoffLimit: 1 }, ['sh', '-c', 'exit 3']));
    const failed = await waitFor<Job & KubeObject>(client, jobs, 'fails', (j) => hasCondition(j, 'Failed'), 90_000);
    expect(failed.status?.failed).toBe(2);
    expect(failed.status?.conditions?.find((c) => c.type === 'Failed')).toMatchObject({ reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    const list = await client.list<Pod & KubeObject>(pods, { labelSelector: 'job-name=fails' });
    expect(list.items.length).toBe(2);
    const get = await cluster.cli(['get', 'job', 'fails']);
    expect(get.stdout).toMatch(/fails\s+Failed\s+0\/1\s/);
  }, 120_000);

  it('gives each pod of an Indexed Job its index and hostname', async () => {
    const client = cluster.client();
    await client.create(jobs, busyboxJob('indexed', { completions: 3, parallelism: 3, completionMode: 'Indexed' },
      ['sh', '-c', 'echo "index=$JOB_COMPLETION_INDEX host=$(hostname)"']));
    const done = await waitFor<Job & KubeObject>(client, jobs, 'indexed', (j) => hasCondition(j, 'Complete'), 90_000);
    expect(done.status?.completedIndexes).toBe('0-2');
    const list = await client.list<Pod & KubeObject>(pods, { labelSelector: 'job-name=indexed' });
    const lines = await Promise.all(list.items.map(async (p) => (await cluster.cli(['logs', p.metadata?.name ?? ''])).stdout.trim()));
    expect(lines.sort()).toEqual(['index=0 host=indexed-0', 'index=1 host=indexed-1', 'index=2 host=indexed-2']);
    const d = await cluster.cli(['describe', 'job', 'indexed']);
    expect(d.stdout).toMatch(/Completion Mode:\s+Indexed/);
    expect(d.stdout).toMatch(/Completed Indexes:\s+0-2/);
    expect(d.stdout).toMatch(/Pods Statuses:\s+0 Active \(0 Ready\) \/ 3 Succeeded \/ 0 Failed/);
  }, 120_000);

  it('creates a Job on a CronJob\'s schedule and, under Forbid, skips the next run while it still runs', async () => {
    const client = cluster.client();
    const cronjobs: ResourceRef = { group: 'batch', version: 'v1', resource: 'cronjobs', namespace: 'default' };
    await client.create(cronjobs, {
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'tick' },
      spec: {
        schedule: '*/1 * * * *', concurrencyPolicy: 'Forbid',
        jobTemplate: { spec: { template: { spec: {
          restartPolicy: 'Never', terminationGracePeriodSeconds: 1,
          containers: [{ name: 'tick', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'date; sleep 90'] }],
        } } } },
      },
    } as KubeObject);
    const manual = await cluster.cli(['create', 'job', 'tick-manual', '--from=cronjob/tick']);
    expect(manual.stdout).toBe('job.batch/tick-manual created\n');
    const m = await client.get<Job & KubeObject>(jobs, 'tick-manual');
    expect(m.metadata?.annotations?.['cronjob.kubernetes.io/instantiate']).toBe('manual');
    // The first scheduled run comes at the next minute boundary.
    const scheduled = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => { h.stop(); reject(new Error('no scheduled Job within 70 s')); }, 70_000);
      const h = client.watch<Job & KubeObject>(jobs, {}, (e) => {
        const name = e.object.metadata?.name ?? '';
        if (e.type === 'ADDED' && /^tick-\d+$/.test(name)) { clearTimeout(timer); h.stop(); resolve(name); }
      });
    });
    const cj = await waitFor<KubeObject & { status?: { active?: { name?: string }[]; lastScheduleTime?: string } }>(client, cronjobs, 'tick',
      (c) => (c.status?.active ?? []).some((a) => a.name === scheduled), 10_000);
    expect(cj.status?.lastScheduleTime).toBeDefined();
    // One minute later the run is still going: Forbid skips the new one.
    const events: ResourceRef = { group: '', version: 'v1', resource: 'events', namespace: 'default' };
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { h.stop(); reject(new Error('no JobAlreadyActive event within 70 s')); }, 70_000);
      const h = client.watch<KubeObject>(events, { fieldSelector: 'involvedObject.name=tick,reason=JobAlreadyActive' }, (e) => {
        if (e.type === 'ADDED' || e.type === 'MODIFIED') { clearTimeout(timer); h.stop(); resolve(); }
      });
    });
    const all = await client.list<Job & KubeObject>(jobs);
    expect(all.items.map((j) => j.metadata?.name).filter((n) => /^tick-\d+$/.test(n ?? ''))).toEqual([scheduled]);
    const get = await cluster.cli(['get', 'cronjob', 'tick']);
    expect(get.stdout).toMatch(/^tick\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+1\s+\d+s\s+\d+[sm]/m);
    await cluster.cli(['delete', 'cronjob', 'tick']);
  }, 200_000);

  it('runs a DaemonSet pod on each node, on a node added later, rolls an image update one node at a time, and drops the pod of a deleted node', async () => {
    const client = cluster.client();
    const daemonsets: ResourceRef = { group: 'apps', version: 'v1', resource: 'daemonsets', namespace: 'default' };
    type DS = KubeObject & { status?: { desiredNumberScheduled?: number; numberReady?: number; updatedNumberScheduled?: number; numberAvailable?: number } };
    await client.create(daemonsets, {
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: {
          terminationGracePeriodSeconds: 2,
          containers: [{ name: 'web', image: 'nginx:latest', imagePullPolicy: 'IfNotPresent', readinessProbe: { httpGet: { path: '/', port: 80 }, periodSeconds: 1, timeoutSeconds: 5 } }],
        } },
      },
    } as KubeObject);
    const nodesOf = async () => (await client.list<Pod & KubeObject>(pods, { labelSelector: 'app=agent' })).items
      .filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.spec?.nodeName).sort();
    await waitFor<DS>(client, daemonsets, 'agent', (d) => d.status?.desiredNumberScheduled === 3 && d.status.numberReady === 3, 60_000);
    expect(await nodesOf()).toEqual(['node-1', 'node-2', 'node-3']);

    const added = await cluster.cli(['node', 'add', 'node-4', '--labels', 'tier=edge']);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/Node node-4 added \(10\.227\.4\.0\/24\) and Ready/);
    await waitFor<DS>(client, daemonsets, 'agent', (d) => d.status?.desiredNumberScheduled === 4 && d.status.numberReady === 4, 60_000);
    expect(await nodesOf()).toEqual(['node-1', 'node-2', 'node-3', 'node-4']);

    // Rolling update: never more than one node without a live pod of the DaemonSet (maxUnavailable 1).
    const live = new Map<string, string>();
    for (const p of (await client.list<Pod & KubeObject>(pods, { labelSelector: 'app=agent' })).items) {
      if (!p.metadata?.deletionTimestamp) live.set(p.metadata?.name ?? '', p.spec?.nodeName ?? '');
    }
    let mostUncovered = 0;
    const watch = client.watch<Pod & KubeObject>(pods, { labelSelector: 'app=agent' }, (e) => {
      if (e.type === 'ERROR') return;
      const name = e.object.metadata?.name ?? '';
      if (e.type === 'DELETED' || e.object.metadata?.deletionTimestamp) live.delete(name);
      else if (e.object.spec?.nodeName) live.set(name, e.object.spec.nodeName);
      const covered = new Set(live.values());
      mostUncovered = Math.max(mostUncovered, ['node-1', 'node-2', 'node-3', 'node-4'].filter((n) => !covered.has(n)).length);
    });
    const set = await cluster.cli(['set', 'image', 'ds/agent', 'web=nginx:1.22']);
    expect(set.stdout).toBe('daemonset.apps/agent image updated\n');
    const status = await cluster.cli(['rollout', 'status', 'ds/agent', '--timeout=90s'], { timeoutMs: 100_000 });
    watch.stop();
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/daemon set "agent" successfully rolled out\n$/);
    expect(mostUncovered).toBe(1);
    const images = (await client.list<Pod & KubeObject>(pods, { labelSelector: 'app=agent' })).items
      .filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.spec?.containers[0].image);
    expect(images).toEqual(['nginx:1.22', 'nginx:1.22', 'nginx:1.22', 'nginx:1.22']);
    const history = await cluster.cli(['rollout', 'history', 'daemonset/agent']);
    expect(history.stdout).toMatch(/^daemonset\.apps\/agent \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    const get = await cluster.cli(['get', 'ds', 'agent']);
    expect(get.stdout).toMatch(/^agent\s+4\s+4\s+4\s+4\s+4\s+<none>\s+\d+s/m);

    const deleted = await cluster.cli(['node', 'delete', 'node-4'], { timeoutMs: 100_000 });
    expect(deleted.code, deleted.stderr).toBe(0);
    await waitFor<DS>(client, daemonsets, 'agent', (d) => d.status?.desiredNumberScheduled === 3 && d.status.numberReady === 3, 30_000);
    expect(await nodesOf()).toEqual(['node-1', 'node-2', 'node-3']);
    const nodeList = await cluster.cli(['get', 'nodes', '-o', 'name']);
    expect(nodeList.stdout).toBe('node/node-1\nnode/node-2\nnode/node-3\n');
    expect((await cluster.leftovers()).networks.length).toBe(3);
    await cluster.cli(['delete', 'ds', 'agent']);
  }, 240_000);

  it('starts a StatefulSet\'s pods 0, 1, 2 in order, each once the previous is Ready, and scales down 2 then 1', async () => {
    const client = cluster.client();
    const statefulsets: ResourceRef = { group: 'apps', version: 'v1', resource: 'statefulsets', namespace: 'default' };
    const events: { name: string; what: 'created' | 'ready' | 'deleted'; at: number }[] = [];
    const seenReady = new Set<string>();
    let onDeleted = (): void => undefined;
    const watch = client.watch<Pod & KubeObject>(pods, { labelSelector: 'app=web-sts' }, (e) => {
      const name = e.object.metadata?.name ?? '';
      if (e.type === 'ADDED') events.push({ name, what: 'created', at: Date.now() });
      if (e.type === 'DELETED') {
        events.push({ name, what: 'deleted', at: Date.now() });
        onDeleted();
      }
      const ready = (e.object.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
      if (e.type !== 'DELETED' && ready && !seenReady.has(name)) {
        seenReady.add(name);
        events.push({ name, what: 'ready', at: Date.now() });
      }
    });
    await client.create(statefulsets, {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web' },
      spec: {
        serviceName: 'web', replicas: 3,
        selector: { matchLabels: { app: 'web-sts' } },
        template: { metadata: { labels: { app: 'web-sts' } }, spec: {
          terminationGracePeriodSeconds: 2,
          containers: [{ name: 'nginx', image: 'nginx:latest', imagePullPolicy: 'IfNotPresent', readinessProbe: { httpGet: { path: '/', port: 80 }, periodSeconds: 1, timeoutSeconds: 5 } }],
        } },
      },
    } as KubeObject);
    type SS = KubeObject & { status?: { readyReplicas?: number; replicas?: number } };
    await waitFor<SS>(client, statefulsets, 'web', (s) => s.status?.readyReplicas === 3, 60_000);
    const order = events.map((e) => `${e.what} ${e.name}`);
    expect(order).toEqual(['created web-0', 'ready web-0', 'created web-1', 'ready web-1', 'created web-2', 'ready web-2']);
    const web1 = await client.get<Pod & KubeObject>(pods, 'web-1');
    expect(web1.spec).toMatchObject({ hostname: 'web-1', subdomain: 'web' });
    expect(web1.metadata?.labels).toMatchObject({ 'statefulset.kubernetes.io/pod-name': 'web-1', 'apps.kubernetes.io/pod-index': '1' });
    const hostname = await cluster.cli(['exec', 'web-1', '--', 'hostname']);
    expect(hostname.stdout.trim()).toBe('web-1');
    const get = await cluster.cli(['get', 'sts', 'web']);
    expect(get.stdout).toMatch(/^web\s+3\/3\s+\d+s$/m);
    const status = await cluster.cli(['rollout', 'status', 'sts/web']);
    expect(status.stdout).toMatch(/partitioned roll out complete: 3 new pods have been updated...\n$/);

    events.length = 0;
    const scaled = await cluster.cli(['scale', 'sts', 'web', '--replicas=1']);
    expect(scaled.stdout).toBe('statefulset.apps/web scaled\n');
    await waitFor<SS>(client, statefulsets, 'web', (s) => s.status?.replicas === 1, 60_000);
    await new Promise<void>((resolve) => {
      onDeleted = () => { if (events.filter((e) => e.what === 'deleted').length >= 2) resolve(); };
      onDeleted();
    });
    watch.stop();
    expect(events.filter((e) => e.what === 'deleted').map((e) => e.name)).toEqual(['web-2', 'web-1']);
    await cluster.cli(['delete', 'sts', 'web']);
  }, 150_000);

  it('lands a LimitRange default in a created pod, which the kubelet gives Docker, and refuses a pod over the max', async () => {
    const apply = await cluster.cli(['apply', '-f', '-'], { input: [
      'apiVersion: v1', 'kind: LimitRange', 'metadata: {name: cpu-limits}', 'spec:', '  limits:',
      '  - type: Container', '    default: {cpu: 500m, memory: 128Mi}', '    defaultRequest: {cpu: 250m}', '    max: {cpu: "1"}', ''].join('\n') });
    expect(apply.stdout).toBe('limitrange/cpu-limits created\n');
    await cluster.client().create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'limited' },
      spec: { containers: [{ name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }], terminationGracePeriodSeconds: 0 } } as KubeObject);
    const p = await cluster.waitForPod('limited', (x) => x.status?.phase === 'Running');
    expect(p.spec?.containers[0].resources).toEqual({ limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m', memory: '128Mi' } });
    expect(p.metadata?.annotations?.['kubernetes.io/limit-ranger']).toBe('LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c');
    const id = (p.status?.containerStatuses?.[0]?.containerID ?? '').replace('docker://', '');
    const inspect = await sh('docker', ['inspect', '-f', '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}', id]);
    expect(inspect.stdout.trim()).toBe(`500000000 ${128 * 1024 * 1024}`);
    const refused = await cluster.cli(['apply', '-f', '-'], { input: [
      'apiVersion: v1', 'kind: Pod', 'metadata: {name: too-big}', 'spec:', '  containers:', '  - name: c', '    image: busybox:latest',
      '    resources: {limits: {cpu: "2"}}', ''].join('\n') });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/pods "too-big" is forbidden: maximum cpu usage per Container is 1, but limit is 2/);
    await cluster.cli(['delete', 'pod', 'limited', '--grace-period', '0', '--force']);
    await cluster.cli(['delete', 'limitrange', 'cpu-limits']);
  }, 60_000);

  it('refuses a pod over a ResourceQuota and keeps the quota\'s used up to date', async () => {
    const client = cluster.client();
    await client.create({ group: '', version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'quota-test' } } as KubeObject);
    const quotas: ResourceRef = { group: '', version: 'v1', resource: 'resourcequotas', namespace: 'quota-test' };
    await client.create(quotas, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'small' }, spec: { hard: { pods: '1', 'requests.cpu': '500m' } } } as KubeObject);
    const podYaml = (name: string, cpu: string) => ['apiVersion: v1', 'kind: Pod', `metadata: {name: ${name}}`, 'spec:', '  terminationGracePeriodSeconds: 0', '  containers:',
      '  - name: c', '    image: busybox:latest', '    imagePullPolicy: IfNotPresent', '    command: [sleep, "3600"]', `    resources: {requests: {cpu: ${cpu}}}`, ''].join('\n');
    const tooMuch = await cluster.cli(['-n', 'quota-test', 'apply', '-f', '-'], { input: podYaml('greedy', '600m') });
    expect(tooMuch.stderr).toMatch(/pods "greedy" is forbidden: exceeded quota: small, requested: requests.cpu=600m, used: requests.cpu=0, limited: requests.cpu=500m/);
    const ok = await cluster.cli(['-n', 'quota-test', 'apply', '-f', '-'], { input: podYaml('first', '200m') });
    expect(ok.stdout).toBe('pod/first created\n');
    const second = await cluster.cli(['-n', 'quota-test', 'apply', '-f', '-'], { input: podYaml('second', '100m') });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/pods "second" is forbidden: exceeded quota: small, requested: pods=1, used: pods=1, limited: pods=1/);
    const q = await waitFor<KubeObject & { status?: { used?: Record<string, string> } }>(client, quotas, 'small', (x) => x.status?.used?.pods === '1', 20_000);
    expect(q.status?.used).toEqual({ pods: '1', 'requests.cpu': '200m' });
    const get = await cluster.cli(['-n', 'quota-test', 'get', 'quota']);
    expect(get.stdout).toMatch(/^small\s+\d+s\s+pods: 1\/1, requests.cpu: 200m\/500m\s*$/m);
    await cluster.cli(['delete', 'namespace', 'quota-test']);
  }, 60_000);
});
