/**
 * OomTracker: when an exited container counts as OOM-killed although the engine's flag says no
 * (Docker 20.10 loses the OOM notification of a container whose only process is killed).
 */
import { describe, expect, it } from 'vitest';
import { OomTracker } from '../../src/runtime/oom.js';

type Step = 'create-limited' | 'create-unlimited' | 'start' | 'oom-kill' | 'die' | 'oom-event' | 'stop' | 'other-oom-later';

function run(steps: Step[], exitCode = 137, engineFlag = false): boolean {
  let kills = 10;
  const t = new OomTracker(() => kills);
  for (const s of steps) {
    if (s === 'create-limited') t.created('c1', true);
    else if (s === 'create-unlimited') t.created('c1', false);
    else if (s === 'start') t.started('c1');
    else if (s === 'oom-kill' || s === 'other-oom-later') kills++;
    else if (s === 'die') t.event('c1', 'die');
    else if (s === 'oom-event') t.event('c1', 'oom');
    else if (s === 'stop') t.stopRequested('c1');
  }
  return t.oomKilled('c1', engineFlag, exitCode);
}

describe('OomTracker', () => {
  const table: [string, Step[], number, boolean, boolean][] = [
    ['the engine flag alone is enough', [], 137, true, true],
    ['an oom event after die counts (the event came late)', ['create-limited', 'start', 'die', 'oom-event'], 137, false, true],
    ['a 137 of a memory-limited container while the host OOM-killed counts', ['create-limited', 'start', 'oom-kill', 'die'], 137, false, true],
    ['a 137 with no OOM kill on the host is a plain kill', ['create-limited', 'start', 'die'], 137, false, false],
    ['an OOM kill elsewhere after this container died does not count', ['create-limited', 'start', 'die', 'other-oom-later'], 137, false, false],
    ['a container without a memory limit is never inferred', ['create-unlimited', 'start', 'oom-kill', 'die'], 137, false, false],
    ['a stop someone asked for is not an OOM kill', ['create-limited', 'start', 'stop', 'oom-kill', 'die'], 137, false, false],
    ['another exit code is not an OOM kill', ['create-limited', 'start', 'oom-kill', 'die'], 1, false, false],
    ['a container this adapter did not start falls back to the flag', ['oom-kill', 'die'], 137, false, false],
  ];
  it.each(table)('%s', (_name, steps, exitCode, flag, want) => {
    expect(run(steps, exitCode, flag)).toBe(want);
  });

  it('forgets a destroyed container', () => {
    const t = new OomTracker(() => 1);
    t.event('c1', 'oom');
    t.event('c1', 'destroy');
    expect(t.oomKilled('c1', false, 137)).toBe(false);
  });
});
