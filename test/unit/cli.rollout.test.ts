/** `rollout status|history|undo|pause|resume|restart` against the in-memory cluster. */
import { describe, expect, it } from 'vitest';
import type { Deployment, KubeObject } from '../../src/api/types.js';
import { runRolloutChange, runRolloutHistory, runRolloutStatus, runRolloutUndo, type RolloutStatusFlags } from '../../src/cli/commands/rollout.js';
import { rfc3339Local } from '../../src/cli/print.js';
import { DEPLOY_REF, FakeClient, GLOBALS, NOW, RS_REF, fakeDeps } from './cli.fakes.js';
import { myappDeployment, myappReplicaSet, myappTemplate } from './cli.fixtures.js';

const oldRS = () => myappReplicaSet('5f7b8c9d6', 'nginx:latest', 1, 0, '2024-05-01T11:55:00Z');
const newRS = () => myappReplicaSet('7d9c6b5f4', 'nginx:1.22', 2, 3, '2024-05-01T11:58:00Z', 'kubectl set image deployment/myapp web=nginx:1.22');

function cluster(d: Deployment = myappDeployment()): FakeClient {
  const c = new FakeClient();
  c.seed(DEPLOY_REF, d as KubeObject);
  c.seed(RS_REF, oldRS() as KubeObject);
  c.seed(RS_REF, newRS() as KubeObject);
  return c;
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

/** Sets the Deployment's status as its controller would, telling watchers. */
function setStatus(c: FakeClient, status: NonNullable<Deployment['status']>): void {
  c.modify(DEPLOY_REF, 'myapp', (o) => { (o as Deployment).status = { observedGeneration: 3, ...status }; });
}

describe('rollout status', () => {
  const flags = (f: Partial<RolloutStatusFlags> = {}): RolloutStatusFlags => ({ watch: true, timeout: '0s', revision: 0, ...f });
  const rollingOut = (): Deployment => {
    const d = myappDeployment();
    d.metadata = { ...d.metadata, generation: 3 };
    return d;
  };

  it('prints a line per change seen on the watch until the rollout is done, then closes the watch', async () => {
    const c = cluster(rollingOut());
    const deps = fakeDeps(c);
    const run = runRolloutStatus(deps, GLOBALS, ['deployment/myapp'], flags());
    await tick();
    setStatus(c, { replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3 });
    setStatus(c, { replicas: 4, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    setStatus(c, { replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2 });
    await tick();
    expect(c.openWatches).toBe(1);
    setStatus(c, { replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    await run;
    expect(deps.io.stdout).toBe([
      'Waiting for deployment spec update to be observed...',
      'Waiting for deployment "myapp" rollout to finish: 1 out of 3 new replicas have been updated...',
      'Waiting for deployment "myapp" rollout to finish: 1 old replicas are pending termination...',
      'Waiting for deployment "myapp" rollout to finish: 2 of 3 updated replicas are available...',
      'deployment "myapp" successfully rolled out',
      '',
    ].join('\n'));
    expect(deps.io.exitCode).toBe(0);
    expect(c.openWatches).toBe(0);
    expect(c.calls).toContain('WATCH deployments f=metadata.name=myapp rv=50');
  });

  it('returns at once for a finished rollout, and after one line with --watch=false', async () => {
    const done = fakeDeps(cluster());
    await runRolloutStatus(done, GLOBALS, ['deployment', 'myapp'], flags());
    expect(done.io.stdout).toBe('deployment "myapp" successfully rolled out\n');
    const once = fakeDeps(cluster(rollingOut()));
    await runRolloutStatus(once, GLOBALS, ['deploy/myapp'], flags({ watch: false }));
    expect(once.io.stdout).toBe('Waiting for deployment spec update to be observed...\n');
  });

  it('fails when the progress deadline is exceeded', async () => {
    const c = cluster(rollingOut());
    const deps = fakeDeps(c);
    const run = runRolloutStatus(deps, GLOBALS, ['deployment/myapp'], flags());
    await tick();
    setStatus(c, { replicas: 4, updatedReplicas: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] });
    await expect(run).rejects.toThrow('deployment "myapp" exceeded its progress deadline');
    expect(c.openWatches).toBe(0);
  });

  it('times out, and notices a deleted deployment', async () => {
    const slow = cluster(rollingOut());
    await expect(runRolloutStatus(fakeDeps(slow), GLOBALS, ['deployment/myapp'], flags({ timeout: '50ms' }))).rejects.toThrow('timed out waiting for the condition');
    expect(slow.openWatches).toBe(0);
    const gone = cluster(rollingOut());
    const run = runRolloutStatus(fakeDeps(gone), GLOBALS, ['deployment/myapp'], flags());
    await tick();
    await gone.delete(DEPLOY_REF, 'myapp');
    await expect(run).rejects.toThrow('object has been deleted');
  });

  it('ends quietly with exit code 130 on Ctrl-C', async () => {
    const c = cluster(rollingOut());
    const deps = fakeDeps(c);
    const run = runRolloutStatus(deps, GLOBALS, ['deployment/myapp'], flags());
    await tick();
    deps.io.interrupt();
    await run;
    expect(deps.io.exitCode).toBe(130);
    expect(c.openWatches).toBe(0);
  });

  it('refuses what kubectl refuses', async () => {
    const deps = fakeDeps(cluster());
    await expect(runRolloutStatus(deps, GLOBALS, ['rs/myapp-5f7b8c9d6'], flags())).rejects.toThrow('no status viewer has been implemented for ReplicaSet.apps');
    await expect(runRolloutStatus(deps, GLOBALS, ['deployment/myapp'], flags({ revision: 1 }))).rejects.toThrow('desired revision (1) is different from the running revision (2)');
    await expect(runRolloutStatus(deps, GLOBALS, [], flags())).rejects.toThrow('required resource not specified');
    await expect(runRolloutStatus(deps, GLOBALS, ['deployment/nope'], flags())).rejects.toThrow('deployments "nope" not found');
    const two = cluster();
    two.seed(DEPLOY_REF, { ...myappDeployment(), metadata: { name: 'other', namespace: 'default' } } as KubeObject);
    await expect(runRolloutStatus(fakeDeps(two), GLOBALS, ['deployment'], flags()))
      .rejects.toThrow('rollout status is only supported on individual resources and resource collections - 2 resources were found');
  });
});

describe('rollout history', () => {
  it('lists revisions under the deployment\'s name, as kubectl prints them (trailing space included)', async () => {
    const deps = fakeDeps(cluster());
    await runRolloutHistory(deps, GLOBALS, ['deployment/myapp'], { revision: 0 });
    expect(deps.io.stdout).toBe([
      'deployment.apps/myapp ',
      'REVISION  CHANGE-CAUSE',
      '1         <none>',
      '2         kubectl set image deployment/myapp web=nginx:1.22',
      '',
      '',
    ].join('\n'));
  });

  it('shows one revision\'s pod template with --revision', async () => {
    const deps = fakeDeps(cluster());
    await runRolloutHistory(deps, GLOBALS, ['deployment', 'myapp'], { revision: 1 });
    expect(deps.io.stdout).toBe([
      'deployment.apps/myapp with revision #1',
      'Pod Template:',
      '  Labels:\tapp=myapp',
      '\tpod-template-hash=5f7b8c9d6',
      '  Containers:',
      '   web:',
      '    Image:\tnginx:latest',
      '    Port:\t80/TCP',
      '    Host Port:\t0/TCP',
      '    Environment:\t<none>',
      '    Mounts:\t<none>',
      '  Volumes:\t<none>',
      '  Node-Selectors:\t<none>',
      '  Tolerations:\t<none>',
      '',
      '',
    ].join('\n'));
  });

  it('says when there is no history, and refuses an unknown revision or kind', async () => {
    const c = new FakeClient();
    c.seed(DEPLOY_REF, myappDeployment() as KubeObject);
    const deps = fakeDeps(c);
    await runRolloutHistory(deps, GLOBALS, ['deployment/myapp'], { revision: 0 });
    expect(deps.io.stdout).toBe('deployment.apps/myapp \nNo rollout history found.\n');
    await expect(runRolloutHistory(fakeDeps(cluster()), GLOBALS, ['deployment/myapp'], { revision: 9 })).rejects.toThrow('unable to find the specified revision');
    await expect(runRolloutHistory(fakeDeps(cluster()), GLOBALS, ['rs/x'], { revision: 0 })).rejects.toThrow('no history viewer has been implemented for "ReplicaSet.apps"');
  });
});

describe('rollout undo', () => {
  it('copies the previous revision\'s template (without its hash label) into the deployment', async () => {
    const c = cluster();
    const deps = fakeDeps(c);
    await runRolloutUndo(deps, GLOBALS, ['deployment/myapp'], { toRevision: 0 });
    expect(deps.io.stdout).toBe('deployment.apps/myapp rolled back\n');
    const d = await c.get<Deployment & KubeObject>(DEPLOY_REF, 'myapp');
    expect(d.spec?.template).toEqual(myappTemplate('nginx:latest'));
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
  });

  it('goes to --to-revision, skips when the template already matches, and retries a lost race', async () => {
    const c = cluster();
    const update = c.update.bind(c);
    let raced = false;
    c.update = (async (ref, obj) => {
      if (!raced) {
        raced = true;
        c.modify(DEPLOY_REF, 'myapp', () => undefined); // someone else wrote first: 409
      }
      return update(ref, obj);
    }) as FakeClient['update'];
    const deps = fakeDeps(c);
    await runRolloutUndo(deps, GLOBALS, ['deployment/myapp'], { toRevision: 1 });
    await runRolloutUndo(deps, GLOBALS, ['deployment/myapp'], { toRevision: 1 });
    expect(deps.io.stdout).toBe('deployment.apps/myapp rolled back\ndeployment.apps/myapp skipped rollback (current template already matches revision 1)\n');
    expect(c.calls.filter((x) => x === 'UPDATE deployments myapp')).toHaveLength(2);
  });

  it('refuses a paused deployment and one without history, like kubectl', async () => {
    const paused = myappDeployment();
    paused.spec!.paused = true;
    await expect(runRolloutUndo(fakeDeps(cluster(paused)), GLOBALS, ['deployment/myapp'], { toRevision: 0 }))
      .rejects.toThrow("you cannot rollback a paused deployment; resume it first with 'minikube-lite rollout resume' and try again");
    const c = new FakeClient();
    c.seed(DEPLOY_REF, myappDeployment() as KubeObject);
    c.seed(RS_REF, newRS() as KubeObject);
    await expect(runRolloutUndo(fakeDeps(c), GLOBALS, ['deployment/myapp'], { toRevision: 0 })).rejects.toThrow('no rollout history found for deployment "myapp"');
    await expect(runRolloutUndo(fakeDeps(cluster()), GLOBALS, ['deployment/myapp'], { toRevision: 5 })).rejects.toThrow('unable to find specified revision 5 in history');
  });
});

describe('rollout pause, resume, restart', () => {
  it('pauses and resumes through spec.paused, refusing to do either twice', async () => {
    const c = cluster();
    const deps = fakeDeps(c);
    await runRolloutChange(deps, GLOBALS, 'pause', ['deployment/myapp']);
    expect((await c.get<Deployment & KubeObject>(DEPLOY_REF, 'myapp')).spec?.paused).toBe(true);
    await expect(runRolloutChange(deps, GLOBALS, 'pause', ['deployment/myapp'])).rejects.toThrow('deployments.apps "myapp" is already paused');
    await expect(runRolloutChange(deps, GLOBALS, 'restart', ['deployment/myapp'])).rejects.toThrow('deployments.apps "myapp" can\'t restart paused deployment (run rollout resume first)');
    await runRolloutChange(deps, GLOBALS, 'resume', ['deployment/myapp']);
    expect((await c.get<Deployment & KubeObject>(DEPLOY_REF, 'myapp')).spec?.paused).toBeUndefined();
    await expect(runRolloutChange(deps, GLOBALS, 'resume', ['deployment/myapp'])).rejects.toThrow('deployments.apps "myapp" is not paused');
    expect(deps.io.stdout).toBe('deployment.apps/myapp paused\ndeployment.apps/myapp resumed\n');
  });

  it('restarts by stamping the template with kubectl.kubernetes.io/restartedAt', async () => {
    const c = cluster();
    const deps = fakeDeps(c);
    await runRolloutChange(deps, GLOBALS, 'restart', ['deploy', 'myapp']);
    expect(deps.io.stdout).toBe('deployment.apps/myapp restarted\n');
    const d = await c.get<Deployment & KubeObject>(DEPLOY_REF, 'myapp');
    expect(d.spec?.template?.metadata?.annotations).toEqual({ 'kubectl.kubernetes.io/restartedAt': rfc3339Local(NOW) });
  });

  it.each([['daemonsets', 'daemonset.apps/ds'], ['statefulsets', 'statefulset.apps/ds']])('restarts %s too (kubectl does), and refuses to pause them', async (resource, ref) => {
    const c = cluster();
    const setRef = { group: 'apps', version: 'v1', resource, namespace: 'default' };
    c.seed(setRef, { apiVersion: 'apps/v1', kind: resource === 'daemonsets' ? 'DaemonSet' : 'StatefulSet', metadata: { name: 'ds', namespace: 'default' }, spec: { template: myappTemplate('nginx') } } as KubeObject);
    const deps = fakeDeps(c);
    await runRolloutChange(deps, GLOBALS, 'restart', [ref]);
    expect(deps.io.stdout).toBe(`${ref} restarted\n`);
    const set = await c.get<Deployment & KubeObject>(setRef, 'ds');
    expect(set.spec?.template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toBe(rfc3339Local(NOW));
    await expect(runRolloutChange(deps, GLOBALS, 'pause', [ref])).rejects.toThrow(`${resource}.apps "ds" pausing is not supported`);
  });

  it('writes RFC 3339 in local time as Go does', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'UTC';
    expect(rfc3339Local(NOW)).toBe('2024-05-01T12:00:00Z');
    process.env.TZ = 'Asia/Kolkata';
    expect(rfc3339Local(NOW)).toBe('2024-05-01T17:30:00+05:30');
    process.env.TZ = tz;
  });

  it('reports kinds that cannot be paused after the others, one error line each', async () => {
    const deps = fakeDeps(cluster());
    await expect(runRolloutChange(deps, GLOBALS, 'pause', ['rs/myapp-5f7b8c9d6', 'rs/myapp-7d9c6b5f4']))
      .rejects.toThrow('replicasets.apps "myapp-5f7b8c9d6" pausing is not supported\nerror: replicasets.apps "myapp-7d9c6b5f4" pausing is not supported');
  });
});
