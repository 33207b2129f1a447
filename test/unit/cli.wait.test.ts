/** `wait --for=condition=...|delete|jsonpath=...`: watch-based, kubectl's output and errors. */
import { describe, expect, it } from 'vitest';
import type { Deployment, KubeObject, Pod } from '../../src/api/types.js';
import { conditionMet, parseWaitFor, runWait, type WaitFlags } from '../../src/cli/commands/waitfor.js';
import { DEPLOY_REF, FakeClient, GLOBALS, POD_REF, fakeDeps } from './cli.fakes.js';
import { myappDeployment, nginxPod, pendingPod } from './cli.fixtures.js';

function cluster(): FakeClient {
  const c = new FakeClient();
  c.seed(POD_REF, nginxPod() as KubeObject);
  c.seed(POD_REF, pendingPod() as KubeObject);
  c.seed(DEPLOY_REF, myappDeployment() as KubeObject);
  return c;
}

const flags = (f: Partial<WaitFlags> = {}): WaitFlags => ({ timeout: '30s', ...f });
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('conditions', () => {
  it('matches type and status case-insensitively, status defaulting to true', () => {
    const pod = nginxPod() as KubeObject;
    expect(conditionMet(pod, 'ready', 'TRUE')).toBe(true);
    expect(conditionMet(pod, 'Ready', 'false')).toBe(false);
    expect(conditionMet(pod, 'Nope', 'true')).toBe(false);
    const met = parseWaitFor('condition=Ready');
    expect(met.kind === 'check' && met.met(pod)).toBe(true);
    const notReady = parseWaitFor('condition=Ready=False');
    expect(notReady.kind === 'check' && notReady.met(pod)).toBe(false);
  });

  it('ignores a condition older than the object\'s generation', () => {
    const d = myappDeployment();
    d.metadata = { ...d.metadata, generation: 3 }; // status.observedGeneration is 2
    expect(conditionMet(d as KubeObject, 'Available', 'True')).toBe(false);
    d.status!.observedGeneration = 3;
    expect(conditionMet(d as KubeObject, 'Available', 'True')).toBe(true);
  });

  it('compares a jsonpath value, or just its presence', () => {
    const phase = parseWaitFor("jsonpath={.status.phase}='Running'");
    const ip = parseWaitFor('jsonpath={.status.podIP}');
    const pod = nginxPod() as KubeObject;
    expect(phase.kind === 'check' && phase.met(pod)).toBe(true);
    expect(ip.kind === 'check' && ip.met(pod)).toBe(true);
    expect(ip.kind === 'check' && ip.met(pendingPod() as KubeObject)).toBe(false);
    const many = parseWaitFor('jsonpath={.spec.containers[*].name}');
    const twoContainers = nginxPod();
    twoContainers.spec!.containers.push({ name: 'b', image: 'x' });
    expect(() => many.kind === 'check' && many.met(twoContainers as KubeObject)).toThrow('given jsonpath expression matches more than one value');
    const nested = parseWaitFor('jsonpath={.spec}=x');
    expect(() => nested.kind === 'check' && nested.met(pod)).toThrow('jsonpath leads to a nested object or list which is not supported');
  });

  it('refuses what kubectl refuses', () => {
    expect(parseWaitFor('DELETE')).toEqual({ kind: 'delete' });
    expect(() => parseWaitFor('foo')).toThrow('unrecognized condition: "foo"');
    expect(() => parseWaitFor(undefined)).toThrow('unrecognized condition: ""');
    expect(() => parseWaitFor('jsonpath={.a}=b=c')).toThrow("jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3");
    expect(() => parseWaitFor('jsonpath={.a}=')).toThrow('jsonpath wait value cannot be empty');
  });
});

describe('runWait', () => {
  it('prints `condition met` at once for a condition that already holds', async () => {
    const deps = fakeDeps(cluster());
    await runWait(deps, GLOBALS, ['pod/nginx'], flags({ for: 'condition=Ready' }));
    expect(deps.io.stdout).toBe('pod/nginx condition met\n');
  });

  it('waits on the watch until the condition holds, then closes it', async () => {
    const c = cluster();
    const deps = fakeDeps(c);
    const run = runWait(deps, GLOBALS, ['deployment/myapp'], flags({ for: 'condition=Available=false' }));
    await tick();
    expect(deps.io.stdout).toBe('');
    expect(c.openWatches).toBe(1);
    c.modify(DEPLOY_REF, 'myapp', (o) => {
      (o as Deployment).status!.conditions![0] = { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' };
    });
    await run;
    expect(deps.io.stdout).toBe('deployment.apps/myapp condition met\n');
    expect(c.openWatches).toBe(0);
  });

  it('times out with kubectl\'s message naming the resource', async () => {
    const c = cluster();
    await expect(runWait(fakeDeps(c), GLOBALS, ['pods', 'nowhere'], flags({ for: 'condition=Ready', timeout: '30ms' })))
      .rejects.toThrow('timed out waiting for the condition on pods/nowhere');
    expect(c.openWatches).toBe(0);
    await expect(runWait(fakeDeps(c), GLOBALS, ['deploy/myapp'], flags({ for: "jsonpath={.spec.replicas}=9", timeout: '30ms' })))
      .rejects.toThrow('timed out waiting for the condition on deployments/myapp');
  });

  it('checks once with --timeout=0', async () => {
    const deps = fakeDeps(cluster());
    await expect(runWait(deps, GLOBALS, ['pod/nowhere'], flags({ for: 'condition=Ready', timeout: '0' }))).rejects.toThrow('condition not met for pods/nowhere');
    await runWait(deps, GLOBALS, ['pod/nginx'], flags({ for: 'condition=Ready', timeout: '0s' }));
    expect(deps.io.stdout).toBe('pod/nginx condition met\n');
  });

  it('waits for deletion, and passes over objects already gone without a word', async () => {
    const c = cluster();
    c.graceful = true;
    await c.delete(POD_REF, 'nginx');
    const deps = fakeDeps(c);
    const run = runWait(deps, GLOBALS, ['pod/nginx', 'pod/gone'], flags({ for: 'delete' }));
    await tick();
    expect(deps.io.stdout).toBe('');
    c.finishDeletion(POD_REF, 'nginx');
    await run;
    expect(deps.io.stdout).toBe('pod/nginx condition met\n');
    await expect(runWait(fakeDeps(cluster()), GLOBALS, ['pod/nginx'], flags({ for: 'delete', timeout: '20ms' })))
      .rejects.toThrow('timed out waiting for the condition on pods/nginx');
  });

  it('waits for each object a selector finds, one after the other', async () => {
    const c = cluster();
    const deps = fakeDeps(c);
    const run = runWait(deps, GLOBALS, ['pods'], flags({ for: 'jsonpath={.status.phase}=Running', all: true }));
    await tick();
    expect(deps.io.stdout).toBe('pod/nginx condition met\n');
    c.modify(POD_REF, 'nowhere', (o) => { (o as { status?: Pod['status'] }).status = { phase: 'Running' }; });
    await run;
    expect(deps.io.stdout).toBe('pod/nginx condition met\npod/nowhere condition met\n');
  });

  it('refuses what kubectl refuses', async () => {
    const deps = fakeDeps(cluster());
    await expect(runWait(deps, GLOBALS, ['pod/nope'], flags({ for: 'condition=Ready' }))).rejects.toThrow('pods "nope" not found');
    await expect(runWait(deps, GLOBALS, ['pods'], flags({ for: 'condition=Ready', selector: 'app=none' }))).rejects.toThrow('no matching resources found');
    await expect(runWait(deps, GLOBALS, ['pods'], flags({ for: 'condition=Ready' }))).rejects.toThrow('resource(s) were provided, but no name was specified');
    await expect(runWait(deps, GLOBALS, [], flags({ for: 'delete' }))).rejects.toThrow('You must provide one or more resources');
    await runWait(deps, GLOBALS, ['pods'], flags({ for: 'delete', selector: 'app=none' }));
    expect(deps.io.stdout).toBe('');
  });
});
