/** The commands as wired into a program like main.ts's: argument and option parsing. */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/api/types.js';
import { registerResourceCommands } from '../../src/cli/commands/index.js';
import { tokenRequestFor } from '../../src/cli/commands/token.js';
import type { GlobalOptions } from '../../src/cli/context.js';
import { DEPLOY_REF, FakeClient, NODE_REF, POD_REF, RS_REF, fakeDeps } from './cli.fakes.js';
import { myappDeployment, myappReplicaSet, nginxPod, readyNode } from './cli.fixtures.js';

async function run(args: string[], client = cluster()) {
  const program = new Command().name('minikube-lite').exitOverride()
    .option('--name <cluster>', 'cluster', 'minikube-lite')
    .option('--home <dir>', 'home', '/nonexistent')
    .option('-n, --namespace <ns>', 'namespace', 'default');
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const deps = fakeDeps(client);
  registerResourceCommands(program, globals, deps);
  await program.parseAsync(['node', 'minikube-lite', ...args]);
  return { io: deps.io, client };
}

function cluster(): FakeClient {
  const c = new FakeClient();
  c.seed(POD_REF, nginxPod() as KubeObject);
  c.seed({ ...POD_REF, namespace: 'kube-system' }, { ...nginxPod(), metadata: { name: 'dns', namespace: 'kube-system' } } as KubeObject);
  c.seed(NODE_REF, readyNode('node-1', '172.18.0.2') as KubeObject);
  c.seed(DEPLOY_REF, myappDeployment() as KubeObject);
  c.seed(RS_REF, myappReplicaSet('5f7b8c9d6', 'nginx:latest', 1, 0, '2024-05-01T11:55:00Z') as KubeObject);
  c.seed(RS_REF, myappReplicaSet('7d9c6b5f4', 'nginx:1.22', 2, 3, '2024-05-01T11:58:00Z') as KubeObject);
  return c;
}

describe('resource commands in the program', () => {
  it('registers apply, get, describe, delete, logs, exec, debug, scale, set, rollout, wait, expose and create with descriptions and examples', () => {
    const program = new Command();
    registerResourceCommands(program, () => ({ name: 'x', home: '/x', namespace: 'default' }), fakeDeps(new FakeClient()));
    // Order-free: each area appends its commands to the one list in src/cli/commands/index.ts.
    expect(program.commands.map((c) => c.name()).sort()).toEqual(['apply', 'get', 'describe', 'delete', 'logs', 'exec', 'debug', 'scale', 'set', 'rollout', 'wait', 'expose', 'service', 'create', 'ingress', 'trace', 'dashboard', 'drain', 'cordon', 'uncordon', 'autoscale', 'top'].sort());
    const all = program.commands.flatMap((c) => [c, ...c.commands]);
    expect(all.map((c) => c.name())).toEqual(expect.arrayContaining(['image', 'status', 'history', 'undo', 'pause', 'resume', 'restart', 'token']));
    for (const c of all) {
      expect(c.description()).not.toBe('');
      let help = '';
      c.configureOutput({ writeOut: (s) => { help += s; } });
      c.outputHelp();
      expect(help).toContain('Examples:');
    }
  });

  it('takes -n after the subcommand, and -o', async () => {
    const { io } = await run(['get', 'pods', '-n', 'kube-system', '-o', 'name']);
    expect(io.stdout).toBe('pod/dns\n');
  });

  it('understands --no-headers', async () => {
    const { io } = await run(['get', 'pods', '--no-headers']);
    expect(io.stdout).toMatch(/^nginx\s+1\/1\s+Running/);
  });

  it('passes everything after -- to exec, with -c', async () => {
    const { client } = await run(['exec', 'nginx', '-c', 'nginx', '--', 'sh', '-c', 'echo -n hi']);
    expect(client.lastExec).toMatchObject({ container: 'nginx', command: ['sh', '-c', 'echo -n hi'] });
  });

  it('reads --wait=false, --grace-period=0 and --force on delete', async () => {
    const { io, client } = await run(['delete', 'pod', 'nginx', '--grace-period=0', '--force', '--wait=false']);
    expect(io.stdout).toBe('pod "nginx" force deleted\n');
    expect(client.calls).toContain('DELETE pods nginx grace=0');
    expect(client.calls.some((c) => c.startsWith('WATCH'))).toBe(false);
  });

  it('collects repeated -f on apply', async () => {
    const c = cluster();
    const program = run(['apply', '-f', '/nonexistent/a.yaml', '-f', '/nonexistent/b.yaml'], c);
    await expect(program).rejects.toThrow('the path "/nonexistent/a.yaml" does not exist');
  });

  it('reads --show-events=false on describe', async () => {
    const { io, client } = await run(['describe', 'pod', 'nginx', '--show-events=false']);
    expect(io.stdout).not.toContain('Events:');
    expect(client.calls.some((c) => c.startsWith('LIST events'))).toBe(false);
  });

  it('passes --tail to logs', async () => {
    const c = cluster();
    c.logs_.set('nginx', 'x\n');
    const { io } = await run(['logs', 'nginx', '--tail', '5'], c);
    expect(io.stdout).toBe('x\n');
  });

  it('scales with the seed\'s command line, and with TYPE/NAME', async () => {
    const { io, client } = await run(['scale', 'deployment', 'myapp', '--replicas=3']);
    expect(io.stdout).toBe('deployment.apps/myapp scaled\n');
    expect(client.calls).toContain('UPDATE deployments/scale myapp replicas=3');
    const again = await run(['scale', 'deployment/myapp', '--replicas', '5', '--current-replicas=3'], client);
    expect(again.io.stdout).toBe('deployment.apps/myapp scaled\n');
  });

  it('sets an image, reads rollout history --revision and undoes', async () => {
    const { client } = await run(['set', 'image', 'deployment/myapp', 'web=nginx:1.23']);
    const hist = await run(['rollout', 'history', 'deployment/myapp', '--revision=1'], client);
    expect(hist.io.stdout.split('\n')[0]).toBe('deployment.apps/myapp with revision #1');
    const undo = await run(['rollout', 'undo', 'deployment/myapp', '--to-revision=1'], client);
    expect(undo.io.stdout).toBe('deployment.apps/myapp rolled back\n');
  });

  it('reads -w=false and --watch=false on rollout status', async () => {
    for (const flags of [['-w=false'], ['--watch=false'], ['--watch', 'false']]) {
      const c = cluster();
      c.modify(DEPLOY_REF, 'myapp', (o) => { o.metadata = { ...o.metadata, generation: 9 }; });
      const { io } = await run(['rollout', 'status', 'deploy/myapp', ...flags], c);
      expect(io.stdout).toBe('Waiting for deployment spec update to be observed...\n');
    }
  });

  it('reads --cascade with a value, bare, and the legacy booleans on delete', async () => {
    const orphan = await run(['delete', 'deployment', 'myapp', '--cascade=orphan']);
    expect(orphan.client.deleteOptions[0].propagationPolicy).toBe('Orphan');
    const bare = await run(['delete', 'pod', 'nginx', '--cascade', '--wait=false']);
    expect(bare.client.deleteOptions[0].propagationPolicy).toBe('Background');
    const legacy = await run(['delete', 'pod', 'nginx', '--cascade=false', '--wait=false']);
    expect(legacy.client.deleteOptions[0].propagationPolicy).toBe('Orphan');
    expect(legacy.io.stderr).toContain('--cascade=false is deprecated');
  });

  it('waits with --for and --timeout', async () => {
    const { io } = await run(['wait', '--for=condition=Ready', 'pod/nginx', '--timeout=5s']);
    expect(io.stdout).toBe('pod/nginx condition met\n');
  });

  it('passes -o jsonpath=... and -o custom-columns=... through to get', async () => {
    const jp = await run(['get', 'pods', '-o', 'jsonpath={.items[*].metadata.name}']);
    expect(jp.io.stdout).toBe('nginx');
    const cc = await run(['get', 'pod', 'nginx', '-o=custom-columns=NAME:.metadata.name,IP:.status.podIP']);
    expect(cc.io.stdout).toBe('NAME    IP\nnginx   10.244.1.5\n');
  });
});

describe('create token', () => {
  it('prints the token the server issues for the account', async () => {
    const client = cluster();
    client.seed({ group: '', version: 'v1', resource: 'serviceaccounts', namespace: 'default' }, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'default' } });
    const { io } = await run(['create', 'token', 'robot', '--duration', '10m'], client);
    expect(io.stdout).toBe('token-for-robot\n');
    expect(client.calls).toContain('POST serviceaccounts/token robot');
  });
  it('refuses a bound object name without a kind, as kubectl does', () => {
    expect(() => tokenRequestFor({ duration: '', audience: [], boundObjectKind: '', boundObjectName: 'web', boundObjectUid: '' }))
      .toThrow('--bound-object-name can only be set if --bound-object-kind is provided');
  });
  it('asks for the duration in seconds', () => {
    expect(tokenRequestFor({ duration: '1h', audience: ['vault'], boundObjectKind: '', boundObjectName: '', boundObjectUid: '' }).spec)
      .toEqual({ audiences: ['vault'], expirationSeconds: 3600 });
  });
});
