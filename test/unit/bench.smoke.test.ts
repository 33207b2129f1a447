/**
 * Smoke test of the benchmark harness: the simulated parts (`scheduler`, `apiserver`) run
 * in-process with tiny N and produce numeric figures. No thresholds: whether a number is good is
 * for the reader of `npm run bench`, not for CI.
 */
import { describe, expect, it } from 'vitest';
import { newContext } from '../../src/bench/context.js';
import { runApiServer } from '../../src/bench/parts/apiserver.js';
import { runScheduler } from '../../src/bench/parts/scheduler.js';
import { renderTable, type PartResult } from '../../src/bench/report.js';

const quiet = () => newContext({ quick: true, log: () => undefined });

/** Every figure has at least one sample and finite statistics. */
function expectNumeric(part: PartResult): void {
  expect(part.skipped).toBeUndefined();
  expect(part.figures.length).toBeGreaterThan(0);
  for (const f of part.figures) {
    expect(f.summary.n, f.name).toBeGreaterThan(0);
    for (const v of [f.summary.min, f.summary.p50, f.summary.p99, f.summary.max]) expect(Number.isFinite(v), `${f.name}: ${v}`).toBe(true);
  }
}

describe('bench smoke (simulated parts, tiny N, in-process)', () => {
  it('the scheduler part binds every pod and reports bound pods per second next to its reference', async () => {
    const ctx = quiet();
    const part = await runScheduler(ctx, { nodes: 10, pods: 60 });
    expectNumeric(part);
    const avg = part.figures[0];
    expect(avg.unit).toBe('pods/s');
    expect(avg.references[0]).toMatchObject({ value: 270, measured: false });
    expect(part.details).toMatchObject({ nodes: 10, pods: 60 });
    expect(renderTable([part])).toContain('pods bound/s');
    expect(ctx.cleanup.pending).toBe(0);
  }, 20_000);

  it('the apiserver part times GET, create, update, LIST, selector LIST and watch delivery', async () => {
    const ctx = quiet();
    const part = await runApiServer(ctx, {
      inProcess: true,
      size: { pods: 40, gets: 10, creates: 5, updates: 5, lists: 3, selectorLists: 3, watchers: 5, watchWrites: 4 },
    });
    expectNumeric(part);
    const names = part.figures.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['GET one pod', 'create a pod', 'update a pod (PUT)']));
    const watchEach = part.figures.find((f) => f.name.startsWith('write → watch event, each'));
    expect(watchEach?.summary.n).toBe(5 * 4);
    expect(ctx.cleanup.pending).toBe(0);
  }, 20_000);
});
