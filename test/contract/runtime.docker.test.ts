/**
 * The Docker runtime against a real engine: the shared runtime contract, Docker-only checks
 * (OOM reporting, the "engine down" sentence) and a final check that the run left nothing
 * behind (containers, networks, volumes, iptables rules). Skipped, with the reason in the
 * suite name, when `docker info` fails or the test images are missing.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../src/runtime/docker.js';
import { CLUSTER_LABEL } from '../../src/runtime/labels.js';
import { RuntimeError } from '../../src/runtime/types.js';
import { runtimeContract } from './runtime.contract.js';

const IMAGES = { pause: 'registry.k8s.io/pause:3.10', shell: 'busybox:latest', server: 'nginx:latest', missing: 'nginx:does-not-exist' };

function run(cmd: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  return { ok: r.status === 0, out: r.stdout ?? '', err: (r.stderr ?? '') || (r.error?.message ?? '') };
}

/** Why the Docker suite cannot run here, or undefined when it can. */
function whyNoDocker(): string | undefined {
  const info = run('docker', ['info', '--format', '{{.ServerVersion}}']);
  if (!info.ok) return `docker info failed (${info.err.trim().split('\n').pop() ?? 'no output'}); start the engine with: sudo bash scripts/engine.sh`;
  const images = [IMAGES.pause, IMAGES.shell, IMAGES.server];
  const absent = images.filter((i) => !run('docker', ['image', 'inspect', i]).ok);
  if (absent.length) return `test images missing: ${absent.join(', ')}`;
  return undefined;
}

const skip = whyNoDocker();
/** The engine `docker` talks to: DOCKER_HOST's unix socket when set (e.g. a private test engine), else Docker's default. */
const socketPath = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice('unix://'.length) : undefined;
let cluster = '';

describe.skipIf(skip !== undefined)('DockerRuntime on a real engine', () => {
  runtimeContract(
    'DockerRuntime contract',
    (ctx) => {
      cluster = ctx.cluster;
      return { runtime: new DockerRuntime({ clusterLabel: ctx.cluster, socketPath }) };
    },
    {
      skip,
      images: IMAGES,
      // With a registry mirror, Docker reports the mirror's answer or its fallback to docker.io.
      pullFailure: /does-not-exist|not found|manifest unknown|pull access denied|no such host|lookup/i,
      timeoutMs: 60_000,
    },
  );

  describe('Docker-only behaviour', () => {
    const rt = () => new DockerRuntime({ clusterLabel: cluster, socketPath });

    it('a container over its memory limit is reported as OOMKilled, each of 5 times, even when the engine loses its oom event', async () => {
      // Docker 20.10 on cgroup v1 often drops the OOM notification of a container whose only
      // process is killed (see src/runtime/oom.ts): 1 to 2 runs in 3 here had no `oom` event and
      // State.OOMKilled=false. Five runs exercise that case with ~90% odds (the old adapter failed it).
      const docker = rt();
      const labels = { [CLUSTER_LABEL]: cluster, role: 'oom' };
      const octet = 200 + Math.floor(Math.random() * 50);
      const network = { name: `${cluster}-net-oom`, subnet: `10.251.${octet}.0/24`, gateway: `10.251.${octet}.1`, labels };
      await docker.ensureNetwork(network);
      const actions: string[] = [];
      let stop = () => {};
      try {
        const sb = await docker.runPodSandbox({ name: `${cluster}-oom`, hostname: 'oom', network: network.name, image: IMAGES.pause, labels, portMappings: [] });
        for (let i = 0; i < 5; i++) {
          const id = await docker.createContainer(sb.id, {
            name: `${cluster}-oom-app-${i}`,
            image: IMAGES.shell,
            // dd allocates and fills one 64 MiB block: far over an 8 MiB limit (no swap here).
            entrypoint: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'],
            env: [],
            mounts: [],
            labels,
            memoryBytes: 8 * 1024 * 1024,
          });
          const died = new Promise<void>((resolve) => {
            stop = docker.onContainerEvent((e) => {
              if (e.id !== id) return;
              actions.push(e.action);
              if (e.action === 'die') resolve();
            });
          });
          await docker.startContainer(id);
          await died;
          stop();
          expect(await docker.containerStatus(id)).toMatchObject({ state: 'exited', exitCode: 137, reason: 'OOMKilled' });
        }
      } finally {
        stop();
        for (const c of await docker.listContainers({ role: 'oom' })) await docker.removeContainer(c.id);
        for (const s of await docker.listPodSandboxes({ role: 'oom' })) await docker.removePodSandbox(s.id);
        await docker.removeNetwork(network.name);
      }
    }, 60_000);
  });

  afterAll(() => {
    // Runs after the contract's own cleanup: nothing labelled with this run's cluster may remain.
    const filter = `label=${CLUSTER_LABEL}=${cluster}`;
    expect(run('docker', ['ps', '-aq', '--filter', filter]).out.trim()).toBe('');
    expect(run('docker', ['network', 'ls', '-q', '--filter', filter]).out.trim()).toBe('');
    expect(run('docker', ['volume', 'ls', '-q', '--filter', filter]).out.trim()).toBe('');
    // allowPodTraffic tags its rules with the cluster name.
    const rules = run('iptables', ['-w', '-S', 'DOCKER-USER']).out + run('iptables', ['-w', '-t', 'nat', '-S', 'POSTROUTING']).out;
    expect(rules.split('\n').filter((l) => l.includes(`minikube-lite:${cluster}`))).toEqual([]);
  });
});

describe('DockerRuntime without an engine', () => {
  it('ping explains in one sentence how to start the engine', async () => {
    const rt = new DockerRuntime({ socketPath: '/tmp/minikube-lite-no-such-docker.sock' });
    const err = await rt.ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as Error).message).toBe(
      'Cannot connect to the Docker engine at unix:///tmp/minikube-lite-no-such-docker.sock: is dockerd running? Start it with: sudo bash scripts/engine.sh',
    );
  });
});
