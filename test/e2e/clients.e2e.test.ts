/**
 * Real clients against a real cluster on the real Docker engine: stock kubectl's protobuf
 * `create` commands (also `--dry-run=server`), `auth whoami`, `auth can-i` and `can-i --list`,
 * metadata-only lists, and the Python client's `watch=True` watch (Debian's python3-kubernetes)
 * receiving events. Skipped with a printed reason where kubectl, Docker or the Python client is
 * absent.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TestCluster, dockerAvailable, sh, useCluster } from './helpers.js';

const hasDocker = await dockerAvailable();
const hasKubectl = (await sh('kubectl', ['version', '--client']).catch(() => ({ code: 1 }))).code === 0;
const PYTHON = '/usr/bin/python3'; // Debian's, where python3-kubernetes installs
const hasPython = (await sh(PYTHON, ['-c', 'import kubernetes']).catch(() => ({ code: 1 }))).code === 0;
if (!hasDocker || !hasKubectl) console.log(`clients e2e skipped: ${!hasDocker ? 'no Docker engine' : 'no kubectl'}`);
if (!hasPython) console.log('clients e2e: python3-kubernetes is absent (scripts/setup.sh installs it), the Python watch test is skipped');

describe.skipIf(!hasDocker || !hasKubectl)('real clients on a real cluster', () => {
  const cluster = new TestCluster(`e2e-cla-${process.pid}`, '10.246.0.0/16');
  const kubeconfig = () => join(cluster.home, 'clusters', cluster.name, 'kubeconfig');
  const kubectl = (args: string[]) => sh('kubectl', ['--kubeconfig', kubeconfig(), ...args]);

  useCluster(cluster, { upArgs: ['--service-cidr', '10.146.0.0/16'] });

  it.each([
    [['create', 'namespace', 'cla'], 'namespace/cla'],
    [['create', 'deployment', 'web', '--image=nginx', '-n', 'cla'], 'deployment.apps/web'],
    [['create', 'service', 'clusterip', 'web', '--tcp=80', '-n', 'cla'], 'service/web'],
    [['create', 'configmap', 'conf', '--from-literal=a=b', '-n', 'cla'], 'configmap/conf'],
    [['create', 'secret', 'generic', 'creds', '--from-literal=user=admin', '-n', 'cla'], 'secret/creds'],
  ])('kubectl %j sends protobuf and is created (dry-run=server first)', async (args, ref) => {
    const dry = await kubectl([...args, '--dry-run=server']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout.trim()).toBe(`${ref} created (server dry run)`);
    const r = await kubectl([...args, '-v=6']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`${ref} created`);
    // kubectl really sent protobuf, and got a 201 for it
    expect(r.stderr).toMatch(/POST https:\/\/\S+ 201 Created/);
  }, 60_000);

  it('the protobuf-created objects hold what kubectl sent, and the deployment runs', async () => {
    const svc = JSON.parse((await kubectl(['get', 'service', 'web', '-n', 'cla', '-o', 'json'])).stdout) as { spec: { ports: unknown[]; clusterIP: string } };
    expect(svc.spec.ports).toEqual([{ name: '80', port: 80, protocol: 'TCP', targetPort: 80 }]);
    expect(svc.spec.clusterIP).toMatch(/^10\.146\./);
    const sec = (await kubectl(['get', 'secret', 'creds', '-n', 'cla', '-o', 'jsonpath={.data.user}'])).stdout;
    expect(Buffer.from(sec, 'base64').toString()).toBe('admin');
    const w = await kubectl(['rollout', 'status', 'deployment/web', '-n', 'cla', '--timeout=90s']);
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toMatch(/successfully rolled out/);
  }, 120_000);

  it('kubectl auth whoami, can-i and can-i --list answer for the admin', async () => {
    const who = await kubectl(['auth', 'whoami']);
    expect(who.code, who.stderr).toBe(0);
    expect(who.stdout).toMatch(/Username\s+minikube-lite-admin/);
    expect(who.stdout).toMatch(/Groups\s+\[system:masters system:authenticated\]/);
    expect((await kubectl(['auth', 'can-i', 'delete', 'pods', '-n', 'cla'])).stdout.trim()).toBe('yes');
    const list = await kubectl(['auth', 'can-i', '--list', '-n', 'cla']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs/);
    expect(list.stdout).toMatch(/\*\.\*\s+\[\]\s+\[\]\s+\[\*\]/);
  }, 30_000);

  it('kubelets renew their node Lease every 10 s; kubectl describe node shows it', async () => {
    const node = (await kubectl(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout.trim();
    const lease = async () => JSON.parse((await kubectl(['get', 'lease', node, '-n', 'kube-node-lease', '-o', 'json'])).stdout) as
      { spec: { holderIdentity: string; leaseDurationSeconds: number; renewTime: string }; metadata: { ownerReferences: { kind: string; name: string }[] } };
    const first = await lease();
    expect(first.spec).toMatchObject({ holderIdentity: node, leaseDurationSeconds: 40 });
    expect(first.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Node', name: node })]);
    // the next renewal arrives as a watch event within a heartbeat
    const w = await kubectl(['get', 'lease', node, '-n', 'kube-node-lease', '--watch-only', '-o', 'jsonpath={.spec.renewTime}{"\\n"}', '--request-timeout=15s']);
    const renewals = w.stdout.split('\n').filter(Boolean);
    expect(renewals.length).toBeGreaterThanOrEqual(1);
    expect(Date.parse(renewals[0]) - Date.parse(first.spec.renewTime)).toBeGreaterThanOrEqual(9_000);
    const d = await kubectl(['describe', 'node', node]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).not.toMatch(/Failed to get lease/);
    expect(d.stdout).toMatch(new RegExp(`Lease:\\s+HolderIdentity:\\s+${node}`));
  }, 60_000);

  it.skipIf(!hasPython)('the Python client watch=True receives events', async () => {
    const script = join(cluster.home, 'watch.py');
    writeFileSync(script, [
      'import sys',
      'from kubernetes import client, config, watch',
      `config.load_kube_config(config_file=${JSON.stringify(kubeconfig())})`,
      'v1 = client.CoreV1Api()',
      'w = watch.Watch()',
      'seen = []',
      "for ev in w.stream(v1.list_namespaced_config_map, namespace='cla', timeout_seconds=30):",
      "    seen.append(ev['type'] + ' ' + ev['object'].metadata.name)",
      "    print(seen[-1], flush=True)",
      "    if ev['object'].metadata.name == 'late':",
      '        w.stop()',
      "meta = client.ApiClient().call_api('/api/v1/namespaces/cla/configmaps', 'GET', header_params={'Accept': 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1'}, response_type='object', auth_settings=['BearerToken'], _return_http_data_only=True)",
      "print('META', meta['kind'], sorted(i['metadata']['name'] for i in meta['items']), flush=True)",
    ].join('\n'));
    const py = spawn(PYTHON, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    py.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<number>((resolve) => py.on('exit', (code) => resolve(code ?? 1)));
    // once the watch has delivered the existing ConfigMap, create one it must see arrive
    await new Promise<void>((resolve, reject) => {
      py.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ADDED conf')) resolve();
      });
      void exited.then(() => reject(new Error(`python exited early: ${out}${err}`)));
    });
    expect((await kubectl(['create', 'configmap', 'late', '-n', 'cla'])).code).toBe(0);
    const code = await exited;
    const r = { code, stdout: out, stderr: err };
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('ADDED conf');
    expect(r.stdout).toContain('ADDED late');
    expect(r.stdout).toContain("META PartialObjectMetadataList ['conf', 'kube-root-ca.crt', 'late']");
  }, 90_000);

  it('kubectl delete namespace: Terminating with the kubernetes finalizer, then gone with its pods', async () => {
    const spec = (await kubectl(['get', 'namespace', 'cla', '-o', 'jsonpath={.spec.finalizers}'])).stdout;
    expect(spec).toBe('["kubernetes"]');
    const del = await kubectl(['delete', 'namespace', 'cla', '--wait=false']);
    expect(del.stdout.trim()).toBe('namespace "cla" deleted');
    // the deployment's pod has a 30 s grace period, so the namespace is still terminating now
    expect((await kubectl(['get', 'namespace', 'cla', '-o', 'jsonpath={.status.phase}'])).stdout).toBe('Terminating');
    const w = await kubectl(['wait', '--for=delete', 'namespace/cla', '--timeout=90s']);
    expect(w.code, w.stderr).toBe(0);
    expect((await kubectl(['get', 'pods', '-n', 'cla', '-o', 'name'])).stdout.trim()).toBe('');
  }, 120_000);
});
