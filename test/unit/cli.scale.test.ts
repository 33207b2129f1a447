/** `scale` (through the scale subresource) and `set image`. */
import { describe, expect, it } from 'vitest';
import type { Deployment, KubeObject, Pod, PodSpec } from '../../src/api/types.js';
import { checkPrecondition, runScale, type ScaleFlags } from '../../src/cli/commands/scale.js';
import { runSetImage, setImages, splitImageArgs } from '../../src/cli/commands/set.js';
import { DEPLOY_REF, FakeClient, GLOBALS, NODE_REF, POD_REF, RS_REF, fakeDeps } from './cli.fakes.js';
import { myappDeployment, myappReplicaSet, nginxPod, readyNode } from './cli.fixtures.js';

function cluster(): FakeClient {
  const c = new FakeClient();
  c.seed(DEPLOY_REF, myappDeployment() as KubeObject);
  c.seed(RS_REF, myappReplicaSet('5f7b8c9d6', 'nginx:latest', 1, 0, '2024-05-01T11:55:00Z') as KubeObject);
  c.seed(RS_REF, myappReplicaSet('7d9c6b5f4', 'nginx:1.22', 2, 3, '2024-05-01T11:58:00Z') as KubeObject);
  c.seed(POD_REF, nginxPod() as KubeObject);
  c.seed(NODE_REF, readyNode('node-1', '172.18.0.2') as KubeObject);
  return c;
}

const flags = (f: Partial<ScaleFlags> = {}): ScaleFlags => ({ currentReplicas: -1, timeout: '0s', ...f });
const replicasOf = async (c: FakeClient, name = 'myapp'): Promise<number | undefined> =>
  (await c.get<Deployment & KubeObject>(DEPLOY_REF, name)).spec?.replicas;

describe('scale', () => {
  it('GETs the Scale and PUTs it back with the new replicas, for TYPE NAME and TYPE/NAME', async () => {
    const c = cluster();
    const deps = fakeDeps(c);
    await runScale(deps, GLOBALS, ['deployment', 'myapp'], flags({ replicas: 5 }));
    await runScale(deps, GLOBALS, ['deploy/myapp'], flags({ replicas: 1 }));
    expect(deps.io.stdout).toBe('deployment.apps/myapp scaled\ndeployment.apps/myapp scaled\n');
    expect(c.calls).toEqual(['GET deployments/scale myapp', 'UPDATE deployments/scale myapp replicas=5', 'GET deployments/scale myapp', 'UPDATE deployments/scale myapp replicas=1']);
    expect(await replicasOf(c)).toBe(1);
  });

  it('scales replica sets, several at once or by selector', async () => {
    const c = cluster();
    const deps = fakeDeps(c);
    await runScale(deps, GLOBALS, ['rs', 'myapp-5f7b8c9d6', 'myapp-7d9c6b5f4'], flags({ replicas: 2 }));
    await runScale(deps, GLOBALS, ['rs'], flags({ replicas: 0, selector: 'app=myapp' }));
    expect(deps.io.stdout).toBe([
      'replicaset.apps/myapp-5f7b8c9d6 scaled', 'replicaset.apps/myapp-7d9c6b5f4 scaled',
      'replicaset.apps/myapp-5f7b8c9d6 scaled', 'replicaset.apps/myapp-7d9c6b5f4 scaled', '',
    ].join('\n'));
  });

  it('checks --current-replicas and --resource-version before writing, in kubectl\'s words', async () => {
    const c = cluster();
    await expect(runScale(fakeDeps(c), GLOBALS, ['deployment/myapp'], flags({ replicas: 5, currentReplicas: 2 }))).rejects.toThrow('Expected replicas to be 2, was 3');
    await expect(runScale(fakeDeps(c), GLOBALS, ['deployment/myapp'], flags({ replicas: 5, resourceVersion: '7' }))).rejects.toThrow('Expected resource version to be 7, was 50');
    expect(await replicasOf(c)).toBe(3);
    await runScale(fakeDeps(c), GLOBALS, ['deployment/myapp'], flags({ replicas: 5, currentReplicas: 3, resourceVersion: '50' }));
    expect(await replicasOf(c)).toBe(5);
    expect(() => checkPrecondition({ spec: {}, metadata: { resourceVersion: '1' } }, { size: 0 })).not.toThrow();
  });

  it('retries when another writer wins the race, re-reading the Scale', async () => {
    const c = cluster();
    c.scaleConflicts = 2;
    await runScale(fakeDeps(c), GLOBALS, ['deployment/myapp'], flags({ replicas: 4 }));
    expect(await replicasOf(c)).toBe(4);
    expect(c.calls.filter((x) => x.startsWith('GET deployments/scale'))).toHaveLength(3);
  });

  it('waits with --timeout until the status has the replicas', async () => {
    const c = cluster();
    const run = runScale(fakeDeps(c), GLOBALS, ['deployment/myapp'], flags({ replicas: 4, timeout: '5s' }));
    await new Promise((r) => setTimeout(r, 10));
    expect(c.openWatches).toBe(1);
    c.modify(DEPLOY_REF, 'myapp', (o) => { (o as Deployment).status = { ...(o as Deployment).status, replicas: 4 }; });
    await run;
    expect(c.openWatches).toBe(0);
    await expect(runScale(fakeDeps(c), GLOBALS, ['deployment/myapp'], flags({ replicas: 6, timeout: '30ms' }))).rejects.toThrow('timed out waiting for "myapp" to be synced');
  });

  it('refuses what kubectl refuses', async () => {
    const deps = fakeDeps(cluster());
    await expect(runScale(deps, GLOBALS, ['deployment/myapp'], flags())).rejects.toThrow('required flag(s) "replicas" not set');
    await expect(runScale(deps, GLOBALS, ['deployment/myapp'], flags({ replicas: -1 }))).rejects.toThrow('COUNT must be greater than or equal to 0');
    await expect(runScale(deps, GLOBALS, ['deployment/myapp'], flags({ replicas: 1, currentReplicas: -2 }))).rejects.toThrow('The --current-replicas must specify an integer of -1 or greater');
    await expect(runScale(deps, GLOBALS, [], flags({ replicas: 1 }))).rejects.toThrow('You must provide one or more resources');
    await expect(runScale(deps, GLOBALS, ['deployment'], flags({ replicas: 1 }))).rejects.toThrow('resource(s) were provided, but no name was specified');
    await expect(runScale(deps, GLOBALS, ['deployment/nope'], flags({ replicas: 1 }))).rejects.toThrow('no objects passed to scale deployments.apps "nope" not found');
    await expect(runScale(deps, GLOBALS, ['rs'], flags({ replicas: 1, all: true, resourceVersion: '1' }))).rejects.toThrow('cannot use --resource-version with multiple resources');
    await expect(runScale(deps, GLOBALS, ['rs'], flags({ replicas: 1, selector: 'app=none' }))).rejects.toThrow('no objects passed to scale');
    await expect(runScale(deps, GLOBALS, ['pod/nginx'], flags({ replicas: 1 }))).rejects.toThrow('the server could not find the requested resource');
  });
});

describe('set image', () => {
  it('splits resources from NAME=IMAGE pairs as kubectl does', () => {
    expect(splitImageArgs(['deployment/myapp', 'web=nginx:1.22', 'side=busybox'])).toEqual({
      resources: ['deployment/myapp'], images: new Map([['web', 'nginx:1.22'], ['side', 'busybox']]),
    });
    expect(() => splitImageArgs(['web=x', 'deployment/myapp'])).toThrow('all resources must be specified before image changes: deployment/myapp');
    expect(() => splitImageArgs(['deploy/x', 'web-'])).toThrow('invalid image format: web-');
  });

  it('sets images of containers and init containers by name, or all with *', () => {
    const spec = (): PodSpec => ({ initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'web', image: 'nginx' }, { name: 'side', image: 'busybox' }] });
    const s = spec();
    expect(setImages(s, new Map([['init', 'busybox:2'], ['web', 'nginx:1.22'], ['nope', 'x']]))).toEqual({ changed: true, missing: ['nope'] });
    expect(s.initContainers?.[0].image).toBe('busybox:2');
    expect(s.containers.map((c) => c.image)).toEqual(['nginx:1.22', 'busybox']);
    const all = spec();
    setImages(all, new Map([['*', 'x:1']]));
    expect([...all.initContainers!, ...all.containers].map((c) => c.image)).toEqual(['x:1', 'x:1', 'x:1']);
    expect(setImages(spec(), new Map([['web', 'nginx']]))).toEqual({ changed: false, missing: [] });
  });

  it('updates the template and prints `image updated`', async () => {
    const c = cluster();
    const deps = fakeDeps(c);
    await runSetImage(deps, GLOBALS, ['deployment/myapp', 'web=nginx:1.23'], {});
    expect(deps.io.stdout).toBe('deployment.apps/myapp image updated\n');
    expect(c.calls).toEqual(['GET deployments myapp', 'UPDATE deployments myapp']);
    const d = await c.get<Deployment & KubeObject>(DEPLOY_REF, 'myapp');
    expect(d.spec?.template?.spec?.containers.map((x) => x.image)).toEqual(['nginx:1.23']);
  });

  it('prints nothing and writes nothing when the image is already set', async () => {
    const c = cluster();
    const deps = fakeDeps(c);
    await runSetImage(deps, GLOBALS, ['deployment', 'myapp', 'web=nginx:1.22'], {});
    expect(deps.io.stdout).toBe('');
    expect(c.calls).toEqual(['GET deployments myapp']);
  });

  it('writes what it can, then reports each unknown container on its own line', async () => {
    const c = cluster();
    const deps = fakeDeps(c);
    await expect(runSetImage(deps, GLOBALS, ['deployment/myapp', 'web=nginx:2', 'nope=x', 'other=y'], {}))
      .rejects.toThrow('unable to find container named "nope"\nerror: unable to find container named "other"');
    expect(deps.io.stdout).toBe('deployment.apps/myapp image updated\n');
    await expect(runSetImage(fakeDeps(c), GLOBALS, ['deployment/myapp', 'x=nginx:2'], {})).rejects.toThrow(/^unable to find container named "x"$/);
  });

  it('changes pods and replica sets by selector, and refuses kinds without pod templates', async () => {
    const c = cluster();
    const deps = fakeDeps(c);
    await runSetImage(deps, GLOBALS, ['rs', 'web=nginx:9'], { selector: 'app=myapp' });
    await runSetImage(deps, GLOBALS, ['pod/nginx', 'nginx=nginx:9'], {});
    expect(deps.io.stdout).toBe('replicaset.apps/myapp-5f7b8c9d6 image updated\nreplicaset.apps/myapp-7d9c6b5f4 image updated\npod/nginx image updated\n');
    expect((await c.get<Pod & KubeObject>(POD_REF, 'nginx')).spec?.containers[0].image).toBe('nginx:9');
    await expect(runSetImage(deps, GLOBALS, ['node/node-1', 'a=b'], {})).rejects.toThrow('nodes/node-1 the object is not a pod or does not have a pod template');
  });

  it('needs resources and images', async () => {
    const deps = fakeDeps(cluster());
    await expect(runSetImage(deps, GLOBALS, ['web=x'], {})).rejects.toThrow('You must provide one or more resources by argument or filename.');
    await expect(runSetImage(deps, GLOBALS, ['deployment/myapp'], {})).rejects.toThrow('at least one image update is required');
    await expect(runSetImage(deps, GLOBALS, ['deployment/myapp', '*=x', 'web=y'], {})).rejects.toThrow('all containers are already specified by *');
    await expect(runSetImage(deps, GLOBALS, ['deployment/nope', 'web=y'], {})).rejects.toThrow('deployments "nope" not found');
  });
});
