/**
 * Validation of a pod's DNS fields (Kubernetes `validatePodDNSConfig`, `ValidateHostAliases`):
 * `dnsConfig` (required with `dnsPolicy: None`, at most 3 nameservers that are IPs, at most 32
 * search paths of at most 2048 characters that are DNS subdomains, named options) and
 * `hostAliases` (IPs and DNS-subdomain hostnames).
 */
import type { PodSpec } from './types.js';
import { invalidFormatted, invalidValue, requiredWithDetail, type FieldError } from './errors.js';
import { isDNS1123Subdomain } from './names.js';

const MAX_NAMESERVERS = 3;
const MAX_SEARCH_PATHS = 32;
const MAX_SEARCH_CHARS = 2048;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IP_MSG = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

/** Whether `s` is an IPv4 address or a plausible IPv6 one (Go's net.ParseIP, roughly). */
function isIP(s: string): boolean {
  return IPV4.test(s) || (/^[0-9a-fA-F:.]+$/.test(s) && s.includes(':') && s.split('::').length <= 2);
}

/** Go's `%#v` of a string slice: `[]string{"a", "b"}`. */
const goStrings = (xs: readonly string[]): string => `[]string{${xs.map((x) => JSON.stringify(x)).join(', ')}}`;

export function validatePodDNS(s: Partial<PodSpec>, path = 'spec'): FieldError[] {
  const errs: FieldError[] = [];
  const cfg = s.dnsConfig ?? undefined;
  const p = `${path}.dnsConfig`;
  if (s.dnsPolicy === 'None') {
    if (!cfg) return [requiredWithDetail(p, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if (!(cfg.nameservers ?? []).length) return [requiredWithDetail(`${p}.nameservers`, 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
  }
  if (cfg) {
    const ns = cfg.nameservers ?? [];
    if (ns.length > MAX_NAMESERVERS) errs.push(invalidFormatted(`${p}.nameservers`, goStrings(ns), `must not have more than ${MAX_NAMESERVERS} nameservers`));
    ns.forEach((ip, i) => {
      if (!isIP(ip)) errs.push(invalidValue(`${p}.nameservers[${i}]`, ip, IP_MSG));
    });
    const searches = cfg.searches ?? [];
    if (searches.length > MAX_SEARCH_PATHS) errs.push(invalidFormatted(`${p}.searches`, goStrings(searches), `must not have more than ${MAX_SEARCH_PATHS} search paths`));
    if (searches.join(' ').length > MAX_SEARCH_CHARS) {
      errs.push(invalidFormatted(`${p}.searches`, goStrings(searches), `must not have more than ${MAX_SEARCH_CHARS} characters (including spaces) in the search list`));
    }
    searches.forEach((search, i) => {
      if (search === '.') return;
      const name = search.replace(/\.$/, '');
      for (const msg of isDNS1123Subdomain(name)) errs.push(invalidValue(`${p}.searches[${i}]`, name, msg));
    });
    (cfg.options ?? []).forEach((o, i) => {
      if (!o.name) errs.push(requiredWithDetail(`${p}.options[${i}]`, 'must not be empty'));
    });
  }
  (s.hostAliases ?? []).forEach((a, i) => {
    if (!isIP(a.ip ?? '')) errs.push(invalidValue(`${path}.hostAliases[${i}].ip`, a.ip ?? '', IP_MSG));
    (a.hostnames ?? []).forEach((h, j) => {
      for (const msg of isDNS1123Subdomain(h)) errs.push(invalidValue(`${path}.hostAliases[${i}].hostnames[${j}]`, h, msg));
    });
  });
  return errs;
}
