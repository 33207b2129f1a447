/**
 * Watching the seven steps on a real Docker engine: the README demo's Deployment (myapp), each
 * pod's trace as the components recorded it (all seven seed steps, in causal order, the
 * scheduler's choice = spec.nodeName, times that add up to the pod's start-up), the `trace`
 * CLI, and the dashboard in a real headless Chromium (Debian's package, driven by
 * playwright-core): pods appear Running on their nodes, a scale shows, a pod's timeline opens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from '../../src/api/types.js';
import { PODS } from '../../src/client/client.js';
import { buildTimeline, type Timeline } from '../../src/trace/timeline.js';
import { LABEL_TRACE_POD_UID, PODTRACES, type PodTrace } from '../../src/trace/types.js';
import { ROOT, TestCluster, dockerAvailable, sh } from './helpers.js';

const hasDocker = await dockerAvailable();
const CHROMIUM = '/usr/bin/chromium';
const podsRef = { ...PODS, namespace: 'default' };
const ready = (p: Pod) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' &&
  (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

describe.skipIf(!hasDocker)('trace and dashboard on a real Docker engine', () => {
  const cluster = new TestCluster(`e2e-trc-${process.pid}`, '10.249.0.0/16');

  /** Waits (LIST, then watch) until the selected pods satisfy `ok`. */
  async function waitForPods(selector: string, ok: (pods: Pod[]) => boolean, ms = 90_000): Promise<Pod[]> {
    const client = cluster.client();
    const list = await client.list<Pod>(podsRef, { labelSelector: selector });
    const cache = new Map<string, Pod>(list.items.map((p) => [p.metadata?.uid ?? '', p]));
    if (ok([...cache.values()])) return [...cache.values()];
    return new Promise<Pod[]>((resolve, reject) => {
      const timer = setTimeout(() => { h.stop(); reject(new Error(`timed out; pods: ${[...cache.values()].map((p) => `${p.metadata?.name}:${p.status?.phase}`).join(' ')}`)); }, ms);
      const h = client.watch<Pod>(podsRef, { labelSelector: selector, resourceVersion: list.metadata.resourceVersion }, (e) => {
        if (e.type === 'ERROR' || e.type === 'BOOKMARK') return;
        if (e.type === 'DELETED') cache.delete(e.object.metadata?.uid ?? '');
        else cache.set(e.object.metadata?.uid ?? '', e.object);
        if (ok([...cache.values()])) { clearTimeout(timer); h.stop(); resolve([...cache.values()]); }
      });
      h.done.catch((err: unknown) => { clearTimeout(timer); reject(err as Error); });
    });
  }

  /** Waits (LIST, then watch from its resourceVersion) until the pod's timeline satisfies `ok`. */
  async function waitForTimeline(pod: Pod, ok: (t: Timeline) => boolean, ms = 30_000): Promise<Timeline> {
    const client = cluster.client();
    const ref = { ...PODTRACES, namespace: 'default' };
    const labelSelector = `${LABEL_TRACE_POD_UID}=${pod.metadata?.uid ?? ''}`;
    const list = await client.list<PodTrace>(ref, { labelSelector });
    const traces = new Map<string, PodTrace>(list.items.map((t) => [t.metadata?.name ?? '', t]));
    let last = buildTimeline(pod, [...traces.values()]);
    if (ok(last)) return last;
    return new Promise<Timeline>((resolve, reject) => {
      const timer = setTimeout(() => { h.stop(); reject(new Error(`timed out; timeline so far: ${JSON.stringify(last.entries.map((e) => `${e.step}:${e.action}`))}`)); }, ms);
      const h = client.watch<PodTrace>(ref, { labelSelector, resourceVersion: list.metadata.resourceVersion }, (e) => {
        if (e.type !== 'ADDED') return;
        traces.set(e.object.metadata?.name ?? '', e.object);
        last = buildTimeline(pod, [...traces.values()]);
        if (ok(last)) { clearTimeout(timer); h.stop(); resolve(last); }
      });
      h.done.catch((err: unknown) => { clearTimeout(timer); reject(err as Error); });
    });
  }

  beforeAll(async () => {
    const r = await cluster.cli(['up', '--nodes', '2', '--pod-cidr', cluster.podCIDR, '--service-cidr', '10.148.0.0/16']);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    // The components' logs stay in .build/ for a failed run's post-mortem.
    cpSync(join(cluster.home, 'clusters', cluster.name), join(ROOT, '.build/e2e-trace-logs'), { recursive: true, filter: (f) => !/state\.db|\.pem$/.test(f) });
    if (process.env.TRACE_E2E_KEEP) return;
    await cluster.destroy();
    expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('traces every myapp pod through all seven steps, in order, on the node it was bound to', async () => {
    const apply = await cluster.cli(['apply', '-f', join(ROOT, 'examples/myapp-deployment.yaml')]);
    expect(apply.code, apply.stderr).toBe(0);
    const pods = await waitForPods('app=myapp', (ps) => ps.length === 2 && ps.every(ready));
    for (const pod of pods) {
      const t = await waitForTimeline(pod, (x) => x.steps.length === 7 && x.readyAfterMs !== undefined);
      const at = (step: number, action: string) => {
        const e = t.entries.find((x) => x.step === step && x.action === action);
        expect(e, `${pod.metadata?.name}: step ${step} ${action} in ${JSON.stringify(t.entries.map((x) => `${x.step}:${x.action}`))}`).toBeDefined();
        return e!;
      };
      const decided = at(3, 'ReplicaCreated');
      const created = at(1, 'Created');
      const seen = t.entries.find((x) => x.step === 2)!;
      const scheduled = at(4, 'Scheduled');
      const bound = at(4, 'Bound');
      const kubelet = at(5, 'Seen');
      const sandbox = at(5, 'SandboxStarted');
      const image = t.entries.find((x) => x.step === 5 && x.action.startsWith('Image'))!;
      const container = at(5, 'ContainerStarted');
      const probe = t.entries.find((x) => x.step === 6 && x.fields?.result === 'success')!;
      const readyWrite = t.entries.find((x) => x.step === 7 && x.fields?.ready === 'True')!;
      // The causal order of the seed's story (the controller decides just before the API server stores).
      const order = [decided, created, seen, scheduled, bound, kubelet, sandbox, image, container, probe, readyWrite];
      expect(order.every(Boolean)).toBe(true);
      for (let i = 1; i < order.length; i++) {
        expect(order[i].offsetMs, `${order[i - 1].action} → ${order[i].action}`).toBeGreaterThanOrEqual(order[i - 1].offsetMs);
      }
      expect(created.offsetMs).toBe(0);
      // The node decision: the scheduler's choice is where the pod was bound and where it runs.
      const node = pod.spec?.nodeName;
      expect(scheduled.fields?.chosen).toBe(node);
      expect(bound.node).toBe(node);
      expect([kubelet.node, sandbox.node, container.node, probe.node]).toEqual([node, node, node, node]);
      expect((scheduled.fields?.nodes as unknown[]).length).toBe(2);
      expect(sandbox.fields?.ip).toBe(pod.status?.podIP);
      expect(container.fields?.runtimeStartedAt, 'the runtime\'s own start time').toMatch(/^\d{4}-\d\d-\d\dT/);
      // Times add up: created → Ready matches the pod's own timestamps (whole seconds), and the
      // measured parts fit inside it.
      const readyCond = pod.status?.conditions?.find((c) => c.type === 'Ready');
      const statusReadyMs = Date.parse(readyCond?.lastTransitionTime ?? '') - Date.parse(pod.metadata?.creationTimestamp ?? '');
      expect(Math.abs((t.readyAfterMs ?? 0) - statusReadyMs)).toBeLessThanOrEqual(1100);
      const parts = (sandbox.durationMs ?? 0) + (image.durationMs ?? 0) + (container.durationMs ?? 0);
      expect(parts).toBeLessThanOrEqual(t.readyAfterMs ?? 0);
      expect(readyWrite.offsetMs).toBe(t.readyAfterMs);
    }
  }, 150_000);

  it('prints the tree Deployment → ReplicaSet → pods, each line naming its step; -o json for one pod', async () => {
    const r = await cluster.cli(['trace', 'deployment', 'myapp']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Deployment default\/myapp\n  └─ ReplicaSet myapp-[a-z0-9]+ \(revision 1\): 2\/2 ready\n/);
    for (const step of [1, 2, 3, 4, 5, 6, 7]) expect(r.stdout).toContain(`[${step}] `);
    expect(r.stdout).toMatch(/\[4\] scheduler +considered 2 nodes: .* → node-\d/);
    const pods = (await cluster.client().list<Pod>(podsRef, { labelSelector: 'app=myapp' })).items;
    const one = pods[0].metadata?.name ?? '';
    const j = await cluster.cli(['trace', 'pod', one, '-o', 'json']);
    expect(j.code, j.stderr).toBe(0);
    const tree = JSON.parse(j.stdout) as { pods: Timeline[] };
    expect(tree.pods[0].pod.name).toBe(one);
    expect(tree.pods[0].steps.length).toBe(7);
    const missing = await cluster.cli(['trace', 'pod', 'nope']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('NotFound');
  }, 60_000);

  it.skipIf(!existsSync(CHROMIUM))('shows the cluster live in Chromium: pods Running on their nodes, a scale, a pod\'s timeline', async () => {
    if (!existsSync(join(ROOT, 'dist/dashboard-web/index.html'))) {
      const b = await sh('npm', ['run', 'build:dashboard'], { timeoutMs: 120_000 });
      expect(b.code, b.stderr).toBe(0);
    }
    const { chromium } = await import('playwright-core');
    const login = await cluster.cli(['dashboard', '--url']);
    expect(login.code, login.stderr).toBe(0);
    const url = login.stdout.trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/login\?code=/);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(url);
      await page.waitForSelector('[data-testid=node][data-node=node-1]', { timeout: 20_000 });
      // The code was used: a second browser cannot log in with it.
      expect((await fetch(url, { redirect: 'manual' })).status).toBe(401);
      const yaml = [
        'apiVersion: apps/v1', 'kind: Deployment', 'metadata: {name: dash}', 'spec:', '  replicas: 2',
        '  selector: {matchLabels: {app: dash}}', '  template:', '    metadata: {labels: {app: dash}}', '    spec:',
        '      containers:', '      - name: web', '        image: nginx:latest', '        imagePullPolicy: IfNotPresent',
        '        readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}',
      ].join('\n') + '\n';
      const started = Date.now();
      const apply = await cluster.cli(['apply', '-f', '-'], { input: yaml });
      expect(apply.code, apply.stderr).toBe(0);
      const runningCards = '[data-testid=node] [data-testid=pod][data-pod^="dash-"][data-phase=Running][data-ready=true]';
      await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 2, runningCards, { timeout: 60_000 });
      const shownAfterMs = Date.now() - started;
      expect(shownAfterMs).toBeLessThan(60_000);
      // Each card sits in the box of the node the pod is bound to.
      const pods = await waitForPods('app=dash', (ps) => ps.length === 2 && ps.every(ready));
      for (const p of pods) {
        const inBox = await page.locator(`[data-testid=node][data-node="${p.spec?.nodeName}"] [data-pod="${p.metadata?.name}"]`).count();
        expect(inBox, `${p.metadata?.name} in box ${p.spec?.nodeName}`).toBe(1);
      }
      const scale = await cluster.cli(['scale', 'deployment', 'dash', '--replicas=3']);
      expect(scale.code, scale.stderr).toBe(0);
      await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 3, runningCards, { timeout: 60_000 });
      await page.waitForFunction(() => /3\/3 ready/.test(document.querySelector('[data-deployment=dash] [data-testid=rollout-counts]')?.textContent ?? ''), null, { timeout: 30_000 });
      // A pod's timeline: all seven steps arrive live.
      const first = pods[0].metadata?.name ?? '';
      await page.click(`[data-testid=pod][data-pod="${first}"]`);
      mkdirSync(join(ROOT, '.build'), { recursive: true });
      const shot = join(ROOT, '.build/dashboard.png');
      try {
        await page.waitForFunction(() => new Set([...document.querySelectorAll('[data-testid=timeline-entry]')].map((e) => e.getAttribute('data-step'))).size === 7, null, { timeout: 30_000 });
      } catch (e) {
        await page.screenshot({ path: join(ROOT, '.build/dashboard-failed.png'), fullPage: true });
        throw e;
      }
      await page.screenshot({ path: shot, fullPage: true });
      expect(existsSync(shot)).toBe(true);
      console.log(`dashboard: 2 pods shown Running ${shownAfterMs} ms after apply; screenshot ${shot}`);
    } finally {
      await browser.close();
    }
  }, 180_000);
});
