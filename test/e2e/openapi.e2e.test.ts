/**
 * OpenAPI with stock kubectl 1.32 against a real cluster: `kubectl explain` prints Kubernetes'
 * descriptions from the v3 documents; `kubectl apply` with its default validation reads the v3
 * PATCH operations (server-side field validation, and the schemas' patch merge keys for its
 * three-way patch); `explain --output=plaintext-openapiv2` reads the protobuf v2 document;
 * `--validate=strict` names an unknown field with Kubernetes' message; and the
 * Python client and @kubernetes/client-node still read the cluster. Skipped with a printed reason
 * without Docker or kubectl.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestCluster, dockerAvailable, sh, useCluster } from './helpers.js';

const hasDocker = await dockerAvailable();
const hasKubectl = (await sh('kubectl', ['version', '--client']).catch(() => ({ code: 1 }))).code === 0;
const PYTHON = '/usr/bin/python3';
const hasPython = (await sh(PYTHON, ['-c', 'import kubernetes']).catch(() => ({ code: 1 }))).code === 0;
if (!hasDocker || !hasKubectl) console.log(`openapi e2e skipped: ${!hasDocker ? 'no Docker engine' : 'no kubectl'}`);
if (!hasPython) console.log('openapi e2e: python3-kubernetes is absent (scripts/setup.sh installs it), the Python check is skipped');

/** kubectl's output with its line wrapping and indentation undone. */
const flat = (s: string): string => s.replace(/\s+/g, ' ');

const deployment = (port: number, extra = ''): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1${extra}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        env: [{name: PORT, value: "${port}"}]
        ports: [{containerPort: ${port}}]
`;

describe.skipIf(!hasDocker || !hasKubectl)('OpenAPI with stock kubectl', () => {
  const cluster = new TestCluster(`e2e-oapi-${process.pid}`, '10.200.0.0/16');
  const work = mkdtempSync(join(tmpdir(), 'mkl-oapi-'));
  const kubeconfig = () => join(cluster.home, 'clusters', cluster.name, 'kubeconfig');
  // A cache of the test's own, so that no earlier run's documents are used.
  const kubectl = (args: string[]) => sh('kubectl', ['--kubeconfig', kubeconfig(), '--cache-dir', join(work, 'cache'), ...args]);
  const manifest = (name: string, text: string): string => {
    const f = join(work, name);
    writeFileSync(f, text);
    return f;
  };

  useCluster(cluster);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('serves the documents on first use, quickly', async () => {
    const cfg = JSON.parse(readFileSync(join(cluster.home, 'clusters', cluster.name, 'config.json'), 'utf8')) as { server: string; token: string };
    const t = performance.now();
    const r = await sh('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Authorization: Bearer ${cfg.token}`, `${cfg.server}/openapi/v3`]);
    const ms = performance.now() - t;
    console.log(`openapi e2e: first /openapi/v3 (builds every document) answered in ${ms.toFixed(0)} ms`);
    expect(r.stdout).toBe('200');
    expect(ms).toBeLessThan(5000);
  });

  it('kubectl explain pod prints Kubernetes\' description of the kind and its fields', async () => {
    const r = await kubectl(['explain', 'pod']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^KIND:\s+Pod\nVERSION:\s+v1\n/);
    expect(flat(r.stdout)).toContain('Pod is a collection of containers that can run on a host. This resource is created by clients and scheduled onto hosts.');
    expect(flat(r.stdout)).toContain('spec <PodSpec> Specification of the desired behavior of the pod.');
  });

  it('kubectl explain deployment.spec.strategy follows references into the field\'s type', async () => {
    const r = await kubectl(['explain', 'deployment.spec.strategy']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^GROUP:\s+apps\nKIND:\s+Deployment\nVERSION:\s+v1\n\nFIELD: strategy <DeploymentStrategy>/);
    expect(flat(r.stdout)).toContain('The deployment strategy to use to replace existing pods with new ones.');
    expect(flat(r.stdout)).toContain('rollingUpdate <RollingUpdateDeployment> Rolling update config params. Present only if DeploymentStrategyType = RollingUpdate.');
    expect(flat(r.stdout)).toContain('type <string> Type of deployment. Can be "Recreate" or "RollingUpdate". Default is RollingUpdate.');
  });

  it('kubectl explain pods.spec.containers --recursive lists the nested fields with types and required marks', async () => {
    const r = await kubectl(['explain', 'pods.spec.containers', '--recursive']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('FIELD: containers <[]Container>');
    for (const line of ['name\t<string> -required-', 'containerPort\t<integer> -required-', 'resources\t<ResourceRequirements>', 'limits\t<map[string]Quantity>', 'httpGet\t<HTTPGetAction>', 'port\t<IntOrString> -required-']) {
      expect(r.stdout).toContain(line);
    }
  });

  it('kubectl explain --output=plaintext-openapiv2 reads the protobuf v2 document', async () => {
    const r = await kubectl(['explain', 'deployment.spec.strategy', '--output=plaintext-openapiv2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^KIND:\s+Deployment\nVERSION:\s+apps\/v1\n\nRESOURCE: strategy <Object>/);
    expect(flat(r.stdout)).toContain('rollingUpdate <Object> Rolling update config params. Present only if DeploymentStrategyType = RollingUpdate.');
  });

  it.each([
    ['cronjob.spec.jobTemplate', 'Specifies the job that will be created when executing a CronJob.'],
    ['ingress.spec.rules', 'rules is a list of host rules used to configure the Ingress.'],
    ['clusterrole.rules', 'Rules holds all the PolicyRules for this ClusterRole'],
    ['service.spec.type', 'type determines how the Service is exposed.'],
    ['pdb.spec.minAvailable', 'An eviction is allowed if at least "minAvailable" pods selected by "selector" will still be available after the eviction'],
  ])('kubectl explain %s', async (path, text) => {
    const r = await kubectl(['explain', path]);
    expect(r.code, r.stderr).toBe(0);
    expect(flat(r.stdout)).toContain(text);
  });

  it('kubectl explain works for every resource kubectl api-resources lists', async () => {
    const names = (await kubectl(['api-resources', '-o', 'name'])).stdout.trim().split('\n');
    expect(names.length).toBeGreaterThan(30);
    const failed: string[] = [];
    for (const name of names) {
      const r = await kubectl(['explain', name]);
      if (r.code !== 0 || !/^(GROUP:\s+\S+\n)?KIND:/.test(r.stdout)) failed.push(`${name}: ${r.stderr.trim()}`);
    }
    expect(failed).toEqual([]);
  }, 120_000);

  it('kubectl apply with its default validation creates, then patches lists by their merge keys', async () => {
    const first = await kubectl(['apply', '-f', manifest('web.yaml', deployment(80)), '-v=6']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe('deployment.apps/web created');
    // kubectl read the group's document at its hash, and left validation to the server.
    expect(first.stderr).toMatch(/GET https:\/\/\S+\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}\S* 200 OK/);
    expect(first.stderr).toMatch(/POST https:\/\/\S+\/deployments\?fieldManager=kubectl-client-side-apply&fieldValidation=Strict 201 Created/);

    const second = await kubectl(['apply', '-f', manifest('web.yaml', deployment(8080)), '-v=8']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout.trim()).toBe('deployment.apps/web configured');
    expect(second.stderr).not.toContain('error calculating patch from openapi v3 spec');
    // The three-way patch names list items by key (from the schema's x-kubernetes-patch-merge-key).
    expect(second.stderr).toContain('$setElementOrder/ports');
    expect(second.stderr).toMatch(/\\"\$patch\\":\\"delete\\",\\"containerPort\\":80\b/);
    const got = await kubectl(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].ports[*].containerPort} {.spec.template.spec.containers[0].env[0].value}']);
    expect(got.stdout).toBe('8080 8080');
  }, 60_000);

  it('kubectl apply --validate=strict names an unknown field as Kubernetes does', async () => {
    const f = manifest('bad.yaml', deployment(80, '\n  foo: 1').replace('name: web', 'name: bad'));
    const r = await kubectl(['apply', '--validate=strict', '-f', f]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`Error from server (BadRequest): error when creating "${f}": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo"`);
    const warn = await kubectl(['apply', '--validate=warn', '-f', f]);
    expect(warn.code, warn.stderr).toBe(0);
    expect(warn.stderr).toContain('Warning: unknown field "spec.foo"');
    // An update is a patch: Kubernetes' patch handler words it without the "cannot be handled" part.
    const upd = await kubectl(['apply', '--validate=strict', '-f', manifest('web2.yaml', deployment(8080, '\n  bar: 1'))]);
    expect(upd.code).toBe(1);
    expect(upd.stderr.trim()).toMatch(/^Error from server \(BadRequest\): error when applying patch:\n[^]*\nfor: "\S+web2.yaml": error when patching "\S+web2.yaml": strict decoding error: unknown field "spec.bar"$/);
  });

  it('kubectl create deployment --dry-run=server', async () => {
    const r = await kubectl(['create', 'deployment', 'dry', '--image=nginx', '--dry-run=server']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('deployment.apps/dry created (server dry run)');
  });

  it('@kubernetes/client-node still lists and reads through discovery', async () => {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig());
    const list = await kc.makeApiClient(k8s.AppsV1Api).listNamespacedDeployment({ namespace: 'default' });
    expect(list.items.map((d) => d.metadata?.name).sort()).toEqual(['bad', 'web']);
    const got = await k8s.KubernetesObjectApi.makeApiClient(kc).read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' } });
    expect(got.kind).toBe('Deployment');
  });

  it.skipIf(!hasPython)('the Python client reads the cluster and the v2 document', async () => {
    const script = [
      'from kubernetes import client, config',
      `config.load_kube_config(config_file=${JSON.stringify(kubeconfig())})`,
      "names = [d.metadata.name for d in client.AppsV1Api().list_namespaced_deployment('default').items]",
      "doc = client.ApiClient().call_api('/openapi/v2', 'GET', response_type='object', _return_http_data_only=True, auth_settings=['BearerToken'])",
      "print(sorted(names), doc['swagger'], doc['definitions']['io.k8s.api.core.v1.Pod']['description'][:24])",
    ].join('\n');
    const r = await sh(PYTHON, ['-c', script]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("['bad', 'web'] 2.0 Pod is a collection of c");
  });
});
