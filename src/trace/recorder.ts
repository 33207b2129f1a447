/**
 * The trace recorder each component is given (API server, scheduler, controllers, kubelet).
 * `record()` is synchronous and cheap: it appends to an in-memory buffer and returns. A timer
 * (unref'd) flushes the buffer in the background, one `PodTrace` object per pod per flush, one
 * write at a time, so tracing never sits on the path of a pod start and never floods the API
 * server. Bounded: at most `maxPending` records wait; beyond that the newest are dropped and
 * counted. Failures are logged, never thrown.
 */
import type { ObjectMeta } from '../api/types.js';
import type { ApiClient } from '../client/client.js';
import {
  LABEL_TRACE_POD_NAME, LABEL_TRACE_POD_UID, MAX_RECORDS_PER_OBJECT, PODTRACES, TRACE_GROUP, TRACE_VERSION, traceTime,
  type PodTrace, type SeedStep, type TracedPod, type TraceRecord, type TraceValue,
} from './types.js';

/** What a component says it did; `at` defaults to now. */
export interface TraceInput {
  step: SeedStep;
  action: string;
  message: string;
  node?: string;
  durationMs?: number;
  fields?: Record<string, TraceValue>;
  /** When it happened, if not now (e.g. a decision taken before the write that confirmed it). */
  at?: Date;
  /** Reporting component when it is not the recorder's own (the kubelet reports for the `runtime`). */
  component?: string;
  /**
   * More fields to look up at flush time, off the hot path (e.g. the runtime's own timestamps
   * of a container). Failures leave the record as it is.
   */
  enrich?: () => Promise<Record<string, TraceValue> | undefined>;
}

/** What components call. Implementations never throw and never block. */
export interface Tracer {
  record(pod: { metadata?: ObjectMeta }, input: TraceInput): void;
}

/** The tracer of tests and of components started without tracing. */
export const NO_TRACE: Tracer = { record: () => undefined };

/** Where flushed batches go (the API client, or the API server's own storage). */
export type TraceSink = (trace: PodTrace) => Promise<void>;

/** A sink writing through the API (`POST .../podtraces`). */
export function clientSink(client: Pick<ApiClient, 'create'>): TraceSink {
  return async (t) => {
    await client.create({ ...PODTRACES, namespace: t.metadata?.namespace }, t);
  };
}

export interface TraceRecorderOptions {
  /** Default `node` of records (the kubelet's node name). */
  host?: string;
  clock?: () => Date;
  /** How long records wait before a flush (default 100 ms). */
  flushMs?: number;
  /** Records kept waiting at most (default 5000). */
  maxPending?: number;
  log?: (msg: string) => void;
}

interface Pending {
  pod: TracedPod;
  records: { record: TraceRecord; enrich?: TraceInput['enrich'] }[];
}

export class TraceRecorder implements Tracer {
  private readonly clock: () => Date;
  private readonly flushMs: number;
  private readonly maxPending: number;
  private readonly log: (msg: string) => void;
  private pending = new Map<string, Pending>();
  private count = 0;
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  /** Records dropped because the buffer was full (or the recorder stopped). */
  dropped = 0;
  private stopped = false;

  /** @param component the default `component` of records, e.g. `default-scheduler`. */
  constructor(private readonly sink: TraceSink, readonly component: string, private readonly opts: TraceRecorderOptions = {}) {
    this.clock = opts.clock ?? (() => new Date());
    this.flushMs = opts.flushMs ?? 100;
    this.maxPending = opts.maxPending ?? 5000;
    this.log = opts.log ?? ((m) => console.warn(m));
  }

  record(pod: { metadata?: ObjectMeta }, input: TraceInput): void {
    const m = pod.metadata;
    if (!m?.uid || !m.name) return;
    if (this.stopped || this.count >= this.maxPending) {
      this.dropped++;
      return;
    }
    const record: TraceRecord = {
      time: traceTime(input.at ?? this.clock()),
      step: input.step,
      component: input.component ?? this.component,
      action: input.action,
      message: input.message,
    };
    const node = input.node ?? this.opts.host;
    if (node) record.node = node;
    if (input.durationMs !== undefined) record.durationMs = Math.round(input.durationMs * 10) / 10;
    if (input.fields) record.fields = input.fields;
    let p = this.pending.get(m.uid);
    if (!p) this.pending.set(m.uid, (p = { pod: { namespace: m.namespace ?? 'default', name: m.name, uid: m.uid }, records: [] }));
    p.records.push({ record, enrich: input.enrich });
    this.count++;
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.flushMs);
      this.timer.unref?.();
    }
  }

  /** Writes everything recorded so far; resolves when written (or the failure logged). Never rejects. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.pending;
    this.pending = new Map();
    this.count = 0;
    if (!batch.size) return this.writing;
    this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  /** Flushes and refuses further records. */
  async stop(): Promise<void> {
    await this.flush();
    this.stopped = true;
  }

  private async write(batch: Map<string, Pending>): Promise<void> {
    for (const p of batch.values()) {
      for (let i = 0; i < p.records.length; i += MAX_RECORDS_PER_OBJECT) {
        const chunk = p.records.slice(i, i + MAX_RECORDS_PER_OBJECT);
        try {
          const records = await Promise.all(chunk.map((r) => this.enriched(r.record, r.enrich)));
          await this.sink(toObject(p.pod, this.component, records));
        } catch (e) {
          this.log(`trace: ${p.pod.namespace}/${p.pod.name}: ${chunk.length} records not written: ${(e as Error).message}`);
        }
      }
    }
  }

  private async enriched(record: TraceRecord, enrich: TraceInput['enrich']): Promise<TraceRecord> {
    if (!enrich) return record;
    try {
      const more = await enrich();
      return more ? { ...record, fields: { ...record.fields, ...more } } : record;
    } catch {
      // Details are a bonus (the container may be gone already): the record stands without them.
      return record;
    }
  }
}

/** The stored object for one batch: `<pod>.<component>-xxxxx` in the pod's namespace. */
export function toObject(pod: TracedPod, component: string, records: TraceRecord[]): PodTrace {
  return {
    apiVersion: `${TRACE_GROUP}/${TRACE_VERSION}`,
    kind: 'PodTrace',
    metadata: {
      generateName: `${pod.name.slice(0, 200)}.${component.slice(0, 40)}-`,
      namespace: pod.namespace,
      labels: { [LABEL_TRACE_POD_UID]: pod.uid, [LABEL_TRACE_POD_NAME]: pod.name.slice(0, 63).replace(/[^a-z0-9]+$/i, '') },
    },
    pod,
    records,
  };
}
