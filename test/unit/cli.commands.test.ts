/** The commands as wired into a program like main.ts's: argument and option parsing. */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/api/types.js';
import { registerResourceCommands } from '../../src/cli/commands/index.js';
import type { GlobalOptions } from '../../src/cli/context.js';
import { FakeClient, NODE_REF, POD_REF, fakeDeps } from './cli.fakes.js';
import { nginxPod, readyNode } from './cli.fixtures.js';

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
  return c;
}

describe('resource commands in the program', () => {
  it('registers apply, get, describe, delete, logs, exec and debug with descriptions', () => {
    const program = new Command();
    registerResourceCommands(program, () => ({ name: 'x', home: '/x', namespace: 'default' }), fakeDeps(new FakeClient()));
    expect(program.commands.map((c) => c.name())).toEqual(['apply', 'get', 'describe', 'delete', 'logs', 'exec', 'debug']);
    for (const c of program.commands) {
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
});
