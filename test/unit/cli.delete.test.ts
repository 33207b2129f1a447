import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/api/types.js';
import { FORCE_WARNING, cascadingStrategy, effectiveGracePeriod, runDelete, type DeleteFlags } from '../../src/cli/commands/delete.js';
import { DEPLOY_REF, FakeClient, GLOBALS, NODE_REF, POD_REF, fakeDeps } from './cli.fakes.js';
import { myappDeployment, nginxPod, readyNode } from './cli.fixtures.js';

const flags = (f: Partial<DeleteFlags> = {}): DeleteFlags => ({ filename: [], gracePeriod: -1, wait: true, timeout: '0s', ...f });

function cluster(): FakeClient {
  const c = new FakeClient();
  for (const name of ['web-1', 'web-2', 'db']) {
    c.seed(POD_REF, { ...nginxPod(), metadata: { name, namespace: 'default', labels: { app: name.startsWith('web') ? 'web' : 'db' } } } as KubeObject);
  }
  c.seed(NODE_REF, readyNode('node-1', '172.18.0.2') as KubeObject);
  return c;
}

describe('effectiveGracePeriod', () => {
  it('follows kubectl: default unset, --now is 1, 0 without --force is 1, --force alone is 0', () => {
    expect(effectiveGracePeriod({ gracePeriod: -1 })).toBeUndefined();
    expect(effectiveGracePeriod({ gracePeriod: -1, now: true })).toBe(1);
    expect(effectiveGracePeriod({ gracePeriod: 0 })).toBe(1);
    expect(effectiveGracePeriod({ gracePeriod: 0, force: true })).toBe(0);
    expect(effectiveGracePeriod({ gracePeriod: -1, force: true })).toBe(0);
    expect(effectiveGracePeriod({ gracePeriod: 10 })).toBe(10);
  });

  it('refuses --force with a positive grace period and --now with --grace-period', () => {
    expect(() => effectiveGracePeriod({ gracePeriod: 5, force: true })).toThrow('--force and --grace-period greater than 0 cannot be specified together');
    expect(() => effectiveGracePeriod({ gracePeriod: 5, now: true })).toThrow('--now and --grace-period cannot be specified together');
  });
});

describe('runDelete', () => {
  it('prints kubectl\'s line per object and waits until each is gone', async () => {
    const c = cluster();
    c.graceful = true;
    const deps = fakeDeps(c);
    const run = runDelete(deps, GLOBALS, ['pod', 'web-1', 'web-2'], flags());
    let settled = false;
    void run.then(() => { settled = true; });
    await new Promise((r) => setTimeout(r, 20));
    expect(deps.io.stdout).toBe('pod "web-1" deleted\npod "web-2" deleted\n');
    expect(settled).toBe(false);
    c.finishDeletion(POD_REF, 'web-1');
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(false);
    c.finishDeletion(POD_REF, 'web-2');
    await run;
    expect(c.openWatches).toBe(0);
    expect(deps.io.exitCode).toBe(0);
  });

  it('returns at once with --wait=false', async () => {
    const c = cluster();
    c.graceful = true;
    const deps = fakeDeps(c);
    await runDelete(deps, GLOBALS, ['pods/web-1'], flags({ wait: false }));
    expect(deps.io.stdout).toBe('pod "web-1" deleted\n');
    expect(c.calls.some((x) => x.startsWith('WATCH'))).toBe(false);
  });

  it('gives up after --timeout with kubectl\'s message', async () => {
    const c = cluster();
    c.graceful = true;
    const deps = fakeDeps(c);
    await expect(runDelete(deps, GLOBALS, ['pod', 'web-1'], flags({ timeout: '50ms' }))).rejects.toThrow('timed out waiting for the condition on pods/web-1');
    expect(c.openWatches).toBe(0);
  });

  it('force deletes with grace 0, warning on stderr', async () => {
    const c = cluster();
    const deps = fakeDeps(c);
    await runDelete(deps, GLOBALS, ['pod', 'db'], flags({ force: true, gracePeriod: 0 }));
    expect(deps.io.stderr).toBe(FORCE_WARNING);
    expect(FORCE_WARNING).toBe('Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n');
    expect(deps.io.stdout).toBe('pod "db" force deleted\n');
    expect(c.calls).toContain('DELETE pods db grace=0');
  });

  it('reports a missing object as NotFound and exits 1, still deleting the others', async () => {
    const deps = fakeDeps(cluster());
    await runDelete(deps, GLOBALS, ['pod', 'ghost', 'db'], flags());
    expect(deps.io.stdout).toBe('pod "db" deleted\n');
    expect(deps.io.stderr).toBe('Error from server (NotFound): pods "ghost" not found\n');
    expect(deps.io.exitCode).toBe(1);
  });

  it('is quiet about missing objects with --ignore-not-found', async () => {
    const deps = fakeDeps(cluster());
    await runDelete(deps, GLOBALS, ['pod', 'ghost'], flags({ ignoreNotFound: true }));
    expect(deps.io.stdout).toBe('No resources found\n');
    expect(deps.io.exitCode).toBe(0);
  });

  it('deletes by label selector', async () => {
    const deps = fakeDeps(cluster());
    await runDelete(deps, GLOBALS, ['pods'], flags({ selector: 'app=web' }));
    expect(deps.io.stdout).toBe('pod "web-1" deleted\npod "web-2" deleted\n');
  });

  it('says "No resources found" when a selector matches nothing', async () => {
    const deps = fakeDeps(cluster());
    await runDelete(deps, GLOBALS, ['pods'], flags({ selector: 'app=none' }));
    expect(deps.io.stdout).toBe('No resources found\n');
  });

  it('deletes what a manifest names, with -o name', async () => {
    const c = cluster();
    const deps = fakeDeps(c);
    deps.io.stdin = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\n---\napiVersion: v1\nkind: Node\nmetadata:\n  name: node-1\n';
    await runDelete(deps, GLOBALS, [], flags({ filename: ['-'], output: 'name' }));
    expect(deps.io.stdout).toBe('pod/web-1\nnode/node-1\n');
  });

  it('asks for names, a selector or --all', async () => {
    await expect(runDelete(fakeDeps(cluster()), GLOBALS, ['pods'], flags())).rejects.toThrow('resource(s) were provided, but no name was specified');
    await expect(runDelete(fakeDeps(cluster()), GLOBALS, [], flags())).rejects.toThrow('You must provide one or more resources by argument or filename.');
  });

  it('deletes a deployment in the background by default and waits until it is gone', async () => {
    const c = cluster();
    c.seed(DEPLOY_REF, myappDeployment() as KubeObject);
    const deps = fakeDeps(c);
    await runDelete(deps, GLOBALS, ['deployment', 'myapp'], flags());
    expect(deps.io.stdout).toBe('deployment.apps "myapp" deleted\n');
    expect(c.deleteOptions).toEqual([{ gracePeriodSeconds: undefined, propagationPolicy: 'Background' }]);
    expect(c.openWatches).toBe(0);
  });

  it('passes --cascade on as the propagation policy, and waits for a foreground deletion to finish', async () => {
    const c = cluster();
    c.graceful = true;
    c.seed(DEPLOY_REF, myappDeployment() as KubeObject);
    const deps = fakeDeps(c);
    const run = runDelete(deps, GLOBALS, ['deploy/myapp'], flags({ cascade: 'foreground' }));
    await new Promise((r) => setTimeout(r, 10));
    expect(deps.io.stdout).toBe('deployment.apps "myapp" deleted\n');
    expect(c.openWatches).toBe(1);
    c.finishDeletion(DEPLOY_REF, 'myapp');
    await run;
    expect(c.deleteOptions[0].propagationPolicy).toBe('Foreground');
    await runDelete(fakeDeps(c), GLOBALS, ['pod', 'db'], flags({ cascade: 'orphan', wait: false }));
    expect(c.deleteOptions[1].propagationPolicy).toBe('Orphan');
  });
});

describe('cascadingStrategy', () => {
  it('maps kubectl\'s --cascade values, the deprecated booleans with a warning', () => {
    const warnings: string[] = [];
    const warn = (s: string) => { warnings.push(s); };
    expect(cascadingStrategy(undefined, warn)).toBe('Background');
    expect(cascadingStrategy(true, warn)).toBe('Background');
    expect(cascadingStrategy('background', warn)).toBe('Background');
    expect(cascadingStrategy('foreground', warn)).toBe('Foreground');
    expect(cascadingStrategy('orphan', warn)).toBe('Orphan');
    expect(warnings).toEqual([]);
    expect(cascadingStrategy('true', warn)).toBe('Background');
    expect(cascadingStrategy('false', warn)).toBe('Orphan');
    expect(warnings).toEqual([
      'warning: --cascade=true is deprecated (boolean value) and can be replaced with --cascade=background.\n',
      'warning: --cascade=false is deprecated (boolean value) and can be replaced with --cascade=orphan.\n',
    ]);
    expect(() => cascadingStrategy('sideways', warn)).toThrow('invalid cascade value (sideways). Must be "background", "foreground", or "orphan"');
  });
});
