/**
 * Issue 12 finding 7: unschedulable pods are parked, not retried on a timer. The
 * `SchedulingQueue` on a fake clock (numbers), then the scheduler against an in-process API
 * server: 300 pods that fit nowhere cost no store writes while nothing changes, and all bind
 * once a node that fits them appears.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/api/registry.js';
import type { KubeObject, Node, Pod } from '../../src/api/types.js';
import { startApiServer } from '../../src/apiserver/server.js';
import { ApiClient, NODES, PODS } from '../../src/client/client.js';
import { Informer } from '../../src/client/informer.js';
import { SchedulingQueue } from '../../src/scheduler/queue.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';

describe('SchedulingQueue (fake clock)', () => {
  it('parks a failed pod: no retry without a cluster event, however long the wait (up to 5 minutes)', () => {
    const q = new SchedulingQueue();
    q.failed('ns/a', q.startAttempt('ns/a'), 'no fit', 0);
    for (const t of [1000, 10_000, 60_000, 299_999]) expect(q.flush(t)).toEqual([]);
    expect(q.counts()).toEqual({ unschedulable: 1, backoff: 0 });
  });

  it('retries a parked pod after 5 minutes without an event, as kube-scheduler does', () => {
    const q = new SchedulingQueue();
    q.failed('ns/a', q.startAttempt('ns/a'), 'no fit', 0);
    expect(q.flush(300_000)).toEqual(['ns/a']);
  });

  it('moves parked pods on a cluster event, through their back-off', () => {
    const q = new SchedulingQueue();
    q.failed('ns/a', q.startAttempt('ns/a'), 'no fit', 0);
    expect(q.moveAll(400)).toEqual([]); // back-off (1 s) not over: waits in back-off
    expect(q.counts()).toEqual({ unschedulable: 0, backoff: 1 });
    expect(q.flush(999)).toEqual([]);
    expect(q.flush(1000)).toEqual(['ns/a']);
    q.failed('ns/b', q.startAttempt('ns/b'), 'no fit', 0);
    expect(q.moveAll(5000)).toEqual(['ns/b']); // back-off long over: at once
  });

  it.each([[1, 1000], [2, 2000], [3, 4000], [4, 8000], [5, 10_000], [9, 10_000]])('backs off %i failed attempts by %i ms (1 s doubling to 10 s)', (attempts, ms) => {
    expect(new SchedulingQueue().backoffMs(attempts)).toBe(ms);
  });

  it('sends a pod to back-off instead of parking it when an event arrived during its attempt', () => {
    const q = new SchedulingQueue();
    const cycle = q.startAttempt('ns/a');
    q.moveAll(10); // e.g. a node was added while the pod was being scheduled
    q.failed('ns/a', cycle, 'no fit', 20);
    expect(q.counts()).toEqual({ unschedulable: 0, backoff: 1 });
    expect(q.flush(1020)).toEqual(['ns/a']);
  });

  it('says a failure is worth reporting only when its message changes', () => {
    const q = new SchedulingQueue();
    expect(q.failed('ns/a', q.startAttempt('ns/a'), 'no fit', 0).changed).toBe(true);
    expect(q.failed('ns/a', q.startAttempt('ns/a'), 'no fit', 1).changed).toBe(false);
    expect(q.failed('ns/a', q.startAttempt('ns/a'), 'other reason', 2)).toEqual({ changed: true, attempts: 3 });
    q.forget('ns/a');
    expect(q.has('ns/a')).toBe(false);
    expect(q.failed('ns/a', q.startAttempt('ns/a'), 'other reason', 3).changed).toBe(true);
  });
});

/** A Store that counts writes by kind of object. */
function countingStore(inner: Store): { store: Store; writes: Map<string, number> } {
  const writes = new Map<string, number>();
  const count = (key: string) => {
    const kind = key.split('/')[2] ?? '?';
    writes.set(kind, (writes.get(kind) ?? 0) + 1);
  };
  const store: Store = {
    health: () => inner.health?.(),
    get: (k) => inner.get(k),
    list: (p) => inner.list(p),
    listAt: (p, rv) => inner.listAt(p, rv),
    create: (k, o) => (count(k), inner.create(k, o)),
    update: (k, o, pre) => (count(k), inner.update(k, o, pre)),
    delete: (k, pre) => (count(k), inner.delete(k, pre)),
    guaranteedUpdate: async (k, fn) => {
      const before = await inner.get(k);
      const after = await inner.guaranteedUpdate(k, fn);
      if (after.metadata?.resourceVersion !== before?.metadata?.resourceVersion) count(k);
      return after;
    },
    watch: (p, o, h) => inner.watch(p, o, h),
    close: () => inner.close(),
  };
  return { store, writes };
}

describe('Scheduler with 300 pods that fit nowhere', () => {
  const N = 300;
  const TOKEN = 'sched-queue-token';
  let server: Awaited<ReturnType<typeof startApiServer>>;
  let client: ApiClient;
  let scheduler: Scheduler;
  let pods: Informer<Pod & KubeObject>;
  let counted: ReturnType<typeof countingStore>;
  const logs: string[] = [];

  const node = async (name: string, cpu: string) => {
    await client.create<Node & KubeObject>(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } });
    await client.patch(NODES, name, { status: { allocatable: { cpu, memory: '8Gi', pods: '1000' }, capacity: { cpu, memory: '8Gi', pods: '1000' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready' }] } }, 'status');
  };
  const until = (pred: () => boolean, ms: number) => new Promise<void>((resolve, reject) => {
    const check = () => {
      if (pred()) {
        clearTimeout(timer);
        resolve();
      }
    };
    const timer = setTimeout(() => reject(new Error('timed out')), ms);
    pods.addHandlers({ onAdd: check, onUpdate: check });
    check();
  });

  beforeAll(async () => {
    counted = countingStore(new SqliteStore(':memory:'));
    server = await startApiServer({ store: counted.store, resources: RESOURCES, port: 0, token: TOKEN });
    client = new ApiClient({ server: server.url, token: TOKEN });
    await node('small', '1');
    pods = new Informer<Pod & KubeObject>(client, { ...PODS, namespace: 'default' });
    await pods.start();
    // Short back-offs: the old scheduler retried (and wrote) every 20–100 ms with these.
    scheduler = new Scheduler({ client, log: (m) => logs.push(m), backoff: { initialMs: 20, maxMs: 100 }, flushIntervalMs: 10 });
    await scheduler.start();
  });
  afterAll(async () => {
    await scheduler?.stop();
    pods?.stop();
    await server?.close();
  });

  it('writes nothing and logs nothing more while nothing changes, then binds them all when a node that fits appears', async () => {
    for (let i = 0; i < N; i++) {
      await client.create({ ...PODS, namespace: 'default' }, {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: `big-${i}` },
        spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '2' } } }] },
      });
    }
    const unschedulable = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable') ?? false;
    await until(() => pods.list().filter(unschedulable).length === N, 20_000);
    // Let the FailedScheduling events in flight land, then watch a quiet second.
    await new Promise((r) => setTimeout(r, 300));
    const before = new Map(counted.writes);
    const logsBefore = logs.length;
    await new Promise((r) => setTimeout(r, 1000));
    const writes = [...counted.writes].map(([k, n]) => [k, n - (before.get(k) ?? 0)] as const).filter(([, n]) => n > 0);
    console.log(`${N} unschedulable pods, 1 s with back-off 20→100 ms: ${writes.length ? writes.map(([k, n]) => `${n} ${k} writes`).join(', ') : 'no writes'}, ${logs.length - logsBefore} log lines`);
    expect(writes).toEqual([]);
    expect(logs.length - logsBefore).toBeLessThanOrEqual(1); // at most the summary line

    await node('big', '1000');
    await until(() => pods.list().filter((p) => p.spec?.nodeName === 'big').length === N, 20_000);
  }, 60_000);
});
