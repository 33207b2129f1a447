/**
 * A resilient subscription to the engine's container event stream, shared by all handlers of
 * one runtime. Knows nothing of dockerode: it is given a `connect` function that opens a stream
 * of newline-delimited JSON events (Docker's `/events` format), so it can be tested with plain
 * streams.
 *
 * Delivery is at-least-once: when the stream ends while someone is subscribed it reconnects
 * (exponential backoff, never a busy loop) asking the engine to replay from the last event it
 * saw, so an event may be delivered twice but not lost (within the engine's event buffer).
 * Handlers must therefore be idempotent — in minikube-lite they only enqueue a pod key — and
 * must not throw (an exception is re-raised as an uncaught error).
 */
import type { Runtime } from './types.js';

export type ContainerEvent = Parameters<Parameters<Runtime['onContainerEvent']>[0]>[0];
export type ContainerEventHandler = (e: ContainerEvent) => void;

const ACTIONS: ReadonlySet<string> = new Set(['start', 'die', 'destroy', 'oom']);
/** Keys Docker adds to `Actor.Attributes` next to the container's labels. */
const ENGINE_ATTRIBUTES: ReadonlySet<string> = new Set(['image', 'name', 'exitCode', 'signal']);

export interface ContainerEventHubOptions {
  /**
   * Opens the event stream, replaying events since `sinceSeconds` (Unix seconds, fractional).
   * Rejects when the engine cannot be reached; the hub then retries with backoff.
   */
  connect: (sinceSeconds: number) => Promise<NodeJS.ReadableStream>;
  /** First and largest reconnect delay. */
  backoff?: { initialMs: number; maxMs: number };
  /** Wall clock in milliseconds (injected for tests). */
  nowMs?: () => number;
}

/** Parses one line of Docker's event stream; undefined for anything that is not a container lifecycle event. */
export function parseContainerEvent(line: string): (ContainerEvent & { timeNano: number }) | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined; // Not JSON (e.g. a proxy's keep-alive noise): nothing to deliver.
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const ev = raw as { Type?: unknown; Action?: unknown; id?: unknown; timeNano?: unknown; time?: unknown; Actor?: { ID?: unknown; Attributes?: unknown } };
  if (ev.Type !== undefined && ev.Type !== 'container') return undefined;
  const action = typeof ev.Action === 'string' ? ev.Action : '';
  if (!ACTIONS.has(action)) return undefined;
  const id = typeof ev.Actor?.ID === 'string' ? ev.Actor.ID : typeof ev.id === 'string' ? ev.id : '';
  if (!id) return undefined;
  const labels: Record<string, string> = {};
  const attrs = ev.Actor?.Attributes;
  if (typeof attrs === 'object' && attrs !== null) {
    for (const [k, v] of Object.entries(attrs)) {
      if (typeof v === 'string' && !ENGINE_ATTRIBUTES.has(k)) labels[k] = v;
    }
  }
  const timeNano = typeof ev.timeNano === 'number' ? ev.timeNano : typeof ev.time === 'number' ? ev.time * 1e9 : 0;
  return { id, action: action as ContainerEvent['action'], labels, timeNano };
}

/**
 * Fans one engine event stream out to many handlers. The stream is opened when the first
 * handler subscribes and closed when the last one unsubscribes. Not reentrant-sensitive:
 * handlers may subscribe/unsubscribe from inside a callback.
 */
/** How many recent events are remembered for de-duplication. */
const SEEN_MAX = 4096;

export class ContainerEventHub {
  private readonly handlers = new Set<ContainerEventHandler>();
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly nowMs: () => number;
  /** Bumped on every (re)connect and on close; callbacks of older streams are ignored. */
  private generation = 0;
  private stream?: NodeJS.ReadableStream;
  private timer?: NodeJS.Timeout;
  private delayMs: number;
  /** Replay point for the next connection (Unix seconds). */
  private sinceSeconds = 0;
  /**
   * Recently delivered events (id/action/time), to drop the duplicates a reconnect replays.
   * A set rather than a "newest time" mark: Docker emits concurrent events slightly out of time
   * order, and an older-looking event is still new.
   */
  private readonly seen = new Set<string>();

  constructor(private readonly opts: ContainerEventHubOptions) {
    this.backoff = opts.backoff ?? { initialMs: 250, maxMs: 5_000 };
    this.delayMs = this.backoff.initialMs;
    this.nowMs = opts.nowMs ?? Date.now;
  }

  /** Adds a handler; returns its unsubscribe function (idempotent). */
  subscribe(handler: ContainerEventHandler): () => void {
    // A distinct wrapper per call, so the same function subscribed twice is two subscriptions.
    const entry: ContainerEventHandler = (e) => handler(e);
    this.handlers.add(entry);
    if (this.handlers.size === 1) {
      this.sinceSeconds = this.nowMs() / 1000;
      this.delayMs = this.backoff.initialMs;
      this.connect();
    }
    return () => {
      if (this.handlers.delete(entry) && this.handlers.size === 0) this.close();
    };
  }

  /** Number of live subscriptions (for tests and diagnostics). */
  get subscribers(): number {
    return this.handlers.size;
  }

  private connect(): void {
    const gen = ++this.generation;
    this.opts.connect(this.sinceSeconds).then(
      (stream) => {
        if (gen !== this.generation) {
          destroy(stream);
          return;
        }
        this.attach(stream, gen);
      },
      () => {
        // The engine is unreachable; retrying is the whole point, the next attempt reports nothing new.
        if (gen === this.generation) this.scheduleReconnect();
      },
    );
  }

  private attach(stream: NodeJS.ReadableStream, gen: number): void {
    this.stream = stream;
    let buf = '';
    let ended = false;
    stream.on('data', (chunk: Buffer | string) => {
      if (gen !== this.generation) return;
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) this.deliver(line);
      }
    });
    const onEnd = () => {
      if (ended || gen !== this.generation) return;
      ended = true;
      this.stream = undefined;
      this.scheduleReconnect();
    };
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onEnd);
  }

  private deliver(line: string): void {
    const ev = parseContainerEvent(line);
    if (!ev) return;
    this.delayMs = this.backoff.initialMs;
    const key = `${ev.id}/${ev.action}/${ev.timeNano}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.values().next().value as string);
    if (ev.timeNano > 0) this.sinceSeconds = Math.max(this.sinceSeconds, ev.timeNano / 1e9);
    const event: ContainerEvent = { id: ev.id, action: ev.action, labels: ev.labels };
    for (const h of [...this.handlers]) {
      try {
        h(event);
      } catch (err) {
        // A throwing handler is a bug: surface it as an uncaught error, but after the other
        // handlers got the event and without breaking this stream's parsing.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  private scheduleReconnect(): void {
    if (this.handlers.size === 0 || this.timer) return;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.backoff.maxMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.handlers.size > 0) this.connect();
    }, delay);
  }

  private close(): void {
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stream) destroy(this.stream);
    this.stream = undefined;
  }
}

function destroy(stream: NodeJS.ReadableStream): void {
  const s = stream as NodeJS.ReadableStream & { destroy?: () => void };
  if (typeof s.destroy === 'function') s.destroy();
}
