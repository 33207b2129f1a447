/**
 * Validation of a pod's DNS fields (Kubernetes `validatePodDNSConfig`, `ValidateHostAliases`):
 * `dnsConfig` (required with `dnsPolicy: None`, at most 3 nameservers that are IPs, at most 32
 * search paths of at most 2048 characters that are DNS subdomains, named options) and
 * `hostAliases` (IPs and DNS-subdomain hostnames).
 */
import type { PodSpec } from './types.js';
import { invalidFormatted, invalidValue, requiredWithDetail, type FieldError } from './errors.js';
import { isDNS1123Subdomain } from './names.js';
import { isValidIP } from './ip.js';

const MAX_NAMESERVERS = 3;
const MAX_SEARCH_PATHS = 32;
const MAX_SEARCH_CHARS = 2048;
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
      for (const msg of isValidIP(ip)) errs.push(invalidValue(`${p}.nameservers[${i}]`, ip, msg));
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
    for (const msg of isValidIP(a.ip ?? '')) errs.push(invalidValue(`${path}.hostAliases[${i}].ip`, a.ip ?? '', msg));
    (a.hostnames ?? []).forEach((h, j) => {
      for (const msg of isDNS1123Subdomain(h)) errs.push(invalidValue(`${path}.hostAliases[${i}].hostnames[${j}]`, h, msg));
    });
  });
  return errs;
}
