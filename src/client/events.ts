/**
 * Records `v1 Event`s about objects (what `kubectl describe` shows under Events), the way
 * client-go's recorder does for the scheduler and the kubelet: one Event object per distinct
 * (object, type, reason, message); a repeat bumps its `count` and `lastTimestamp` instead of
 * creating another. Recording is best effort: failures are logged, never thrown, so a broken
 * event never breaks the work it describes.
 */
import { randomInt } from 'node:crypto';
import { ApiError } from '../api/errors.js';
import type { Event, ObjectMeta } from '../api/types.js';
import type { KubeObject } from '../api/types.js';
import { EVENTS, type ApiClient } from './client.js';

export type EventType = 'Normal' | 'Warning';

/** The object an event is about; `kind` and `apiVersion` are needed (list items may lack them). */
export interface InvolvedObject {
  kind?: string;
  apiVersion?: string;
  metadata?: ObjectMeta;
}

export interface EventRecorderOptions {
  /** Source of event timestamps and generated names. */
  clock?: () => Date;
  /** Where failures to record go (default: `console.warn`). */
  log?: (msg: string) => void;
  /** How many distinct events to remember for aggregation (default 4096, oldest forgotten). */
  maxRemembered?: number;
}

interface Remembered {
  namespace: string;
  name: string;
  count: number;
}

type EventObject = Event & KubeObject;

/** Kubernetes `Time`: RFC 3339 in UTC, whole seconds. */
export function kubeTime(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

export class EventRecorder {
  private readonly clock: () => Date;
  private readonly log: (msg: string) => void;
  private readonly max: number;
  private readonly seen = new Map<string, Remembered>();
  /** Per-key tail of the work in flight, so repeats of one event are applied in order. */
  private readonly inflight = new Map<string, Promise<void>>();
  private seq = randomInt(0, 1_000_000);

  /**
   * @param component `source.component` and `reportingComponent`, e.g. `default-scheduler`.
   * @param host `source.host` and `reportingInstance`, e.g. the kubelet's node name.
   */
  constructor(private readonly client: ApiClient, readonly component: string, readonly host?: string, opts: EventRecorderOptions = {}) {
    this.clock = opts.clock ?? (() => new Date());
    this.log = opts.log ?? ((m) => console.warn(m));
    this.max = opts.maxRemembered ?? 4096;
  }

  /**
   * Records that `reason` happened to `obj`. Events of namespaced objects go to the object's
   * namespace, others (nodes) to `default`. The returned promise settles once the event is
   * written or the failure logged; it never rejects, so callers may leave it unawaited.
   */
  event(obj: InvolvedObject, type: EventType, reason: string, message: string): Promise<void> {
    const m = obj.metadata ?? {};
    const involved = {
      kind: obj.kind ?? '', namespace: m.namespace, name: m.name ?? '', uid: m.uid, apiVersion: obj.apiVersion ?? '',
      resourceVersion: m.resourceVersion,
    };
    const key = [this.component, this.host ?? '', involved.kind, involved.namespace ?? '', involved.name, involved.uid ?? '',
      involved.apiVersion, type, reason, message].join('\u0000');
    const prev = this.inflight.get(key) ?? Promise.resolve();
    const next = prev.then(() => this.record(key, involved, type, reason, message)).catch((e: unknown) => {
      this.log(`event ${reason} for ${involved.kind} ${involved.namespace ? involved.namespace + '/' : ''}${involved.name}: not recorded: ${(e as Error).message}`);
    });
    this.inflight.set(key, next);
    void next.then(() => {
      if (this.inflight.get(key) === next) this.inflight.delete(key);
    });
    return next;
  }

  private async record(key: string, involved: Event['involvedObject'], type: EventType, reason: string, message: string): Promise<void> {
    const now = kubeTime(this.clock());
    const known = this.seen.get(key);
    if (known) {
      try {
        await this.client.patch<EventObject>({ ...EVENTS, namespace: known.namespace }, known.name, { count: known.count + 1, lastTimestamp: now });
        known.count++;
        this.remember(key, known);
        return;
      } catch (e) {
        // The event expired or was deleted: start a new one, as client-go does.
        if (!(e instanceof ApiError && e.code === 404)) throw e;
        this.seen.delete(key);
      }
    }
    const namespace = involved.namespace || 'default';
    const event: EventObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: this.eventName(involved.name ?? ''), namespace },
      involvedObject: involved,
      reason,
      message,
      type,
      source: this.host ? { component: this.component, host: this.host } : { component: this.component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: this.component,
      reportingInstance: this.host ?? '',
    };
    let created: EventObject;
    try {
      created = await this.client.create<EventObject>({ ...EVENTS, namespace }, event);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409)) throw e;
      // Another recorder picked the same generated name in the same instant: take a new one.
      created = await this.client.create<EventObject>({ ...EVENTS, namespace }, { ...event, metadata: { ...event.metadata, name: this.eventName(involved.name ?? '') } });
    }
    this.remember(key, { namespace, name: created.metadata?.name ?? event.metadata.name ?? '', count: 1 });
  }

  /** `<object name>.<hex timestamp>` like client-go (nanoseconds; the low digits are a counter). */
  private eventName(objName: string): string {
    this.seq = (this.seq + 1) % 1_000_000;
    const nanos = BigInt(this.clock().getTime()) * 1_000_000n + BigInt(this.seq);
    return `${objName}.${nanos.toString(16)}`;
  }

  private remember(key: string, r: Remembered): void {
    this.seen.delete(key);
    this.seen.set(key, r);
    while (this.seen.size > this.max) {
      const oldest = this.seen.keys().next().value;
      if (oldest === undefined) break;
      this.seen.delete(oldest);
    }
  }
}
