/**
 * Real clusters for the benchmark, driven through the built CLI exactly as a user would
 * (`node dist/cli/main.js --name … --home … up`), each with a unique name, a home folder in a
 * temp dir and a pod CIDR from the benchmark's own range, so they never meet a developer's
 * cluster or an e2e test's. Also: picking free subnets for the raw-Docker and compose peers.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '../client/client.js';
import { clusterDir, readClusterConfig } from '../cli/context.js';
import { MAIN_SCRIPT, readPid } from '../cli/processes.js';
import { DockerRuntime } from '../runtime/docker.js';
import { nowMs, sleep } from './clock.js';
import type { BenchContext } from './context.js';
import { exec, type ExecResult } from './exec.js';

/**
 * Second octets of the /16s the benchmark uses, first free one wins (e2e tests use 10.231–10.235;
 * `up` picks 10.244–10.254 first).
 */
export const SUBNET_POOLS = {
  cluster: [236, 239, 240],
  floor: [237, 241, 229],
  compose: [238, 242, 228],
} as const;

const ipToInt = (ip: string): number => ip.split('.').reduce((a, b) => a * 256 + Number(b), 0);

/** Whether two CIDRs overlap. */
export function cidrsOverlap(a: string, b: string): boolean {
  const [ia, la] = a.split('/');
  const [ib, lb] = b.split('/');
  const len = Math.min(Number(la), Number(lb));
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return ((ipToInt(ia) & mask) >>> 0) === ((ipToInt(ib) & mask) >>> 0);
}

/** The first `10.X.0.0/16` of `pool` that no Docker network uses; throws when all are taken. */
export async function freeSubnet16(pool: readonly number[]): Promise<string> {
  const used = (await new DockerRuntime().listNetworks({})).map((n) => n.subnet).filter(Boolean);
  for (const x of pool) {
    const cidr = `10.${x}.0.0/16`;
    if (!used.some((u) => cidrsOverlap(u, cidr))) return cidr;
  }
  throw new Error(`every benchmark subnet (10.{${pool.join(',')}}.0.0/16) is in use by a Docker network; remove leftovers with: docker network ls`);
}

/** `10.237.0.0/16`, 3 → `10.237.3.0/24` and its gateway `10.237.3.1`. */
export function subnet24(cidr16: string, i: number): { subnet: string; gateway: string } {
  const ab = cidr16.split('.').slice(0, 2).join('.');
  return { subnet: `${ab}.${i}.0/24`, gateway: `${ab}.${i}.1` };
}

/** Times of one `up`, ms from spawning the CLI. */
export interface UpTiming {
  /** Until `up` reported the API server ready (its "Starting N nodes" line). */
  apiReadyMs: number;
  /** Until `up` exited successfully: API ready and every node Ready. */
  readyMs: number;
}

/** A cluster of the benchmark's own. Create it with `startCluster`. */
export class BenchCluster {
  readonly home = mkdtempSync(join(tmpdir(), 'mkl-bench-'));
  private isUp = false;

  constructor(readonly name: string, readonly podCIDR: string, readonly nodes: number, private readonly env?: NodeJS.ProcessEnv) {}

  /** Runs the CLI against this cluster. */
  cli(args: readonly string[], timeoutMs = 180_000): Promise<ExecResult> {
    return exec(process.execPath, [MAIN_SCRIPT, '--name', this.name, '--home', this.home, ...args], { timeoutMs, env: this.env ?? process.env });
  }

  /**
   * `up --nodes N --pod-cidr …`, timed from spawn; rejects with the CLI's output when it fails.
   * Extra arguments go to `up` (e.g. controller timings).
   */
  up(extra: readonly string[] = []): Promise<UpTiming> {
    const args = [MAIN_SCRIPT, '--name', this.name, '--home', this.home, 'up', '--nodes', String(this.nodes), '--pod-cidr', this.podCIDR, '--wait', '180', ...extra];
    const started = nowMs();
    this.isUp = true; // from here on, `down` has something to remove even if `up` fails
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: this.env ?? process.env });
      let out = '';
      let apiReadyMs = Number.NaN;
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        if (Number.isNaN(apiReadyMs) && /Starting \d+ nodes?:/.test(out + chunk)) apiReadyMs = nowMs() - started;
        out += chunk;
      });
      child.stderr.on('data', (chunk: string) => { out += chunk; });
      child.on('error', reject);
      child.on('close', (code) => {
        const readyMs = nowMs() - started;
        if (code === 0) resolve({ apiReadyMs, readyMs });
        else reject(new Error(`up of cluster ${this.name} failed (exit ${code}):\n${out.trim()}`));
      });
    });
  }

  /** `down`, timed; removes the home folder too. */
  async down(): Promise<number> {
    if (!this.isUp) return 0;
    const r = await this.cli(['down']);
    if (r.code !== 0) throw new Error(`down of cluster ${this.name} failed: ${(r.stderr || r.stdout).trim()}`);
    this.isUp = false;
    return r.ms;
  }

  /** `down` (when up) and removal of the home folder. */
  async destroy(): Promise<void> {
    try {
      await this.down();
    } finally {
      rmSync(this.home, { recursive: true, force: true });
    }
  }

  client(): ApiClient {
    const cfg = readClusterConfig(this.home, this.name);
    if (!cfg) throw new Error(`cluster ${this.name} has no config in ${this.home}`);
    return new ApiClient({ server: cfg.server, token: cfg.token });
  }

  /** The engine, scoped to this cluster's objects (its label). */
  runtime(): DockerRuntime {
    return new DockerRuntime({ clusterLabel: this.name });
  }

  /** Pids of the control plane and of each node's kubelet, as `up` recorded them. */
  componentPids(): { component: string; pid: number }[] {
    const dir = clusterDir(this.home, this.name);
    const names = ['controlplane', ...Array.from({ length: this.nodes }, (_, i) => `kubelet-node-${i + 1}`)];
    return names.flatMap((component) => {
      const pid = readPid(dir, component);
      return pid ? [{ component, pid }] : [];
    });
  }

  /**
   * When the cluster is CPU-profiled, ends every component's current profile segment under
   * `label` (see cpuprof-preload.ts: a label file, then SIGUSR2) and waits until each has
   * written it, so that a part can profile exactly its measuring window. Otherwise a no-op
   * (without the preload, SIGUSR2 would end the process).
   */
  async profileSegment(label: string): Promise<void> {
    const dir = this.env?.MKL_BENCH_CPU_PROF_DIR;
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    const pids = this.componentPids();
    for (const { pid } of pids) {
      writeFileSync(join(dir, `${pid}.label`), label);
      process.kill(pid, 'SIGUSR2');
    }
    // Each file appears once its process has handled the signal; they are ours, and quick.
    const deadline = Date.now() + 10_000;
    for (const { component, pid } of pids) {
      while (!existsSync(join(dir, `${component}-${pid}-${label}.cpuprofile`)) && Date.now() < deadline) await sleep(20);
      rmSync(join(dir, `${pid}.label`), { force: true });
    }
  }

  /** The tail of a component's log, for error messages. */
  logTail(component: string, lines = 30): string {
    try {
      return readFileSync(join(clusterDir(this.home, this.name), `${component}.log`), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch (e) {
      return `(no log: ${(e as Error).message})`;
    }
  }
}

/**
 * A new cluster named `bench-<part><suffix>-<runId>` in a free benchmark subnet, registered for
 * cleanup; it is not started (call `up`). With `ctx.cpuProfDir`, its components (and `up`)
 * are CPU-profiled (see `cpuprof-preload.ts`) into `<cpuProfDir>/<part>/`.
 */
export async function newCluster(ctx: BenchContext, part: string, nodes: number, suffix = ''): Promise<{ cluster: BenchCluster; release: () => Promise<void> }> {
  const cidr = await freeSubnet16(SUBNET_POOLS.cluster);
  const env = ctx.cpuProfDir
    ? {
      ...process.env,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${fileURLToPath(new URL('./cpuprof-preload.js', import.meta.url))}`.trim(),
      MKL_BENCH_CPU_PROF_DIR: join(ctx.cpuProfDir, part),
    }
    : undefined;
  const cluster = new BenchCluster(`bench-${part}${suffix}-${ctx.runId}`, cidr, nodes, env);
  const task = ctx.cleanup.add(`cluster ${cluster.name}`, () => cluster.destroy());
  return { cluster, release: () => task.run() };
}
