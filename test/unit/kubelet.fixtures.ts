/**
 * Test doubles for the kubelet's unit tests: a clock whose time and timers the test moves, a
 * recorder that keeps events in memory, a fake runtime with the images the tests use, and a
 * harness that runs one kubelet against a real API server (in-process, in-memory store).
 */
import type { KubeObject, Pod } from '../../src/api/types.js';
import { RESOURCES } from '../../src/api/registry.js';
import { startApiServer } from '../../src/apiserver/server.js';
import { ApiClient, PODS } from '../../src/client/client.js';
import { Informer } from '../../src/client/informer.js';
import type { Clock } from '../../src/kubelet/clock.js';
import { Kubelet, type KubeletOptions } from '../../src/kubelet/kubelet.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { Recorder } from '../../src/kubelet/images.js';
import { FakeRuntime } from '../../src/runtime/fake.js';
import type { Runtime } from '../../src/runtime/types.js';
import { NGINX_WELCOME } from '../../src/runtime/fake-process.js';

export const T0 = Date.parse('2026-01-01T00:00:00Z');

/** A clock that stands still until `advance` moves it; timers fire in time order as it passes them. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = T0) {
    this.t = start;
  }

  now(): Date {
    return new Date(this.t);
  }

  after(ms: number, fn: () => void): () => void {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return () => {
      this.timers.delete(id);
    };
  }

  /**
   * Moves time forward by `ms`, in steps of at most `stepMs`, firing due timers; after each
   * step `settle` lets the work they started finish (and schedule new timers) before time moves on.
   */
  async advance(ms: number, settle: () => Promise<void> = flush, stepMs = 100): Promise<void> {
    const end = this.t + ms;
    while (this.t < end) {
      const stop = Math.min(end, this.t + stepMs);
      for (;;) {
        const due = [...this.timers.entries()].filter(([, x]) => x.at <= stop).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
        if (!due) break;
        this.timers.delete(due[0]);
        this.t = Math.max(this.t, due[1].at);
        due[1].fn();
        await settle();
      }
      this.t = stop;
      await settle();
    }
  }

  /** Timers not fired yet. */
  get pending(): number {
    return this.timers.size;
  }
}

/** Lets queued promise callbacks and immediates run. */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

export interface RecordedEvent {
  object: string;
  type: string;
  reason: string;
  message: string;
}

/** Keeps events in order; `about()` reads them back, `next()` waits for one. */
export class MemoryRecorder implements Recorder {
  readonly events: RecordedEvent[] = [];
  private readonly waiters: { ok: (e: RecordedEvent) => boolean; resolve: () => void }[] = [];

  event(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const e = { object: obj.metadata?.name ?? '', type, reason, message };
    this.events.push(e);
    for (const w of [...this.waiters]) {
      if (w.ok(e)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  /** Resolves once an event about `object` with `Reason: message` matching `line` is recorded (or already was). */
  seen(object: string, line: RegExp): Promise<void> {
    const ok = (e: RecordedEvent) => e.object === object && line.test(`${e.reason}: ${e.message}`);
    if (this.events.some(ok)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ok, resolve }));
  }

  /** `Reason: message` lines about one object. */
  about(name: string): string[] {
    return this.events.filter((e) => e.object === name).map((e) => `${e.reason}: ${e.message}`);
  }
}

/** A fake runtime on `clock` with pause, busybox and nginx (serving its welcome page). */
export function fakeRuntime(clock: Clock): FakeRuntime {
  const fake = new FakeRuntime({ now: () => clock.now() });
  fake.addImage('registry.k8s.io/pause:3.10', { entrypoint: ['/pause'] });
  fake.addImage('busybox:latest', { cmd: ['sh'] });
  fake.addImage('nginx:latest', { cmd: ['nginx', '-g', 'daemon off;'], files: { '/usr/share/nginx/html/index.html': NGINX_WELCOME } });
  return fake;
}

/** Resolves with the cached pod once `ok` holds, re-checking on every watch event (no polling). */
export function waitForCachedPod<P extends Pod & KubeObject>(pods: Informer<P>, name: string, ok: (p: P) => boolean, ms = 5000): Promise<P> {
  return new Promise((resolve, reject) => {
    let done = false;
    const check = () => {
      const p = pods.get(`default/${name}`);
      if (!done && p && ok(p)) {
        done = true;
        clearTimeout(timer);
        resolve(p);
      }
    };
    const timer = setTimeout(() => {
      done = true;
      reject(new Error(`pod ${name}: condition not met; last status ${JSON.stringify(pods.get(`default/${name}`)?.status)}`));
    }, ms);
    pods.addHandlers({ onAdd: check, onUpdate: check });
    check();
  });
}

type PodObject = Pod & KubeObject;

/** One kubelet (node-1) on the fake runtime and a fake clock, against an in-process API server. */
export interface KubeletHarness {
  server: Awaited<ReturnType<typeof startApiServer>>;
  client: ApiClient;
  clock: FakeClock;
  fake: FakeRuntime;
  recorder: MemoryRecorder;
  kubelet: Kubelet;
  /** An informer on the default namespace's pods, started. */
  pods: Informer<PodObject>;
  /** Stops the informer, the kubelet and the API server. */
  stop(): Promise<void>;
}

/**
 * Starts the harness. `opts` are passed to the kubelet over the defaults (hour-long heartbeat
 * and resync, so only the test's own actions and clock moves cause work). `wrap` puts something
 * between the kubelet and the fake runtime (e.g. EngineFaults).
 */
export async function startKubeletHarness(opts: Partial<KubeletOptions> = {}, wrap: (fake: FakeRuntime) => Runtime = (f) => f): Promise<KubeletHarness> {
  const token = 'kubelet-test-token';
  const server = await startApiServer({ store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token, logger: { info: () => {}, error: () => {} } });
  const client = new ApiClient({ server: server.url, token });
  const clock = new FakeClock();
  const fake = fakeRuntime(clock);
  const recorder = new MemoryRecorder();
  const kubelet = new Kubelet({
    client, runtime: wrap(fake), cluster: 'test', nodeName: 'node-1', podCIDR: '10.244.1.0/24', token, address: '127.0.0.1',
    clock, recorder, heartbeatMs: 3_600_000, resyncMs: 3_600_000, log: () => {}, ...opts,
  });
  await kubelet.start();
  const pods = new Informer<PodObject>(client, { ...PODS, namespace: 'default' });
  await pods.start();
  return {
    server, client, clock, fake, recorder, kubelet, pods,
    async stop() {
      pods.stop();
      await kubelet.stop();
      await server.close();
    },
  };
}
