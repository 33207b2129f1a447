/**
 * Health checks and the container lifecycle on a real Docker engine: liveness, readiness and
 * startup probes; restart back-off (shortened with `up --kubelet-backoff-base/-cap`);
 * restartPolicy outcomes; preStop/SIGTERM/SIGKILL within the grace period; postStart hooks;
 * init containers; a kubelet killed with SIGKILL and started again; a sandbox killed behind the
 * kubelet's back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Event, KubeObject, Pod } from '../../src/api/types.js';
import { podRow } from '../../src/api/podstatus.js';
import { EVENTS, PODS } from '../../src/client/client.js';
import { clusterDir } from '../../src/cli/context.js';
import { TestCluster, dockerAvailable, isRunning, sh } from './helpers.js';

const hasDocker = await dockerAvailable();
const ref = { ...PODS, namespace: 'default' };
const NGINX = { image: 'nginx:latest', imagePullPolicy: 'IfNotPresent' };
const BUSYBOX = { image: 'busybox:latest', imagePullPolicy: 'IfNotPresent' };
const HTML = '/usr/share/nginx/html';

function podOf(name: string, spec: Record<string, unknown>): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: spec as unknown as Pod['spec'] };
}

const status0 = (p: Pod) => p.status?.containerStatuses?.[0];
const condition = (p: Pod, type: string) => p.status?.conditions?.find((c) => c.type === type)?.status;
const seconds = (from: number) => (Date.now() - from) / 1000;

describe.skipIf(!hasDocker)('health checks and the container lifecycle on a real Docker engine (skipped when no Docker engine answers `docker info`)', () => {
  const cluster = new TestCluster(`e2e-health-${process.pid}`, '10.234.0.0/16');
  const hostDir = mkdtempSync(join(tmpdir(), 'mkl-health-'));

  beforeAll(async () => {
    const r = await cluster.cli(['up', '--nodes', '1', '--pod-cidr', cluster.podCIDR, '--kubelet-backoff-base', '1s', '--kubelet-backoff-cap', '4s']);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await cluster.destroy();
    rmSync(hostDir, { recursive: true, force: true });
    expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  /** The events about one pod, as `reason: message` lines, oldest first. */
  async function eventsOf(pod: string): Promise<string[]> {
    const list = await cluster.client().list<Event & KubeObject>({ ...EVENTS, namespace: 'default' });
    return list.items
      .filter((e) => e.involvedObject?.name === pod)
      .sort((a, b) => String(a.firstTimestamp).localeCompare(String(b.firstTimestamp)))
      .map((e) => `${e.reason}: ${e.message}`);
  }

  /** Docker containers (sandbox included) of a pod, by its uid label. */
  async function dockerContainersOf(uid: string, extra: string[] = []): Promise<string[]> {
    const r = await sh('docker', ['ps', '-aq', '--no-trunc', '--filter', `label=io.kubernetes.pod.uid=${uid}`, ...extra]);
    return r.stdout.split('\n').filter(Boolean).sort();
  }

  it('restarts nginx whose liveness page was deleted, with Unhealthy and Killing events, and keeps the old log for --previous', async () => {
    await cluster.client().create(ref, podOf('live', {
      containers: [{ name: 'web', ...NGINX, ports: [{ name: 'http', containerPort: 80 }],
        livenessProbe: { httpGet: { path: '/index.html', port: 'http' }, periodSeconds: 1, failureThreshold: 2 } }],
    }));
    const before = await cluster.waitForPod('live', isRunning);
    const rm = await cluster.cli(['exec', 'live', '--', 'rm', `${HTML}/index.html`]);
    expect(rm.code, rm.stderr).toBe(0);
    const after = await cluster.waitForPod('live', (p) => isRunning(p) && status0(p)?.restartCount === 1, 30_000);
    expect(status0(after)?.containerID).not.toBe(status0(before)?.containerID);
    expect(status0(after)?.lastState?.terminated?.finishedAt).toBeDefined();
    const events = await eventsOf('live');
    expect(events).toContain('Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 404');
    expect(events).toContain('Killing: Container web failed liveness probe, will be restarted');
    const previous = await cluster.cli(['logs', 'live', '--previous']);
    expect(previous.code, previous.stderr).toBe(0);
    expect(previous.stdout).toMatch(/"GET \/index\.html HTTP\/1\.1" 404/);
    const current = await cluster.cli(['logs', 'live']);
    expect(current.stdout).not.toMatch(/ 404 /);
    expect((await cluster.cli(['get', 'pod', 'live'])).stdout).toMatch(/^live\s+1\/1\s+Running\s+1 \(\d+s ago\)/m);
  }, 60_000);

  it('holds readiness until the startup probe passes, then follows the readiness probe both ways', async () => {
    await cluster.client().create(ref, podOf('ready', {
      containers: [{ name: 'web', ...NGINX, ports: [{ name: 'http', containerPort: 80 }],
        startupProbe: { exec: { command: ['cat', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 120 },
        readinessProbe: { httpGet: { path: '/ready.html', port: 80 }, periodSeconds: 1, failureThreshold: 2 },
        livenessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 1 } }],
    }));
    const notStarted = await cluster.waitForPod('ready', (p) => status0(p)?.state?.running !== undefined);
    expect(status0(notStarted)).toMatchObject({ started: false, ready: false });
    expect(condition(notStarted, 'Ready')).toBe('False');
    await new Promise((r) => setTimeout(r, 2500));
    expect((await cluster.cli(['get', 'pod', 'ready'])).stdout).toMatch(/^ready\s+0\/1\s+Running\s+0/m);
    expect((await eventsOf('ready')).some((e) => /^Unhealthy: Startup probe failed: cat: .*\/tmp\/started.*No such file or directory$/.test(e))).toBe(true);

    await cluster.cli(['exec', 'ready', '--', 'touch', '/tmp/started']);
    const started = await cluster.waitForPod('ready', (p) => status0(p)?.started === true, 15_000);
    expect(status0(started)?.ready).toBe(false);
    // Once started, the readiness probe runs and fails (no ready.html yet) before the page exists.
    const notFound = 'Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 404';
    for (let i = 0; i < 50 && !(await eventsOf('ready')).includes(notFound); i++) await new Promise((r) => setTimeout(r, 200));
    await cluster.cli(['exec', 'ready', '--', 'sh', '-c', `echo ok > ${HTML}/ready.html`]);
    const readyPod = await cluster.waitForPod('ready', (p) => condition(p, 'Ready') === 'True', 15_000);
    expect(status0(readyPod)).toMatchObject({ started: true, ready: true, restartCount: 0 });
    expect(condition(readyPod, 'ContainersReady')).toBe('True');
    expect(await eventsOf('ready')).toContain(notFound);

    await cluster.cli(['exec', 'ready', '--', 'rm', `${HTML}/ready.html`]);
    const unready = await cluster.waitForPod('ready', (p) => condition(p, 'Ready') === 'False', 15_000);
    expect(status0(unready)).toMatchObject({ ready: false, restartCount: 0 });
    expect(unready.status?.phase).toBe('Running');
  }, 60_000);

  it('backs off a crashing container with growing delays up to the cap (1s base, 4s cap)', async () => {
    await cluster.client().create(ref, podOf('crashloop', { containers: [{ name: 'c', ...BUSYBOX, command: ['sh', '-c', 'exit 1'] }] }));
    const seen = new Map<number, number>();
    let sawBackOff = '';
    await cluster.waitForPod('crashloop', (p) => {
      const s = status0(p);
      const n = s?.restartCount ?? 0;
      if (!seen.has(n)) seen.set(n, Date.now());
      if (s?.state?.waiting?.reason === 'CrashLoopBackOff') sawBackOff = s.state.waiting.message ?? '';
      return n >= 5;
    }, 45_000);
    const gaps = [1, 2, 3, 4].map((n) => ((seen.get(n + 1) ?? 0) - (seen.get(n) ?? 0)) / 1000);
    // Each gap is the back-off (1s, 2s, 4s, 4s) plus the container's short run.
    expect(gaps[0]).toBeGreaterThanOrEqual(0.9);
    expect(gaps[0]).toBeLessThan(2.8);
    expect(gaps[1]).toBeGreaterThanOrEqual(1.9);
    expect(gaps[1]).toBeLessThan(3.8);
    expect(gaps[2]).toBeGreaterThanOrEqual(3.9);
    expect(gaps[2]).toBeLessThan(6);
    expect(gaps[3]).toBeGreaterThanOrEqual(3.9);
    expect(gaps[3]).toBeLessThan(6);
    expect(sawBackOff).toMatch(/^back-off [1-4]s restarting failed container=c pod=crashloop_default/);
    const p = await cluster.client().get<Pod>(ref, 'crashloop');
    expect(status0(p)?.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    await cluster.cli(['delete', 'pod', 'crashloop', '--grace-period', '0', '--force']);
  }, 60_000);

  it('ends a restartPolicy Never pod Failed on exit 1 and a pod that exits 0 Succeeded (Completed)', async () => {
    const client = cluster.client();
    await client.create(ref, podOf('never-fails', { restartPolicy: 'Never', containers: [{ name: 'c', ...BUSYBOX, command: ['sh', '-c', 'exit 1'] }] }));
    await client.create(ref, podOf('completes', { restartPolicy: 'OnFailure', containers: [{ name: 'c', ...BUSYBOX, command: ['sh', '-c', 'echo done'] }] }));
    const failed = await cluster.waitForPod('never-fails', (p) => p.status?.phase === 'Failed');
    expect(status0(failed)).toMatchObject({ restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error' } } });
    const done = await cluster.waitForPod('completes', (p) => p.status?.phase === 'Succeeded');
    expect(status0(done)).toMatchObject({ restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } });
    expect((await cluster.cli(['get', 'pod', 'never-fails'])).stdout).toMatch(/^never-fails\s+0\/1\s+Error\s+0/m);
    expect((await cluster.cli(['get', 'pod', 'completes'])).stdout).toMatch(/^completes\s+0\/1\s+Completed\s+0/m);
  }, 60_000);

  it('runs preStop, then delivers SIGTERM, within the grace period; a slow preStop uses the grace period up', async () => {
    const client = cluster.client();
    const volume = (dir: string) => ({ volumes: [{ name: 'out', hostPath: { path: join(hostDir, dir), type: 'DirectoryOrCreate' } }] });
    const container = (preStop: string) => ({
      name: 'c', ...BUSYBOX, volumeMounts: [{ name: 'out', mountPath: '/out' }],
      command: ['sh', '-c', 'trap "echo term >> /out/log; exit 0" TERM; echo started >> /out/log; while true; do sleep 0.1; done'],
      lifecycle: { preStop: { exec: { command: ['sh', '-c', preStop] } } },
    });
    await client.create(ref, podOf('graceful', { terminationGracePeriodSeconds: 10, ...volume('graceful'), containers: [container('echo prestop >> /out/log; sleep 1')] }));
    await client.create(ref, podOf('slow-prestop', { terminationGracePeriodSeconds: 3, ...volume('slow'), containers: [container('echo prestop >> /out/log; sleep 30')] }));
    await cluster.waitForPod('graceful', isRunning);
    await cluster.waitForPod('slow-prestop', isRunning);
    const timedDelete = async (name: string) => {
      const t = Date.now();
      const r = await cluster.cli(['delete', 'pod', name]);
      expect(r.stdout.trim()).toBe(`pod "${name}" deleted`);
      return seconds(t);
    };
    const [graceful, slow] = await Promise.all([timedDelete('graceful'), timedDelete('slow-prestop')]);
    expect(readFileSync(join(hostDir, 'graceful', 'log'), 'utf8')).toBe('started\nprestop\nterm\n');
    // Ended by the TERM after the hook, not by the 10 s grace period running out (under load
    // the hook's exec and the status reaching the CLI take seconds too).
    expect(graceful).toBeGreaterThanOrEqual(1);
    expect(graceful).toBeLessThan(10);
    // The hook had the whole grace period (3s); the stop signal still got the minimum 2s.
    expect(readFileSync(join(hostDir, 'slow', 'log'), 'utf8')).toBe('started\nprestop\nterm\n');
    expect(slow).toBeGreaterThanOrEqual(3);
    // Not the hook's 30 s: the grace period cut it short.
    expect(slow).toBeLessThan(15);
  }, 60_000);

  it('runs postStart right after the start, and kills and restarts a container whose postStart fails', async () => {
    const client = cluster.client();
    await client.create(ref, podOf('hooked', {
      containers: [{ name: 'web', ...NGINX, lifecycle: { postStart: { exec: { command: ['sh', '-c', `echo hooked > ${HTML}/hook.html`] } } } }],
    }));
    await client.create(ref, podOf('bad-hook', {
      terminationGracePeriodSeconds: 2, // sleep as PID 1 ignores SIGTERM: the kill waits the grace period out
      containers: [{ name: 'c', ...BUSYBOX, command: ['sleep', '3600'], lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo no; exit 3'] } } } }],
    }));
    const hooked = await cluster.waitForPod('hooked', isRunning);
    const res = await fetch(`http://${hooked.status?.podIP}/hook.html`);
    expect(await res.text()).toBe('hooked\n');
    const bad = await cluster.waitForPod('bad-hook', (p) => (status0(p)?.restartCount ?? 0) >= 1, 30_000);
    expect(bad.status?.phase).toBe('Running');
    const events = await eventsOf('bad-hook');
    expect(events.some((e) => e.startsWith('FailedPostStartHook: Exec lifecycle hook ([sh -c echo no; exit 3]) for Container "c" in Pod "bad-hook_default('))).toBe(true);
    expect(events).toContain('Killing: FailedPostStartHook');
    await cluster.cli(['delete', 'pod', 'bad-hook', '--grace-period', '0', '--force']);
  }, 60_000);

  it('runs init containers in order to completion before the app container, which serves what they wrote', async () => {
    await cluster.client().create(ref, podOf('init-web', {
      initContainers: [
        { name: 'wait', ...BUSYBOX, command: ['sh', '-c', 'sleep 2'] },
        { name: 'write', ...BUSYBOX, command: ['sh', '-c', 'sleep 1; echo from-init > /work/index.html'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
      ],
      containers: [{ name: 'web', ...NGINX, volumeMounts: [{ name: 'work', mountPath: HTML }] }],
      volumes: [{ name: 'work', emptyDir: {} }],
    }));
    const shown: string[] = [];
    const p = await cluster.waitForPod('init-web', (x) => {
      const s = podRow(x, new Date()).status;
      if (shown[shown.length - 1] !== s) shown.push(s);
      return isRunning(x);
    }, 60_000);
    expect(shown).toContain('Init:0/2');
    expect(shown).toContain('Init:1/2');
    expect(shown.indexOf('Init:0/2')).toBeLessThan(shown.indexOf('Init:1/2'));
    expect(shown[shown.length - 1]).toBe('Running');
    expect(p.status?.initContainerStatuses?.map((s) => [s.name, s.state?.terminated?.reason, s.ready])).toEqual([['wait', 'Completed', true], ['write', 'Completed', true]]);
    expect(condition(p, 'Initialized')).toBe('True');
    const res = await fetch(`http://${p.status?.podIP}/`);
    expect(await res.text()).toBe('from-init\n');
  }, 90_000);

  it('fails a Never pod whose init container fails (Init:Error) and backs one off under Always (Init:CrashLoopBackOff)', async () => {
    const client = cluster.client();
    const spec = (restartPolicy: string) => ({
      restartPolicy,
      initContainers: [{ name: 'setup', ...BUSYBOX, command: ['sh', '-c', 'exit 2'] }],
      containers: [{ name: 'app', ...BUSYBOX, command: ['sleep', '3600'] }],
    });
    await client.create(ref, podOf('init-never', spec('Never')));
    await client.create(ref, podOf('init-always', spec('Always')));
    const failed = await cluster.waitForPod('init-never', (p) => p.status?.phase === 'Failed');
    expect(failed.status?.initContainerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
    expect(status0(failed)?.state?.waiting?.reason).toBe('PodInitializing');
    expect(condition(failed, 'Initialized')).toBe('False');
    expect(podRow(failed, new Date()).status).toBe('Init:Error');
    const looping = await cluster.waitForPod('init-always', (p) => p.status?.initContainerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff', 30_000);
    expect(looping.status?.phase).toBe('Pending');
    expect(podRow(looping, new Date()).status).toBe('Init:CrashLoopBackOff');
    expect(looping.status?.initContainerStatuses?.[0]?.restartCount).toBeGreaterThanOrEqual(1);
    await cluster.cli(['delete', 'pod', 'init-never', 'init-always', '--grace-period', '0', '--force']);
  }, 60_000);

  it('adopts its containers after a kill -9 and restart of the kubelet: no duplicates, restart counts kept, lost work repaired', async () => {
    const client = cluster.client();
    await client.create(ref, podOf('survivor', {
      // Fails once, then runs: restartCount 1 must survive the kubelet's restart.
      containers: [{ name: 'c', ...BUSYBOX, command: ['sh', '-c', 'test -f /data/once && exec sleep 3600; touch /data/once; exit 1'],
        volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      volumes: [{ name: 'data', emptyDir: {} }],
    }));
    await client.create(ref, podOf('removed-while-down', { containers: [{ name: 'c', ...BUSYBOX, command: ['sleep', '3600'] }] }));
    const survivor = await cluster.waitForPod('survivor', (p) => isRunning(p) && status0(p)?.restartCount === 1, 30_000);
    const victim = await cluster.waitForPod('removed-while-down', isRunning);
    const uid = survivor.metadata?.uid ?? '';
    const containersBefore = await dockerContainersOf(uid, ['--filter', 'status=running']);
    expect(containersBefore).toHaveLength(2); // pause + c

    const dir = clusterDir(cluster.home, cluster.name);
    const pid = Number(readFileSync(join(dir, 'kubelet-node-1.pid'), 'utf8'));
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => !isAlive(pid), 10_000);
    // Work the kubelet must notice when it is back: a container removed and a new pod.
    const victimId = status0(victim)?.containerID?.replace('docker://', '') ?? '';
    expect((await sh('docker', ['rm', '-f', victimId])).code).toBe(0);
    await client.create(ref, podOf('created-while-down', { containers: [{ name: 'c', ...BUSYBOX, command: ['sleep', '3600'] }] }));

    restartKubelet(dir, argv);
    const newPod = await cluster.waitForPod('created-while-down', isRunning, 30_000);
    expect(status0(newPod)?.restartCount).toBe(0);
    const repaired = await cluster.waitForPod('removed-while-down', (p) => isRunning(p) && status0(p)?.containerID !== status0(victim)?.containerID, 30_000);
    expect(status0(repaired)?.restartCount).toBe(1);
    const again = await client.get<Pod>(ref, 'survivor');
    expect(status0(again)).toMatchObject({ restartCount: 1, ready: true, containerID: status0(survivor)?.containerID });
    expect(again.status?.podIP).toBe(survivor.status?.podIP);
    expect(await dockerContainersOf(uid, ['--filter', 'status=running'])).toEqual(containersBefore);
    expect((await dockerContainersOf(uid)).length).toBe(3); // plus the first, exited instance
  }, 90_000);

  it('recreates a sandbox killed behind its back within seconds, and the pod gets an IP again; a removed container comes back', async () => {
    await cluster.client().create(ref, podOf('netpod', { containers: [{ name: 'web', ...NGINX }] }));
    const before = await cluster.waitForPod('netpod', isRunning);
    const uid = before.metadata?.uid ?? '';
    const pause = await dockerContainersOf(uid, ['--filter', 'label=minikube-lite.sandbox=true']);
    expect(pause).toHaveLength(1);
    const t = Date.now();
    expect((await sh('docker', ['kill', pause[0]])).code).toBe(0);
    const after = await cluster.waitForPod('netpod', (p) => isRunning(p) && status0(p)?.restartCount === 1, 30_000);
    expect(seconds(t)).toBeLessThan(5);
    expect(after.status?.podIP).toMatch(/^10\.234\.1\.\d+$/);
    // The dead sandbox is kept, stopped, while its stopped container is (as Kubernetes' GC keeps them).
    const newPause = await dockerContainersOf(uid, ['--filter', 'label=minikube-lite.sandbox=true', '--filter', 'status=running']);
    expect(newPause).toHaveLength(1);
    expect(newPause[0]).not.toBe(pause[0]);
    expect(await eventsOf('netpod')).toContain('SandboxChanged: Pod sandbox changed, it will be killed and re-created.');
    const res = await fetch(`http://${after.status?.podIP}/`);
    expect(res.status).toBe(200);

    // An app container removed behind the kubelet's back comes back, and the restart is counted.
    const t2 = Date.now();
    expect((await sh('docker', ['rm', '-f', status0(after)?.containerID?.replace('docker://', '') ?? ''])).code).toBe(0);
    const back = await cluster.waitForPod('netpod', (p) => isRunning(p) && status0(p)?.restartCount === 2, 30_000);
    expect(seconds(t2)).toBeLessThan(5);
    expect(status0(back)?.containerID).not.toBe(status0(after)?.containerID);
    expect(back.status?.podIP).toBe(after.status?.podIP);
  }, 60_000);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntil(ok: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the kubelet again exactly as `up` did (same argv), detached, logging to its file, with its pid recorded for `down`. */
function restartKubelet(dir: string, argv: string[]): void {
  const fd = openSync(join(dir, 'kubelet-node-1.log'), 'a');
  try {
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], env: process.env });
    child.unref();
    writeFileSync(join(dir, 'kubelet-node-1.pid'), String(child.pid));
  } finally {
    closeSync(fd);
  }
}
