/**
 * The DNS server on real sockets (127.0.0.1, a free port): UDP and TCP, RCODEs, truncation of
 * large UDP answers, forwarding to an upstream (a fake resolver on loopback), SERVFAIL before
 * the caches are ready, FORMERR for garbage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Service } from '../../src/api/types.js';
import { queryDns, rcodeOf } from '../../src/dns/client.js';
import { buildIndex, type DnsIndex } from '../../src/dns/records.js';
import { DnsServer, parseUpstream } from '../../src/dns/server.js';

const many = 60;
const index = buildIndex({
  services: [
    { metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] } } as Service,
    { metadata: { name: 'big', namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] } } as Service,
    { metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'db.example.org' } } as Service,
  ],
  slices: [{
    addressType: 'IPv4', metadata: { name: 'big-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'big' } },
    endpoints: Array.from({ length: many }, (_, i) => ({ addresses: [`10.244.1.${i + 2}`], conditions: { ready: true } })),
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  } as EndpointSlice],
  pods: [],
});

/** A stand-in upstream resolver on loopback: answers every A question with 192.0.2.1. */
function fakeUpstream(): Promise<{ port: number; close: () => void; seen: string[] }> {
  const sock = createSocket('udp4');
  const seen: string[] = [];
  sock.on('message', (msg, r) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions?.[0];
    seen.push(question?.name ?? '');
    sock.send(dnsPacket.encode({
      id: q.id, type: 'response', flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions,
      answers: question?.type === 'A' ? [{ type: 'A', name: question.name, ttl: 60, data: '192.0.2.1' }] : [],
    }), r.port, r.address);
  });
  return new Promise((resolve) => sock.bind(0, '127.0.0.1', () => resolve({ port: sock.address().port, close: () => sock.close(), seen })));
}

describe('DNS server on loopback', () => {
  let ready: DnsIndex | undefined = index;
  const server = new DnsServer({ index: () => ready });
  let port = 0;
  let upstream: Awaited<ReturnType<typeof fakeUpstream>>;
  let forwarding: DnsServer;
  let fport = 0;

  beforeAll(async () => {
    port = (await server.listen('127.0.0.1', 0)).udpPort;
    upstream = await fakeUpstream();
    forwarding = new DnsServer({ index: () => index, upstream: { host: '127.0.0.1', port: upstream.port } });
    fport = (await forwarding.listen('127.0.0.1', 0)).udpPort;
  });
  afterAll(async () => {
    await server.close();
    await forwarding.close();
    upstream.close();
  });

  it.each(['udp', 'tcp'] as const)('answers a Service A record over %s, authoritatively, TTL 30', async (transport) => {
    const r = await queryDns('127.0.0.1', port, 'web.default.svc.cluster.local', { transport });
    expect(rcodeOf(r)).toBe(0);
    expect(r.flag_aa).toBe(true);
    expect(r.answers).toMatchObject([{ type: 'A', name: 'web.default.svc.cluster.local', data: '10.96.0.20', ttl: 30 }]);
  });

  it('answers NXDOMAIN with the SOA for a missing Service', async () => {
    const r = await queryDns('127.0.0.1', port, 'gone.default.svc.cluster.local');
    expect(rcodeOf(r)).toBe(3);
    expect(r.answers).toEqual([]);
    expect(r.authorities?.[0]).toMatchObject({ type: 'SOA', name: 'cluster.local' });
  });

  it('answers NXDOMAIN at once for a name outside the cluster without an upstream', async () => {
    const t0 = Date.now();
    const r = await queryDns('127.0.0.1', port, 'example.com');
    expect(rcodeOf(r)).toBe(3);
    expect(r.flag_aa).toBe(false);
    // No upstream is asked (a resolver's timeout is seconds); the bound leaves room for a loaded machine.
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('truncates a large answer over UDP (TC set, as many records as fit in 512 bytes) and sends it whole over TCP', async () => {
    const udp = await queryDns('127.0.0.1', port, 'big.default.svc.cluster.local');
    expect(udp.flag_tc).toBe(true);
    expect(udp.answers?.length).toBeGreaterThan(0);
    expect(udp.answers?.length).toBeLessThan(many);
    expect(dnsPacket.encode(udp).length).toBeLessThanOrEqual(512);
    const tcp = await queryDns('127.0.0.1', port, 'big.default.svc.cluster.local', { transport: 'tcp' });
    expect(tcp.flag_tc).toBe(false);
    expect(tcp.answers).toHaveLength(many);
  });

  it('honours a larger EDNS buffer size (up to 1232 bytes) over UDP', async () => {
    const r = await queryDns('127.0.0.1', port, 'big.default.svc.cluster.local', { ednsSize: 4096 });
    const small = await queryDns('127.0.0.1', port, 'big.default.svc.cluster.local');
    expect(r.answers?.length).toBeGreaterThan(small.answers?.length ?? 0);
    expect(r.additionals?.some((a) => a.type === 'OPT')).toBe(true);
  });

  it('answers SERVFAIL while its caches are not filled yet', async () => {
    ready = undefined;
    try {
      const r = await queryDns('127.0.0.1', port, 'web.default.svc.cluster.local');
      expect(rcodeOf(r)).toBe(2);
    } finally {
      ready = index;
    }
  });

  it('answers FORMERR to bytes that are not a DNS message', async () => {
    const sock = createSocket('udp4');
    const reply = await new Promise<Buffer>((resolve) => {
      sock.on('message', (m) => resolve(m));
      sock.send(Buffer.from([0x12, 0x34, 0xff]), port, '127.0.0.1');
    });
    sock.close();
    expect(reply.readUInt16BE(0)).toBe(0x1234);
    expect(reply.readUInt16BE(2) & 0xf).toBe(1);
  });

  it('forwards names outside the cluster to the upstream and keeps cluster names its own', async () => {
    const out = await queryDns('127.0.0.1', fport, 'www.example.org');
    expect(rcodeOf(out)).toBe(0);
    expect(out.answers).toMatchObject([{ type: 'A', data: '192.0.2.1' }]);
    const own = await queryDns('127.0.0.1', fport, 'web.default.svc.cluster.local');
    expect(own.answers).toMatchObject([{ data: '10.96.0.20' }]);
    expect(upstream.seen).toEqual(['www.example.org']);
  });

  it('chases an ExternalName CNAME through the upstream when one is configured', async () => {
    const r = await queryDns('127.0.0.1', fport, 'ext.default.svc.cluster.local');
    expect(r.answers?.map((a) => `${a.type} ${String((a as { data: unknown }).data)}`)).toEqual(['CNAME db.example.org', 'A 192.0.2.1']);
  });

  it('parses upstream addresses and refuses malformed ones', () => {
    expect(parseUpstream('10.0.0.2')).toEqual({ host: '10.0.0.2', port: 53 });
    expect(parseUpstream('127.0.0.1:5353')).toEqual({ host: '127.0.0.1', port: 5353 });
    expect(() => parseUpstream('dns.example.com')).toThrow(/expected IP or IP:PORT/);
    expect(() => parseUpstream('300.1.1.1')).toThrow(/expected IP or IP:PORT/);
  });
});
