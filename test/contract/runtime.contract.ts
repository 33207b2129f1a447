/**
 * The container runtime contract: one suite, run against every Runtime implementation
 * (test/unit/runtime.fake.test.ts for the fake, test/contract/runtime.docker.test.ts for
 * Docker). It only uses the Runtime interface; what differs between implementations (image
 * names, the engine's pull error, a pull counter) comes in through `opts` and `makeRuntime`.
 *
 * Everything a run creates carries the label `minikube-lite.cluster=test-runtime-<random>` and
 * is removed in afterAll, which fails if anything could not be removed.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_LABEL } from '../../src/runtime/labels.js';
import { normalizeImageReference } from '../../src/runtime/reference.js';
import {
  RuntimeError,
  type ContainerConfig,
  type ContainerStatus,
  type NetworkSpec,
  type Runtime,
  type SandboxStatus,
} from '../../src/runtime/types.js';

export interface RuntimeContractOptions {
  /** Set to the reason why the suite cannot run here; the suite is then skipped under that name. */
  skip?: string;
  images: {
    /** The pause image for sandboxes. */
    pause: string;
    /** A busybox-like image: `sh -c`, echo, cat, seq, sleep, wget, timeout; CMD `sh`. */
    shell: string;
    /** An nginx-like image: serves HTTP on port 80, access log on stdout. */
    server: string;
    /** An image the registry does not have. */
    missing: string;
  };
  /** What the engine says when `images.missing` cannot be pulled. */
  pullFailure: RegExp;
  /** Timeout of one case, in ms. */
  timeoutMs?: number;
}

/** What `makeRuntime` returns: the runtime, and a pull counter when the implementation has one. */
export interface RuntimeUnderTest {
  runtime: Runtime;
  /** Pulls that reached the registry so far (the fake counts; Docker cannot tell). */
  pullCount?: () => number;
}

/** Runs the contract as `describe(name)`; `makeRuntime` is called once, in beforeAll, with this run's cluster label value. */
export function runtimeContract(
  name: string,
  makeRuntime: (ctx: { cluster: string }) => RuntimeUnderTest | Promise<RuntimeUnderTest>,
  opts: RuntimeContractOptions,
): void {
  const title = opts.skip ? `${name} (skipped: ${opts.skip})` : name;
  describe.skipIf(opts.skip !== undefined)(title, () => {
    const cluster = `test-runtime-${randomBytes(4).toString('hex')}`;
    const labels = { [CLUSTER_LABEL]: cluster };
    const timeout = opts.timeoutMs ?? 10_000;
    let rt: Runtime;
    let pullCount: (() => number) | undefined;
    // Two node networks splitting one /24: the pod CIDR is the /24.
    let netA: NetworkSpec;
    let netB: NetworkSpec;
    let podCidr = '';
    let seq = 0;
    const unique = (kind: string) => `${cluster}-${kind}-${++seq}`;

    beforeAll(async () => {
      ({ runtime: rt, pullCount } = await makeRuntime({ cluster }));
      await rt.ping();
      // A random /24 under 10.250/16; try another one if it overlaps a network already there.
      for (let attempt = 0; ; attempt++) {
        const octet = randomInt(1, 251);
        netA = { name: `${cluster}-net-a`, subnet: `10.250.${octet}.0/25`, gateway: `10.250.${octet}.1`, labels };
        netB = { name: `${cluster}-net-b`, subnet: `10.250.${octet}.128/25`, gateway: `10.250.${octet}.129`, labels };
        podCidr = `10.250.${octet}.0/24`;
        try {
          await rt.ensureNetwork(netA);
          await rt.ensureNetwork(netB);
          break;
        } catch (err) {
          await rt.removeNetwork(netA.name);
          if (attempt >= 5 || !/overlap/i.test(String(err))) throw err;
        }
      }
    }, 60_000);

    afterAll(async () => {
      if (!rt) return;
      const failures: unknown[] = [];
      const attempt = async (what: Promise<void>) => {
        try {
          await what;
        } catch (err) {
          failures.push(err);
        }
      };
      for (const c of await rt.listContainers(labels)) await attempt(rt.removeContainer(c.id));
      for (const s of await rt.listPodSandboxes(labels)) await attempt(rt.removePodSandbox(s.id));
      for (const v of await rt.listVolumes(labels)) await attempt(rt.removeVolume(v.name));
      for (const n of await rt.listNetworks(labels)) await attempt(rt.removeNetwork(n.name));
      if (podCidr) await attempt(rt.disallowPodTraffic(podCidr));
      if (failures.length) throw new AggregateError(failures, `cleanup of ${cluster} failed`);
    }, 60_000);

    // ---- helpers ----------------------------------------------------------------------------

    const runSandbox = (network = netA, extra: Record<string, string> = {}) =>
      rt.runPodSandbox({
        name: unique('sandbox'),
        hostname: 'pod-host',
        network: network.name,
        image: opts.images.pause,
        labels: { ...labels, ...extra },
        portMappings: [],
      });

    const createIn = (sandbox: SandboxStatus, config: Partial<ContainerConfig>) =>
      rt.createContainer(sandbox.id, {
        name: unique('container'),
        image: opts.images.shell,
        env: [],
        mounts: [],
        ...config,
        labels: { ...labels, ...config.labels },
      });

    const startIn = async (sandbox: SandboxStatus, config: Partial<ContainerConfig>) => {
      const id = await createIn(sandbox, config);
      await rt.startContainer(id);
      return id;
    };

    /** Resolves with the container's status once it has exited, driven by die events (no polling). */
    const untilExited = (id: string): Promise<ContainerStatus> =>
      new Promise((resolve, reject) => {
        let settled = false;
        const check = () => {
          rt.containerStatus(id).then((s) => {
            if (settled || !s || s.state !== 'exited') return;
            settled = true;
            unsubscribe();
            resolve(s);
          }, reject);
        };
        const unsubscribe = rt.onContainerEvent((e) => {
          if (e.id === id && e.action === 'die') check();
        });
        check(); // It may have exited before we subscribed.
      });

    const runToExit = async (sandbox: SandboxStatus, config: Partial<ContainerConfig>) => untilExited(await startIn(sandbox, config));

    const logsOf = async (id: string, o: { tail?: number; timestamps?: boolean; since?: Date } = {}) => readText(await rt.logs(id, o));

    const execIn = async (id: string, cmd: string[], stdin?: string) => {
      const stdout = collector();
      const stderr = collector();
      const res = await rt.exec(id, cmd, {
        stdout: stdout.stream,
        stderr: stderr.stream,
        stdin: stdin === undefined ? undefined : Readable.from([Buffer.from(stdin)]),
      });
      return { exitCode: res.exitCode, stdout: stdout.text(), stderr: stderr.text() };
    };

    /** Waits until a server in the pod answers (a readiness probe: the process needs a moment to listen). */
    const fetchFrom = async (clientId: string, url: string, attempts = 50) => {
      let last = { exitCode: -1, stdout: '', stderr: '' };
      for (let i = 0; i < attempts; i++) {
        last = await execIn(clientId, ['timeout', '5', 'wget', '-qO-', url]);
        if (last.exitCode === 0) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      return last;
    };

    const sleeper = { entrypoint: ['sleep', '3600'] };

    // ---- networks ---------------------------------------------------------------------------

    describe('networks', () => {
      it('ensureNetwork is idempotent, also when called concurrently', async () => {
        await Promise.all([rt.ensureNetwork(netA), rt.ensureNetwork(netA), rt.ensureNetwork(netB)]);
        const nets = await rt.listNetworks(labels);
        expect(nets.map((n) => n.name).sort()).toEqual([netA.name, netB.name]);
        expect(nets.find((n) => n.name === netA.name)).toMatchObject({ subnet: netA.subnet, labels: { [CLUSTER_LABEL]: cluster } });
      }, timeout);

      it('ensureNetwork refuses an existing name with a different subnet', async () => {
        const other = { ...netA, subnet: '10.251.0.0/24', gateway: '10.251.0.1' };
        await expect(rt.ensureNetwork(other)).rejects.toThrow(RuntimeError);
        await expect(rt.ensureNetwork(other)).rejects.toThrow(/already exists/);
      }, timeout);

      it('removing a missing network is not an error', async () => {
        await rt.removeNetwork(`${cluster}-never-created`);
      }, timeout);
    });

    // ---- sandboxes --------------------------------------------------------------------------

    describe('sandboxes', () => {
      it('a sandbox is ready with an IP inside its network subnet', async () => {
        const sb = await runSandbox(netA, { role: 'ip-check' });
        expect(sb.state).toBe('ready');
        expect(ipInCidr(sb.ip, netA.subnet)).toBe(true);
        expect(sb.ip).not.toBe(netA.gateway);
        expect(await rt.podSandboxStatus(sb.id)).toMatchObject({ id: sb.id, ip: sb.ip, state: 'ready' });
        const listed = await rt.listPodSandboxes({ ...labels, role: 'ip-check' });
        expect(listed).toHaveLength(1);
        expect(listed[0]).toMatchObject({ id: sb.id, name: sb.name, ip: sb.ip, state: 'ready', labels: { role: 'ip-check' } });
        expect(listed[0].createdAt).toBeInstanceOf(Date);
      }, timeout);

      it('two sandboxes get different IPs', async () => {
        const [a, b] = await Promise.all([runSandbox(), runSandbox()]);
        expect(a.ip).not.toBe(b.ip);
        expect(a.id).not.toBe(b.id);
      }, timeout);

      it('a stopped sandbox is not ready and has no IP; stopping and removing twice is fine', async () => {
        const sb = await runSandbox();
        await rt.stopPodSandbox(sb.id);
        await rt.stopPodSandbox(sb.id);
        expect(await rt.podSandboxStatus(sb.id)).toMatchObject({ state: 'notready', ip: '' });
        await rt.removePodSandbox(sb.id);
        await rt.removePodSandbox(sb.id);
        expect(await rt.podSandboxStatus(sb.id)).toBeUndefined();
        expect((await rt.listPodSandboxes(labels)).map((s) => s.id)).not.toContain(sb.id);
      }, timeout);
    });

    // ---- containers -------------------------------------------------------------------------

    describe('containers', () => {
      let sandbox: SandboxStatus;
      beforeAll(async () => {
        sandbox = await runSandbox();
      }, 60_000);

      it('a container joined to a sandbox shares its network namespace (localhost and IP)', async () => {
        const server = await startIn(sandbox, { image: opts.images.server });
        const client = await startIn(sandbox, sleeper);
        const viaLocalhost = await fetchFrom(client, 'http://127.0.0.1/');
        expect(viaLocalhost).toMatchObject({ exitCode: 0 });
        expect(viaLocalhost.stdout).toMatch(/nginx/i);
        const viaPodIp = await fetchFrom(client, `http://${sandbox.ip}/`);
        expect(viaPodIp.exitCode).toBe(0);
        expect((await rt.containerStatus(server))?.state).toBe('running');
      }, timeout);

      it("a container may join a running container's process namespace (pidNamespaceOf), not a stopped one's", async () => {
        const target = await startIn(sandbox, sleeper);
        const joined = await startIn(sandbox, { ...sleeper, pidNamespaceOf: target });
        expect((await rt.containerStatus(joined))?.state).toBe('running');
        await rt.stopContainer(target, 0);
        const late = await createIn(sandbox, { ...sleeper, pidNamespaceOf: target });
        await expect(rt.startContainer(late)).rejects.toBeInstanceOf(RuntimeError);
        await rt.stopContainer(joined, 0);
      }, timeout);

      it.each([
        { name: 'args alone replace the image CMD', config: { cmd: ['echo', 'from-args'] }, out: 'from-args\n' },
        { name: 'command replaces ENTRYPOINT and drops the image CMD', config: { entrypoint: ['echo', 'from-command'] }, out: 'from-command\n' },
        { name: 'command and args are joined', config: { entrypoint: ['echo'], cmd: ['one', 'two'] }, out: 'one two\n' },
        {
          name: 'environment variables reach the process',
          config: { entrypoint: ['sh', '-c', 'echo "$FOO and $BAR"'], env: [{ name: 'FOO', value: 'foo' }, { name: 'BAR', value: 'b a r' }] },
          out: 'foo and b a r\n',
        },
        { name: 'the working directory is set', config: { entrypoint: ['pwd'], workingDir: '/tmp' }, out: '/tmp\n' },
      ])('$name', async ({ config, out }) => {
        const status = await runToExit(sandbox, config);
        expect(status.exitCode).toBe(0);
        expect(await logsOf(status.id)).toBe(out);
      }, timeout);

      it("a container's exit code, times and identity are reported", async () => {
        const status = await runToExit(sandbox, { entrypoint: ['sh', '-c', 'exit 3'], labels: { role: 'exit-check' } });
        expect(status).toMatchObject({
          state: 'exited',
          exitCode: 3,
          reason: '',
          sandboxId: sandbox.id,
          image: opts.images.shell,
          labels: { role: 'exit-check', [CLUSTER_LABEL]: cluster },
        });
        expect(status.imageRef).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(status.imageRef).toBe((await rt.imageStatus(opts.images.shell))?.id);
        expect(status.startedAt).toBeInstanceOf(Date);
        expect(status.finishedAt).toBeInstanceOf(Date);
        expect(status.finishedAt!.getTime()).toBeGreaterThanOrEqual(status.startedAt!.getTime());
        expect(status.createdAt.getTime()).toBeLessThanOrEqual(status.startedAt!.getTime());
      }, timeout);

      it('a running container reports its usage (cumulative CPU, working set); an exited one reports none', async () => {
        const id = await startIn(sandbox, sleeper);
        const first = await rt.containerStats(id);
        expect(first).toBeDefined();
        expect(first!.cpuUsageCoreNanoSeconds).toBeGreaterThanOrEqual(0);
        expect(first!.memoryWorkingSetBytes).toBeGreaterThanOrEqual(0);
        expect(Math.abs(first!.timestamp - Date.now())).toBeLessThan(60_000);
        const second = await rt.containerStats(id);
        expect(second!.cpuUsageCoreNanoSeconds).toBeGreaterThanOrEqual(first!.cpuUsageCoreNanoSeconds);
        const exited = await runToExit(sandbox, { entrypoint: ['true'] });
        expect(await rt.containerStats(exited.id)).toBeUndefined();
        expect(await rt.containerStats('no-such-container')).toBeUndefined();
      }, timeout);

      it('a created container is reported as created, with neither start nor finish time', async () => {
        const id = await createIn(sandbox, sleeper);
        const status = await rt.containerStatus(id);
        expect(status).toMatchObject({ id, state: 'created', sandboxId: sandbox.id });
        expect(status?.startedAt).toBeUndefined();
        expect(status?.finishedAt).toBeUndefined();
      }, timeout);

      it('stopping a running container leaves it exited; stopping again is fine', async () => {
        const id = await startIn(sandbox, sleeper);
        expect((await rt.containerStatus(id))?.state).toBe('running');
        await rt.stopContainer(id, 1);
        const status = await rt.containerStatus(id);
        expect(status?.state).toBe('exited');
        expect(status?.finishedAt).toBeInstanceOf(Date);
        await rt.stopContainer(id, 1);
      }, timeout);

      it('removing a container twice is fine, and it disappears from status and lists', async () => {
        const id = await startIn(sandbox, { ...sleeper, labels: { role: 'remove-check' } });
        expect((await rt.listContainers({ role: 'remove-check' })).map((c) => c.id)).toEqual([id]);
        await rt.removeContainer(id);
        await rt.removeContainer(id);
        expect(await rt.containerStatus(id)).toBeUndefined();
        expect(await rt.listContainers({ role: 'remove-check' })).toEqual([]);
      }, timeout);

      it('listContainers finds containers by label and leaves sandboxes out', async () => {
        const id = await createIn(sandbox, { ...sleeper, labels: { role: 'list-check' } });
        const listed = await rt.listContainers(labels);
        expect(listed.map((c) => c.id)).toContain(id);
        expect(listed.map((c) => c.id)).not.toContain(sandbox.id);
        expect(listed.find((c) => c.id === id)).toMatchObject({ state: 'created', labels: { role: 'list-check' } });
      }, timeout);

      it('a container cannot be created from an image that is not present', async () => {
        const err = await createIn(sandbox, { image: opts.images.missing }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RuntimeError);
        expect((err as RuntimeError).notFound).toBe(true);
      }, timeout);

      it('a container name can be used only once', async () => {
        const name = unique('dup');
        await createIn(sandbox, { ...sleeper, name });
        await expect(createIn(sandbox, { ...sleeper, name })).rejects.toThrow(/already in use/);
      }, timeout);
    });

    // ---- images -----------------------------------------------------------------------------

    describe('images', () => {
      it('pulling a present image returns its id', async () => {
        const pulled = await rt.pullImage(opts.images.shell);
        expect(pulled.id).toMatch(/^sha256:/);
        expect((await rt.imageStatus(opts.images.shell))?.id).toBe(pulled.id);
      }, timeout);

      it('the status of an absent image is undefined', async () => {
        expect(await rt.imageStatus(opts.images.missing)).toBeUndefined();
      }, timeout);

      it("a failed pull is a RuntimeError carrying the engine's message", async () => {
        const err = await rt.pullImage(opts.images.missing).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RuntimeError);
        expect((err as RuntimeError).message).toMatch(opts.pullFailure);
        expect((err as RuntimeError).message).not.toMatch(/HTTP code/);
      }, timeout);

      it('concurrent pulls of one image, however it is spelled, are done once', async () => {
        const before = pullCount?.();
        const results = await Promise.all([
          rt.pullImage(opts.images.shell),
          rt.pullImage(opts.images.shell),
          rt.pullImage(normalizeImageReference(opts.images.shell)),
        ]);
        expect(new Set(results.map((r) => r.id)).size).toBe(1);
        if (pullCount && before !== undefined) expect(pullCount() - before).toBe(1);
      }, timeout);
    });

    // ---- volumes ----------------------------------------------------------------------------

    describe('volumes', () => {
      let sandbox: SandboxStatus;
      beforeAll(async () => {
        sandbox = await runSandbox();
      }, 60_000);

      const volumeMount = (source: string, target: string, subPath?: string) => ({ source, target, readOnly: false, volume: true, subPath });

      it('a named volume is shared between two containers of one sandbox', async () => {
        const vol = unique('vol');
        await rt.createVolume(vol, labels);
        const writer = await runToExit(sandbox, { entrypoint: ['sh', '-c', 'echo shared-data > /data/file'], mounts: [volumeMount(vol, '/data')] });
        expect(writer.exitCode).toBe(0);
        const reader = await runToExit(sandbox, { entrypoint: ['cat', '/cache/file'], mounts: [volumeMount(vol, '/cache')] });
        expect(reader.exitCode).toBe(0);
        expect(await logsOf(reader.id)).toBe('shared-data\n');
      }, timeout);

      it('a subPath mounts a directory inside the named volume', async () => {
        const vol = unique('vol');
        await rt.createVolume(vol, labels);
        const writer = await runToExit(sandbox, { entrypoint: ['sh', '-c', 'echo in-sub > /data/file'], mounts: [volumeMount(vol, '/data', 'sub/dir')] });
        expect(writer.exitCode).toBe(0);
        const reader = await runToExit(sandbox, { entrypoint: ['cat', '/vol/sub/dir/file'], mounts: [volumeMount(vol, '/vol')] });
        expect(await logsOf(reader.id)).toBe('in-sub\n');
      }, timeout);

      it('createVolume is idempotent and volumes are listed by label', async () => {
        const vol = unique('vol');
        await rt.createVolume(vol, { ...labels, role: 'vol-list' });
        await rt.createVolume(vol, { ...labels, role: 'vol-list' });
        expect((await rt.listVolumes({ role: 'vol-list' })).map((v) => v.name)).toEqual([vol]);
      }, timeout);

      it('a volume in use cannot be removed; once free, removing it twice is fine', async () => {
        const vol = unique('vol');
        await rt.createVolume(vol, labels);
        const user = await createIn(sandbox, { ...sleeper, mounts: [volumeMount(vol, '/data')] });
        await expect(rt.removeVolume(vol)).rejects.toThrow(/in use/);
        await rt.removeContainer(user);
        await rt.removeVolume(vol);
        await rt.removeVolume(vol);
        expect((await rt.listVolumes(labels)).map((v) => v.name)).not.toContain(vol);
      }, timeout);
    });

    // ---- logs and exec ----------------------------------------------------------------------

    describe('logs and exec', () => {
      let sandbox: SandboxStatus;
      let running: string;
      beforeAll(async () => {
        sandbox = await runSandbox();
        running = await startIn(sandbox, sleeper);
      }, 60_000);

      it('logs return all lines, or only the last ones with tail', async () => {
        const status = await runToExit(sandbox, { entrypoint: ['seq', '1', '5'] });
        expect(await logsOf(status.id)).toBe('1\n2\n3\n4\n5\n');
        expect(await logsOf(status.id, { tail: 2 })).toBe('4\n5\n');
        const stamped = (await logsOf(status.id, { tail: 1, timestamps: true })).trimEnd();
        expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z 5$/);
      }, timeout);

      it('logs since a time leave out the lines written before it', async () => {
        const status = await runToExit(sandbox, { entrypoint: ['seq', '1', '3'] });
        const started = status.startedAt?.getTime() ?? 0;
        const finished = status.finishedAt?.getTime() ?? 0;
        expect(await logsOf(status.id, { since: new Date(started - 2000) })).toBe('1\n2\n3\n');
        expect(await logsOf(status.id, { since: new Date(finished + 2000) })).toBe('');
        expect(await logsOf(status.id, { since: new Date(started - 2000), tail: 1 })).toBe('3\n');
      }, timeout);

      it('following logs streams output and ends when the container stops', async () => {
        const id = await startIn(sandbox, { entrypoint: ['sh', '-c', 'echo started; sleep 3600'] });
        const stream = await rt.logs(id, { follow: true });
        const chunks: Buffer[] = [];
        const firstChunk = new Promise<void>((resolve) => stream.once('data', () => resolve()));
        stream.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
        const ended = new Promise<void>((resolve, reject) => {
          stream.once('end', resolve);
          stream.once('error', reject);
        });
        // The first line proves the stream is live before we stop the container.
        await firstChunk;
        await rt.stopContainer(id, 1);
        await ended;
        expect(Buffer.concat(chunks).toString()).toBe('started\n');
      }, timeout);

      it.each([
        { name: 'a failing command reports its exit code', cmd: ['sh', '-c', 'exit 7'], exitCode: 7, stdout: '' },
        { name: 'a succeeding command reports 0 and its output', cmd: ['echo', 'hello'], exitCode: 0, stdout: 'hello\n' },
        { name: 'a command that fails writes to stderr', cmd: ['cat', '/does/not/exist'], exitCode: 1, stdout: '' },
      ])('exec: $name', async ({ cmd, exitCode, stdout }) => {
        const res = await execIn(running, cmd);
        expect(res.exitCode).toBe(exitCode);
        expect(res.stdout).toBe(stdout);
        if (exitCode === 1) expect(res.stderr).not.toBe('');
      }, timeout);

      it('exec passes stdin to the command', async () => {
        const res = await execIn(running, ['cat'], 'from stdin\n');
        expect(res).toEqual({ exitCode: 0, stdout: 'from stdin\n', stderr: '' });
      }, timeout);

      it.each([
        { name: 'stdin in, stdout out, exit 0', cmd: ['cat'], stdin: 'streamed\n', exitCode: 0, stdout: 'streamed\n' },
        { name: 'a failing command reports its exit code', cmd: ['sh', '-c', 'exit 7'], stdin: undefined, exitCode: 7, stdout: '' },
      ])('execStream (kubectl exec): $name', async ({ cmd, stdin, exitCode, stdout }) => {
        const out = collector();
        const err = collector();
        const session = await rt.execStream(running, cmd, {
          stdin: stdin === undefined ? undefined : Readable.from([Buffer.from(stdin)]), stdout: out.stream, stderr: err.stream, tty: false,
        });
        expect(await session.done).toEqual({ exitCode });
        expect(out.text()).toBe(stdout);
      }, timeout);

      it('exec gives up on a command when its signal is aborted, and the container keeps working', async () => {
        const controller = new AbortController();
        const started = Date.now();
        const pending = rt.exec(running, ['sleep', '30'], { stdout: collector().stream, stderr: collector().stream }, { signal: controller.signal });
        setTimeout(() => controller.abort(), 200);
        const err = await pending.catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RuntimeError);
        expect((err as Error).message).toMatch(/cancelled/);
        expect(Date.now() - started).toBeLessThan(5000);
        expect(await execIn(running, ['echo', 'still-here'])).toMatchObject({ exitCode: 0, stdout: 'still-here\n' });
      }, timeout);

      it('exec with a signal that is already aborted does not run the command', async () => {
        const controller = new AbortController();
        controller.abort();
        await expect(rt.exec(running, ['echo', 'x'], { stdout: collector().stream, stderr: collector().stream }, { signal: controller.signal }))
          .rejects.toThrow(RuntimeError);
      }, timeout);

      it('exec into a container that is not running fails', async () => {
        const status = await runToExit(sandbox, { entrypoint: ['true'] });
        await expect(execIn(status.id, ['echo', 'x'])).rejects.toThrow(RuntimeError);
      }, timeout);
    });

    // ---- events -----------------------------------------------------------------------------

    describe('events', () => {
      it('start and die events arrive when a container runs and exits, with its labels', async () => {
        const sandbox = await runSandbox();
        const seen: { id: string; action: string; labels: Record<string, string> }[] = [];
        const id = await createIn(sandbox, { entrypoint: ['sh', '-c', 'exit 0'], labels: { role: 'events' } });
        const died = new Promise<void>((resolve) => {
          const unsubscribe = rt.onContainerEvent((e) => {
            if (e.id !== id) return;
            seen.push(e);
            if (e.action === 'die') {
              unsubscribe();
              resolve();
            }
          });
        });
        // No pause needed: a subscription receives every event from the moment it was made.
        await rt.startContainer(id);
        await died;
        expect(seen.map((e) => e.action)).toEqual(['start', 'die']);
        expect(seen[1].labels).toMatchObject({ role: 'events', [CLUSTER_LABEL]: cluster });
      }, timeout);

      it('once a die event arrives, listing shows the exit (of a container and of a sandbox)', async () => {
        const sandbox = await runSandbox(netA, { role: 'die-list' });
        const id = await startIn(sandbox, { ...sleeper, labels: { role: 'die-list' } });
        await rt.listContainers({ role: 'die-list' }); // a listing made while it ran must not be reused
        const seen: { container?: string; sandbox?: string } = {};
        const done = new Promise<void>((resolve, reject) => {
          const unsubscribe = rt.onContainerEvent((e) => {
            if (e.action !== 'die' || (e.id !== id && e.id !== sandbox.id)) return;
            const which = e.id === id ? 'container' : 'sandbox';
            const list = which === 'container'
              ? rt.listContainers({ role: 'die-list' }).then((l) => l.find((c) => c.id === id)?.state)
              : rt.listPodSandboxes({ role: 'die-list' }).then((l) => l.find((s) => s.id === sandbox.id)?.state);
            list.then((state) => {
              seen[which] = state;
              if (seen.container && seen.sandbox) {
                unsubscribe();
                resolve();
              }
            }, reject);
          });
        });
        await rt.stopContainer(id, 0);
        await rt.stopPodSandbox(sandbox.id);
        await done;
        expect(seen).toEqual({ container: 'exited', sandbox: 'notready' });
      }, timeout);

      it('an unsubscribed handler gets no more events', async () => {
        const sandbox = await runSandbox();
        const gone: string[] = [];
        const stop = rt.onContainerEvent((e) => gone.push(e.id));
        stop();
        stop();
        const status = await runToExit(sandbox, { entrypoint: ['true'] });
        // untilExited saw the die event through its own subscription; the removed one saw nothing.
        expect(gone).not.toContain(status.id);
      }, timeout);
    });

    // ---- requests from the node into a pod (probes, hooks) -----------------------------------

    describe('pod HTTP and TCP from the node', () => {
      let sandbox: SandboxStatus;
      beforeAll(async () => {
        sandbox = await runSandbox();
        await startIn(sandbox, { image: opts.images.server });
        // nginx needs a moment to listen: retry until it answers.
        for (let i = 0; i < 100; i++) {
          const ok = await rt.podHttpGet(sandbox.id, { port: 80, path: '/', scheme: 'HTTP', headers: [] }).then(() => true, () => false);
          if (ok) break;
          await new Promise((r) => setTimeout(r, 100));
        }
      }, 60_000);

      it('podHttpGet answers with the status code and the start of the body', async () => {
        const ok = await rt.podHttpGet(sandbox.id, { port: 80, path: '/', scheme: 'HTTP', headers: [{ name: 'X-Probe', value: 'yes' }] });
        expect(ok.statusCode).toBe(200);
        expect(ok.body).toMatch(/nginx/i);
        const missing = await rt.podHttpGet(sandbox.id, { port: 80, path: '/no-such-page.html', scheme: 'HTTP', headers: [] });
        expect(missing.statusCode).toBe(404);
      }, timeout);

      it("podHttpGet to a port nobody listens on is refused, in Go's words", async () => {
        const err = await rt.podHttpGet(sandbox.id, { port: 81, path: '/healthz', scheme: 'HTTP', headers: [] }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RuntimeError);
        expect((err as Error).message).toBe(`Get "http://${sandbox.ip}:81/healthz": dial tcp ${sandbox.ip}:81: connect: connection refused`);
      }, timeout);

      it('podTcpConnect succeeds on a listening port and is refused on a closed one', async () => {
        await rt.podTcpConnect(sandbox.id, { port: 80 });
        await expect(rt.podTcpConnect(sandbox.id, { port: 81 })).rejects.toThrow(`dial tcp ${sandbox.ip}:81: connect: connection refused`);
      }, timeout);

      it('an aborted request rejects with a RuntimeError', async () => {
        const controller = new AbortController();
        controller.abort();
        await expect(rt.podHttpGet(sandbox.id, { port: 80, path: '/', scheme: 'HTTP', headers: [] }, { signal: controller.signal }))
          .rejects.toThrow(RuntimeError);
      }, timeout);

      it('a request to a sandbox that does not exist is a not-found RuntimeError', async () => {
        const err = await rt.podTcpConnect(`${cluster}-no-such-sandbox`, { port: 80 }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RuntimeError);
        expect((err as RuntimeError).notFound).toBe(true);
      }, timeout);
    });

    // ---- pod network ------------------------------------------------------------------------

    describe('pod network', () => {
      it('pods on different node networks reach each other by their real IPs only once pod traffic is allowed', async () => {
        const podA = await runSandbox(netA);
        const podB = await runSandbox(netB);
        expect(ipInCidr(podB.ip, netB.subnet)).toBe(true);
        const server = await startIn(podA, { image: opts.images.server });
        const client = await startIn(podB, sleeper);
        // The server must be up, checked from its own pod, before isolation is judged.
        const local = await startIn(podA, sleeper);
        expect((await fetchFrom(local, 'http://127.0.0.1/')).exitCode).toBe(0);

        const isolated = await execIn(client, ['timeout', '3', 'wget', '-qO-', `http://${podA.ip}/`]);
        expect(isolated.exitCode).not.toBe(0);

        await rt.allowPodTraffic(podCidr);
        await rt.allowPodTraffic(podCidr);
        const allowed = await fetchFrom(client, `http://${podA.ip}/`, 20);
        expect(allowed.exitCode).toBe(0);
        expect(allowed.stdout).toMatch(/nginx/i);
        // nginx logs the client address: B's own IP, not a NATed gateway address.
        expect(await logsOf(server)).toContain(`${podB.ip} - `);

        await rt.disallowPodTraffic(podCidr);
        await rt.disallowPodTraffic(podCidr);
        const again = await execIn(client, ['timeout', '3', 'wget', '-qO-', `http://${podA.ip}/`]);
        expect(again.exitCode).not.toBe(0);
      }, Math.max(timeout, 30_000));
    });
  });
}

// ---- small utilities ------------------------------------------------------------------------

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function ipInCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = ipToInt(base);
  const n = ipToInt(ip);
  return /^\d+\.\d+\.\d+\.\d+$/.test(ip) && n > start && n < start + size - 1;
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString();
}

