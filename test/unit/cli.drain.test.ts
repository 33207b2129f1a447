/**
 * Draining a node: kubectl's pod filters (pure), and drainNode against a real API server
 * (in-memory store, real HTTP) with the disruption controller, where a budget refuses evictions
 * until replacements turn Ready.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/api/registry.js';
import type { KubeObject, Node, Pod } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { ApiClient, NODES, PODS } from '../../src/client/client.js';
import { Command } from 'commander';
import { drainNode, planDrain } from '../../src/cli/drain.js';
import { registerResourceCommands } from '../../src/cli/commands/index.js';
import { CliClient } from '../../src/cli/commands/shared.js';
import { recordingIO } from './cli.fakes.js';
import { DisruptionController, PDBS } from '../../src/controllers/disruption.js';
import { SqliteStore } from '../../src/store/sqlite.js';

type PodObject = Pod & KubeObject;
const owner = (kind: string) => [{ apiVersion: 'apps/v1', kind, name: 'x', uid: 'x', controller: true }];
const pod = (name: string, o: { owner?: string; emptyDir?: boolean; phase?: string; mirror?: boolean } = {}): PodObject => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: {
    name, namespace: 'default', ...(o.owner ? { ownerReferences: owner(o.owner) } : {}),
    ...(o.mirror ? { annotations: { 'kubernetes.io/config.mirror': 'x' } } : {}),
  },
  spec: { containers: [{ name: 'c', image: 'nginx' }], ...(o.emptyDir ? { volumes: [{ name: 'v', emptyDir: {} }] } : {}) },
  status: { phase: o.phase ?? 'Running' },
});

describe('which pods a drain evicts (kubectl\'s filters)', () => {
  const all = { ignoreDaemonSets: true, deleteEmptyDirData: true, force: true };
  it.each([
    ['a ReplicaSet pod', pod('a', { owner: 'ReplicaSet' }), {}, ['a'], []],
    ['a DaemonSet pod without --ignore-daemonsets', pod('a', { owner: 'DaemonSet' }), {}, [], ['cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/a']],
    ['a DaemonSet pod with --ignore-daemonsets', pod('a', { owner: 'DaemonSet' }), { ignoreDaemonSets: true }, [], []],
    ['an emptyDir pod without --delete-emptydir-data', pod('a', { owner: 'ReplicaSet', emptyDir: true }), {}, [], ['cannot delete Pods with local storage (use --delete-emptydir-data to override): default/a']],
    ['an emptyDir pod with --delete-emptydir-data', pod('a', { owner: 'ReplicaSet', emptyDir: true }), { deleteEmptyDirData: true }, ['a'], []],
    ['a bare pod without --force', pod('a'), {}, [], ['cannot delete Pods that declare no controller (use --force to override): default/a']],
    ['a bare pod with --force', pod('a'), { force: true }, ['a'], []],
    ['a finished bare pod', pod('a', { phase: 'Succeeded' }), {}, ['a'], []],
    ['a mirror pod', pod('a', { mirror: true }), all, [], []],
  ])('%s', (_n, p, flags, evicted, errors) => {
    const plan = planDrain([p], { ignoreDaemonSets: false, deleteEmptyDirData: false, force: false, ...flags });
    expect(plan.evict.map((x) => x.metadata?.name)).toEqual(evicted);
    expect(plan.errors).toEqual(errors);
  });
});

describe('drainNode against a real API server', () => {
  let server: ApiServer;
  let client: ApiClient;
  let controller: DisruptionController;
  const ns = { ...PODS, namespace: 'default' };

  const readyPod = async (name: string, node: string) => {
    const created = await client.create<PodObject>(ns, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'web' }, ownerReferences: owner('ReplicaSet') },
      spec: { nodeName: node, containers: [{ name: 'c', image: 'nginx' }] },
    } as PodObject);
    await client.updateStatus(ns, { ...created, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
  };

  beforeAll(async () => {
    server = await startApiServer({ store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: 't' });
    client = new ApiClient({ server: server.url, token: 't' });
    controller = new DisruptionController({ client, log: () => undefined });
    await controller.start();
    for (const n of ['n1', 'n2']) await client.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name: n } } as KubeObject);
    for (const p of ['a', 'b', 'c']) await readyPod(p, 'n2');
    await client.create({ ...PDBS, namespace: 'default' }, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } } as KubeObject);
  });
  afterAll(async () => {
    await controller?.stop();
    await server?.close();
  });

  it('evicts within the budget, retrying refused evictions until replacements are Ready', async () => {
    const lines: string[] = [];
    let replacements = 0;
    const out = (line: string) => {
      lines.push(line);
      // Each accepted eviction gets a Ready replacement on the other node (what a ReplicaSet and kubelet would do).
      if (line.startsWith('evicting pod')) void readyPod(`r${++replacements}`, 'n1');
    };
    await drainNode(client, 'n2', { ignoreDaemonSets: true, deleteEmptyDirData: true, force: false, timeoutMs: 20_000, retryMs: 100, gracePeriodSeconds: 0 }, out);
    expect(lines[0]).toBe('node/n2 cordoned');
    expect(lines.some((l) => /^error when evicting pods\/"[abc]" -n "default" \(will retry after 0.1s\): Cannot evict pod as it would violate the pod's disruption budget\.$/.test(l))).toBe(true);
    expect(lines.filter((l) => l.startsWith('evicting pod'))).toHaveLength(3);
    expect(lines.at(-1)).toBe('node/n2 drained');
    expect((await client.get<Node & KubeObject>(NODES, 'n2')).spec?.unschedulable).toBe(true);
    const left = (await client.list<PodObject>(PODS, { fieldSelector: 'spec.nodeName=n2' })).items;
    expect(left).toEqual([]);
  });

  it('runs cordon, uncordon and drain as commands, printing what kubectl prints', async () => {
    const io = recordingIO();
    const program = new Command().exitOverride();
    registerResourceCommands(program, () => ({ name: 'x', home: '/x', namespace: 'default' }), { io, client: () => new CliClient({ server: server.url, token: 't' }) });
    const run = (args: string[]) => program.parseAsync(['node', 'mkl', ...args]);
    await run(['cordon', 'n1']);
    await run(['cordon', 'n1']);
    await run(['uncordon', 'n1']);
    expect(io.stdout).toBe('node/n1 cordoned\nnode/n1 already cordoned\nnode/n1 uncordoned\n');
    io.stdout = '';
    // No budget left to hold the replicas on n1: every eviction is accepted at once.
    await client.delete({ ...PDBS, namespace: 'default' }, 'web');
    await run(['drain', 'n1', '--ignore-daemonsets', '--grace-period', '0', '--timeout', '10s']);
    expect(io.stdout).toMatch(/^node\/n1 cordoned\n(evicting pod default\/r\d\n)+(pod\/r\d evicted\n)+node\/n1 drained\n$/);
    await run(['uncordon', 'n1']);
  });

  it('gives up at the timeout with the budget\'s refusal, leaving the pod', async () => {
    await readyPod('d', 'n2');
    await client.create({ ...PDBS, namespace: 'default' }, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'all' }, spec: { maxUnavailable: 0, selector: { matchLabels: { app: 'none' } } } } as KubeObject);
    await client.patch(ns, 'd', { metadata: { labels: { app: 'none' } } });
    await expect(drainNode(client, 'n2', { ignoreDaemonSets: true, deleteEmptyDirData: true, force: false, timeoutMs: 600, retryMs: 100 }, () => undefined))
      .rejects.toThrow(/pod default\/d could not be evicted before the timeout: Cannot evict pod/);
    expect((await client.get<PodObject>(ns, 'd')).metadata?.deletionTimestamp).toBeUndefined();
  });
});
