/**
 * IP address and CIDR arithmetic for the API (service CIDRs, address validation), with the
 * messages Kubernetes uses (`k8s.io/apimachinery/pkg/util/validation` `IsValidIP`,
 * `core/validation` `ValidateNonSpecialIP`). IPv4 is numeric (an unsigned 32-bit number);
 * IPv6 is recognised (so it can be named as "not configured") but not computed with.
 * Pure and reentrant.
 */
import { isIP, isIPv4 } from 'node:net';

/** An IPv4 CIDR as numbers: `base` is the network address, `size` the number of addresses. */
export interface IPv4Net {
  base: number;
  prefix: number;
  size: number;
  /** As given, normalised: `10.96.0.0/16`. */
  text: string;
}

/** The dotted quad as an unsigned number, or undefined when it is not a plain IPv4 address. */
export function parseIPv4(ip: string): number | undefined {
  if (!isIPv4(ip)) return undefined;
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

/** The dotted quad of an unsigned 32-bit number. */
export function formatIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** `10.96.0.0/16` as numbers; throws an Error (with the text) for anything else, host bits included. */
export function parseIPv4CIDR(cidr: string): IPv4Net {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr.trim());
  const ip = m ? parseIPv4(m[1]) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) throw new Error(`invalid CIDR address: ${cidr}`);
  const size = 2 ** (32 - prefix);
  if (ip % size !== 0) throw new Error(`invalid CIDR ${cidr}: host bits are set (the network is ${formatIPv4(ip - (ip % size))}/${prefix})`);
  return { base: ip, prefix, size, text: `${formatIPv4(ip)}/${prefix}` };
}

/** Whether `ip` (a dotted quad) lies in `net`. */
export function inIPv4Net(net: IPv4Net, ip: string): boolean {
  const n = parseIPv4(ip);
  return n !== undefined && n >= net.base && n < net.base + net.size;
}

/** `IsValidIP`: the messages for a string that is neither an IPv4 nor an IPv6 address. */
export function isValidIP(value: string): string[] {
  return isIP(value) ? [] : ['must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'];
}

/** `IsValidIPv4Address`. */
export function isValidIPv4Address(value: string): string[] {
  return isIPv4(value) ? [] : ['must be a valid IPv4 address'];
}

/** `IPv4` or `IPv6` for a valid address, else undefined. */
export function ipFamilyOf(value: string): 'IPv4' | 'IPv6' | undefined {
  const v = isIP(value);
  return v === 4 ? 'IPv4' : v === 6 ? 'IPv6' : undefined;
}

/**
 * `ValidateNonSpecialIP`: an endpoint address may not be unspecified, loopback, link-local
 * unicast or link-local multicast (it would reach the node itself, not a pod).
 */
export function nonSpecialIPErrors(value: string): string[] {
  const n = parseIPv4(value);
  const v6 = n === undefined && isIP(value) === 6 ? value.toLowerCase() : undefined;
  const errs: string[] = [];
  if (n === 0 || v6 === '::') errs.push(`may not be unspecified (${value})`);
  if ((n !== undefined && Math.floor(n / 2 ** 24) === 127) || v6 === '::1') errs.push('may not be in the loopback range (127.0.0.0/8, ::1/128)');
  if ((n !== undefined && Math.floor(n / 2 ** 16) === 0xa9fe) || v6?.startsWith('fe8') || v6?.startsWith('fe9') || v6?.startsWith('fea') || v6?.startsWith('feb')) {
    errs.push('may not be in the link-local range (169.254.0.0/16, fe80::/10)');
  }
  if ((n !== undefined && Math.floor(n / 2 ** 8) === 0xe00000) || v6?.startsWith('ff02:')) {
    errs.push('may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)');
  }
  return errs;
}
