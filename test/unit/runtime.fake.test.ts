/**
 * The fake runtime: the shared runtime contract, plus its test hooks and the behaviour unit
 * tests of other components rely on (determinism, injected clock, isolation of node networks).
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FakeRuntime } from '../../src/runtime/fake.js';
import { NGINX_WELCOME } from '../../src/runtime/fake-process.js';
import { RuntimeError, type ContainerConfig } from '../../src/runtime/types.js';
import { runtimeContract } from '../contract/runtime.contract.js';

const PAUSE = 'registry.k8s.io/pause:3.10';
const BUSYBOX = 'busybox:latest';
const NGINX = 'nginx:latest';
const MISSING = 'nginx:does-not-exist';
const MISSING_MESSAGE = 'manifest for nginx:does-not-exist not found: manifest unknown: manifest unknown';

/** A fake with the images the contract and these tests use, configured like the real ones. */
function fakeWithImages(opts: ConstructorParameters<typeof FakeRuntime>[0] = {}): FakeRuntime {
  const fake = new FakeRuntime(opts);
  fake.addImage(PAUSE, { entrypoint: ['/pause'] });
  fake.addImage(BUSYBOX, { cmd: ['sh'], env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] });
  fake.addImage(NGINX, { cmd: ['nginx', '-g', 'daemon off;'], files: { '/usr/share/nginx/html/index.html': NGINX_WELCOME } });
  fake.failPull(MISSING, MISSING_MESSAGE);
  return fake;
}

runtimeContract(
  'FakeRuntime',
  ({ cluster }) => {
    const fake = fakeWithImages({ clusterLabel: cluster });
    return { runtime: fake, pullCount: () => fake.pullCount };
  },
  { images: { pause: PAUSE, shell: BUSYBOX, server: NGINX, missing: MISSING }, pullFailure: /manifest for nginx:does-not-exist not found/ },
);

const net = { name: 'node-1', subnet: '10.244.1.0/24', gateway: '10.244.1.1', labels: {} };
const sandboxConfig = (name: string, network = net.name) => ({
  name,
  hostname: name,
  network,
  image: PAUSE,
  labels: { pod: name },
  portMappings: [],
});
const containerConfig = (name: string, over: Partial<ContainerConfig> = {}): ContainerConfig => ({
  name,
  image: BUSYBOX,
  env: [],
  mounts: [],
  labels: {},
  ...over,
});

describe('FakeRuntime test hooks and determinism', () => {
  it('assigns the lowest free addresses of the subnet, skipping the gateway, and reuses released ones', async () => {
    const fake = fakeWithImages();
    await fake.ensureNetwork(net);
    const a = await fake.runPodSandbox(sandboxConfig('a'));
    const b = await fake.runPodSandbox(sandboxConfig('b'));
    expect([a.ip, b.ip]).toEqual(['10.244.1.2', '10.244.1.3']);
    await fake.removePodSandbox(a.id);
    expect((await fake.runPodSandbox(sandboxConfig('c'))).ip).toBe('10.244.1.2');
  });

  it('takes its times from the injected clock', async () => {
    let t = Date.parse('2030-01-01T00:00:00Z');
    const fake = fakeWithImages({ now: () => new Date(t) });
    await fake.ensureNetwork(net);
    const sb = await fake.runPodSandbox(sandboxConfig('a'));
    const id = await fake.createContainer(sb.id, containerConfig('app', { entrypoint: ['sleep', '60'] }));
    t += 1000;
    await fake.startContainer(id);
    t += 5000;
    fake.exitContainer(id, 2);
    const s = await fake.containerStatus(id);
    expect(s?.createdAt.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(s?.startedAt?.toISOString()).toBe('2030-01-01T00:00:01.000Z');
    expect(s?.finishedAt?.toISOString()).toBe('2030-01-01T00:00:06.000Z');
    expect(s?.exitCode).toBe(2);
  });

  it('setUsage makes a container burn CPU at a rate by the injected clock', async () => {
    let t = Date.parse('2030-01-01T00:00:00Z');
    const fake = fakeWithImages({ now: () => new Date(t) });
    await fake.ensureNetwork(net);
    const sb = await fake.runPodSandbox(sandboxConfig('a'));
    const id = await fake.createContainer(sb.id, containerConfig('app', { entrypoint: ['sleep', '60'] }));
    await fake.startContainer(id);
    fake.setUsage(id, 0.5, 64 * 1024 * 1024);
    t += 10_000;
    const a = await fake.containerStats(id);
    expect(a).toEqual({ timestamp: t, cpuUsageCoreNanoSeconds: 5e9, memoryWorkingSetBytes: 64 * 1024 * 1024 });
    fake.setUsage(id, 2, 0);
    t += 1000;
    expect((await fake.containerStats(id))?.cpuUsageCoreNanoSeconds).toBe(7e9);
  });

  it('exitContainer with oomKilled reports OOMKilled and emits oom before die', async () => {
    const fake = fakeWithImages();
    await fake.ensureNetwork(net);
    const sb = await fake.runPodSandbox(sandboxConfig('a'));
    const id = await fake.createContainer(sb.id, containerConfig('app', { entrypoint: ['sleep', '3600'] }));
    await fake.startContainer(id);
    const actions: string[] = [];
    fake.onContainerEvent((e) => actions.push(e.action));
    fake.exitContainer(id, 137, { oomKilled: true });
    await Promise.resolve();
    expect(actions).toEqual(['oom', 'die']);
    expect(await fake.containerStatus(id)).toMatchObject({ state: 'exited', exitCode: 137, reason: 'OOMKilled' });
  });

  it('an app the fake does not know keeps running until stopped, like a real server', async () => {
    const fake = fakeWithImages();
    await fake.pullImage('example.com/team/app:v1');
    await fake.ensureNetwork(net);
    const sb = await fake.runPodSandbox(sandboxConfig('a'));
    const id = await fake.createContainer(sb.id, containerConfig('app', { image: 'example.com/team/app:v1' }));
    await fake.startContainer(id);
    expect((await fake.containerStatus(id))?.state).toBe('running');
    await fake.stopContainer(id, 30);
    expect(await fake.containerStatus(id)).toMatchObject({ state: 'exited', exitCode: 143 });
  });

  it('counts pulls, and failPull(undefined) lets a failed image be pulled again', async () => {
    const fake = fakeWithImages();
    await expect(fake.pullImage(MISSING)).rejects.toThrow(MISSING_MESSAGE);
    fake.failPull(MISSING, undefined);
    await fake.pullImage(MISSING);
    expect(fake.pullCount).toBe(2);
    expect(await fake.imageStatus(MISSING)).toBeDefined();
  });

  it('pulls a missing pause image when running a sandbox', async () => {
    const fake = new FakeRuntime();
    await fake.ensureNetwork(net);
    await fake.runPodSandbox(sandboxConfig('a'));
    expect(fake.pullCount).toBe(1);
    expect(await fake.imageStatus(PAUSE)).toBeDefined();
  });

  it('refuses a host port that another sandbox holds, and frees it when that sandbox stops', async () => {
    const fake = fakeWithImages();
    await fake.ensureNetwork(net);
    const withPort = (name: string) => ({ ...sandboxConfig(name), portMappings: [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' as const }] });
    const a = await fake.runPodSandbox(withPort('a'));
    await expect(fake.runPodSandbox(withPort('b'))).rejects.toThrow(/port is already allocated/);
    await fake.stopPodSandbox(a.id);
    await fake.runPodSandbox(withPort('c'));
  });

  it('records allowed pod CIDRs and rejects malformed ones', async () => {
    const fake = new FakeRuntime();
    await fake.allowPodTraffic('10.244.0.0/16');
    await fake.allowPodTraffic('10.244.0.0/16');
    expect(fake.podTrafficCidrs()).toEqual(['10.244.0.0/16']);
    await expect(fake.allowPodTraffic('10.244.0.0')).rejects.toThrow(RuntimeError);
    await fake.disallowPodTraffic('10.244.0.0/16');
    expect(fake.podTrafficCidrs()).toEqual([]);
  });

  it('fails ping while failPing is set', async () => {
    const fake = new FakeRuntime();
    fake.failPing('Cannot connect to the Docker engine');
    await expect(fake.ping()).rejects.toThrow('Cannot connect to the Docker engine');
    fake.failPing(undefined);
    await fake.ping();
  });

  it('refuses overlapping node networks, as Docker does', async () => {
    const fake = new FakeRuntime();
    await fake.ensureNetwork(net);
    await expect(fake.ensureNetwork({ ...net, name: 'node-2', subnet: '10.244.0.0/16', gateway: '10.244.0.1' })).rejects.toThrow(/overlaps/);
  });

  it('writes to a read-only mount fail', async () => {
    const fake = fakeWithImages();
    await fake.ensureNetwork(net);
    const sb = await fake.runPodSandbox(sandboxConfig('a'));
    const id = await fake.createContainer(
      sb.id,
      containerConfig('app', { entrypoint: ['sh', '-c', 'echo x > /etc/config/file'], mounts: [{ source: '/host/config', target: '/etc/config', readOnly: true, volume: false }] }),
    );
    await fake.startContainer(id);
    expect((await fake.containerStatus(id))?.exitCode).toBe(1);
    const text = await new Promise<string>((resolve) => {
      let out = '';
      void fake.logs(id, {}).then((s) => s.on('data', (c: Buffer) => (out += c.toString())).on('end', () => resolve(out)));
    });
    expect(text).toMatch(/Read-only file system/);
  });

  it('a long-running exec returns 137 when its container stops', async () => {
    const fake = fakeWithImages();
    await fake.ensureNetwork(net);
    const sb = await fake.runPodSandbox(sandboxConfig('a'));
    const id = await fake.createContainer(sb.id, containerConfig('app', { entrypoint: ['sleep', '3600'] }));
    await fake.startContainer(id);
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const exec = fake.exec(id, ['sleep', '100'], { stdout: sink, stderr: sink });
    await fake.stopContainer(id, 0);
    expect(await exec).toEqual({ exitCode: 137 });
  });
});
