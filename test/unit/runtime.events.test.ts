/**
 * The event hub behind DockerRuntime.onContainerEvent, driven by plain streams and fake
 * timers: parsing, fan-out, reconnect with backoff and replay, unsubscribe.
 */
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ContainerEventHub, parseContainerEvent, type ContainerEvent } from '../../src/runtime/events.js';

const line = (id: string, action: string, timeNano: number, attrs: Record<string, string> = {}) =>
  JSON.stringify({ Type: 'container', Action: action, status: action, id, Actor: { ID: id, Attributes: { image: 'busybox', name: 'c', ...attrs } }, time: Math.floor(timeNano / 1e9), timeNano }) + '\n';

/** A connect function handing out streams the test controls. */
function engine(opts: { fail?: number } = {}) {
  const streams: PassThrough[] = [];
  const since: number[] = [];
  let failures = opts.fail ?? 0;
  const connect = async (s: number) => {
    since.push(s);
    if (failures-- > 0) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const stream = new PassThrough();
    streams.push(stream);
    return stream;
  };
  return { connect, streams, since };
}

const flush = () => vi.advanceTimersByTimeAsync(0);

describe('parseContainerEvent', () => {
  it('keeps the container labels and drops the attributes Docker adds', () => {
    expect(parseContainerEvent(line('abc', 'die', 5e9, { exitCode: '3', 'io.kubernetes.pod.uid': 'u1' }))).toEqual({
      id: 'abc',
      action: 'die',
      labels: { 'io.kubernetes.pod.uid': 'u1' },
      timeNano: 5e9,
    });
  });

  it.each([
    ['an exec event', line('abc', 'exec_start: sh', 1)],
    ['a network event', JSON.stringify({ Type: 'network', Action: 'connect', Actor: { ID: 'n' } })],
    ['a line that is not JSON', 'not json'],
    ['an event without an id', JSON.stringify({ Type: 'container', Action: 'die' })],
  ])('ignores %s', (_name, text) => {
    expect(parseContainerEvent(text)).toBeUndefined();
  });
});

describe('ContainerEventHub', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('delivers an event that arrives slightly out of time order, and drops only true duplicates', async () => {
    const e = engine();
    const hub = new ContainerEventHub({ connect: e.connect, nowMs: () => 1000 });
    const got: string[] = [];
    const off = hub.subscribe((ev) => got.push(`${ev.id}/${ev.action}`));
    await flush();
    e.streams[0].write(line('a', 'destroy', 2_000_000_002));
    e.streams[0].write(line('b', 'destroy', 2_000_000_001));
    e.streams[0].write(line('a', 'destroy', 2_000_000_002));
    await flush();
    expect(got).toEqual(['a/destroy', 'b/destroy']);
    off();
  });

  it('fans events out to every handler, also when a line arrives in pieces', async () => {
    const e = engine();
    const hub = new ContainerEventHub({ connect: e.connect, nowMs: () => 1000 });
    const a: ContainerEvent[] = [];
    const b: ContainerEvent[] = [];
    hub.subscribe((ev) => a.push(ev));
    hub.subscribe((ev) => b.push(ev));
    await flush();
    expect(e.streams).toHaveLength(1);
    expect(e.since).toEqual([1]);
    const text = line('c1', 'start', 2e9) + line('c1', 'die', 3e9);
    e.streams[0].write(text.slice(0, 30));
    e.streams[0].write(text.slice(30));
    expect(a.map((x) => x.action)).toEqual(['start', 'die']);
    expect(b).toEqual(a);
  });

  it('reconnects with growing backoff, replays from the last event and drops duplicates', async () => {
    const e = engine();
    const hub = new ContainerEventHub({ connect: e.connect, backoff: { initialMs: 100, maxMs: 1000 }, nowMs: () => 1000 });
    const seen: string[] = [];
    hub.subscribe((ev) => seen.push(`${ev.id}/${ev.action}`));
    await flush();
    e.streams[0].write(line('c1', 'die', 7e9));
    e.streams[0].end();
    await flush();
    await vi.advanceTimersByTimeAsync(99);
    expect(e.streams).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(e.streams).toHaveLength(2);
    expect(e.since[1]).toBe(7);
    // The engine replays the event we already delivered, then a new one.
    e.streams[1].write(line('c1', 'die', 7e9) + line('c2', 'start', 8e9));
    expect(seen).toEqual(['c1/die', 'c2/start']);
    // A stream that ends without events: the delay doubles (the last event reset it to 100).
    e.streams[1].end();
    await vi.advanceTimersByTimeAsync(100);
    expect(e.streams).toHaveLength(3);
    e.streams[2].end();
    await vi.advanceTimersByTimeAsync(199);
    expect(e.streams).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(e.streams).toHaveLength(4);
  });

  it('retries when the engine is unreachable, without a busy loop', async () => {
    const e = engine({ fail: 3 });
    const hub = new ContainerEventHub({ connect: e.connect, backoff: { initialMs: 100, maxMs: 250 }, nowMs: () => 0 });
    hub.subscribe(() => {});
    await flush();
    expect(e.since).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100 + 200 + 250);
    expect(e.since).toHaveLength(4);
    expect(e.streams).toHaveLength(1);
  });

  it('the last unsubscribe closes the stream and stops reconnecting', async () => {
    const e = engine();
    const hub = new ContainerEventHub({ connect: e.connect, backoff: { initialMs: 100, maxMs: 100 } });
    const seen: string[] = [];
    const first = hub.subscribe((ev) => seen.push(ev.id));
    const second = hub.subscribe(() => {});
    await flush();
    first();
    first();
    e.streams[0].write(line('c1', 'die', 1));
    expect(seen).toEqual([]);
    expect(hub.subscribers).toBe(1);
    second();
    expect(e.streams[0].destroyed).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(e.streams).toHaveLength(1);
  });

  it('a stream that opens after everyone left is closed at once', async () => {
    const e = engine();
    const hub = new ContainerEventHub({ connect: e.connect });
    hub.subscribe(() => {})();
    await flush();
    expect(e.streams[0].destroyed).toBe(true);
  });
});
