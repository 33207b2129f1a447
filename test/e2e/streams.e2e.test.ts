/**
 * Streaming subresources on a real Docker engine, driven by the clients users have: the stock
 * kubectl 1.32 (`exec` plain, `-i`, `-it` with a terminal and exit codes, `cp` both ways,
 * `attach`, `port-forward` then an HTTP GET on 127.0.0.1, `run -i --rm` with output that
 * arrives after 3 s) over WebSocket (its default) and over SPDY/3.1 (its fallback, forced with
 * KUBECTL_REMOTE_COMMAND_WEBSOCKETS/KUBECTL_PORT_FORWARD_WEBSOCKETS=false), `minikube-lite
 * exec`, the Python client's `stream(connect_get_namespaced_pod_exec)`, and
 * @kubernetes/client-node's Exec, Attach and PortForward.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { Attach, Exec, KubeConfig, PortForward } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readClusterConfig } from '../../src/cli/context.js';
import { TestCluster, dockerAvailable, isRunning, sh } from './helpers.js';

const hasDocker = await dockerAvailable();
const KUBECTL = '/usr/bin/kubectl';
const hasKubectl = existsSync(KUBECTL);
const hasScript = existsSync('/usr/bin/script');
const hasPythonClient = (await sh('/usr/bin/python3', ['-c', 'import kubernetes.stream'])).code === 0;

interface Run { code: number; stdout: string; stderr: string; ms: number }

/** Runs a program with extra environment and optional stdin; resolves when it exits. */
function run(cmd: string, args: string[], opts: { env?: Record<string, string>; input?: string | Buffer; timeoutMs?: number } = {}): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: Date.now() - started });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Starts a long-running program and resolves once its output matches `ready`; `stop()` kills it. */
async function startUntil(cmd: string, args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<{ output: () => string; waitFor: (re: RegExp) => Promise<void>; stop: () => void }> {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let text = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${ready} from ${cmd} ${args.join(' ')}: ${text}`)), 30_000);
    const onData = (c: Buffer) => {
      text += c.toString('utf8');
      if (ready.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('close', () => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited: ${text}`));
    });
  });
  /** Resolves once the output (so far or later) matches `re`. */
  const waitFor = (re: RegExp) => new Promise<void>((resolve) => {
    if (re.test(text)) return resolve();
    const onData = () => {
      if (!re.test(text)) return;
      child.stdout.off('data', onData);
      child.stderr.off('data', onData);
      resolve();
    };
    // Listeners added after the collecting ones: `text` already holds the chunk.
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
  return { output: () => text, waitFor, stop: () => child.kill('SIGTERM') };
}

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const SPDY = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false', KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' };
const TRANSPORTS: { name: string; env: Record<string, string> }[] = [
  { name: 'WebSocket', env: {} },
  { name: 'SPDY/3.1', env: SPDY },
];

describe.skipIf(!hasDocker)('exec, cp, attach and port-forward on a real Docker engine (skipped when no Docker engine answers `docker info`)', () => {
  const cluster = new TestCluster(`e2e-cls-streams-${process.pid}`, '10.240.0.0/16');
  const work = mkdtempSync(join(tmpdir(), 'mkl-streams-'));
  let kubeconfig = '';
  const kubectl = (args: string[], opts: { env?: Record<string, string>; input?: string | Buffer; timeoutMs?: number } = {}) =>
    run(KUBECTL, ['--kubeconfig', kubeconfig, ...args], opts);

  beforeAll(async () => {
    const help = await cluster.cli(['up', '--help']);
    const args = ['up', '--pod-cidr', cluster.podCIDR];
    if (help.stdout.includes('--service-cidr')) args.push('--service-cidr', '10.140.0.0/16');
    const r = await cluster.cli(args, { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    kubeconfig = readClusterConfig(cluster.home, cluster.name)?.kubeconfig ?? '';
    const client = cluster.client();
    const pod = (name: string, image: string, command?: string[]) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image, ...(command ? { command } : {}) }] },
    });
    const { PODS } = await import('../../src/client/client.js');
    const ref = { ...PODS, namespace: 'default' };
    await client.create(ref, pod('bb', 'busybox', ['sleep', '3600']));
    await client.create(ref, pod('web', 'nginx'));
    await client.create(ref, pod('ticker', 'busybox', ['sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.5; done']));
    await Promise.all(['bb', 'web', 'ticker'].map((n) => cluster.waitForPod(n, isRunning, 90_000)));
  }, 180_000);

  afterAll(async () => {
    await cluster.destroy();
    rmSync(work, { recursive: true, force: true });
    expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  describe.skipIf(!hasKubectl)('with the stock kubectl (skipped: /usr/bin/kubectl is not installed)', () => {
    for (const t of TRANSPORTS) {
      it(`kubectl exec over ${t.name}: stdout, stderr, and the command's exit code`, async () => {
        const ok = await kubectl(['exec', 'bb', '--', 'sh', '-c', 'echo out; echo err >&2'], { env: t.env });
        expect(ok).toMatchObject({ code: 0, stdout: 'out\n', stderr: 'err\n' });
        const verbose = await kubectl(['-v=6', 'exec', 'bb', '--', 'true'], { env: t.env });
        if (t.env.KUBECTL_REMOTE_COMMAND_WEBSOCKETS) expect(verbose.stderr).not.toContain('v5.channel.k8s.io');
        else expect(verbose.stderr).toContain('The subprotocol is v5.channel.k8s.io');
        const bad = await kubectl(['exec', 'bb', '--', 'sh', '-c', 'echo partial; exit 3'], { env: t.env });
        expect(bad.code).toBe(3);
        expect(bad.stdout).toBe('partial\n');
        expect(bad.stderr).toContain('command terminated with exit code 3');
      });

      it(`kubectl exec -i over ${t.name} passes stdin and its end`, async () => {
        const r = await kubectl(['exec', '-i', 'bb', '--', 'sh', '-c', 'wc -c; echo done'], { env: t.env, input: 'x'.repeat(100_000) });
        expect(r).toMatchObject({ code: 0, stdout: '100000\ndone\n' });
      });

      it.skipIf(!hasScript)(`kubectl exec -it over ${t.name} gets a terminal of the client's size (skipped without script(1))`, async () => {
        // Docker 20.10 (API 1.41) cannot create an exec with its terminal size: the size is set
        // just after the process starts, so the command looks a moment later.
        const r = await run('/usr/bin/script', ['-eqc', `stty cols 91 rows 33; ${KUBECTL} --kubeconfig ${kubeconfig} exec -it bb -- sh -c 'tty; sleep 0.5; stty size; exit 4'`, '/dev/null'], { env: t.env });
        expect(r.code).toBe(4);
        expect(r.stdout).toMatch(/\/dev\/pts\/\d+\r\n/);
        expect(r.stdout).toContain('33 91\r\n');
        expect(r.stdout).toContain('command terminated with exit code 4');
      });

      it(`kubectl cp over ${t.name} copies 300 kB both ways unchanged`, async () => {
        const data = Buffer.alloc(300_000);
        for (let i = 0; i < data.length; i++) data[i] = (i * 7919 + (i >> 8)) & 0xff;
        const src = join(work, `up-${t.env.KUBECTL_REMOTE_COMMAND_WEBSOCKETS ?? 'ws'}.bin`);
        const back = `${src}.back`;
        writeFileSync(src, data);
        const up = await kubectl(['cp', src, `bb:/tmp/cp.bin`], { env: t.env });
        expect(up.code, up.stderr).toBe(0);
        const size = await kubectl(['exec', 'bb', '--', 'wc', '-c', '/tmp/cp.bin']);
        expect(size.stdout.trim()).toBe('300000 /tmp/cp.bin');
        const down = await kubectl(['cp', 'bb:/tmp/cp.bin', back], { env: t.env });
        expect(down.code, down.stderr).toBe(0);
        expect(readFileSync(back).equals(data)).toBe(true);
      });

      it(`kubectl port-forward over ${t.name}, then a GET on 127.0.0.1 reaches nginx in the pod`, async () => {
        const port = await freePort();
        const pf = await startUntil(KUBECTL, ['--kubeconfig', kubeconfig, '-v=6', 'port-forward', 'pod/web', `${port}:80`], /Forwarding from 127\.0\.0\.1/, t.env);
        try {
          for (let i = 0; i < 3; i++) {
            const res = await fetch(`http://127.0.0.1:${port}/`);
            expect(res.status).toBe(200);
            expect(await res.text()).toContain('<title>Welcome to nginx!</title>');
          }
          expect(pf.output()).toContain(`Handling connection for ${port}`);
          // Over WebSocket kubectl tunnels SPDY frames (SPDY/3.1+portforward.k8s.io) and must not fall back.
          if (!t.env.KUBECTL_PORT_FORWARD_WEBSOCKETS) expect(pf.output()).not.toContain('fallback to secondary dialer');
        } finally {
          pf.stop();
        }
      });
    }

    it('kubectl port-forward to a port nothing listens on reports the refused connection', async () => {
      const port = await freePort();
      const pf = await startUntil(KUBECTL, ['--kubeconfig', kubeconfig, 'port-forward', 'pod/web', `${port}:81`], /Forwarding from 127\.0\.0\.1/, SPDY);
      try {
        await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
        await pf.waitFor(/connection refused/);
        expect(pf.output()).toMatch(/error forwarding port 81 to pod web, uid [0-9a-f-]+: dial tcp [\d.]+:81: connect: connection refused/);
      } finally {
        pf.stop();
      }
    });

    it('kubectl attach shows what the container writes from then on', async () => {
      const a = await startUntil(KUBECTL, ['--kubeconfig', kubeconfig, 'attach', 'ticker'], /tick \d+\n[^]*tick \d+\n/);
      a.stop();
      const ticks = [...a.output().matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      expect(ticks[1]).toBe(ticks[0] + 1);
    });

    it.skipIf(!hasScript)('kubectl run -it --rm attaches a terminal: typed input runs, its exit code is kubectl\'s (skipped without script(1))', async () => {
      const child = spawn('/usr/bin/script', ['-eqc', `stty cols 70 rows 20; ${KUBECTL} --kubeconfig ${kubeconfig} run tty1 -it --rm --restart=Never --image=busybox -- sh`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let text = '';
      let typed = false;
      const code = await new Promise<number>((resolve) => {
        const onData = (c: Buffer) => {
          text += c.toString('utf8');
          // Type once the shell's prompt is there.
          if (!typed && text.includes('/ # ')) {
            typed = true;
            child.stdin.write('echo typed-$((6*7))\nexit 5\n');
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('close', (c) => resolve(c ?? -1));
      });
      expect(text).toContain('typed-42\r\n');
      expect(text).toContain('pod "tty1" deleted');
      expect(code).toBe(5);
    }, 60_000);

    it('kubectl run -i --rm shows output that arrives after 3 s, then deletes the pod', async () => {
      const r = await kubectl(['run', 'late', '-i', '--rm', '--restart=Never', '--image=busybox', '--', 'sh', '-c', 'sleep 3; echo hi'], { timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('hi\n');
      expect(r.stdout).toContain('pod "late" deleted');
      expect(r.ms).toBeGreaterThanOrEqual(3000);
      const gone = await kubectl(['get', 'pod', 'late']);
      expect(gone.stderr).toContain('pods "late" not found');
    }, 60_000);
  });

  it('minikube-lite exec runs through the same stream, with stdin and exit codes', async () => {
    const r = await cluster.cli(['exec', '-i', 'bb', '--', 'sh', '-c', 'cat; echo err >&2; exit 5'], { input: 'from-stdin\n' });
    expect(r.code).toBe(5);
    expect(r.stdout).toBe('from-stdin\n');
    expect(r.stderr).toContain('err\n');
    expect(r.stderr).toContain('command terminated with exit code 5');
  });

  it.skipIf(!hasPythonClient)('the Python client\'s stream(connect_get_namespaced_pod_exec) returns the output and the exit code (skipped without python3-kubernetes)', async () => {
    const script = [
      'import sys',
      'from kubernetes import client, config',
      'from kubernetes.stream import stream',
      'config.load_kube_config(config_file=sys.argv[1])',
      'api = client.CoreV1Api()',
      "out = stream(api.connect_get_namespaced_pod_exec, 'bb', 'default', command=['sh', '-c', 'echo py-out'], stderr=True, stdin=False, stdout=True, tty=False)",
      'print(repr(out))',
      "r = stream(api.connect_get_namespaced_pod_exec, 'bb', 'default', command=['sh', '-c', 'exit 6'], stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)",
      'r.run_forever(timeout=20)',
      "print('rc', r.returncode)",
    ].join('\n');
    const r = await run('/usr/bin/python3', ['-c', script, kubeconfig], { timeoutMs: 40_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe("'py-out\\n'\nrc 6\n");
  }, 45_000);

  describe('with @kubernetes/client-node', () => {
    const kc = () => {
      const k = new KubeConfig();
      k.loadFromFile(kubeconfig);
      return k;
    };
    /** A writable that keeps what it gets; `until(ok)` resolves when the text so far satisfies `ok`. */
    const collect = () => {
      const chunks: Buffer[] = [];
      const text = () => Buffer.concat(chunks).toString('utf8');
      const waiters: { ok: (t: string) => boolean; resolve: () => void }[] = [];
      const w = new Writable({
        write(c: Buffer, _e, cb) {
          chunks.push(Buffer.from(c));
          for (const x of waiters.filter((x) => x.ok(text()))) {
            waiters.splice(waiters.indexOf(x), 1);
            x.resolve();
          }
          cb();
        },
      });
      const until = (ok: (t: string) => boolean) => new Promise<void>((resolve) => (ok(text()) ? resolve() : waiters.push({ ok, resolve })));
      return { w, text, until };
    };

    it('Exec: stdin, stdout, stderr and a Failure status with the exit code', async () => {
      const out = collect();
      const err = collect();
      const status = await new Promise<{ status?: string; details?: { causes?: { reason?: string; message?: string }[] } }>((resolve, reject) => {
        new Exec(kc()).exec('default', 'bb', 'main', ['sh', '-c', 'cat; echo e >&2; exit 2'], out.w, err.w, Readable.from([Buffer.from('node-in\n')]), false, resolve).catch(reject);
      });
      expect(status.status).toBe('Failure');
      expect(status.details?.causes).toContainEqual({ reason: 'ExitCode', message: '2' });
      expect(out.text()).toBe('node-in\n');
      expect(err.text()).toBe('e\n');
    });

    it('Attach: output of the running container', async () => {
      const out = collect();
      const ws = await new Attach(kc()).attach('default', 'ticker', 'main', out.w, null, null, false);
      await out.until((t) => (t.match(/tick \d+\n/g) ?? []).length >= 2);
      ws.close();
      expect(out.text()).toMatch(/^tick \d+\n/);
    });

    it('PortForward: an HTTP request through a forwarded connection reaches nginx', async () => {
      const input = new PassThrough();
      const out = collect();
      const ws = await new PortForward(kc()).portForward('default', 'web', [80], out.w, null, input);
      input.write('GET / HTTP/1.0\r\nHost: x\r\n\r\n');
      await out.until((t) => t.includes('</html>'));
      (typeof ws === 'function' ? ws() : ws)?.close();
      expect(out.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(out.text()).toContain('<title>Welcome to nginx!</title>');
    });
  });
});
