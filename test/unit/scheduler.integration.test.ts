/**
 * The scheduler against a real API server (in-process, in-memory SQLite store): binding,
 * FitError reporting, retry when a node changes, and spreading of one controller's replicas.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event, KubeObject, Node, Pod } from '../../src/api/types.js';
import { RESOURCES } from '../../src/api/registry.js';
import { startApiServer } from '../../src/apiserver/server.js';
import { ApiClient, EVENTS, NODES, PODS } from '../../src/client/client.js';
import { Informer } from '../../src/client/informer.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { SqliteStore } from '../../src/store/sqlite.js';

type PodObject = Pod & KubeObject;
type NodeObject = Node & KubeObject;
type EventObject = Event & KubeObject;

const TOKEN = 'scheduler-test-token';
const NS = 'default';
const ns = { ...PODS, namespace: NS };

let server: Awaited<ReturnType<typeof startApiServer>>;
let client: ApiClient;
let scheduler: Scheduler;
let pods: Informer<PodObject>;
const logs: string[] = [];

/**
 * Resolves with the first cached pod for which `pred` holds, re-checking on every watch event
 * (no polling); rejects after `ms`.
 */
function waitForPod(name: string, pred: (p: PodObject) => boolean, ms = 5000): Promise<PodObject> {
  return new Promise((resolve, reject) => {
    let done = false;
    const check = () => {
      const p = pods.get(`${NS}/${name}`);
      if (!done && p && pred(p)) {
        done = true;
        clearTimeout(timer);
        resolve(p);
      }
    };
    const timer = setTimeout(() => {
      done = true;
      reject(new Error(`pod ${name} did not reach the expected state in ${ms} ms; last: ${JSON.stringify(pods.get(`${NS}/${name}`)?.status)}\n${logs.join('\n')}`));
    }, ms);
    pods.addHandlers({ onAdd: check, onUpdate: check });
    check();
  });
}

/** Resolves with the event list once it has an event matching `pred`, watching the events. */
async function waitForEvent(pred: (e: EventObject) => boolean, ms = 5000): Promise<EventObject> {
  const events = new Informer<EventObject>(client, { ...EVENTS, namespace: NS });
  try {
    await events.start();
    return await new Promise<EventObject>((resolve, reject) => {
      const check = () => {
        const hit = events.list().find(pred);
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        }
      };
      const timer = setTimeout(() => reject(new Error(`no matching event in ${ms} ms: ${JSON.stringify(events.list().map((e) => [e.reason, e.message]))}`)), ms);
      events.addHandlers({ onAdd: check, onUpdate: check });
      check();
    });
  } finally {
    events.stop();
  }
}

async function createNode(name: string, labels: Record<string, string>): Promise<void> {
  await client.create<NodeObject>(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } } });
  await client.patch<NodeObject>(NODES, name, {
    status: {
      allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
    },
  }, 'status');
}

function newPod(name: string, extra: { nodeSelector?: Record<string, string>; owner?: string } = {}): PodObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: NS, labels: { app: name.replace(/-\d+$/, '') },
      ownerReferences: extra.owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: extra.owner, controller: true }] : undefined,
    },
    spec: { containers: [{ name: 'c', image: 'nginx' }], nodeSelector: extra.nodeSelector },
  };
}

beforeAll(async () => {
  const store = new SqliteStore(':memory:');
  server = await startApiServer({ store, resources: RESOURCES, port: 0, token: TOKEN });
  client = new ApiClient({ server: server.url, token: TOKEN });
  await createNode('node-1', { gpu: 'true' });
  await createNode('node-2', {});
  pods = new Informer<PodObject>(client, ns);
  await pods.start();
  scheduler = new Scheduler({ client, log: (m) => logs.push(m), backoff: { initialMs: 100, maxMs: 500 } });
  await scheduler.start();
});

afterAll(async () => {
  if (process.env.SCHED_DEBUG) console.log(logs.join('\n'));
  await scheduler?.stop();
  pods?.stop();
  await server?.close();
});

describe('Scheduler against the API server', () => {
  it('binds a pod with nodeSelector gpu=true to the labelled node and records Scheduled', async () => {
    await client.create(ns, newPod('gpu', { nodeSelector: { gpu: 'true' } }));
    const bound = await waitForPod('gpu', (p) => !!p.spec?.nodeName);
    expect(bound.spec?.nodeName).toBe('node-1');
    expect(bound.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('True');
    const ev = await waitForEvent((e) => e.reason === 'Scheduled' && e.involvedObject.name === 'gpu');
    expect(ev).toMatchObject({
      type: 'Normal', message: 'Successfully assigned default/gpu to node-1', count: 1,
      source: { component: 'default-scheduler' }, reportingComponent: 'default-scheduler',
      involvedObject: { kind: 'Pod', namespace: NS, name: 'gpu', uid: bound.metadata?.uid, apiVersion: 'v1' },
    });
  });

  it('leaves an unsatisfiable pod unbound, marks it Unschedulable, and binds it once a node is labelled', async () => {
    const message = "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.";
    await client.create(ns, newPod('ssd', { nodeSelector: { disk: 'ssd' } }));
    const pending = await waitForPod('ssd', (p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled') ?? false);
    expect(pending.spec?.nodeName).toBeFalsy();
    expect(pending.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable', message });
    const ev = await waitForEvent((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'ssd');
    expect(ev).toMatchObject({ type: 'Warning', message, source: { component: 'default-scheduler' } });

    await client.patch(NODES, 'node-2', { metadata: { labels: { disk: 'ssd' } } });
    const bound = await waitForPod('ssd', (p) => !!p.spec?.nodeName);
    expect(bound.spec?.nodeName).toBe('node-2');
  });

  it('spreads six pods of one ReplicaSet three and three over the two nodes', async () => {
    for (let i = 0; i < 6; i++) await client.create(ns, newPod(`web-${i}`, { owner: 'rs-web-uid' }));
    const placed = await Promise.all(Array.from({ length: 6 }, (_, i) => waitForPod(`web-${i}`, (p) => !!p.spec?.nodeName)));
    const on = (n: string) => placed.filter((p) => p.spec?.nodeName === n).length;
    expect([on('node-1'), on('node-2')]).toEqual([3, 3]);
  });
});
