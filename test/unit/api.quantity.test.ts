import { describe, expect, it } from 'vitest';
import {
  QUANTITY_FORMAT_ERROR, QUANTITY_SUFFIX_ERROR, addQuantity, bytesQuantity, compareQuantity, cpuToMillis, formatQuantity,
  memoryToBytes, milliQuantity, parseQuantity,
} from '../../src/api/quantity.js';

describe('parseQuantity', () => {
  it.each([
    ['100m', 0.1],
    ['0.5', 0.5],
    ['1', 1],
    ['128Mi', 134217728],
    ['1Gi', 1073741824],
    ['1G', 1e9],
    ['1k', 1000],
    ['1e3', 1000],
    ['1.5e3', 1500],
    ['1E3', 1000],
    ['1e-3', 0.001],
    ['1Ki', 1024],
    ['250u', 0.00025],
    ['+2', 2],
    ['-1', -1],
    ['1.', 1],
    ['.5', 0.5],
    [' 2 ', 2],
    [2, 2],
    [0.25, 0.25],
  ] as const)('reads %j as %d', (input, value) => {
    const r = parseQuantity(input);
    expect(r.ok && r.value).toBe(value);
  });

  it.each([
    ['', QUANTITY_FORMAT_ERROR],
    ['abc', QUANTITY_FORMAT_ERROR],
    ['1.2.3', QUANTITY_FORMAT_ERROR],
    ['1Mb', QUANTITY_FORMAT_ERROR],
    ['1 Gi', QUANTITY_FORMAT_ERROR],
    ['1K', QUANTITY_SUFFIX_ERROR],
    ['1e', QUANTITY_SUFFIX_ERROR],
    ['1m1', QUANTITY_SUFFIX_ERROR],
  ])('refuses %j with Kubernetes\' message', (input, error) => {
    expect(parseQuantity(input)).toEqual({ ok: false, error });
  });

  it('states the regular expression quantities must match', () => {
    expect(QUANTITY_FORMAT_ERROR).toBe("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  });

  it('rounds amounts finer than a nano up, so a tiny request is never zero', () => {
    const r = parseQuantity('0.1n');
    expect(r.ok && formatQuantity(r.quantity)).toBe('1n');
  });
});

describe('formatQuantity prints the canonical form', () => {
  it.each([
    ['100m', '100m'],
    ['0.5', '500m'],
    ['1000m', '1'],
    ['1500m', '1500m'],
    ['2.5', '2500m'],
    ['1000', '1k'],
    ['1500', '1500'],
    ['1200000', '1200k'],
    ['128Mi', '128Mi'],
    ['1024Mi', '1Gi'],
    ['1536Mi', '1536Mi'],
    ['0.5Gi', '512Mi'],
    ['1.5Ki', '1536'],
    ['0.1Ki', '102400m'],
    ['100Ki', '100Ki'],
    ['1G', '1G'],
    ['1e3', '1e3'],
    ['1.5e3', '1500'],
    ['12e6', '12e6'],
    ['0', '0'],
    ['0Mi', '0'],
    ['-1500m', '-1500m'],
    [0.25, '250m'],
  ] as const)('%j prints as %j', (input, out) => {
    expect(formatQuantity(input)).toBe(out);
  });

  it('throws Kubernetes\' parse error for a malformed string', () => {
    expect(() => formatQuantity('lots')).toThrow(QUANTITY_FORMAT_ERROR);
  });
});

describe('cpuToMillis', () => {
  it.each([
    ['100m', 100],
    ['0.5', 500],
    ['2', 2000],
    ['1.5', 1500],
    ['0.0001', 1],
    [1, 1000],
  ] as const)('%j is %d millicores, rounded up', (q, millis) => {
    expect(cpuToMillis(q)).toBe(millis);
  });
});

describe('memoryToBytes', () => {
  it.each([
    ['128Mi', 134217728],
    ['1Gi', 1073741824],
    ['1G', 1e9],
    ['1.5', 2],
    ['64M', 64e6],
  ] as const)('%j is %d bytes, rounded up', (q, bytes) => {
    expect(memoryToBytes(q)).toBe(bytes);
  });
});

describe('quantity arithmetic', () => {
  it('compares by amount, not by spelling', () => {
    expect(compareQuantity('1', '1000m')).toBe(0);
    expect(compareQuantity('500m', '1')).toBe(-1);
    expect(compareQuantity('1Gi', '1G')).toBe(1);
  });

  it('adds and keeps the first operand\'s format', () => {
    expect(formatQuantity(addQuantity('100m', '0.5'))).toBe('600m');
    expect(formatQuantity(addQuantity('1Gi', '512Mi'))).toBe('1536Mi');
  });

  it('builds quantities from millicores and bytes for printing', () => {
    expect(formatQuantity(milliQuantity(250))).toBe('250m');
    expect(formatQuantity(bytesQuantity(134217728))).toBe('128Mi');
    expect(formatQuantity(bytesQuantity(1e9, 'DecimalSI'))).toBe('1G');
  });
});
