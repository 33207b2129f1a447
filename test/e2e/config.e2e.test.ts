/**
 * ConfigMaps, Secrets and the downward API on a real Docker engine, through the real CLI: a
 * ConfigMap rendered into nginx's configuration (volume and env) and updated in place in the
 * running pod; a Secret as env and as a 0400 file; a pod reading its own name, IP and memory
 * limit (env and volume); a pod waiting with CreateContainerConfigError until its Secret
 * exists; refusals and warnings; the Kubernetes documentation's examples run unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigMap, Pod } from '../../src/api/types.js';
import { CONFIGMAPS, PODS } from '../../src/client/client.js';
import { ROOT, TestCluster, dockerAvailable, isRunning, sh } from './helpers.js';

const hasDocker = await dockerAvailable();
const ex = (f: string) => join(ROOT, 'examples', f);
const docs = (f: string) => join(ROOT, 'examples', 'k8s-docs', f);

/** GET from a pod IP (the host reaches the node bridges); '' when nothing answers. */
async function httpGet(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return await res.text();
  } catch {
    return '';
  }
}

/**
 * Reads until `ok` holds (at most `tries` reads) and returns the last value. For what has no
 * watch: a file's content inside a container, a log line; each read is a CLI round trip.
 */
async function eventually(read: () => Promise<string>, ok: (s: string) => boolean, tries = 100): Promise<string> {
  let v = await read();
  for (let i = 1; i < tries && !ok(v); i++) v = await read();
  return v;
}

describe.skipIf(!hasDocker)('ConfigMaps, Secrets and the downward API on a real Docker engine (skipped without Docker)', () => {
  const cluster = new TestCluster(`e2e-cfg-${process.pid}`, '10.217.0.0/16');
  const files = mkdtempSync(join(tmpdir(), 'mkl-cfg-files-'));
  const exec = async (pod: string, cmd: string): Promise<string> => {
    const r = await cluster.cli(['exec', pod, '--', 'sh', '-c', cmd]);
    expect(r.stderr).toBe('');
    return r.stdout;
  };

  beforeAll(async () => {
    const r = await cluster.cli(['up', '--nodes', '1', '--pod-cidr', cluster.podCIDR]);
    expect(r.code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    rmSync(files, { recursive: true, force: true });
    await cluster.destroy();
    const left = await cluster.leftovers();
    expect(left).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('renders a ConfigMap into nginx through a volume and through env, and updates the mounted file in place', async () => {
    const applied = await cluster.cli(['apply', '-f', ex('configmap-nginx.yaml')]);
    expect(applied.stdout).toBe('configmap/web-config created\npod/web-configured created\n');
    const pod = await cluster.waitForPod('web-configured', isRunning);
    const ip = pod.status?.podIP ?? '';
    expect(await httpGet(`http://${ip}/`)).toBe('from-volume: v1\n');
    expect(await httpGet(`http://${ip}:8080/`)).toBe('hello-from-env\n');
    // The volume is read-only and laid out as the kubelet's AtomicWriter does it.
    const ls = await exec('web-configured', 'ls -a /etc/nginx/conf.d; readlink /etc/nginx/conf.d/default.conf; touch /etc/nginx/conf.d/x 2>&1 || true');
    expect(ls).toMatch(/^\.\.data$/m);
    expect(ls).toMatch(/^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\w+$/m);
    expect(ls).toContain('..data/default.conf');
    expect(ls).toMatch(/Read-only file system/);

    // Change the ConfigMap: the file changes in the running container, without a restart.
    const client = cluster.client();
    const cmRef = { ...CONFIGMAPS, namespace: 'default' };
    const cm = await client.get<ConfigMap>(cmRef, 'web-config');
    // A watcher inside the container notes (same kernel clock) when the new content shows up.
    await exec('web-configured', 'nohup sh -c "while ! grep -q v2 /etc/nginx/conf.d/default.conf; do sleep 0.01; done; date +%s%3N > /tmp/seen" >/dev/null 2>&1 &');
    const started = Date.now();
    await client.update<ConfigMap>(cmRef, { ...cm, data: { ...cm.data, 'default.conf': (cm.data?.['default.conf'] ?? '').replace('v1', 'v2') } });
    const seenAt = await eventually(() => exec('web-configured', 'cat /tmp/seen 2>/dev/null || true'), (v) => /^\d+$/.test(v.trim()));
    const tookMs = Number(seenAt.trim()) - started;
    expect(await exec('web-configured', 'cat /etc/nginx/conf.d/default.conf')).toContain('from-volume: v2');
    console.log(`configmap update visible in the running pod ${tookMs} ms after the API write`);
    expect(tookMs).toBeLessThan(10_000);
    // nginx picks it up on reload; the env value stays (env is read at container start, as in Kubernetes).
    await exec('web-configured', 'nginx -s reload 2>/dev/null; sleep 0.5');
    expect(await httpGet(`http://${ip}/`)).toBe('from-volume: v2\n');
    expect(await httpGet(`http://${ip}:8080/`)).toBe('hello-from-env\n');
    const after = await client.get<Pod>({ ...PODS, namespace: 'default' }, 'web-configured');
    expect(after.status?.containerStatuses?.[0].restartCount).toBe(0);
  }, 120_000);

  it('does not update a subPath mount of a ConfigMap, as Kubernetes', async () => {
    writeFileSync(join(files, 'sub.yaml'), `
apiVersion: v1
kind: ConfigMap
metadata: {name: sub-cm}
data: {value: one}
---
apiVersion: v1
kind: Pod
metadata: {name: sub-pod}
spec:
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
    volumeMounts:
    - {name: cm, mountPath: /etc/whole}
    - {name: cm, mountPath: /etc/value, subPath: value}
  volumes:
  - {name: cm, configMap: {name: sub-cm}}
`);
    await cluster.cli(['apply', '-f', join(files, 'sub.yaml')]);
    await cluster.waitForPod('sub-pod', isRunning);
    expect(await exec('sub-pod', 'cat /etc/value /etc/whole/value')).toBe('oneone');
    await cluster.cli(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: sub-cm}\ndata: {value: two}\n' });
    const whole = await eventually(() => exec('sub-pod', 'cat /etc/whole/value'), (v) => v === 'two');
    expect(whole).toBe('two');
    expect(await exec('sub-pod', 'cat /etc/value')).toBe('one');
  }, 60_000);

  it('gives a Secret as env and as a 0400 file, and describe shows only sizes', async () => {
    writeFileSync(join(files, 'secret.yaml'), `
apiVersion: v1
kind: Secret
metadata: {name: db}
stringData: {password: s3cr3t-value}
---
apiVersion: v1
kind: Pod
metadata: {name: secret-user}
spec:
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
    env:
    - name: DB_PASSWORD
      valueFrom: {secretKeyRef: {name: db, key: password}}
    volumeMounts:
    - {name: db, mountPath: /etc/db}
  volumes:
  - name: db
    secret:
      secretName: db
      defaultMode: 0400
`);
    const r = await cluster.cli(['apply', '-f', join(files, 'secret.yaml')]);
    expect(r.code).toBe(0);
    await cluster.waitForPod('secret-user', isRunning);
    expect(await exec('secret-user', 'echo "$DB_PASSWORD"; cat /etc/db/password; echo; stat -L -c %a /etc/db/password')).toBe('s3cr3t-value\ns3cr3t-value\n400\n');
    const d = await cluster.cli(['describe', 'secret', 'db']);
    expect(d.stdout).toMatch(/^Type:\s+Opaque$/m);
    expect(d.stdout).toMatch(/^password:\s+12 bytes$/m);
    expect(d.stdout).not.toContain('s3cr3t');
    const y = await cluster.cli(['get', 'secret', 'db', '-o', 'jsonpath={.data.password}']);
    expect(Buffer.from(y.stdout, 'base64').toString()).toBe('s3cr3t-value');
  }, 60_000);

  it('lets a pod read its own name, IP and memory limit through the downward API (env and volume)', async () => {
    writeFileSync(join(files, 'dapi.yaml'), `
apiVersion: v1
kind: Pod
metadata: {name: self-aware, labels: {tier: demo}}
spec:
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
    resources: {limits: {memory: 64Mi}}
    env:
    - {name: MY_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: MY_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: MY_MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
    volumeMounts:
    - {name: info, mountPath: /etc/info}
    - {name: scratch, mountPath: /scratch}
    - {name: scratch, mountPath: /mine, subPathExpr: $(MY_NAME)}
    - {name: shm, mountPath: /dev/shm}
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: shm, emptyDir: {medium: Memory, sizeLimit: 32Mi}}
  - name: info
    downwardAPI:
      items:
      - {path: name, fieldRef: {fieldPath: metadata.name}}
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: mem, resourceFieldRef: {containerName: c, resource: limits.memory, divisor: 1Mi}}
`);
    await cluster.cli(['apply', '-f', join(files, 'dapi.yaml')]);
    const pod = await cluster.waitForPod('self-aware', isRunning);
    expect(await exec('self-aware', 'echo "$MY_NAME $MY_IP $MY_MEM"')).toBe(`self-aware ${pod.status?.podIP} 64\n`);
    expect(await exec('self-aware', 'cat /etc/info/name; echo; cat /etc/info/mem; echo; cat /etc/info/labels')).toBe('self-aware\n64\ntier="demo"');
    // subPathExpr: the pod's own directory of a shared volume, named through the downward API.
    expect(await exec('self-aware', 'echo mine > /mine/f; cat /scratch/self-aware/f')).toBe('mine\n');
    // emptyDir medium Memory: a tmpfs of sizeLimit.
    expect(await exec('self-aware', "grep ' /dev/shm ' /proc/mounts")).toMatch(/^\S+ \/dev\/shm tmpfs \S*size=32768k/);
    // Labels are updated in place, as the kubelet does on a pod update.
    const l = await cluster.cli(['apply', '-f', '-'], { input: (await import('node:fs')).readFileSync(join(files, 'dapi.yaml'), 'utf8').replace('tier: demo', 'tier: live') });
    expect(l.code).toBe(0);
    const labels = await eventually(() => exec('self-aware', 'cat /etc/info/labels'), (v) => v.includes('live'));
    expect(labels).toBe('tier="live"');
  }, 60_000);

  it('keeps a pod whose Secret is missing in CreateContainerConfigError, and starts it when the Secret is created', async () => {
    writeFileSync(join(files, 'waiting.yaml'), `
apiVersion: v1
kind: Pod
metadata: {name: needs-secret}
spec:
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo token=$TOKEN; sleep 3600"]
    env:
    - name: TOKEN
      valueFrom: {secretKeyRef: {name: api-token, key: token}}
`);
    await cluster.cli(['apply', '-f', join(files, 'waiting.yaml')]);
    const waiting = await cluster.waitForPod('needs-secret', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError');
    expect(waiting.status?.containerStatuses?.[0]?.state?.waiting?.message).toBe('secret "api-token" not found');
    expect(waiting.status?.phase).toBe('Pending');
    const get = await cluster.cli(['get', 'pod', 'needs-secret']);
    expect(get.stdout).toMatch(/^needs-secret\s+0\/1\s+CreateContainerConfigError\s+0\s/m);
    const d = await cluster.cli(['describe', 'pod', 'needs-secret']);
    expect(d.stdout).toMatch(/Warning\s+Failed\s+.*Error: secret "api-token" not found/);
    const started = Date.now();
    const c = await cluster.cli(['create', 'secret', 'generic', 'api-token', '--from-literal=token=abc123']);
    expect(c.stdout).toBe('secret/api-token created\n');
    await cluster.waitForPod('needs-secret', isRunning, 30_000);
    console.log(`pod started ${Date.now() - started} ms after its Secret was created`);
    const log = await eventually(async () => (await cluster.cli(['logs', 'needs-secret'])).stdout, (v) => v.includes('token='), 50);
    expect(log).toBe('token=abc123\n');
  }, 60_000);

  it('refuses an unsupported volume type with its field path, and warns about fields it does not honour', async () => {
    const nfs = await cluster.cli(['apply', '-f', '-'], {
      input: 'apiVersion: v1\nkind: Pod\nmetadata: {name: nfs-pod}\nspec:\n  containers: [{name: c, image: busybox}]\n  volumes: [{name: data, nfs: {server: nfs.example, path: /export}}]\n',
    });
    expect(nfs.code).toBe(1);
    expect(nfs.stderr).toContain('spec.volumes[0].nfs: Forbidden: nfs volumes are not supported by minikube-lite');
    const conflict = await cluster.cli(['apply', '-f', '-'], {
      input: 'apiVersion: v1\nkind: Pod\nmetadata: {name: clash}\nspec:\n  containers: [{name: c, image: busybox}]\n  volumes:\n  - name: all\n    projected:\n      sources:\n      - configMap: {name: a, items: [{key: k, path: same}]}\n      - secret: {name: b, items: [{key: k, path: same}]}\n',
    });
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('spec.volumes[0].projected.sources[1].secret.items[0].path: Invalid value: "same": conflicting duplicate paths');
    const warned = await cluster.cli(['apply', '-f', '-'], {
      input: 'apiVersion: v1\nkind: Pod\nmetadata: {name: warned}\nspec:\n  hostNetwork: true\n  containers: [{name: c, image: busybox, command: [sleep, "3600"], securityContext: {privileged: true}}]\n',
    });
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain("Warning: spec.hostNetwork: ignored by minikube-lite: the pod gets its own address on the pod network, not the node's network\n");
    expect(warned.stderr).toContain('Warning: spec.containers[0].securityContext: ignored by minikube-lite:');
    writeFileSync(join(files, 'big.txt'), 'x'.repeat(1024 * 1024 + 1));
    const big = await cluster.cli(['create', 'configmap', 'too-big', `--from-file=${join(files, 'big.txt')}`]);
    expect(big.code).toBe(1);
    expect(big.stderr).toContain('Too long: must have at most 1048576 bytes');
  }, 60_000);

  it('runs the Kubernetes documentation\'s Secret, downward API and projected examples unchanged', async () => {
    for (const f of ['secret.yaml', 'secret-pod.yaml', 'pod-secret-envFrom.yaml', 'dapi-volume.yaml', 'dapi-envars-container.yaml', 'configmaps.yaml', 'pod-configmap-envFrom.yaml']) {
      const r = await cluster.cli(['apply', '-f', docs(f)]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    await cluster.waitForPod('secret-test-pod', isRunning);
    expect(await exec('secret-test-pod', 'cat /etc/secret-volume/username; echo; cat /etc/secret-volume/password')).toBe('my-app\n39528$vdg7Jb');
    await cluster.waitForPod('envfrom-secret', isRunning);
    expect(await exec('envfrom-secret', 'echo "$username $password"')).toBe('my-app 39528$vdg7Jb\n');
    await cluster.waitForPod('kubernetes-downwardapi-volume-example', isRunning);
    expect(await exec('kubernetes-downwardapi-volume-example', 'cat /etc/podinfo/labels')).toBe('cluster="test-cluster1"\nrack="rack-22"\nzone="us-est-coast"');
    expect(await exec('kubernetes-downwardapi-volume-example', 'cat /etc/podinfo/annotations')).toMatch(/^build="two"\nbuilder="john-doe"/);
    await cluster.waitForPod('dapi-envars-resourcefieldref', isRunning);
    const out = await eventually(async () => (await cluster.cli(['logs', 'dapi-envars-resourcefieldref'])).stdout, (v) => v.includes('67108864'), 50);
    expect(out).toContain('1\n1\n33554432\n67108864\n');
    await cluster.waitForPod('dapi-test-pod', (p) => p.status?.phase === 'Succeeded');
    const env = (await cluster.cli(['logs', 'dapi-test-pod'])).stdout;
    expect(env).toMatch(/^SPECIAL_LEVEL=very$/m);
    expect(env).toMatch(/^SPECIAL_TYPE=charm$/m);
    // projected.yaml: its two Secrets made with `create secret generic --from-file`, as the page does.
    writeFileSync(join(files, 'username.txt'), 'admin');
    writeFileSync(join(files, 'password.txt'), '1f2d1e2e67df');
    expect((await cluster.cli(['create', 'secret', 'generic', 'user', `--from-file=${join(files, 'username.txt')}`])).code).toBe(0);
    expect((await cluster.cli(['create', 'secret', 'generic', 'pass', `--from-file=${join(files, 'password.txt')}`])).code).toBe(0);
    expect((await cluster.cli(['apply', '-f', docs('projected.yaml')])).code).toBe(0);
    await cluster.waitForPod('test-projected-volume', isRunning);
    expect(await exec('test-projected-volume', 'ls /projected-volume; cat /projected-volume/username.txt')).toBe('password.txt\nusername.txt\nadmin');
  }, 120_000);

  it.skipIf(!existsSync('/usr/bin/kubectl'))('works with the real kubectl: apply, get, describe and its Warning lines (skipped without /usr/bin/kubectl)', async () => {
    const kubeconfig = join(cluster.home, 'clusters', cluster.name, 'kubeconfig');
    const k = (args: string[], input?: string) => sh('/usr/bin/kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(files, 'kcache'), ...args], { input });
    // (kubectl's own `create configmap|secret` send protobuf bodies, which this API server does not decode.)
    const applied = await k(['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kc}\ndata: {a: "1", b: "2"}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: ks}\nstringData: {password: hunter2}\n');
    expect(applied.stdout).toBe('configmap/kc created\nsecret/ks created\n');
    expect((await k(['get', 'configmap', 'kc'])).stdout).toMatch(/^NAME\s+DATA\s+AGE\nkc\s+2\s+\S+\n$/);
    expect((await k(['get', 'secret', 'ks'])).stdout).toMatch(/^NAME\s+TYPE\s+DATA\s+AGE\nks\s+Opaque\s+1\s+\S+\n$/);
    const d = (await k(['describe', 'secret', 'ks'])).stdout;
    expect(d).toMatch(/^password:\s+7 bytes$/m);
    expect(d).not.toContain('hunter2');
    const bad = await k(['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kbad}\ndata: {"..": x}\n');
    expect(bad.stderr).toContain('data[..]: Invalid value: "..": must not be \'..\'');
    const w = await k(['apply', '-f', '-'], 'apiVersion: v1\nkind: Pod\nmetadata: {name: kwarn}\nspec:\n  hostUsers: false\n  containers: [{name: c, image: busybox, command: [sleep, "3600"]}]\n');
    expect(w.stderr).toContain('Warning: spec.hostUsers: ignored by minikube-lite: user namespaces are not used');
    expect(w.stdout).toBe('pod/kwarn created\n');
  }, 60_000);

  it('removes a deleted pod\'s volume directories from the node', async () => {
    const client = cluster.client();
    const pod = await client.get<Pod>({ ...PODS, namespace: 'default' }, 'secret-user');
    const dir = join(cluster.home, 'clusters', cluster.name, 'nodes', 'node-1', 'pods', pod.metadata?.uid ?? '');
    expect(existsSync(join(dir, 'volumes', 'kubernetes.io~secret', 'db', '..data'))).toBe(true);
    const r = await cluster.cli(['delete', 'pod', 'secret-user', '--wait=true', '--grace-period=1']);
    expect(r.code).toBe(0);
    // The kubelet removes the directory before it deletes the API object (graceful termination).
    expect(existsSync(dir)).toBe(false);
  }, 60_000);
});
