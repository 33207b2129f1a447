/**
 * `up --service-cidr` and the default choice: 10.96.0.0/16 first, then the next free /16, never
 * overlapping the pod CIDR, a Docker network, a route or another cluster's range.
 */
import { describe, expect, it } from 'vitest';
import { pickServiceCIDR } from '../../src/cli/cluster.js';
import { CliError } from '../../src/cli/context.js';

const POD = '10.244.0.0/16';

describe('the service CIDR of a new cluster', () => {
  it.each<[string, string[], string]>([
    ['is 10.96.0.0/16 when nothing uses it', [POD], '10.96.0.0/16'],
    ['is the next free /16 when another cluster has 10.96.0.0/16', [POD, '10.96.0.0/16'], '10.97.0.0/16'],
    ['skips a range a smaller subnet (a Docker network, a route) overlaps', [POD, '10.96.0.0/16', '10.97.3.0/24'], '10.98.0.0/16'],
    ['avoids a pod CIDR inside the default range', ['10.96.0.0/16'], '10.97.0.0/16'],
  ])('%s', (_name, used, want) => {
    expect(pickServiceCIDR(used, POD)).toBe(want);
  });

  it('is the requested one when it is free', () => {
    expect(pickServiceCIDR([POD, '10.96.0.0/16'], POD, '10.112.0.0/16')).toBe('10.112.0.0/16');
  });

  it.each<[string, string, RegExp]>([
    ['a requested range that overlaps the pod CIDR', '10.244.0.0/16', /overlaps the pod CIDR 10\.244\.0\.0\/16/],
    ['a requested range in use on the host', '10.96.0.0/16', /overlaps the address range 10\.96\.0\.0\/16 already in use/],
    ['a requested range that is not a /16', '10.96.0.0/12', /expected a \/16/],
    ['a requested range that is not an address', '300.1.0.0/16', /expected a \/16/],
  ])('refuses %s', (_name, requested, msg) => {
    expect(() => pickServiceCIDR([POD, '10.96.0.0/16'], POD, requested)).toThrow(CliError);
    expect(() => pickServiceCIDR([POD, '10.96.0.0/16'], POD, requested)).toThrow(msg);
  });

  it('says so when every candidate is taken', () => {
    expect(() => pickServiceCIDR(['10.0.0.0/8'], POD)).toThrow(/no free 10\.x\.0\.0\/16 service CIDR left/);
  });
});
