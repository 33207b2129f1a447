/**
 * The scaffold every controller stands on (kube-controller-manager's `controller` package
 * helpers in miniature): shared informers, one rate-limited work queue, a worker pool, the clock,
 * the log and an event recorder, all passed in or defaulted in one place. A controller file then
 * holds only its handlers (which enqueue keys) and its `sync(key)` (which re-reads the caches,
 * plans and acts) — STYLE principles 4, 8 and 11.
 *
 * Lifecycle: construct (handlers are added to informers then), `start()` (caches filled, then
 * workers run), `stop()` (queue shut down, in-flight syncs awaited). `sync` is never called
 * concurrently for one key; a thrown error requeues the key with back-off.
 */
import type { KubeObject } from '../api/types.js';
import type { ApiClient, ResourceRef } from '../client/client.js';
import { EventRecorder } from '../client/events.js';
import { objectKey, type Informer, type InformerHandlers } from '../client/informer.js';
import { WorkQueue, type QueueTimers } from '../client/workqueue.js';
import { SharedInformers } from './informers.js';

/** What the controller manager (or a test) hands every controller. */
export interface ControllerContext {
  client: ApiClient;
  /** Shared informers (the manager's); default: the controller's own, stopped with it. */
  informers?: SharedInformers;
  /** Source of "now" (default: the real clock). */
  clock?: () => Date;
  /** Where progress and errors go (default: `console.error`). */
  log?: (msg: string) => void;
  /** Event recorder (default: one reporting as the controller's name). */
  recorder?: EventRecorder;
  /** Timers of the work queue's delayed adds (default: real timers). */
  timers?: QueueTimers;
  /** Concurrent workers (default: the controller's own default). */
  workers?: number;
}

/** A controller's fixed settings, given by its subclass. */
export interface ControllerSettings {
  /** Default number of workers (Kubernetes' `--concurrent-*-syncs`). */
  workers: number;
  /** Back-off of a failing key: first delay and cap (ms). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Errors not worth a log line (e.g. 409 conflicts, which simply retry). */
  quiet?: (e: unknown) => boolean;
}

export abstract class Controller {
  protected readonly client: ApiClient;
  protected readonly informers: SharedInformers;
  protected readonly clock: () => Date;
  protected readonly log: (msg: string) => void;
  protected readonly recorder: EventRecorder;
  protected readonly queue: WorkQueue;
  protected readonly workers: number;
  private readonly ownInformers: boolean;
  private readonly quiet: (e: unknown) => boolean;
  private running?: Promise<void>;

  /** @param name the component name in logs and events, e.g. `replicaset-controller`. */
  constructor(readonly name: string, ctx: ControllerContext, settings: ControllerSettings) {
    this.client = ctx.client;
    this.clock = ctx.clock ?? (() => new Date());
    this.log = ctx.log ?? ((m) => console.error(m));
    this.recorder = ctx.recorder ?? new EventRecorder(this.client, name, undefined, { clock: this.clock, log: this.log });
    this.workers = ctx.workers ?? settings.workers;
    this.quiet = settings.quiet ?? (() => false);
    this.queue = new WorkQueue({ baseDelayMs: settings.baseDelayMs ?? 50, maxDelayMs: settings.maxDelayMs ?? 30_000, timers: ctx.timers });
    this.ownInformers = !ctx.informers;
    this.informers = ctx.informers ?? new SharedInformers(this.client, (r, e) => this.log(`${name}: watch ${r.resource}: ${(e as Error).message}`));
  }

  /** The shared informer of `ref`; add handlers in the constructor. */
  protected informer<T extends KubeObject>(ref: ResourceRef): Informer<T> {
    return this.informers.get<T>(ref);
  }

  /** Queues an object's key (`namespace/name`, or `name` when cluster-scoped) or a key. */
  protected enqueue(objOrKey: KubeObject | string): void {
    const key = typeof objOrKey === 'string' ? objOrKey : objectKey(objOrKey);
    if (key) this.queue.add(key);
  }

  /** Handlers that queue the object's own key on add, update and delete. */
  protected enqueueHandlers<T extends KubeObject>(onDelete?: (obj: T) => void): InformerHandlers<T> {
    return {
      onAdd: (o) => this.enqueue(o),
      onUpdate: (_old, o) => this.enqueue(o),
      onDelete: (o) => {
        onDelete?.(o);
        this.enqueue(o);
      },
    };
  }

  /** Brings one key's objects to the wanted state. Idempotent; throw to retry with back-off. */
  protected abstract sync(key: string): Promise<void>;

  /** Runs once the caches are filled, before the workers start (e.g. to start a resync timer). */
  protected onStart(): void {}

  /** Runs when stopping, before the queue shuts down (e.g. to clear timers). */
  protected onStop(): void {}

  /** Fills the caches (starting informers not yet started), then runs the workers. */
  async start(): Promise<void> {
    await this.informers.start();
    this.onStart();
    this.running = this.queue.run(this.workers, (key) => this.sync(key), (key, e) => {
      if (!this.quiet(e)) this.log(`${this.name}: sync ${key}: ${(e as Error).message} (will retry)`);
    });
  }

  /** Stops the workers (and the informers, if they are the controller's own); awaits in-flight syncs. */
  async stop(): Promise<void> {
    this.onStop();
    if (this.ownInformers) this.informers.stop();
    this.queue.shutdown();
    await this.running;
  }
}
