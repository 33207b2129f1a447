/**
 * The machine and the versions a run measured, printed above the table and saved in the JSON,
 * so that numbers from two runs can be told apart.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { exec } from './exec.js';

export interface MachineInfo {
  date: string;
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  loadAverage: number[];
  node: string;
  /** `docker 20.10.24+dfsg1`, or why the engine could not be asked. */
  docker: string;
  /** `docker-compose 1.29.2` when installed. */
  dockerCompose?: string;
  /** package version and git commit, e.g. `0.1.0 (eb9265a, uncommitted changes)`. */
  minikubeLite: string;
}

/** The repository root (this file is `src/bench/machine.ts` or `dist/bench/machine.js`). */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return `${m?.[1] ?? 'Linux'}, kernel ${release()}`;
  } catch {
    return `kernel ${release()}`; // no os-release (not Debian-like): the kernel says enough
  }
}

async function minikubeLiteVersion(): Promise<string> {
  const pkg = JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as { version?: string };
  const head = await exec('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'], { timeoutMs: 10_000 });
  if (head.code !== 0) return pkg.version ?? 'unknown';
  const dirty = await exec('git', ['-C', REPO_ROOT, 'status', '--porcelain', '--untracked-files=no'], { timeoutMs: 10_000 });
  return `${pkg.version ?? 'unknown'} (${head.stdout.trim()}${dirty.stdout.trim() ? ', uncommitted changes' : ''})`;
}

/** Asks the engine (through the docker client) and the host; never fails. */
export async function machineInfo(): Promise<MachineInfo> {
  const [engine, compose, version] = await Promise.all([
    exec('docker', ['version', '--format', '{{.Server.Version}}'], { timeoutMs: 10_000 }),
    existsSync('/usr/bin/docker-compose') ? exec('docker-compose', ['version', '--short'], { timeoutMs: 20_000 }) : Promise.resolve(undefined),
    minikubeLiteVersion(),
  ]);
  const info: MachineInfo = {
    date: new Date().toISOString(),
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown CPU',
    memoryGiB: totalmem() / 2 ** 30,
    os: osName(),
    loadAverage: loadavg(),
    node: process.version,
    docker: engine.code === 0 ? `docker engine ${engine.stdout.trim()}` : 'docker engine: not reachable',
    minikubeLite: version,
  };
  if (compose?.code === 0) info.dockerCompose = `docker-compose ${compose.stdout.trim()}`;
  return info;
}
