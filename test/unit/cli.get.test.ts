import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/api/types.js';
import { parseGetArgs, runGet } from '../../src/cli/commands/get.js';
import { EVENT_REF, FakeClient, GLOBALS, NODE_REF, NOW, POD_REF, fakeDeps } from './cli.fakes.js';
import { nginxPod, pendingPod, podEvent, readyNode } from './cli.fixtures.js';

function cluster(): FakeClient {
  const c = new FakeClient();
  c.seed(POD_REF, nginxPod() as KubeObject);
  c.seed(POD_REF, pendingPod() as KubeObject);
  c.seed({ ...POD_REF, namespace: 'kube-system' }, { ...nginxPod(), metadata: { ...nginxPod().metadata, name: 'dns', namespace: 'kube-system' } } as KubeObject);
  c.seed(NODE_REF, readyNode('node-1', '172.18.0.2') as KubeObject);
  c.seed(NODE_REF, readyNode('node-2', '172.18.0.3', { gpu: 'true' }) as KubeObject);
  return c;
}

async function get(args: string[], flags: Parameters<typeof runGet>[3] = {}, client = cluster(), namespace = 'default') {
  const deps = fakeDeps(client);
  await runGet(deps, { ...GLOBALS, namespace }, args, flags);
  return deps.io;
}

describe('get tables', () => {
  it('prints pods with kubectl\'s columns and alignment', async () => {
    const io = await get(['pods']);
    expect(io.stdout).toBe([
      'NAME      READY   STATUS    RESTARTS   AGE',
      'nginx     1/1     Running   0          5m',
      'nowhere   0/1     Pending   0          30s',
      '',
    ].join('\n'));
    expect(io.stderr).toBe('');
  });

  it('adds IP, NODE, NOMINATED NODE and READINESS GATES with -o wide, <none> when empty', async () => {
    const io = await get(['po'], { output: 'wide' });
    expect(io.stdout).toBe([
      'NAME      READY   STATUS    RESTARTS   AGE   IP           NODE     NOMINATED NODE   READINESS GATES',
      'nginx     1/1     Running   0          5m    10.244.1.5   node-1   <none>           <none>',
      'nowhere   0/1     Pending   0          30s   <none>       <none>   <none>           <none>',
      '',
    ].join('\n'));
  });

  it('leads with NAMESPACE across namespaces (-A)', async () => {
    const io = await get(['pods'], { allNamespaces: true });
    expect(io.stdout.split('\n')[0]).toBe('NAMESPACE     NAME      READY   STATUS    RESTARTS   AGE');
    expect(io.stdout).toContain('kube-system   dns       1/1     Running   0          5m');
  });

  it('prints nodes, with labels last under --show-labels', async () => {
    const io = await get(['nodes'], { showLabels: true });
    expect(io.stdout).toBe([
      'NAME     STATUS   ROLES    AGE    VERSION                 LABELS',
      'node-1   Ready    <none>   120m   v1.32.0-minikube-lite   kubernetes.io/hostname=node-1,kubernetes.io/os=linux',
      'node-2   Ready    <none>   120m   v1.32.0-minikube-lite   gpu=true,kubernetes.io/hostname=node-2,kubernetes.io/os=linux',
      '',
    ].join('\n'));
  });

  it('prints node wide columns', async () => {
    const io = await get(['no', 'node-1'], { output: 'wide' });
    expect(io.stdout).toBe([
      'NAME     STATUS   ROLES    AGE    VERSION                 INTERNAL-IP   EXTERNAL-IP   OS-IMAGE                         KERNEL-VERSION   CONTAINER-RUNTIME',
      'node-1   Ready    <none>   120m   v1.32.0-minikube-lite   172.18.0.2    <none>        Debian GNU/Linux 12 (bookworm)   6.1.0            docker://20.10.24',
      '',
    ].join('\n'));
  });

  it('prints events oldest first by last timestamp', async () => {
    const c = cluster();
    c.seed(EVENT_REF, podEvent('e2', 'Started', 'Started container nginx', { first: '2024-05-01T11:58:00Z' }) as KubeObject);
    c.seed(EVENT_REF, podEvent('e1', 'Scheduled', 'Successfully assigned default/nginx to node-1', { first: '2024-05-01T11:55:00Z', component: 'default-scheduler' }) as KubeObject);
    c.seed(EVENT_REF, podEvent('e3', 'BackOff', 'Back-off pulling image', { type: 'Warning', first: '2024-05-01T11:50:00Z', last: '2024-05-01T11:59:00Z', count: 4 }) as KubeObject);
    const io = await get(['events'], {}, c);
    expect(io.stdout).toBe([
      'LAST SEEN   TYPE      REASON      OBJECT      MESSAGE',
      '5m          Normal    Scheduled   pod/nginx   Successfully assigned default/nginx to node-1',
      '2m          Normal    Started     pod/nginx   Started container nginx',
      '60s         Warning   BackOff     pod/nginx   Back-off pulling image',
      '',
    ].join('\n'));
  });

  it('prints each kind in its own section with kind/name when several kinds are found', async () => {
    const io = await get(['pods,nodes']);
    expect(io.stdout).toBe([
      'NAME          READY   STATUS    RESTARTS   AGE',
      'pod/nginx     1/1     Running   0          5m',
      'pod/nowhere   0/1     Pending   0          30s',
      '',
      'NAME          STATUS   ROLES    AGE    VERSION',
      'node/node-1   Ready    <none>   120m   v1.32.0-minikube-lite',
      'node/node-2   Ready    <none>   120m   v1.32.0-minikube-lite',
      '',
    ].join('\n'));
  });

  it('omits headers with --no-headers', async () => {
    const io = await get(['pods', 'nginx'], { noHeaders: true });
    expect(io.stdout).toBe('nginx   1/1   Running   0     5m\n');
  });

  it('prints namespaces and, for other kinds, NAME and AGE', async () => {
    const c = cluster();
    c.seed({ group: '', version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', creationTimestamp: '2024-05-01T10:00:00Z' }, status: { phase: 'Active' } } as KubeObject);
    expect((await get(['ns'], {}, c)).stdout).toBe('NAME      STATUS   AGE\ndefault   Active   120m\n');
  });
});

describe('get messages and errors', () => {
  it('says "No resources found in NS namespace." on stderr when the list is empty', async () => {
    const io = await get(['pods'], {}, cluster(), 'empty');
    expect(io.stdout).toBe('');
    expect(io.stderr).toBe('No resources found in empty namespace.\n');
    expect(io.exitCode).toBe(0);
  });

  it('says "No resources found" for cluster-scoped kinds and -A', async () => {
    expect((await get(['nodes'], {}, new FakeClient())).stderr).toBe('No resources found\n');
    expect((await get(['pods'], { allNamespaces: true }, new FakeClient())).stderr).toBe('No resources found\n');
  });

  it('reports a missing named object as the server does and exits 1, after printing the found ones', async () => {
    const io = await get(['pods', 'nginx', 'ghost']);
    expect(io.stdout).toContain('nginx ');
    expect(io.stderr).toBe('Error from server (NotFound): pods "ghost" not found\n');
    expect(io.exitCode).toBe(1);
  });

  it('ignores a missing named object with --ignore-not-found', async () => {
    const io = await get(['pods', 'ghost'], { ignoreNotFound: true });
    expect(io.stdout + io.stderr).toBe('');
    expect(io.exitCode).toBe(0);
  });

  it('refuses an unknown type with kubectl\'s words', async () => {
    await expect(get(['foo'])).rejects.toThrow('the server doesn\'t have a resource type "foo"');
  });

  it('refuses an unknown output format', async () => {
    await expect(get(['pods'], { output: 'xml' })).rejects.toThrow('unable to match a printer suitable for the output format "xml"');
  });

  it('passes label and field selectors to the server', async () => {
    const c = cluster();
    await get(['pods'], { selector: 'app=nginx', fieldSelector: 'status.phase=Running' }, c);
    expect(c.calls).toContain('LIST pods l=app=nginx f=status.phase=Running');
  });
});

describe('get -o yaml|json|name', () => {
  it('prints a single named object as itself', async () => {
    const io = await get(['pod', 'nginx'], { output: 'yaml' });
    expect(io.stdout).toMatch(/^apiVersion: v1\nkind: Pod\nmetadata:\n/);
    expect(io.stdout).not.toContain('kind: List');
  });

  it('prints a listing as a v1 List, even of one item', async () => {
    const io = await get(['pods'], { output: 'json', selector: 'app=nginx' });
    const list = JSON.parse(io.stdout) as { kind: string; apiVersion: string; items: KubeObject[]; metadata: unknown };
    expect(list.kind).toBe('List');
    expect(list.apiVersion).toBe('v1');
    expect(list.metadata).toEqual({ resourceVersion: '' });
    expect(list.items.map((i) => `${i.kind}/${i.metadata?.name}`)).toEqual(['Pod/nginx']);
    expect(io.stdout.startsWith('{\n    "apiVersion": "v1",\n    "items": [')).toBe(true);
  });

  it('hides managedFields in yaml and json as kubectl does, and shows them with --show-managed-fields', async () => {
    const c = new FakeClient();
    const managedFields = [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }];
    c.seed(POD_REF, { ...nginxPod(), metadata: { ...nginxPod().metadata, managedFields } } as KubeObject);
    expect((await get(['pod', 'nginx'], { output: 'yaml' }, c)).stdout).not.toContain('managedFields');
    expect((await get(['pods'], { output: 'json' }, c)).stdout).not.toContain('managedFields');
    expect((await get(['pod', 'nginx'], { output: 'yaml', showManagedFields: true }, c)).stdout).toContain('  managedFields:\n  - apiVersion: v1\n');
    expect(JSON.parse((await get(['pods'], { output: 'json', showManagedFields: true }, c)).stdout).items[0].metadata.managedFields).toEqual(managedFields);
  });

  it('prints kind/name with -o name', async () => {
    expect((await get(['pods,nodes'], { output: 'name' })).stdout).toBe('pod/nginx\npod/nowhere\nnode/node-1\nnode/node-2\n');
  });

  it('prints only the error for a missing single object', async () => {
    const io = await get(['pod', 'ghost'], { output: 'yaml' });
    expect(io.stdout).toBe('');
    expect(io.stderr).toBe('Error from server (NotFound): pods "ghost" not found\n');
  });
});

describe('get -w', () => {
  it('prints the table, then one aligned row per change, until interrupted', async () => {
    const c = cluster();
    const deps = fakeDeps(c);
    const run = runGet(deps, GLOBALS, ['pods'], { watch: true });
    await new Promise((r) => setTimeout(r, 10));
    c.modify(POD_REF, 'nowhere', (o) => { (o as { status: { phase: string } }).status.phase = 'Running'; });
    await c.delete(POD_REF, 'nginx');
    deps.io.interrupt();
    await run;
    expect(deps.io.stdout).toBe([
      'NAME      READY   STATUS    RESTARTS   AGE',
      'nginx     1/1     Running   0          5m',
      'nowhere   0/1     Pending   0          30s',
      'nowhere   0/1     Running   0          30s',
      'nginx     1/1     Running   0          5m',
      '',
    ].join('\n'));
    expect(c.openWatches).toBe(0);
    expect(c.calls.some((x) => x.startsWith('WATCH pods rv='))).toBe(true);
  });

  it('refuses to watch several kinds', async () => {
    await expect(get(['pods,nodes'], { watch: true })).rejects.toThrow('you may only specify a single resource type');
  });
});

describe('parseGetArgs', () => {
  it('reads TYPE/NAME arguments', () => {
    const { requests, single } = parseGetArgs(['pod/nginx', 'node/node-1']);
    expect(requests.map((r) => `${r.def.resource}:${r.names.join(',')}`)).toEqual(['pods:nginx', 'nodes:node-1']);
    expect(single).toBe(false);
  });

  it('refuses TYPE followed by TYPE/NAME', () => {
    expect(() => parseGetArgs(['pods', 'pod/nginx'])).toThrow('there is no need to specify a resource type as a separate argument');
  });

  it('asks for a type when none is given', async () => {
    expect(() => parseGetArgs([])).toThrow('Required resource not specified.');
    const deps = fakeDeps(cluster());
    await expect(runGet(deps, GLOBALS, [], {})).rejects.toThrow("Required resource not specified.\nSee 'minikube-lite get -h' for help and examples");
    expect(deps.io.stderr).toMatch(/^You must specify the type of resource to get\./);
  });

  it('expands "all" to the workload kinds the server serves', () => {
    expect(parseGetArgs(['all']).requests.map((r) => r.def.resource)[0]).toBe('pods');
  });
});

void NOW;
