/**
 * PodWorkers on a fake clock with scripted handlers: one serialized worker per pod, updates
 * collapse (newest wins), the syncing → terminating → terminated lifecycle, wake-ups, retries,
 * and — the point of the design — no pod waits for another pod's termination.
 */
import { describe, expect, it } from 'vitest';
import { PodWorkers, type PodSyncHandlers } from '../../src/kubelet/podworkers.js';
import { FakeClock, flush } from './kubelet.fixtures.js';

/** A gate a handler waits on until the test opens it. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((r) => { open = r; });
  return { wait, open };
}

interface Script {
  calls: string[];
  /** Per uid: a gate the next syncTerminatingPod waits on. */
  terminating: Map<string, Promise<void>>;
  syncing: Map<string, Promise<void> | (() => Promise<void>)>;
  gone: Set<string>;
  fail: Set<string>;
}

function setup(opts: { startConcurrency?: number } = {}) {
  const clock = new FakeClock();
  const s: Script = { calls: [], terminating: new Map(), syncing: new Map(), gone: new Set(), fail: new Set() };
  const errors: string[] = [];
  const handlers: PodSyncHandlers = {
    async syncPod(uid) {
      s.calls.push(`sync ${uid}`);
      if (s.fail.has(uid)) throw new Error('boom');
      const work = s.syncing.get(uid);
      await (typeof work === 'function' ? work() : work);
    },
    async syncTerminatingPod(uid) {
      s.calls.push(`terminating ${uid}`);
      await s.terminating.get(uid);
    },
    async syncTerminatedPod(uid) {
      s.calls.push(`terminated ${uid}`);
      return s.gone.has(uid);
    },
  };
  const workers = new PodWorkers({ handlers, clock, onError: (uid, state) => errors.push(`${state} ${uid}`), ...opts });
  return { clock, s, workers, errors };
}

describe('PodWorkers', () => {
  it('collapses updates that arrive while a sync runs into one more sync', async () => {
    const { s, workers } = setup();
    const g = gate();
    s.syncing.set('a', g.wait);
    workers.update('a');
    await flush();
    for (let i = 0; i < 5; i++) workers.update('a');
    s.syncing.delete('a');
    g.open();
    await workers.idle();
    expect(s.calls).toEqual(['sync a', 'sync a']);
  });

  it('never runs two syncs of one pod at once', async () => {
    const { s, workers } = setup();
    let inside = 0;
    let most = 0;
    s.syncing.set('a', async () => {
      inside++;
      most = Math.max(most, inside);
      await flush(2);
      inside--;
    });
    for (let i = 0; i < 10; i++) {
      workers.update('a');
      await flush(1);
    }
    await workers.idle();
    expect(most).toBe(1);
  });

  it('moves a pod from syncing to terminating to terminated, and forgets it once it is gone', async () => {
    const { s, workers } = setup();
    workers.update('a');
    await workers.idle();
    expect(workers.state('a')).toBe('syncing');
    const g = gate();
    s.terminating.set('a', g.wait);
    workers.update('a', 'terminate');
    await flush();
    expect(workers.state('a')).toBe('terminating');
    // A plain sync of a terminating pod does not bring it back to syncing.
    workers.update('a', 'sync');
    g.open();
    await workers.idle();
    expect(workers.state('a')).toBe('terminated');
    s.gone.add('a');
    workers.update('a');
    await workers.idle();
    expect(workers.state('a')).toBeUndefined();
    expect(s.calls).toEqual(['sync a', 'terminating a', 'terminated a', 'terminated a']);
  });

  it('starts new pods while 50 others are stuck terminating', async () => {
    const { s, workers } = setup({ startConcurrency: 8 });
    const g = gate();
    for (let i = 0; i < 50; i++) {
      s.terminating.set(`old-${i}`, g.wait);
      workers.update(`old-${i}`, 'terminate');
    }
    await flush();
    expect(workers.counts()).toEqual({ syncing: 0, terminating: 50, terminated: 0 });
    workers.update('debug');
    await flush();
    expect(s.calls).toContain('sync debug');
    expect(workers.state('debug')).toBe('syncing');
    g.open();
    await workers.idle();
    expect(workers.counts()).toEqual({ syncing: 1, terminating: 0, terminated: 50 });
  });

  it('bounds concurrent start calls with the start slots, and only those', async () => {
    const { workers } = setup({ startConcurrency: 2 });
    let inside = 0;
    let most = 0;
    const g = gate();
    const calls = Array.from({ length: 6 }, () => workers.startSlot(async () => {
      inside++;
      most = Math.max(most, inside);
      await g.wait;
      inside--;
    }));
    await flush();
    expect(inside).toBe(2);
    g.open();
    await Promise.all(calls);
    expect(most).toBe(2);
  });

  it('wakes a pod at the earliest requested time and not before', async () => {
    const { clock, s, workers } = setup();
    workers.update('a');
    await workers.idle();
    workers.wakeAfter('a', 5000);
    workers.wakeAfter('a', 1000);
    workers.wakeAfter('a', 3000);
    await clock.advance(999);
    expect(s.calls).toEqual(['sync a']);
    await clock.advance(2);
    await workers.idle();
    expect(s.calls).toEqual(['sync a', 'sync a']);
    await clock.advance(10_000);
    expect(s.calls).toHaveLength(2);
  });

  it('retries a failed sync after the retry delay on the clock', async () => {
    const { clock, s, workers, errors } = setup();
    s.fail.add('a');
    workers.update('a');
    await workers.idle();
    expect(errors).toEqual(['syncing a']);
    s.fail.delete('a');
    await clock.advance(1999);
    expect(s.calls).toEqual(['sync a']);
    await clock.advance(2);
    await workers.idle();
    expect(s.calls).toEqual(['sync a', 'sync a']);
  });

  it('drops the wake-up of a pod that starts terminating', async () => {
    const { clock, s, workers } = setup();
    workers.update('a');
    await workers.idle();
    workers.wakeAfter('a', 1000);
    workers.update('a', 'terminate');
    await workers.idle();
    const before = s.calls.length;
    await clock.advance(5000);
    expect(s.calls.length).toBe(before);
    expect(s.calls.filter((c) => c === 'sync a')).toHaveLength(1);
  });
});
