/**
 * docker-compose as a peer for scale-out: one nginx service (`image: nginx:latest`, never
 * pulled, nothing built) in a compose file in a temp dir, on a default network with a subnet
 * from the benchmark's own range (so the HTTP checks only reach the project's own test
 * network), run as a uniquely named project and removed with `down -v`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec, execOk, type ExecResult } from './exec.js';
import { NGINX_IMAGE } from './floor.js';

export class ComposePeer {
  readonly dir = mkdtempSync(join(tmpdir(), 'mkl-bench-compose-'));
  readonly file: string;
  private isDown = false;

  /** @param project unique project name; @param subnet a /24 of the benchmark's own range. */
  constructor(readonly project: string, subnet: string) {
    this.file = join(this.dir, 'docker-compose.yml');
    writeFileSync(this.file, [
      'version: "2.4"',
      'services:',
      '  web:',
      `    image: ${NGINX_IMAGE}`,
      '    pull_policy: never',
      '    labels:',
      `      minikube-lite.bench: ${project}`,
      'networks:',
      '  default:',
      '    ipam:',
      '      config:',
      `        - subnet: ${subnet}`,
      '    labels:',
      `      minikube-lite.bench: ${project}`,
      '',
    ].join('\n'));
  }

  /** `docker-compose version --short`, or undefined when it is not installed. */
  static async version(): Promise<string | undefined> {
    const r = await exec('docker-compose', ['version', '--short'], { timeoutMs: 30_000 });
    return r.code === 0 ? r.stdout.trim() : undefined;
  }

  private run(args: string[]): Promise<ExecResult> {
    return execOk('docker-compose', ['-p', this.project, '-f', this.file, ...args], { timeoutMs: 600_000 });
  }

  /** `up -d --scale web=N`; resolves when docker-compose exits (containers started). */
  scale(replicas: number): Promise<ExecResult> {
    return this.run(['up', '-d', '--scale', `web=${replicas}`]);
  }

  /** IPs of the project's running containers. */
  async ips(): Promise<string[]> {
    const ids = (await execOk('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=${this.project}`])).stdout.split('\n').filter(Boolean);
    if (ids.length === 0) return [];
    const out = await execOk('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', ...ids]);
    return out.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  }

  /** Number of the project's containers in any state. */
  async containerCount(): Promise<number> {
    const r = await execOk('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${this.project}`]);
    return r.stdout.split('\n').filter(Boolean).length;
  }

  /** `down -v` (containers, network, volumes), then the temp dir; undefined when already down. */
  async down(): Promise<ExecResult | undefined> {
    if (this.isDown) return undefined;
    this.isDown = true;
    try {
      return await this.run(['down', '-v']);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
