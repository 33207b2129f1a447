import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/types.js';
import { SchedulerCache } from '../../src/scheduler/cache.js';
import { buildSnapshot, newNodeInfo } from '../../src/scheduler/framework.js';
import { Limiter } from '../../src/scheduler/limiter.js';
import { defaultPlugins, selectorSpread } from '../../src/scheduler/plugins.js';
import { numFeasibleNodesToFind, scheduleCycle } from '../../src/scheduler/schedule.js';
import { node, pod } from './scheduler.fixtures.js';

/** The pod as the informer shows it once bound to `nodeName` (a new object, as from a watch). */
function bound(p: Pod, nodeName: string): Pod {
  return { ...p, spec: { ...p.spec, containers: p.spec?.containers ?? [], nodeName } };
}

function totals(cache: SchedulerCache, name: string): { cpu: number; memory: number; pods: number; ports: number } | undefined {
  const info = cache.nodeInfo(name);
  return info && { cpu: info.requested.milliCPU, memory: info.requested.memory, pods: info.pods.length, ports: info.usedPorts.length };
}

function cacheWith(...names: string[]): SchedulerCache {
  const cache = new SchedulerCache(1000);
  for (const n of names) cache.addNode(node(n));
  return cache;
}

describe('SchedulerCache', () => {
  const web = pod('web', { requests: [{ cpu: '500m', memory: '1Gi' }], hostPorts: [{ hostPort: 80 }] });

  it('counts an assumed pod on its node until the binding fails and it is forgotten', () => {
    const cache = cacheWith('n1');
    cache.assumePod(web, 'n1');
    expect(cache.isAssumed('default/web')).toBe(true);
    expect(totals(cache, 'n1')).toEqual({ cpu: 500, memory: 1024 ** 3, pods: 1, ports: 1 });
    cache.forgetPod('default/web');
    expect(cache.isAssumed('default/web')).toBe(false);
    expect(totals(cache, 'n1')).toEqual({ cpu: 0, memory: 0, pods: 0, ports: 0 });
  });

  it('confirms an assumed pod when the informer shows it bound, counting it once', () => {
    const cache = cacheWith('n1');
    cache.assumePod(web, 'n1');
    cache.finishBinding('default/web', 0);
    cache.updatePod(bound(web, 'n1'));
    expect(cache.isAssumed('default/web')).toBe(false);
    expect(cache.assumedCount).toBe(0);
    expect(totals(cache, 'n1')).toEqual({ cpu: 500, memory: 1024 ** 3, pods: 1, ports: 1 });
    cache.forgetPod('default/web'); // a late failure report must not undo a confirmed pod
    expect(totals(cache, 'n1')?.pods).toBe(1);
  });

  it('keeps an assumption through updates of the still-pending pod', () => {
    const cache = cacheWith('n1');
    cache.assumePod(web, 'n1');
    cache.updatePod({ ...web, status: { phase: 'Pending', conditions: [] } });
    expect(cache.isAssumed('default/web', 'uid-web')).toBe(true);
    expect(totals(cache, 'n1')?.pods).toBe(1);
  });

  it('drops an assumption the informer has not confirmed within the TTL after binding', () => {
    const cache = cacheWith('n1');
    cache.assumePod(web, 'n1');
    cache.cleanupExpired(10_000); // binding still in flight: no deadline yet
    expect(cache.isAssumed('default/web')).toBe(true);
    cache.finishBinding('default/web', 10_000);
    cache.cleanupExpired(10_500);
    expect(cache.isAssumed('default/web')).toBe(true);
    cache.cleanupExpired(11_001);
    expect(cache.isAssumed('default/web')).toBe(false);
    expect(totals(cache, 'n1')?.pods).toBe(0);
  });

  it('frees a bound pod\'s resources, ports and spread counts when it is deleted', () => {
    const cache = cacheWith('n1');
    const r1 = bound(pod('r1', { owner: 'rs-1', requests: [{ cpu: '1' }], hostPorts: [{ hostPort: 80 }] }), 'n1');
    const r2 = bound(pod('r2', { owner: 'rs-1', requests: [{ cpu: '1' }] }), 'n1');
    cache.addPod(r1);
    cache.addPod(r2);
    expect(cache.nodeInfo('n1')?.spread.byOwner.get('rs-1')).toBe(2);
    cache.removePod({ ...r1, metadata: { ...r1.metadata, resourceVersion: '9' } }); // the watch's last copy
    expect(totals(cache, 'n1')).toEqual({ cpu: 1000, memory: 0, pods: 1, ports: 0 });
    expect(cache.nodeInfo('n1')?.spread.byOwner.get('rs-1')).toBe(1);
  });

  it('frees a pod\'s resources when it finishes (Succeeded or Failed)', () => {
    const cache = cacheWith('n1');
    const p = bound(pod('job', { requests: [{ cpu: '1' }] }), 'n1');
    cache.addPod(p);
    cache.updatePod({ ...p, status: { phase: 'Succeeded' } });
    expect(totals(cache, 'n1')).toEqual({ cpu: 0, memory: 0, pods: 0, ports: 0 });
  });

  it('leaves pending pods out of every node', () => {
    const cache = cacheWith('n1');
    cache.addPod(pod('pending', { requests: [{ cpu: '1' }] }));
    expect(totals(cache, 'n1')?.pods).toBe(0);
  });

  it('takes a deleted node out of the snapshot and keeps its pods until they go', () => {
    const cache = cacheWith('n1', 'n2');
    const p = bound(pod('p', { requests: [{ cpu: '1' }] }), 'n1');
    cache.addPod(p);
    cache.removeNode(node('n1'));
    expect(cache.snapshot().nodes.map((n) => n.name)).toEqual(['n2']);
    expect(totals(cache, 'n1')?.pods).toBe(1);
    cache.removePod(p);
    expect(cache.nodeInfo('n1')).toBeUndefined();
    cache.removeNode(node('n2'));
    expect(cache.snapshot().nodes).toEqual([]);
    expect(cache.nodeInfo('n2')).toBeUndefined();
  });

  it('counts a pod that arrives before its node once the node is added', () => {
    const cache = cacheWith();
    cache.addPod(bound(pod('early', { requests: [{ cpu: '1' }] }), 'late'));
    expect(cache.snapshot().nodes).toEqual([]);
    cache.addNode(node('late'));
    expect(cache.snapshot().nodes.map((n) => [n.name, n.requested.milliCPU, n.allocatable.milliCPU])).toEqual([['late', 1000, 2000]]);
  });

  it('sees a node update (new allocatable) without losing its pods', () => {
    const cache = cacheWith('n1');
    cache.addPod(bound(pod('p', { requests: [{ cpu: '1' }] }), 'n1'));
    cache.updateNode(node('n1', { cpu: '8' }));
    expect(cache.snapshot().nodes.map((n) => [n.allocatable.milliCPU, n.requested.milliCPU])).toEqual([[8000, 1000]]);
  });

  it('matches a snapshot built from scratch after a mix of adds, assumes and deletes', () => {
    const cache = cacheWith('a', 'b');
    const pods = [
      bound(pod('x', { requests: [{ cpu: '250m', memory: '1Gi' }], labels: { app: 'web' } }), 'a'),
      bound(pod('y', { requests: [{ cpu: '1' }], owner: 'rs-1' }), 'b'),
      bound(pod('z', { owner: 'rs-1', deleting: true }), 'a'),
    ];
    for (const p of pods) cache.addPod(p);
    const assumed = pod('w', { owner: 'rs-1' });
    cache.assumePod(assumed, 'b');
    const fresh = buildSnapshot([node('a'), node('b')], [...pods, assumed], new Map([['default/w', 'b']]));
    const view = (nodes: readonly ReturnType<typeof newNodeInfo>[]) => nodes.map((n) => ({
      name: n.name, requested: n.requested, nonZero: n.nonZeroRequested, pods: n.pods.length,
      live: n.spread.live, owners: [...n.spread.byOwner], labels: [...n.spread.byLabelSet],
    }));
    expect(view(cache.snapshot().nodes)).toEqual(view(fresh.nodes));
  });
});

describe('scheduling on the cache', () => {
  it('spreads six replicas three and three when each is only assumed, not yet bound', () => {
    const cache = cacheWith('n1', 'n2');
    for (let i = 0; i < 6; i++) {
      const p = pod(`web-${i}`, { owner: 'rs-web' });
      const { result } = scheduleCycle(p, cache.snapshot(), defaultPlugins());
      if (!('node' in result)) throw new Error(result.message);
      cache.assumePod(p, result.node);
    }
    expect([cache.nodeInfo('n1')?.pods.length, cache.nodeInfo('n2')?.pods.length]).toEqual([3, 3]);
  });

  it('scores spreading from the per-node counters the same as from the pods', () => {
    const s = buildSnapshot([node('a'), node('b')], [bound(pod('r1', { owner: 'rs' }), 'a'), bound(pod('r2', { owner: 'rs' }), 'a'), bound(pod('r3', { owner: 'rs' }), 'b')]);
    const p = pod('p', { owner: 'rs' });
    const prepared = selectorSpread.prepare?.(p, s);
    expect(s.nodes.map((n) => prepared?.(n))).toEqual(s.nodes.map((n) => selectorSpread.score(p, n, s)));
    expect(s.nodes.map((n) => selectorSpread.score(p, n, s))).toEqual([0, 50]);
  });
});

describe('percentageOfNodesToScore', () => {
  it.each([
    { nodes: 50, want: 50 },
    { nodes: 100, want: 100 },
    { nodes: 150, want: 100 },
    { nodes: 1000, want: 420 },
    { nodes: 5000, want: 500 },
    { nodes: 10_000, want: 500 },
  ])('looks for $want feasible nodes among $nodes', ({ nodes, want }) => {
    expect(numFeasibleNodesToFind(nodes)).toBe(want);
  });

  const many = Array.from({ length: 300 }, (_, i) => node(`n${i}`, { labels: { zone: i % 3 === 0 ? 'a' : 'b' } }));
  const snapshot = buildSnapshot(many, []);

  it('stops filtering once enough nodes fit and says how far it got', () => {
    const { result, processed } = scheduleCycle(pod('p'), snapshot, defaultPlugins(), { startIndex: 290 });
    expect(processed).toBe(numFeasibleNodesToFind(300));
    expect('node' in result).toBe(true);
  });

  it('filters every node before giving up, so the FitError counts them all', () => {
    const p = pod('p', { spec: { nodeSelector: { zone: 'c' } } });
    const { result, processed } = scheduleCycle(p, snapshot, defaultPlugins(), { startIndex: 123 });
    expect(processed).toBe(300);
    expect(result).toMatchObject({ unschedulable: true, message: "0/300 nodes are available: 300 node(s) didn't match Pod's node affinity/selector." });
  });

  it('keeps looking past nodes that do not fit until enough do', () => {
    const half = buildSnapshot(Array.from({ length: 300 }, (_, i) => node(`n${i}`, { labels: { zone: i % 2 === 0 ? 'a' : 'b' } })), []);
    const p = pod('p', { spec: { nodeSelector: { zone: 'a' } } });
    const { result, processed } = scheduleCycle(p, half, defaultPlugins(), { startIndex: 0 });
    expect(numFeasibleNodesToFind(300)).toBe(144);
    expect(processed).toBe(287); // the 144th zone-a node is n286
    expect('node' in result && Number(result.node.slice(1)) % 2).toBe(0);
  });
});

describe('Limiter', () => {
  it('runs at most its limit at once and hands slots on in order', async () => {
    const limiter = new Limiter(2);
    const order: string[] = [];
    const gates = new Map<string, () => void>();
    const task = (name: string) => limiter.run(() => new Promise<void>((resolve) => {
      order.push(name);
      gates.set(name, resolve);
    }));
    const all = [task('a'), task('b'), task('c')];
    await Promise.resolve();
    expect(order).toEqual(['a', 'b']);
    expect(limiter.inFlight).toBe(2);
    gates.get('a')?.();
    await all[0];
    await Promise.resolve();
    expect(order).toEqual(['a', 'b', 'c']);
    gates.get('b')?.();
    gates.get('c')?.();
    await Promise.all(all);
    await limiter.idle();
    expect(limiter.inFlight).toBe(0);
  });
});
