/**
 * Kubernetes resource quantities (`100m`, `0.5`, `128Mi`, `1G`, `1e3`), parsed and printed the
 * way `k8s.io/apimachinery/pkg/api/resource` does: exact decimal arithmetic with nano
 * precision (finer amounts round up), a remembered format (decimal, binary or exponent), and
 * a canonical printed form (`1000m` prints as `1`, `0.5` as `500m`, `1536Mi` stays `1536Mi`,
 * `1024Mi` becomes `1Gi`).
 *
 * All functions are pure.
 */

/** How a quantity prints: `1k` (DecimalSI), `1Ki` (BinarySI) or `1e3` (DecimalExponent). */
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** An exact quantity: its amount in billionths (nano units) and the format it prints in. */
export interface Quantity {
  readonly nanos: bigint;
  readonly format: QuantityFormat;
}

/** Result of {@link parseQuantity}: `value` is the amount in base units (cores, bytes) as a float. */
export type QuantityResult =
  | { ok: true; quantity: Quantity; value: number }
  | { ok: false; error: string };

/** Kubernetes' parse errors, word for word. */
export const QUANTITY_FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
export const QUANTITY_NUMERIC_ERROR = 'unable to parse numeric part of quantity';
export const QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix";

const NANO = 1_000_000_000n;
const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));
const BINARY_BY_EXPONENT = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
/** Kubernetes caps binary quantities at the largest int64. */
const MAX_BINARY_NANOS = ((1n << 63n) - 1n) * NANO;
/** Larger exponents are refused rather than computed (Kubernetes would build a huge decimal). */
const MAX_EXPONENT = 1000;

const pow10 = (n: number): bigint => 10n ** BigInt(n);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Splits a quantity into sign, integer digits, fraction digits and suffix, as Kubernetes does. */
function splitQuantity(str: string): { positive: boolean; num: string; denom: string; suffix: string } | undefined {
  let pos = 0;
  let positive = true;
  if (str[0] === '-') { positive = false; pos++; } else if (str[0] === '+') pos++;
  while (str[pos] === '0') pos++;
  if (pos >= str.length) return { positive, num: '0', denom: '', suffix: '' };
  const numStart = pos;
  while (isDigit(str[pos])) pos++;
  const num = str.slice(numStart, pos) || '0';
  let denom = '';
  if (str[pos] === '.') {
    pos++;
    const denomStart = pos;
    while (isDigit(str[pos])) pos++;
    denom = str.slice(denomStart, pos);
  }
  const suffixStart = pos;
  while (pos < str.length && 'eEinumkKMGTP'.includes(str[pos])) pos++;
  if (str[pos] === '-' || str[pos] === '+') pos++;
  while (isDigit(str[pos])) pos++;
  if (pos < str.length) return undefined;
  return { positive, num, denom, suffix: str.slice(suffixStart) };
}

/** Divides, rounding any remainder away from zero (Kubernetes rounds sub-nano amounts up). */
function divRoundUp(n: bigint, d: bigint): bigint {
  const q = n / d;
  return n % d === 0n ? q : q + 1n;
}

/**
 * Parses a quantity as written in a manifest (a string, or a bare YAML/JSON number).
 * Never throws: a malformed quantity gives `{ ok: false, error }` with Kubernetes' message.
 */
export function parseQuantity(input: string | number): QuantityResult {
  if (typeof input === 'number' && !Number.isFinite(input)) return { ok: false, error: QUANTITY_NUMERIC_ERROR };
  const str = String(input).trim();
  if (str.length === 0) return { ok: false, error: QUANTITY_FORMAT_ERROR };
  const parts = splitQuantity(str);
  if (!parts) return { ok: false, error: QUANTITY_FORMAT_ERROR };
  const { positive, num, denom, suffix } = parts;

  let base: 2 | 10;
  let exponent: number;
  let format: QuantityFormat;
  if (suffix in DECIMAL_SUFFIXES) {
    base = 10; exponent = DECIMAL_SUFFIXES[suffix]; format = 'DecimalSI';
  } else if (suffix in BINARY_SUFFIXES) {
    base = 2; exponent = BINARY_SUFFIXES[suffix]; format = 'BinarySI';
  } else if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[-+]?[0-9]+$/.test(suffix.slice(1))) {
    base = 10; exponent = Number(suffix.slice(1)); format = 'DecimalExponent';
    if (Math.abs(exponent) > MAX_EXPONENT) return { ok: false, error: QUANTITY_NUMERIC_ERROR };
  } else {
    return { ok: false, error: QUANTITY_SUFFIX_ERROR };
  }

  const digits = BigInt(num + denom);
  let nanos: bigint;
  if (base === 10) {
    const shift = exponent - denom.length + 9;
    nanos = shift >= 0 ? digits * pow10(shift) : divRoundUp(digits, pow10(-shift));
  } else {
    const scaled = digits * (1n << BigInt(exponent));
    const shift = 9 - denom.length;
    nanos = shift >= 0 ? scaled * pow10(shift) : divRoundUp(scaled, pow10(-shift));
    if (nanos > MAX_BINARY_NANOS) nanos = MAX_BINARY_NANOS;
  }
  if (format === 'BinarySI' && nanos < 1024n * NANO) format = 'DecimalSI';
  const quantity: Quantity = { nanos: positive ? nanos : -nanos, format };
  return { ok: true, quantity, value: quantityValue(quantity) };
}

/** The amount in base units (cores, bytes) as a float; exact for everyday values. */
export const quantityValue = (q: Quantity): number => Number(q.nanos) / 1e9;

function toQuantity(q: Quantity | string | number): Quantity {
  if (typeof q === 'object') return q;
  const r = parseQuantity(q);
  if (!r.ok) throw new Error(`${r.error}: ${JSON.stringify(q)}`);
  return r.quantity;
}

/** Ceiling of nanos / divisor (toward +infinity), like Kubernetes' `ScaledValue`. */
function scaledCeil(nanos: bigint, divisor: bigint): number {
  const q = nanos / divisor;
  return Number(nanos % divisor > 0n ? q + 1n : q);
}

/**
 * CPU in millicores, rounded up (`100m` → 100, `0.5` → 500, `2` → 2000), like `MilliValue()`.
 * Throws an Error with Kubernetes' parse message for a malformed string; validated objects
 * never hold one.
 */
export const cpuToMillis = (q: Quantity | string | number): number => scaledCeil(toQuantity(q).nanos, 1_000_000n);

/**
 * Memory in bytes, rounded up (`128Mi` → 134217728, `1G` → 1e9), like `Value()`.
 * Throws like {@link cpuToMillis}.
 */
export const memoryToBytes = (q: Quantity | string | number): number => scaledCeil(toQuantity(q).nanos, NANO);

/** -1, 0 or 1 as `a` is less than, equal to or greater than `b` (`1` equals `1000m`). */
export function compareQuantity(a: Quantity | string | number, b: Quantity | string | number): -1 | 0 | 1 {
  const x = toQuantity(a).nanos;
  const y = toQuantity(b).nanos;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The sum, printed in the first operand's format (as Kubernetes' `Add` does). */
export function addQuantity(a: Quantity | string | number, b: Quantity | string | number): Quantity {
  const x = toQuantity(a);
  return { nanos: x.nanos + toQuantity(b).nanos, format: x.format };
}

/** A DecimalSI quantity from millicores (250 → `250m`). */
export const milliQuantity = (millis: number): Quantity => ({ nanos: BigInt(Math.round(millis)) * 1_000_000n, format: 'DecimalSI' });

/** A quantity from a byte count, BinarySI by default (134217728 → `128Mi`). */
export const bytesQuantity = (bytes: number, format: QuantityFormat = 'BinarySI'): Quantity =>
  ({ nanos: BigInt(Math.round(bytes)) * NANO, format });

/**
 * Kubernetes' canonical form, as `kubectl` and the API server print it: `1000m` → `1`,
 * `0.5` → `500m`, `1000` → `1k`, `1536Mi` → `1536Mi`, `1024Mi` → `1Gi`, `1e3` → `1e3`.
 * Binary quantities that are fractional or below 1024 print as decimal. Throws like
 * {@link cpuToMillis} for a malformed string.
 */
export function formatQuantity(q: Quantity | string | number): string {
  const { nanos, format: requested } = toQuantity(q);
  if (nanos === 0n) return '0';
  let format = requested;
  const abs = nanos < 0n ? -nanos : nanos;
  if (format === 'BinarySI' && (abs < 1024n * NANO || abs % NANO !== 0n)) format = 'DecimalSI';

  if (format === 'BinarySI') {
    let amount = nanos / NANO;
    let exp = 0;
    while (exp < BINARY_BY_EXPONENT.length - 1 && amount % 1024n === 0n) { amount /= 1024n; exp++; }
    return `${amount}${BINARY_BY_EXPONENT[exp]}`;
  }

  let mantissa = nanos;
  let exp = -9;
  while (mantissa % 10n === 0n) { mantissa /= 10n; exp++; }
  const down = ((exp % 3) + 3) % 3;
  mantissa *= pow10(down);
  exp -= down;
  if (format === 'DecimalExponent') return exp === 0 ? `${mantissa}` : `${mantissa}e${exp}`;
  if (exp > 18) { mantissa *= pow10(exp - 18); exp = 18; }
  return `${mantissa}${DECIMAL_BY_EXPONENT.get(exp) ?? ''}`;
}
