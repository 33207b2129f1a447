/**
 * The slice tracker: a controller does not plan a Service's slices from a cache that has not yet
 * seen its own creates, updates and deletes, and gives up waiting after 30 s.
 */
import { describe, expect, it } from 'vitest';
import type { EndpointSlice } from '../../src/api/types.js';
import { SliceTracker } from '../../src/controllers/slicetracker.js';

const slice = (name: string, rv: number): EndpointSlice => ({ metadata: { name, resourceVersion: String(rv) }, addressType: 'IPv4', endpoints: [] });

describe('SliceTracker', () => {
  let now = 0;
  const tracker = () => new SliceTracker(() => new Date(now));

  it.each<[string, (t: SliceTracker) => void, EndpointSlice[], boolean]>([
    ['nothing written: fresh', () => undefined, [], false],
    ['a created slice the cache lacks: stale', (t) => t.wrote('ns/web', slice('web-a', 7)), [], true],
    ['a created slice the cache has: fresh', (t) => t.wrote('ns/web', slice('web-a', 7)), [slice('web-a', 7)], false],
    ['an update the cache has an older version of: stale', (t) => t.wrote('ns/web', slice('web-a', 9)), [slice('web-a', 7)], true],
    ['an update someone changed again since: fresh', (t) => t.wrote('ns/web', slice('web-a', 9)), [slice('web-a', 12)], false],
    ['a deleted slice the cache still has: stale', (t) => t.deleted('ns/web', 'web-a'), [slice('web-a', 7)], true],
    ['a deleted slice the cache dropped: fresh', (t) => t.deleted('ns/web', 'web-a'), [], false],
    ['writes for another Service: fresh', (t) => t.wrote('ns/db', slice('db-a', 7)), [], false],
  ])('%s', (_, write, cached, stale) => {
    now = 0;
    const t = tracker();
    write(t);
    expect(t.stale('ns/web', cached)).toBe(stale);
  });

  it('forgets a write once seen, and one never seen after 30 s', () => {
    now = 0;
    const t = tracker();
    t.wrote('ns/web', slice('web-a', 7));
    expect(t.stale('ns/web', [slice('web-a', 7)])).toBe(false);
    expect(t.stale('ns/web', [])).toBe(false);
    t.wrote('ns/web', slice('web-b', 8));
    now = 29_000;
    expect(t.stale('ns/web', [])).toBe(true);
    now = 31_000;
    expect(t.stale('ns/web', [])).toBe(false);
  });
});
