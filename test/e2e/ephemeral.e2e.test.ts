/**
 * Ephemeral containers on a real Docker engine, driven by the stock kubectl 1.32: `kubectl debug
 * -i POD --image=busybox --target=app` adds one through `pods/ephemeralcontainers`, waits for it
 * to run and attaches; the commands fed on stdin reach the app over localhost (one network
 * namespace) and see its processes (`--target`: one PID namespace). Also `kubectl logs -c`,
 * `kubectl get`/`describe`, `kubectl debug --copy-to` (a copy pod) and `kubectl debug node/…`,
 * and that the container never restarts and goes with its pod.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/types.js';
import { readClusterConfig } from '../../src/cli/context.js';
import { PODS } from '../../src/client/client.js';
import { ROOT, TestCluster, dockerAvailable, isRunning, sh, useCluster } from './helpers.js';

const hasDocker = await dockerAvailable();
const KUBECTL = '/usr/bin/kubectl';
const hasKubectl = existsSync(KUBECTL);
const hasScript = existsSync('/usr/bin/script');

interface Run { code: number; stdout: string; stderr: string }

/** Runs a program with stdin `input`; resolves when it exits (killed after `timeoutMs`). */
function run(cmd: string, args: string[], input = '', timeoutMs = 90_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(input);
  });
}

const ephemeral = (p: Pod, name: string) => p.status?.ephemeralContainerStatuses?.find((s) => s.name === name);

describe.skipIf(!hasDocker || !hasKubectl)('ephemeral containers with the stock kubectl on a real Docker engine (skipped without a Docker engine or /usr/bin/kubectl)', () => {
  const cluster = new TestCluster(`e2e-eph-${process.pid}`, '10.207.0.0/16');
  const ref = { ...PODS, namespace: 'default' };
  let kubeconfig = '';
  const kubectl = (args: string[], input = '', timeoutMs?: number) => run(KUBECTL, ['--kubeconfig', kubeconfig, ...args], input, timeoutMs);

  useCluster(cluster, { setup: async () => {
    kubeconfig = readClusterConfig(cluster.home, cluster.name)?.kubeconfig ?? '';
    await cluster.client().create(ref, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' } },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'nginx' }] },
    });
    const ex = await cluster.cli(['apply', '-f', join(ROOT, 'examples/debug-ephemeral.yaml')]);
    expect(ex.code, ex.stderr).toBe(0);
    await Promise.all([cluster.waitForPod('web', isRunning, 90_000), cluster.waitForPod('web-debug', isRunning, 90_000)]);
  } });

  it('kubectl debug -i --target=app: the debug shell reaches the app on localhost and sees its processes', async () => {
    const t0 = Date.now();
    const r = await kubectl(['debug', '-i', 'web', '--image=busybox', '--image-pull-policy=IfNotPresent', '--target=app', '--container=debugger', '--', 'sh'],
      'wget -qO- http://localhost:80/ | grep -o "Welcome to nginx"; ps -o pid,args; exit 0\n');
    const ms = Date.now() - t0;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Targeting container "app"\. If you don't see processes from this container/);
    expect(r.stdout).toContain('Welcome to nginx');
    // With --target the shell is in the app's process namespace: nginx's master process is there.
    expect(r.stdout).toMatch(/nginx: master process/);
    console.log(`kubectl debug -i (create, wait for running, attach, run, exit): ${ms} ms`);

    const pod = await cluster.waitForPod('web', (p) => ephemeral(p, 'debugger')?.state?.terminated !== undefined, 30_000);
    expect(ephemeral(pod, 'debugger')).toMatchObject({ ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } });
    expect(pod.spec?.ephemeralContainers?.[0]).toMatchObject({ name: 'debugger', image: 'busybox', targetContainerName: 'app', stdin: true });
    // The pod itself is untouched: still running and ready, its app container not restarted.
    expect(isRunning(pod)).toBe(true);
    expect(pod.status?.containerStatuses?.[0].restartCount).toBe(0);
  }, 120_000);

  it.skipIf(!hasScript)('kubectl debug -it --target=app: a shell on a terminal, in the app\'s processes (skipped without script(1))', async () => {
    // script(1) gives kubectl a terminal; the shell's input comes through it.
    // No pull policy: `busybox` (no tag) defaults to Always, so the kubelet pulls it (from the local registry mirror).
    const line = `${KUBECTL} --kubeconfig ${kubeconfig} debug -it web --image=busybox --target=app --container=shell -- sh`;
    const r = await run('/usr/bin/script', ['-eqc', line, '/dev/null'], 'tty; ps -o args | grep -c "[n]ginx: master"; exit 5\n');
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+\r\n/);
    expect(r.stdout).toMatch(/\r\n1\r\n/);
    const pod = await cluster.waitForPod('web', (p) => ephemeral(p, 'shell')?.state?.terminated !== undefined, 30_000);
    expect(ephemeral(pod, 'shell')?.state?.terminated?.exitCode).toBe(5);
    expect(pod.spec?.ephemeralContainers?.find((c) => c.name === 'shell')).toMatchObject({ stdin: true, tty: true, targetContainerName: 'app', imagePullPolicy: 'Always' });
    const events = await kubectl(['get', 'events', '--field-selector', 'involvedObject.name=web', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
    expect(events.stdout).toMatch(/Pulled: Successfully pulled image "busybox"/);
    expect(events.stdout).toContain('Started: Started container shell');
  }, 120_000);

  it('an ephemeral container without a target has its own process namespace; logs -c reads it; it is never restarted', async () => {
    const r = await kubectl(['debug', 'web', '--image=busybox', '--image-pull-policy=IfNotPresent', '--container=probe', '--',
      'sh', '-c', 'wget -qO- http://127.0.0.1/ | grep -c "Welcome to nginx"; ps -o args | grep -c "[n]ginx: master" || true; exit 3']);
    expect(r.code, r.stderr).toBe(0);
    const pod = await cluster.waitForPod('web', (p) => ephemeral(p, 'probe')?.state?.terminated !== undefined, 60_000);
    expect(ephemeral(pod, 'probe')?.state?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    const logs = await kubectl(['logs', 'web', '-c', 'probe']);
    expect(logs.code, logs.stderr).toBe(0);
    // Two lines: the page was reached (2 matches of the title), and no nginx process was seen.
    expect(logs.stdout.split('\n').filter(Boolean)).toEqual(['2', '0']);
    // Exited with 3 under restartPolicy Always: still one instance, never restarted.
    const docker = await sh('docker', ['ps', '-a', '--filter', `label=minikube-lite.cluster=${cluster.name}`, '--filter', 'label=io.kubernetes.container.name=probe', '--format', '{{.State}}']);
    expect(docker.stdout.trim().split('\n')).toEqual(['exited']);
  }, 120_000);

  it('kubectl debug -i over SPDY (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false) and minikube-lite debug POD --target', async () => {
    const spdy = await run('/usr/bin/env', ['KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false', KUBECTL, '--kubeconfig', kubeconfig, 'debug', '-i', 'web', '--image=busybox',
      '--image-pull-policy=IfNotPresent', '--target=app', '--container=spdy', '--profile=general', '--', 'sh'], 'ps -o args | grep -c "[n]ginx: master"; exit 0\n');
    expect(spdy.code, spdy.stderr).toBe(0);
    // The general profile adds SYS_PTRACE in a securityContext, which minikube-lite says it does not apply.
    expect(spdy.stderr).toMatch(/Warning: spec\.ephemeralContainers\[\d+\]\.securityContext: ignored by minikube-lite/);
    // kubectl prints its "Targeting container" note on stdout, then the shell's output.
    expect(spdy.stdout).toMatch(/^Targeting container "app"\..*\n1\n$/);
    // The example's pod, with the README's command.
    const own = await cluster.cli(['debug', 'web-debug', '--target', 'app', '-c', 'own', '--', 'sh', '-c', 'ps -o args | grep -c "[n]ginx: master"; wget -qO- http://localhost/ | grep -o "Welcome to nginx" | head -1; exit 4']);
    expect(own.stdout).toBe('1\nWelcome to nginx\n');
    expect(own.stderr).toBe('Targeting container "app".\n');
    expect(own.code).toBe(4);
  }, 120_000);

  it("kubectl get -o jsonpath and describe (kubectl's and minikube-lite's) show the ephemeral containers and their state", async () => {
    const describe = await kubectl(['describe', 'pod', 'web']);
    expect(describe.code, describe.stderr).toBe(0);
    expect(describe.stdout).toMatch(/Ephemeral Containers:\n {2}debugger:\n/);
    expect(describe.stdout).toMatch(/ {2}probe:\n[^]*State: +Terminated\n +Reason: +Error\n +Exit Code: +3/);
    const own = await cluster.cli(['describe', 'pod', 'web']);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout).toMatch(/Ephemeral Containers:\n {2}debugger:\n/);
    expect(own.stdout).toMatch(/ {2}probe:\n[^]*State: +Terminated\n +Reason: +Error\n +Exit Code: +3/);
    const json = await kubectl(['get', 'pod', 'web', '-o', 'jsonpath={.status.ephemeralContainerStatuses[*].name}']);
    expect(json.stdout.split(' ')).toEqual(expect.arrayContaining(['debugger', 'probe']));
  });

  it('refuses a change to an existing ephemeral container and a duplicate name with the field path', async () => {
    const change = await kubectl(['patch', 'pod', 'web', '--subresource=ephemeralcontainers', '--type=json', '-p', '[{"op":"replace","path":"/spec/ephemeralContainers/0/image","value":"nginx"}]']);
    expect(change.code).not.toBe(0);
    expect(change.stderr).toContain('existing ephemeral containers "debugger" may not be changed');
    const dup = await kubectl(['debug', 'web', '--image=busybox', '--container=app', '--', 'true']);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toMatch(/spec\.ephemeralContainers\[\d\]\.name: Duplicate value: "app"/);
  });

  it('kubectl debug --copy-to --share-processes makes a copy pod with a debug container in one process namespace', async () => {
    const r = await kubectl(['debug', 'web', '--image=busybox', '--image-pull-policy=IfNotPresent', '--copy-to=web-copy', '--share-processes', '--container=dbg', '--', 'sleep', '3600']);
    expect(r.code, r.stderr).toBe(0);
    const copy = await cluster.waitForPod('web-copy', isRunning, 90_000);
    expect(copy.spec?.containers.map((c) => c.name)).toEqual(['app', 'dbg']);
    expect(copy.spec?.shareProcessNamespace).toBe(true);
    const ex = await kubectl(['exec', 'web-copy', '-c', 'dbg', '--', 'wget', '-qO-', 'http://localhost/']);
    expect(ex.stdout).toContain('Welcome to nginx');
    // One process namespace for the pod: the debug container sees nginx, and the pause process as PID 1.
    const ps = await kubectl(['exec', 'web-copy', '-c', 'dbg', '--', 'ps', '-o', 'pid,args']);
    expect(ps.stdout).toMatch(/nginx: master process/);
    expect(ps.stdout).toMatch(/^\s*1\s+\/pause/m);
    expect((await kubectl(['delete', 'pod', 'web-copy', '--grace-period=1'])).code).toBe(0);
  }, 120_000);

  it('kubectl debug node/NAME runs a pod with the node\'s root filesystem at /host and its processes, and says it cannot share its network', async () => {
    const node = (await kubectl(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout;
    // hostPID: the node's processes (the Docker engine among them) are visible; the node's / is at /host.
    const r = await kubectl(['debug', `node/${node}`, '--image=busybox', '--image-pull-policy=IfNotPresent', '--', 'sh', '-c',
      'test -d /host/proc && echo host-root-ok; ps -o args | grep -c "[d]ockerd" | sed "s/^[1-9][0-9]*$/host-pid-ok/"']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('spec.hostNetwork: ignored by minikube-lite');
    expect(r.stderr).not.toContain('spec.hostPID');
    const name = /Creating debugging pod (\S+) with container/.exec(r.stdout + r.stderr)?.[1] ?? '';
    expect(name).not.toBe('');
    await cluster.waitForPod(name, (p) => p.status?.phase === 'Succeeded', 90_000);
    const logs = await kubectl(['logs', name]);
    expect(logs.stdout.trim().split('\n')).toEqual(['host-root-ok', 'host-pid-ok']);
    await kubectl(['delete', 'pod', name, '--grace-period=1']);
  }, 120_000);

  it('debugs a pod stuck in its init container: the ephemeral container starts anyway, targeting it', async () => {
    await cluster.client().create(ref, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stuck' },
      spec: { terminationGracePeriodSeconds: 1, initContainers: [{ name: 'wait', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }], containers: [{ name: 'app', image: 'nginx' }] },
    });
    await cluster.waitForPod('stuck', (p) => p.status?.initContainerStatuses?.[0]?.state?.running !== undefined, 60_000);
    const r = await kubectl(['debug', '-i', 'stuck', '--image=busybox', '--image-pull-policy=IfNotPresent', '--target=wait', '-c', 'peek', '--', 'sh'],
      'ps -o args | grep -c "[s]leep 3600"; exit 0\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('1');
    const pod = await cluster.waitForPod('stuck', (p) => ephemeral(p, 'peek')?.state?.terminated !== undefined, 30_000);
    expect(pod.status?.phase).toBe('Pending'); // still initializing
    expect((await kubectl(['delete', 'pod', 'stuck', '--grace-period=1'])).code).toBe(0);
  }, 120_000);

  it('the ephemeral containers go with the pod', async () => {
    expect((await kubectl(['delete', 'pod', 'web', '--grace-period=1'])).code).toBe(0);
    const left = await sh('docker', ['ps', '-a', '--filter', `label=minikube-lite.cluster=${cluster.name}`, '--filter', 'label=io.kubernetes.pod.name=web', '--format', '{{.Names}}']);
    expect(left.stdout.trim()).toBe('');
  }, 60_000);
});
