/** Validation of a pod's dnsConfig and hostAliases, with Kubernetes' field paths and messages. */
import { describe, expect, it } from 'vitest';
import type { PodSpec } from '../../src/api/types.js';
import { validatePodDNS } from '../../src/api/dnsvalidation.js';

const msgs = (s: Partial<PodSpec>) => validatePodDNS(s).map((e) => `${e.field}: ${e.message}`);

describe('pod DNS validation', () => {
  it.each<[string, Partial<PodSpec>, string[]]>([
    ['ClusterFirst without dnsConfig is fine', { dnsPolicy: 'ClusterFirst' }, []],
    ['None without dnsConfig is refused', { dnsPolicy: 'None' }, ['spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None']],
    ['None without nameservers is refused', { dnsPolicy: 'None', dnsConfig: { searches: ['a.example'] } },
      ['spec.dnsConfig.nameservers: Required value: must provide at least one DNS nameserver when `dnsPolicy` is None']],
    ['a nameserver that is not an IP', { dnsConfig: { nameservers: ['dns.example'] } },
      ['spec.dnsConfig.nameservers[0]: Invalid value: "dns.example": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']],
    ['four nameservers', { dnsConfig: { nameservers: ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4'] } },
      ['spec.dnsConfig.nameservers: Invalid value: []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"}: must not have more than 3 nameservers']],
    ['a search path that is not a DNS subdomain (a trailing dot and "." are fine)', { dnsConfig: { searches: ['ok.example.', '.', 'Bad_Domain'] } },
      ['spec.dnsConfig.searches[2]: Invalid value: "Bad_Domain": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')']],
    ['an option without a name', { dnsConfig: { options: [{ value: '2' }] } }, ['spec.dnsConfig.options[0]: Required value: must not be empty']],
    ['a host alias with a bad IP and hostname', { hostAliases: [{ ip: '1.2.3', hostnames: ['ok.local', 'no way'] }] }, [
      'spec.hostAliases[0].ip: Invalid value: "1.2.3": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      expect.stringMatching(/^spec\.hostAliases\[0\]\.hostnames\[1\]: Invalid value: "no way": a lowercase RFC 1123 subdomain/) as unknown as string,
    ]],
  ])('%s', (_name, spec, want) => {
    expect(msgs(spec)).toEqual(want);
  });
});
