/**
 * Helpers for end-to-end tests: run the real CLI against a real Docker engine in a cluster of
 * the test's own (its own name, home folder and pod subnet), and clean everything up after.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeObject, Pod } from '../../src/api/types.js';
import { ApiClient, PODS, type ResourceRef } from '../../src/client/client.js';
import { readClusterConfig } from '../../src/cli/context.js';
import { afterAll, beforeAll, expect } from 'vitest';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'dist/cli/main.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Whether a Docker engine answers here (e2e tests are skipped, with this reason, if not). */
export async function dockerAvailable(): Promise<boolean> {
  const r = await sh('docker', ['info', '--format', '{{.ServerVersion}}']);
  return r.code === 0;
}

export function sh(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** A test's service CIDR from its pod CIDR: `10.2XY.0.0/16` → `10.1XY.0.0/16` (distinct pod CIDRs, distinct service CIDRs). */
export function serviceCIDRFor(podCIDR: string): string {
  const second = Number(podCIDR.split('.')[1]);
  return `10.${second >= 200 ? second - 100 : second}.0.0/16`;
}

/** A cluster of the test's own. */
export class TestCluster {
  readonly home = mkdtempSync(join(tmpdir(), 'mkl-e2e-'));

  constructor(readonly name: string, readonly podCIDR: string) {}

  /**
   * Runs the CLI for this cluster. `up` without `--service-cidr` gets the test's own service CIDR
   * (see {@link serviceCIDRFor}): e2e files start clusters in parallel, and two `up`s choosing
   * "the first free /16" at the same instant could choose the same one.
   */
  cli(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    const extra = args[0] === 'up' && !args.includes('--service-cidr') ? ['--service-cidr', serviceCIDRFor(this.podCIDR)] : [];
    return sh(process.execPath, [CLI, '--name', this.name, '--home', this.home, ...args, ...extra], opts);
  }

  client(): ApiClient {
    const cfg = readClusterConfig(this.home, this.name);
    if (!cfg) throw new Error(`cluster ${this.name} has no config`);
    return new ApiClient({ server: cfg.server, token: cfg.token });
  }

  /** Waits (by watch) until the pod satisfies `ok`; fails with the pod's last state after `ms`. */
  async waitForPod(name: string, ok: (p: Pod) => boolean, ms = 60_000, namespace = 'default'): Promise<Pod> {
    const client = this.client();
    const ref = { ...PODS, namespace };
    let last: Pod | undefined;
    return new Promise<Pod>((resolve, reject) => {
      const timer = setTimeout(() => {
        handle.stop();
        reject(new Error(`timed out waiting for pod ${name}; last seen: ${JSON.stringify(last?.status ?? null)}`));
      }, ms);
      const handle = client.watch<Pod>(ref, { fieldSelector: `metadata.name=${name}` }, (e) => {
        if (e.type === 'ERROR') return;
        last = e.object;
        if (e.type !== 'DELETED' && ok(e.object)) {
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

  /** Docker objects carrying this cluster's label. */
  async leftovers(): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
    const f = ['--filter', `label=minikube-lite.cluster=${this.name}`];
    const lines = (r: RunResult) => r.stdout.split('\n').filter(Boolean);
    const [c, n, v] = await Promise.all([
      sh('docker', ['ps', '-aq', ...f]), sh('docker', ['network', 'ls', '-q', ...f]), sh('docker', ['volume', 'ls', '-q', ...f]),
    ]);
    return { containers: lines(c), networks: lines(n), volumes: lines(v) };
  }

  /** `down`, then remove the home folder. */
  async destroy(): Promise<void> {
    await this.cli(['down']);
    rmSync(this.home, { recursive: true, force: true });
  }
}

export const isRunning = (p: Pod): boolean =>
  p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).every((c) => c.ready) && !!p.status.podIP;

/**
 * Resolves with the first state of `ref`/`name` that `ok` accepts — `undefined` once it is
 * deleted (or when it does not exist yet and `ok(undefined)`) — by watch; fails after `ms` with
 * the last status seen.
 */
export function waitForObject<T extends KubeObject>(client: ApiClient, ref: ResourceRef, name: string, ok: (o: T | undefined) => boolean, ms = 90_000): Promise<T | undefined> {
  let last: T | undefined;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      handle.stop();
      reject(new Error(`timed out waiting for ${ref.resource}/${name}; last seen: ${JSON.stringify((last as { status?: unknown } | undefined)?.status ?? null)}`));
    }, ms);
    const handle = client.watch<T>(ref, { fieldSelector: `metadata.name=${name}` }, (e) => {
      if (e.type === 'ERROR' || e.type === 'BOOKMARK') return;
      last = e.type === 'DELETED' ? undefined : e.object;
      if (ok(last)) {
        clearTimeout(timer);
        handle.stop();
        resolve(last);
      }
    });
    handle.done.catch((err: unknown) => {
      clearTimeout(timer);
      reject(err as Error);
    });
  });
}

/**
 * Registers a test file's cluster life cycle: beforeAll runs `up --nodes N` with `upArgs`
 * (then `setup`), afterAll runs `down` and checks that no container, network or volume of the
 * cluster is left.
 */
export function useCluster(cluster: TestCluster, o: { nodes?: number; upArgs?: string[]; setup?: () => Promise<void> } = {}): void {
  beforeAll(async () => {
    const r = await cluster.cli(['up', '--nodes', String(o.nodes ?? 1), '--pod-cidr', cluster.podCIDR, ...(o.upArgs ?? [])], { timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(0);
    await o.setup?.();
  }, 720_000);
  afterAll(async () => {
    await cluster.destroy();
    expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 180_000);
}
