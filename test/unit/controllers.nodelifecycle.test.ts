/**
 * The node lifecycle controller: its pure planners (health, taints, evictions) as tables, and
 * node loss end to end with an injected clock: a kubelet stops, its node turns Ready=Unknown
 * after the grace period, its pods are evicted after the eviction timeout (and force-deleted
 * once their grace period is over), and their ReplicaSet replaces them on the healthy node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Taint } from 'kubernetes-types/core/v1.js';
import type { Pod } from '../../src/api/types.js';
import { ReplicaSetController } from '../../src/controllers/replicaset.js';
import {
  evictionTime, NodeLifecycleController, planNodeHealth, planNodeTaints, planPodEvictions, TAINT_NOT_READY, TAINT_UNREACHABLE,
} from '../../src/controllers/nodelifecycle.js';
import { inNamespace, REPLICASETS, type NodeObject, type ReplicaSetObject } from '../../src/controllers/types.js';
import type { Kubelet } from '../../src/kubelet/kubelet.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { activePodsOf, NS, replicaSetManifest, startKubelet, startTestCluster, type TestCluster } from './controllers.fixtures.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function node(ready: string | null, heartbeatMs = T0, taints: Taint[] = []): NodeObject {
  return {
    metadata: { name: 'n1', creationTimestamp: iso(T0 - 3600_000) },
    spec: { taints },
    status: {
      conditions: ready === null ? [] : [
        { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: iso(heartbeatMs) },
        { type: 'Ready', status: ready, reason: 'KubeletReady', lastHeartbeatTime: iso(heartbeatMs), lastTransitionTime: iso(T0 - 60_000) },
      ],
    },
  };
}

describe('planNodeHealth', () => {
  it('gives a node first seen a full grace period, counted from when it was seen', () => {
    const h = planNodeHealth(node('True', T0 - 3600_000), undefined, T0, 40_000);
    expect(h).toEqual({ health: { heartbeat: iso(T0 - 3600_000), probeAt: T0, ready: 'True' }, becameNotReady: false });
  });

  it.each([
    ['stays healthy while the heartbeat changes', iso(T0 + 1000), T0 + 100_000, undefined],
    ['stays healthy within the grace period', iso(T0), T0 + 40_000, undefined],
    ['turns Unknown once the heartbeat has not changed for longer than the grace period', iso(T0), T0 + 40_001, 'Unknown'],
  ])('%s', (_name, seenHeartbeat, now, wanted) => {
    const saved = { heartbeat: seenHeartbeat, probeAt: T0, ready: 'True' };
    const h = planNodeHealth(node('True', T0), saved, now, 40_000);
    expect(h.conditions?.find((c) => c.type === 'Ready')?.status).toBe(wanted);
  });

  it('marks every kubelet condition Unknown with Kubernetes\' reason and message, keeping the heartbeat time', () => {
    const h = planNodeHealth(node('True', T0), { heartbeat: iso(T0), probeAt: T0, ready: 'True' }, T0 + 41_000, 40_000);
    expect(h.becameNotReady).toBe(true);
    const ready = h.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toEqual({
      type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.',
      lastHeartbeatTime: iso(T0), lastTransitionTime: iso(T0 + 41_000),
    });
    expect(h.conditions?.find((c) => c.type === 'DiskPressure')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.' });
    expect(h.conditions?.map((c) => c.type).sort()).toEqual(['DiskPressure', 'MemoryPressure', 'PIDPressure', 'Ready']);
  });
});

describe('planNodeTaints', () => {
  const now = new Date(T0);
  it.each<[string, string | undefined, Taint[], Taint[] | undefined]>([
    ['taints an Unknown node unreachable, NoSchedule and NoExecute (stamped)', 'Unknown', [],
      [{ key: TAINT_UNREACHABLE, effect: 'NoSchedule' }, { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: iso(T0) }]],
    ['taints a NotReady node not-ready', 'False', [],
      [{ key: TAINT_NOT_READY, effect: 'NoSchedule' }, { key: TAINT_NOT_READY, effect: 'NoExecute', timeAdded: iso(T0) }]],
    ['removes both from a Ready node and keeps other taints', 'True',
      [{ key: 'dedicated', effect: 'NoSchedule' }, { key: TAINT_UNREACHABLE, effect: 'NoSchedule' }, { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: iso(T0) }],
      [{ key: 'dedicated', effect: 'NoSchedule' }]],
    ['changes nothing on a tainted Unknown node (timeAdded kept)', 'Unknown',
      [{ key: TAINT_UNREACHABLE, effect: 'NoSchedule' }, { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: iso(T0 - 5000) }], undefined],
    ['changes nothing on a Ready node without them', 'True', [], undefined],
  ])('%s', (_name, ready, taints, want) => {
    expect(planNodeTaints(taints, ready, now)).toEqual(want);
  });
});

describe('evictions', () => {
  const taint: Taint = { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: iso(T0) };
  const pod = (name: string, o: { tolerations?: Pod['spec'] extends infer S ? S extends { tolerations?: infer T } ? T : never : never; ready?: boolean; deleting?: number } = {}): Pod => ({
    metadata: { name, uid: name, ...(o.deleting !== undefined ? { deletionTimestamp: iso(o.deleting) } : {}) },
    spec: { containers: [], nodeName: 'n1', tolerations: o.tolerations },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  });

  it.each<[string, Pod, number | undefined]>([
    ['a pod without a matching toleration gets the default timeout', pod('a'), T0 + 300_000],
    ['a pod tolerating unreachable for 60 s gets 60 s', pod('b', { tolerations: [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }] }), T0 + 60_000],
    ['a pod tolerating it forever is never evicted', pod('c', { tolerations: [{ operator: 'Exists' }] }), undefined],
    ['a toleration of another taint does not count', pod('d', { tolerations: [{ key: 'other', operator: 'Exists', tolerationSeconds: 1 }] }), T0 + 300_000],
  ])('%s', (_name, p, want) => {
    expect(evictionTime(p, taint, 300_000)).toBe(want);
  });

  it('marks ready pods not ready, evicts after the timeout, and force-deletes once the grace period is over', () => {
    const n = node('Unknown', T0, [{ key: TAINT_UNREACHABLE, effect: 'NoSchedule' }, taint]);
    const pods = [pod('ready'), pod('gone', { deleting: T0 + 2000 }), pod('stale', { ready: false })];
    const early = planPodEvictions(n, pods, T0 + 1000, 2000);
    expect([early.markNotReady, early.evict, early.forceDelete].map((ps) => ps.map((p) => p.metadata?.name))).toEqual([['ready'], [], []]);
    const later = planPodEvictions(n, pods, T0 + 2000, 2000);
    expect([later.markNotReady, later.evict, later.forceDelete].map((ps) => ps.map((p) => p.metadata?.name))).toEqual([['ready'], ['ready', 'stale'], ['gone']]);
    expect(planPodEvictions(node('True'), pods, T0 + 999_999, 2000)).toEqual({ markNotReady: [], evict: [], forceDelete: [] });
  });
});

describe('node loss with an injected clock', () => {
  let c: TestCluster;
  let scheduler: Scheduler;
  let rsController: ReplicaSetController;
  let lifecycle: NodeLifecycleController;
  const kubelets: Kubelet[] = [];
  let now = Date.now();
  const clock = () => new Date(now);
  /** Moves the controller's clock forward in 2 s steps, one step per 100 ms of real time. */
  const advance = async (ms: number) => {
    for (let left = ms; left > 0; left -= 2000) {
      now += Math.min(2000, left);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  beforeAll(async () => {
    c = await startTestCluster();
    kubelets.push(await startKubelet(c, 'node-1', 1, 100), await startKubelet(c, 'node-2', 2, 100));
    scheduler = new Scheduler({ client: c.client, log: c.log, backoff: { initialMs: 100, maxMs: 500 } });
    await scheduler.start();
    rsController = new ReplicaSetController({ client: c.client, log: c.log });
    await rsController.start();
    lifecycle = new NodeLifecycleController({
      client: c.client, log: c.log, clock, nodeMonitorGracePeriodMs: 40_000, podEvictionTimeoutMs: 2000, nodeMonitorPeriodMs: 200,
    });
    await lifecycle.start();
  });

  afterAll(async () => {
    await lifecycle?.stop();
    await rsController?.stop();
    await scheduler?.stop();
    for (const k of kubelets) await k.stop();
    await c?.close();
  });

  it('marks the lost node Unknown after the grace period, evicts its pods after the timeout, and replaces them on the healthy node', async () => {
    const manifest = replicaSetManifest('survivor', 4);
    const template = manifest.spec?.template?.spec;
    if (template) template.terminationGracePeriodSeconds = 10;
    const rs = await c.client.create<ReplicaSetObject>(inNamespace(REPLICASETS, NS), manifest);
    const uid = rs.metadata?.uid;
    const ready = () => activePodsOf(c, uid).filter((p) => p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'));
    await c.until('4 ready pods on both nodes', () => ready().length === 4 && new Set(ready().map((p) => p.spec?.nodeName)).size === 2, 20_000);
    const lost = ready().filter((p) => p.spec?.nodeName === 'node-1').map((p) => p.metadata?.name);

    await kubelets[0].stop();
    await advance(30_000);
    expect(c.nodes.get('node-1')?.status?.conditions?.find((x) => x.type === 'Ready')?.status).toBe('True');
    // The grace period counts from when the controller saw the last heartbeat change; on a
    // loaded machine it may see node-1's last heartbeat late (then its clock has moved on), so
    // move the clock on until the node is Unknown rather than by a fixed amount.
    const isUnknown = () => {
      const n = c.nodes.get('node-1');
      return n?.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'Unknown' && (n.spec?.taints?.length ?? 0) === 2 ? n : undefined;
    };
    await advance(12_000);
    for (let moved = 0; moved < 40_000; moved += 2000) {
      // Half a second of real time for the change to reach the test's informer before the clock moves on.
      if (await c.until('node-1 Unknown', isUnknown, 500).then(() => true, () => false)) break;
      await advance(2000);
    }
    const unknown = await c.until('node-1 Unknown and tainted', isUnknown);
    expect(unknown.status?.conditions?.find((x) => x.type === 'Ready')).toMatchObject({ reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    expect(unknown.spec?.taints?.map((t) => `${t.key}:${t.effect}`)).toEqual([`${TAINT_UNREACHABLE}:NoSchedule`, `${TAINT_UNREACHABLE}:NoExecute`]);
    expect(c.nodes.get('node-2')?.status?.conditions?.find((x) => x.type === 'Ready')?.status).toBe('True');
    // Not evicted yet: only marked not ready.
    await c.until('lost pods marked not ready', () => lost.every((name) => c.pods.get(`${NS}/${name}`)?.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'False'));
    expect(lost.every((name) => !c.pods.get(`${NS}/${name}`)?.metadata?.deletionTimestamp)).toBe(true);

    await advance(3000); // past the 2 s eviction timeout
    await c.until('lost pods marked for deletion', () => lost.every((name) => !!c.pods.get(`${NS}/${name}`)?.metadata?.deletionTimestamp));
    // Their replacements come at once (a pod being deleted is no longer counted), but the lost
    // pods stay until their 10 s grace period is over: no kubelet will finish them.
    await advance(6000);
    expect(lost.every((name) => !!c.pods.get(`${NS}/${name}`))).toBe(true);
    await advance(6000);
    await c.until('lost pods gone and 4 ready pods on node-2', () => lost.every((name) => !c.pods.get(`${NS}/${name}`))
      && ready().length === 4 && ready().every((p) => p.spec?.nodeName === 'node-2'), 20_000);

    const events = await c.client.list<{ reason?: string; message?: string; metadata?: object }>(inNamespace({ group: '', version: 'v1', resource: 'events' }, 'default'));
    expect(events.items.map((e) => e.message)).toContain('Node node-1 status is now: NodeNotReady');
  }, 60_000);

  it('removes the taints once the node posts status again', async () => {
    kubelets[0] = await startKubelet(c, 'node-1', 1, 100);
    const back = await c.until('node-1 Ready and untainted', () => {
      const n = c.nodes.get('node-1');
      return n?.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True' && !n.spec?.taints?.length ? n : undefined;
    }, 20_000);
    expect(back.spec?.taints ?? []).toEqual([]);
  }, 30_000);
});
