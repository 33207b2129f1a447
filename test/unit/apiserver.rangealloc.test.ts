/**
 * The range allocator behind ClusterIPs and node ports: owners, the static band dynamic
 * allocation leaves for last, release only by the holder, and a full range.
 */
import { describe, expect, it } from 'vitest';
import { ipStaticBand, portStaticBand, RangeAllocator } from '../../src/apiserver/rangealloc.js';

describe('RangeAllocator', () => {
  it('hands out the upper band first and the static band only when the upper band is full', () => {
    const a = new RangeAllocator(1, 20, 5, () => 0);
    const got = Array.from({ length: 20 }, (_, i) => a.allocateNext(`o${i}`));
    expect(got.slice(0, 15)).toEqual(Array.from({ length: 15 }, (_, i) => i + 6));
    expect(got.slice(15)).toEqual([1, 2, 3, 4, 5]);
    expect(a.allocateNext('late')).toBeUndefined();
  });

  it.each<[string, number, 'ok' | 'allocated' | 'not-in-range']>([
    ['a free value', 7, 'ok'],
    ['a value held by another owner', 5, 'allocated'],
    ['a value below the range', 0, 'not-in-range'],
    ['a value above the range', 21, 'not-in-range'],
    ['a fraction', 5.5, 'not-in-range'],
  ])('answers a request for %s with %s', (_, v, want) => {
    const a = new RangeAllocator(1, 20, 5);
    a.allocate(5, 'first');
    expect(a.allocate(v, 'second')).toBe(want);
  });

  it('lets the holder take its value again, and only the holder release it', () => {
    const a = new RangeAllocator(1, 20, 5);
    expect(a.allocate(9, 'me')).toBe('ok');
    expect(a.allocate(9, 'me')).toBe('ok');
    a.release(9, 'someone-else');
    expect(a.ownerOf(9)).toBe('me');
    a.release(9, 'me');
    expect(a.has(9)).toBe(false);
  });

  it('skips values the caller refuses', () => {
    const a = new RangeAllocator(1, 3, 0, () => 0);
    expect(a.allocateNext('x', (v) => v !== 3)).toBe(3);
    expect(a.allocateNext('y', (v) => v !== 3)).toBeUndefined();
  });

  it.each<[string, number, number]>([
    ['a /16 has a 256-address static band', 65536, 256],
    ['a /24 has a 16-address static band', 256, 16],
    ['a /20 has a 256-address static band', 4096, 256],
  ])('%s', (_, size, band) => expect(ipStaticBand(size)).toBe(band));

  it('gives 30000-32767 an 86-port static band, as Kubernetes does', () => {
    expect(portStaticBand(2768)).toBe(86);
  });
});
