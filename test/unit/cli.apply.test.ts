import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { invalid, required } from '../../src/api/errors.js';
import type { KubeObject, Pod } from '../../src/api/types.js';
import { CONFLICT_ADVICE, LAST_APPLIED, lastAppliedValue, looseEqual, merge3, planApply, runApply } from '../../src/cli/commands/apply.js';
import { FakeClient, GLOBALS, POD_REF, fakeDeps } from './cli.fakes.js';

const manifest = (): Pod & KubeObject => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
  spec: { containers: [{ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }] },
});

/** What the server stores for a created manifest: defaults, status and server-set metadata added. */
function stored(m: KubeObject): Pod & KubeObject {
  const o = structuredClone(m) as Pod & KubeObject;
  o.metadata = { ...o.metadata, uid: 'u1', resourceVersion: '7', creationTimestamp: '2024-05-01T11:00:00Z' };
  o.spec!.restartPolicy = 'Always';
  o.spec!.nodeName = 'node-1';
  o.spec!.containers[0].imagePullPolicy = 'IfNotPresent';
  o.spec!.containers[0].ports![0].protocol = 'TCP';
  o.status = { phase: 'Running', podIP: '10.244.1.2' };
  return o;
}

describe('planApply', () => {
  it('creates a missing object with the last-applied annotation', () => {
    const plan = planApply(manifest(), undefined);
    expect(plan.action).toBe('create');
    if (plan.action !== 'create') return;
    expect(plan.object.metadata?.annotations?.[LAST_APPLIED]).toBe(lastAppliedValue(manifest()));
    expect(plan.object.metadata?.labels).toEqual({ app: 'web' });
  });

  it('stores the last-applied manifest as kubectl does: sorted JSON, empty annotations map, trailing newline', () => {
    expect(lastAppliedValue(manifest())).toBe(
      '{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{},"labels":{"app":"web"},"name":"web","namespace":"default"},' +
      '"spec":{"containers":[{"image":"nginx:1.25","name":"nginx","ports":[{"containerPort":80}]}]}}\n');
  });

  it('leaves an object unchanged when the manifest matches it after server defaults', () => {
    const live = stored((planApply(manifest(), undefined) as { object: KubeObject }).object);
    expect(planApply(manifest(), live)).toEqual({ action: 'unchanged' });
  });

  it('configures when the spec changes, keeping server-set fields and the live resourceVersion', () => {
    const live = stored((planApply(manifest(), undefined) as { object: KubeObject }).object);
    const m = manifest();
    m.spec!.containers[0].image = 'nginx:1.26';
    const plan = planApply(m, live);
    expect(plan.action).toBe('configure');
    if (plan.action !== 'configure') return;
    const pod = plan.object as Pod;
    expect(pod.spec?.containers[0].image).toBe('nginx:1.26');
    expect(pod.spec?.containers[0].imagePullPolicy).toBe('IfNotPresent');
    expect(pod.spec?.containers[0].ports).toEqual([{ containerPort: 80, protocol: 'TCP' }]);
    expect(pod.spec?.nodeName).toBe('node-1');
    expect(pod.status?.podIP).toBe('10.244.1.2');
    expect(pod.metadata?.resourceVersion).toBe('7');
    expect(pod.metadata?.annotations?.[LAST_APPLIED]).toBe(lastAppliedValue(m));
  });

  it('removes labels the previous manifest had and this one dropped, but keeps labels others added', () => {
    const first = manifest();
    first.metadata!.labels = { app: 'web', tier: 'front' };
    const live = stored((planApply(first, undefined) as { object: KubeObject }).object);
    live.metadata!.labels = { ...live.metadata!.labels, 'added-by': 'someone-else' };
    const plan = planApply(manifest(), live);
    expect(plan.action).toBe('configure');
    if (plan.action !== 'configure') return;
    expect(plan.object.metadata?.labels).toEqual({ app: 'web', 'added-by': 'someone-else' });
  });

  it('configures an object created without apply, adding the annotation', () => {
    const live = stored(manifest());
    const plan = planApply(manifest(), live);
    expect(plan.action).toBe('configure');
    if (plan.action !== 'configure') return;
    expect(plan.object.metadata?.annotations?.[LAST_APPLIED]).toBeDefined();
  });
});

describe('merge3', () => {
  it('merges containers by name and replaces plain lists', () => {
    const live = { containers: [{ name: 'a', image: 'x', imagePullPolicy: 'Always', command: ['sh', '-c', 'old'] }, { name: 'b', image: 'y' }] };
    const desired = { containers: [{ name: 'a', image: 'x2', command: ['run'] }] };
    const last = { containers: [{ name: 'a', image: 'x', command: ['sh', '-c', 'old'] }, { name: 'b', image: 'y' }] };
    expect(merge3(live, desired, last)).toEqual({ containers: [{ name: 'a', image: 'x2', imagePullPolicy: 'Always', command: ['run'] }] });
  });

  it('keeps list items others added (not in the last-applied manifest)', () => {
    const live = { volumes: [{ name: 'mine', emptyDir: {} }, { name: 'injected', emptyDir: {} }] };
    expect(merge3(live, { volumes: [{ name: 'mine', emptyDir: {} }] }, { volumes: [{ name: 'mine', emptyDir: {} }] }))
      .toEqual({ volumes: [{ name: 'mine', emptyDir: {} }, { name: 'injected', emptyDir: {} }] });
  });

  it('deletes a field set to null in the manifest', () => {
    expect(merge3({ a: 1, b: 2 }, { b: null }, undefined)).toEqual({ a: 1 });
  });

  it('does not modify its inputs', () => {
    const live = { spec: { x: 1 } };
    merge3(live, { spec: { x: 2 } }, undefined);
    expect(live).toEqual({ spec: { x: 1 } });
  });
});

describe('looseEqual', () => {
  it('treats a number and its string form as equal', () => {
    expect(looseEqual({ cpu: 1, port: '80' }, { cpu: '1', port: 80 })).toBe(true);
  });

  it('ignores undefined fields but not missing values', () => {
    expect(looseEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(looseEqual({ a: 1, b: 2 }, { a: 1 })).toBe(false);
  });
});

describe('runApply', () => {
  function files(entries: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'mkl-apply-'));
    for (const [n, t] of Object.entries(entries)) writeFileSync(join(dir, n), t);
    return dir;
  }
  const POD = (name: string, image = 'nginx') => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n  - name: c\n    image: ${image}\n`;

  it('prints created, then unchanged, then configured', async () => {
    const client = new FakeClient();
    const deps = fakeDeps(client);
    const dir = files({ 'p.yaml': POD('web') });
    await runApply(deps, GLOBALS, [join(dir, 'p.yaml')]);
    await runApply(deps, GLOBALS, [join(dir, 'p.yaml')]);
    writeFileSync(join(dir, 'p.yaml'), POD('web', 'nginx:2'));
    await runApply(deps, GLOBALS, [join(dir, 'p.yaml')]);
    expect(deps.io.stdout).toBe('pod/web created\npod/web unchanged\npod/web configured\n');
    expect(deps.io.stderr).toBe('');
    expect(deps.io.exitCode).toBe(0);
    const live = await client.get<Pod>(POD_REF, 'web');
    expect(live.metadata?.namespace).toBe('default');
    expect(live.spec?.containers[0].image).toBe('nginx:2');
  });

  it('applies on the server with --server-side: serverside-applied, a conflict in kubectl\'s words, then --force-conflicts', async () => {
    const client = new FakeClient();
    const deps = fakeDeps(client);
    const dir = files({ 'p.yaml': POD('web') });
    await runApply(deps, GLOBALS, [join(dir, 'p.yaml')], 'strict', { fieldManager: 'alice' });
    expect(deps.io.stdout).toBe('pod/web serverside-applied\n');
    writeFileSync(join(dir, 'p.yaml'), POD('web', 'nginx:2'));
    await runApply(deps, GLOBALS, [join(dir, 'p.yaml')], 'strict', { fieldManager: 'bob' });
    expect(deps.io.stderr).toBe(`error: Apply failed with 1 conflict: conflict with "alice": .spec.containers[name="c"].image\n${CONFLICT_ADVICE}\n`);
    expect(deps.io.exitCode).toBe(1);
    await runApply(deps, GLOBALS, [join(dir, 'p.yaml')], 'strict', { fieldManager: 'bob', forceConflicts: true });
    expect(client.calls.filter((c) => c.startsWith('APPLY'))).toEqual(['APPLY pods web alice', 'APPLY pods web bob', 'APPLY pods web bob force']);
    expect((await client.get<Pod>(POD_REF, 'web')).spec?.containers[0].image).toBe('nginx:2');
  });

  it('applies nothing when one document has an unknown kind', async () => {
    const client = new FakeClient();
    const deps = fakeDeps(client);
    const dir = files({ 'all.yaml': `${POD('a')}---\napiVersion: v1\nkind: Foo\nmetadata:\n  name: x\n` });
    await expect(runApply(deps, GLOBALS, [dir])).rejects.toThrow('resource mapping not found for name: "x"');
    expect(client.calls).toEqual([]);
  });

  it('applies nothing when a file is malformed', async () => {
    const client = new FakeClient();
    const deps = fakeDeps(client);
    const dir = files({ 'a.yaml': POD('a'), 'b.yaml': 'kind: [\n' });
    await expect(runApply(deps, GLOBALS, [dir])).rejects.toThrow(`error parsing ${join(dir, 'b.yaml')}: yaml: line 2:`);
    expect(client.calls).toEqual([]);
  });

  it('continues past a server error, prints it kubectl-style at the end and exits 1', async () => {
    const client = new FakeClient();
    const create = client.create.bind(client);
    client.create = async (ref, obj) => {
      if (obj.metadata?.name === 'bad') throw invalid('Pod', 'bad', [required('spec.containers[0].image')]);
      return create(ref, obj);
    };
    const deps = fakeDeps(client);
    deps.io.stdin = `${POD('bad')}---\n${POD('good')}`;
    await runApply(deps, GLOBALS, ['-']);
    expect(deps.io.stdout).toBe('pod/good created\n');
    expect(deps.io.stderr).toBe('The Pod "bad" is invalid: spec.containers[0].image: Required value\n');
    expect(deps.io.exitCode).toBe(1);
  });

  it('prints several server errors each as "Error from server (...)" with the file', async () => {
    const client = new FakeClient();
    client.create = async (_ref, obj) => { throw invalid('Pod', obj.metadata?.name ?? '', [required('spec')]); };
    const deps = fakeDeps(client);
    deps.io.stdin = `${POD('a')}---\n${POD('b')}`;
    await runApply(deps, GLOBALS, ['-']);
    expect(deps.io.stderr).toBe(
      'Error from server (Invalid): error when creating "STDIN": Pod "a" is invalid: spec: Required value\n' +
      'Error from server (Invalid): error when creating "STDIN": Pod "b" is invalid: spec: Required value\n');
  });

  it('uses the manifest namespace, else -n', async () => {
    const client = new FakeClient();
    const deps = fakeDeps(client);
    deps.io.stdin = `${POD('a')}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n  namespace: other\nspec:\n  containers: [{name: c, image: x}]\n`;
    await runApply(deps, { ...GLOBALS, namespace: 'dev' }, ['-']);
    expect((await client.get({ ...POD_REF, namespace: 'dev' }, 'a')).metadata?.namespace).toBe('dev');
    expect((await client.get({ ...POD_REF, namespace: 'other' }, 'b')).metadata?.namespace).toBe('other');
  });

  it('warns when the live object lacks the last-applied annotation', async () => {
    const client = new FakeClient();
    client.seed(POD_REF, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } as KubeObject);
    const deps = fakeDeps(client);
    deps.io.stdin = POD('web');
    await runApply(deps, GLOBALS, ['-']);
    expect(deps.io.stdout).toBe('pod/web configured\n');
    expect(deps.io.stderr).toMatch(/^Warning: resource pods\/web is missing the kubectl\.kubernetes\.io\/last-applied-configuration annotation/);
  });

  it('refuses generateName', async () => {
    const deps = fakeDeps(new FakeClient());
    deps.io.stdin = 'apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: x-\n';
    await expect(runApply(deps, GLOBALS, ['-'])).rejects.toThrow('from STDIN: cannot use generate name with apply');
  });
});
