/**
 * Shared set-up of the controller integration tests: an in-process API server over in-memory
 * SQLite, a client whose watch can be made to lag, in-process kubelets over FakeRuntime, test-side
 * informers, and a `until` that re-checks a condition on every watch event (no polling).
 */
import type { KubeObject, WatchEvent } from '../../src/api/types.js';
import { RESOURCES } from '../../src/api/registry.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { ApiClient, NODES, PODS, type ClientConfig, type ResourceRef, type WatchHandle, type WatchOptions } from '../../src/client/client.js';
import { Informer } from '../../src/client/informer.js';
import { DEPLOYMENTS, REPLICASETS, type DeploymentObject, type NodeObject, type PodObject, type ReplicaSetObject } from '../../src/controllers/types.js';
import { Kubelet } from '../../src/kubelet/kubelet.js';
import { FakeRuntime } from '../../src/runtime/fake.js';
import { SqliteStore } from '../../src/store/sqlite.js';

export const TOKEN = 'controllers-test-token';
export const NS = 'default';

/** An ApiClient whose watch events reach the caller `lagMs` late (in order), like a slow cache. */
export class LaggingClient extends ApiClient {
  constructor(config: ClientConfig, private readonly lagMs: number) {
    super(config);
  }

  override watch<T extends KubeObject>(ref: ResourceRef, opts: WatchOptions, onEvent: (e: WatchEvent<T>) => void): WatchHandle {
    return super.watch<T>(ref, opts, (e) => {
      setTimeout(() => onEvent(e), this.lagMs);
    });
  }
}

export interface TestCluster {
  server: ApiServer;
  client: ApiClient;
  pods: Informer<PodObject>;
  sets: Informer<ReplicaSetObject>;
  deployments: Informer<DeploymentObject>;
  nodes: Informer<NodeObject>;
  logs: string[];
  log: (m: string) => void;
  /**
   * Resolves with `check()`'s first truthy result, re-checking on every event of the test's
   * informers; rejects after `ms` with `what` and the recent log.
   */
  until<T>(what: string, check: () => T | undefined | null | false, ms?: number): Promise<T>;
  /** A started informer of `ref` whose events `until` re-checks on too (stopped by `close`). */
  follow<T extends KubeObject>(ref: ResourceRef): Promise<Informer<T>>;
  close(): Promise<void>;
}

export async function startTestCluster(): Promise<TestCluster> {
  const store = new SqliteStore(':memory:');
  const server = await startApiServer({ store, resources: RESOURCES, port: 0, token: TOKEN });
  const client = new ApiClient({ server: server.url, token: TOKEN });
  const pods = new Informer<PodObject>(client, PODS);
  const sets = new Informer<ReplicaSetObject>(client, REPLICASETS);
  const deployments = new Informer<DeploymentObject>(client, DEPLOYMENTS);
  const nodes = new Informer<NodeObject>(client, NODES);
  const all = [pods, sets, deployments, nodes] as Informer<KubeObject>[];
  await Promise.all(all.map((i) => i.start()));
  const listeners = new Set<() => void>();
  for (const inf of all) {
    const fire = () => listeners.forEach((l) => l());
    inf.addHandlers({ onAdd: fire, onUpdate: fire, onDelete: fire });
  }
  const logs: string[] = [];
  const log = (m: string) => {
    logs.push(`${new Date().toISOString().slice(11, 23)} ${m}`);
    if (process.env.CONTROLLERS_DEBUG) console.log(m);
  };
  const until = <T>(what: string, check: () => T | undefined | null | false, ms = 10_000): Promise<T> => new Promise((resolve, reject) => {
    const run = () => {
      let v: T | undefined | null | false;
      try {
        v = check();
      } catch (e) {
        done();
        reject(e);
        return;
      }
      if (v) {
        done();
        resolve(v);
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}\n${logs.slice(-30).join('\n')}`));
    }, ms);
    const done = () => {
      clearTimeout(timer);
      listeners.delete(run);
    };
    listeners.add(run);
    run();
  });
  const follow = async <T extends KubeObject>(ref: ResourceRef): Promise<Informer<T>> => {
    const inf = new Informer<T>(client, ref);
    const fire = () => listeners.forEach((l) => l());
    inf.addHandlers({ onAdd: fire, onUpdate: fire, onDelete: fire });
    all.push(inf as unknown as Informer<KubeObject>);
    await inf.start();
    return inf;
  };
  return {
    server, client, pods, sets, deployments, nodes, logs, log, until, follow,
    close: async () => {
      all.forEach((i) => i.stop());
      await server.close();
      store.close();
    },
  };
}

/** Starts a kubelet for `name` over a fresh FakeRuntime, its server on loopback. */
export async function startKubelet(c: TestCluster, name: string, index: number, heartbeatMs = 200): Promise<Kubelet> {
  const runtime = new FakeRuntime();
  runtime.addImage('registry.k8s.io/pause:3.10');
  const kubelet = new Kubelet({
    client: c.client, runtime, cluster: 'controllers-test', nodeName: name, podCIDR: `10.244.${index}.0/24`, token: TOKEN,
    address: '127.0.0.1', heartbeatMs, resyncMs: 1000, capacity: { cpu: '8', memory: '16Gi', pods: '110' },
    log: (m) => c.log(`kubelet[${name}] ${m}`),
  });
  await kubelet.start();
  return kubelet;
}

/** Active (not finished, not being deleted) pods whose controller is the ReplicaSet with `uid`. */
export function activePodsOf(c: TestCluster, uid: string | undefined): PodObject[] {
  return c.pods.list().filter((p) => !p.metadata?.deletionTimestamp && p.metadata?.ownerReferences?.some((r) => r.uid === uid && r.controller)
    && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
}

export function deploymentManifest(name: string, o: { replicas: number; image?: string; surge?: number | string; unavailable?: number | string;
  strategy?: 'Recreate'; grace?: number }): DeploymentObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas: o.replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: o.image ?? 'nginx:1' }], terminationGracePeriodSeconds: o.grace ?? 1 },
      },
      strategy: o.strategy ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: o.surge ?? '25%', maxUnavailable: o.unavailable ?? '25%' } },
    },
  };
}

export function replicaSetManifest(name: string, replicas: number): ReplicaSetObject {
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx:1' }], terminationGracePeriodSeconds: 1 } },
    },
  };
}
