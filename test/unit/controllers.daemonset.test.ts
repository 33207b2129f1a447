import { describe, expect, it } from 'vitest';
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node } from '../../src/api/types.js';
import { applyDaemonSetDefaults } from '../../src/api/workloadsdefaults.js';
import { validateDaemonSet } from '../../src/api/workloadsvalidation.js';
import { daemonPodFor, nodeShouldRunDaemonPod, planDaemonSet } from '../../src/controllers/daemonsetutil.js';
import { hashTemplate, planHistory, templateOfRevision } from '../../src/controllers/history.js';
import type { PodObject } from '../../src/controllers/types.js';

const NOW = new Date('2026-01-01T00:10:00Z');

function ds(spec: Partial<NonNullable<DaemonSet['spec']>> = {}): DaemonSet {
  const d: DaemonSet = {
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'default', uid: 'ds-uid', generation: 1 },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'busybox' }] } },
      ...spec,
    } as NonNullable<DaemonSet['spec']>,
  };
  applyDaemonSetDefaults(d);
  return d;
}

function node(name: string, over: { labels?: Record<string, string>; taints?: Node['spec'] extends infer S ? S extends { taints?: infer T } ? T : never : never; ready?: boolean } = {}): Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(over.labels ?? {}) } },
    spec: { taints: over.taints },
    status: { conditions: [{ type: 'Ready', status: over.ready === false ? 'False' : 'True' }] },
  };
}

let seq = 0;
function pod(d: DaemonSet, nodeName: string, hash: string, ready = true): PodObject {
  const p = daemonPodFor(d, nodeName, hash, '1');
  seq++;
  p.metadata = { ...p.metadata, name: `agent-${seq}`, uid: `p${seq}`, creationTimestamp: new Date(NOW.getTime() - 60_000 + seq).toISOString() };
  p.spec = { ...p.spec!, nodeName };
  p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2026-01-01T00:00:00Z' }] };
  return p;
}

describe('DaemonSet defaults and validation', () => {
  it('defaults RollingUpdate with maxUnavailable 1 and maxSurge 0, and 10 revisions', () => {
    expect(ds().spec).toMatchObject({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, revisionHistoryLimit: 10 });
    expect(validateDaemonSet(ds())).toEqual([]);
  });
  it.each<[string, Partial<NonNullable<DaemonSet['spec']>>, string]>([
    ['refuses an empty selector', { selector: {} }, 'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for daemonset'],
    ['refuses both maxUnavailable and maxSurge at 0', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } },
      'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when maxSurge is 0'],
    ['refuses an unknown strategy', { updateStrategy: { type: 'Sometimes' } }, 'spec.updateStrategy.type: Unsupported value: "Sometimes": supported values: "OnDelete", "RollingUpdate"'],
  ])('%s', (_n, spec, msg) => {
    expect(validateDaemonSet(ds(spec)).map((e) => `${e.field}: ${e.message}`)).toContain(msg);
  });
  it('accepts OnDelete with a leftover rollingUpdate, as Kubernetes does (kubectl patch of the type alone)', () => {
    expect(validateDaemonSet(ds({ updateStrategy: { type: 'OnDelete', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } } }))).toEqual([]);
  });
});

describe('which nodes run a daemon pod', () => {
  it.each<[string, DaemonSet, Node, boolean]>([
    ['every node by default', ds(), node('n1'), true],
    ['a node matching the nodeSelector', ds({ template: { metadata: { labels: { app: 'agent' } }, spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'a', image: 'b' }] } } }), node('n1', { labels: { disk: 'ssd' } }), true],
    ['not a node without the selected label', ds({ template: { metadata: { labels: { app: 'agent' } }, spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'a', image: 'b' }] } } }), node('n1'), false],
    ['not a node with an untolerated NoSchedule taint', ds(), node('n1', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }), false],
    ['a cordoned node (unschedulable is tolerated by default)', ds(), { ...node('n1'), spec: { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] } }, true],
    ['a node under memory pressure (tolerated by default)', ds(), node('n1', { taints: [{ key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' }] }), true],
  ])('%s', (_n, d, n, expected) => {
    expect(nodeShouldRunDaemonPod(d, n).shouldRun).toBe(expected);
  });

  it('binds each pod to its node through required node affinity on metadata.name', () => {
    const p = daemonPodFor(ds(), 'node-3', 'h', '1');
    expect(p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-3'] }] }]);
    expect(p.spec?.tolerations?.map((t) => `${t.key}:${t.effect}`)).toContain('node.kubernetes.io/unreachable:NoExecute');
    expect(p.metadata?.labels).toMatchObject({ app: 'agent', 'controller-revision-hash': 'h', 'pod-template-generation': '1' });
  });
});

describe('planDaemonSet', () => {
  const nodes = [node('n1'), node('n2'), node('n3')];
  it('creates one pod per eligible node, and one on a node added later', () => {
    const d = ds();
    expect(planDaemonSet(d, nodes, [], 'h1', NOW).create).toEqual(['n1', 'n2', 'n3']);
    const running = nodes.map((n) => pod(d, n.metadata!.name!, 'h1'));
    const plan = planDaemonSet(d, [...nodes, node('n4')], running, 'h1', NOW);
    expect(plan.create).toEqual(['n4']);
    expect(plan.status).toMatchObject({ desiredNumberScheduled: 4, currentNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3, numberAvailable: 3, numberUnavailable: 1 });
  });

  it('deletes a second pod on the same node and pods on nodes that stopped qualifying', () => {
    const d = ds();
    const extra = pod(d, 'n1', 'h1');
    const plan = planDaemonSet(d, [node('n1'), node('n2', { taints: [{ key: 'x', effect: 'NoExecute' }] })], [pod(d, 'n1', 'h1'), extra, pod(d, 'n2', 'h1')], 'h1', NOW);
    expect(plan.delete.map((p) => p.spec?.nodeName).sort()).toEqual(['n1', 'n2']);
    expect(plan.status.numberMisscheduled).toBe(1);
  });

  it('replaces old pods one at a time with maxUnavailable 1', () => {
    const d = ds();
    const old = nodes.map((n) => pod(d, n.metadata!.name!, 'old'));
    const first = planDaemonSet(d, nodes, old, 'new', NOW);
    expect(first.delete.length).toBe(1);
    expect(first.create).toEqual([]);
    // While one node has no available pod, no other old pod goes.
    const mid = planDaemonSet(d, nodes, [old[1], old[2]], 'new', NOW);
    expect(mid.create).toEqual(['n1']);
    expect(mid.delete).toEqual([]);
    const afterOne = planDaemonSet(d, nodes, [pod(d, 'n1', 'new'), old[1], old[2]], 'new', NOW);
    expect(afterOne.delete).toEqual([old[1]]);
  });

  it('surges a new pod beside the old one, deleting the old once the new is available', () => {
    const d = ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } });
    const old = nodes.map((n) => pod(d, n.metadata!.name!, 'old'));
    const first = planDaemonSet(d, nodes, old, 'new', NOW);
    expect(first.create).toEqual(['n1']);
    expect(first.delete).toEqual([]);
    const fresh = pod(d, 'n1', 'new', false);
    expect(planDaemonSet(d, nodes, [...old, fresh], 'new', NOW).delete).toEqual([]);
    const ready = pod(d, 'n1', 'new', true);
    expect(planDaemonSet(d, nodes, [...old, ready], 'new', NOW).delete).toEqual([old[0]]);
  });

  it('leaves old pods alone under OnDelete, but recreates a deleted one from the new template', () => {
    const d = ds({ updateStrategy: { type: 'OnDelete' } });
    const old = nodes.map((n) => pod(d, n.metadata!.name!, 'old'));
    expect(planDaemonSet(d, nodes, old, 'new', NOW).delete).toEqual([]);
    expect(planDaemonSet(d, nodes, old.slice(1), 'new', NOW).create).toEqual(['n1']);
  });
});

describe('revision history', () => {
  const owner = { metadata: { name: 'agent', namespace: 'default', uid: 'u' } };
  const t1 = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'a', image: 'nginx:1.22' }] } };
  const t2 = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'a', image: 'nginx:1.23' }] } };
  it('creates revision 1, then 2 for a new template, and renumbers an old one reused by a rollback', () => {
    const p1 = planHistory(owner, 'DaemonSet', t1, [], 10, new Set());
    expect(p1.create).toMatchObject({ metadata: { name: `agent-${hashTemplate(t1)}` }, revision: 1 });
    expect(templateOfRevision(p1.create!)).toEqual(t1);
    const r1 = { ...p1.create!, metadata: { ...p1.create!.metadata, creationTimestamp: '2026-01-01T00:00:00Z' } };
    const p2 = planHistory(owner, 'DaemonSet', t2, [r1], 10, new Set());
    expect(p2.create?.revision).toBe(2);
    const r2 = { ...p2.create!, metadata: { ...p2.create!.metadata, creationTimestamp: '2026-01-01T00:01:00Z' } };
    const back = planHistory(owner, 'DaemonSet', t1, [r1, r2], 10, new Set());
    expect(back.create).toBeUndefined();
    expect(back.renumber).toEqual({ revision: r1, to: 3 });
    expect(planHistory(owner, 'DaemonSet', t2, [r1, r2], 0, new Set()).delete).toEqual([r1]);
  });
  it("copies the owner's annotations into a new revision (kubectl rollout history's CHANGE-CAUSE)", () => {
    const annotated = { metadata: { ...owner.metadata, annotations: { 'kubernetes.io/change-cause': 'kubectl set image ds/agent a=nginx:1.23' } } };
    expect(planHistory(annotated, 'DaemonSet', t2, [], 10, new Set()).create?.metadata?.annotations)
      .toEqual({ 'kubernetes.io/change-cause': 'kubectl set image ds/agent a=nginx:1.23' });
  });
});
