/**
 * The DNS server: UDP and TCP listeners on given addresses, each query decoded with
 * `dns-packet`, answered by {@link resolve} from the current index (or forwarded upstream for
 * names outside the cluster, when an upstream is configured), and encoded back — truncated to
 * the UDP limit with TC set, never over TCP. A thin layer: all record logic is in records.ts.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Answer, Packet, Question } from 'dns-packet';
import { exchange } from './client.js';
import { buildReply, encodeWithin, errorReply, formErr, udpLimit } from './message.js';
import { resolve, type DnsIndex } from './records.js';

/** How long we wait for an upstream resolver before answering SERVFAIL. */
export const UPSTREAM_TIMEOUT_MS = 2000;
/** A TCP client idle this long is disconnected. */
export const TCP_IDLE_MS = 10_000;

export type Transport = 'udp' | 'tcp';

/** `IP` or `IP:port` (port 53 by default). */
export interface Upstream {
  host: string;
  port: number;
}

export function parseUpstream(spec: string): Upstream {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(spec.trim());
  const port = m?.[2] === undefined ? 53 : Number(m[2]);
  if (!m || m[1].split('.').some((o) => Number(o) > 255) || port < 1 || port > 65535) {
    throw new Error(`invalid upstream DNS server "${spec}": expected IP or IP:PORT, e.g. 10.0.0.2 or 127.0.0.1:5353`);
  }
  return { host: m[1], port };
}

/** Sends one query to an upstream resolver and returns its raw reply (the caller's id kept). */
export function forwardQuery(upstream: Upstream, query: Buffer, transport: Transport, timeoutMs = UPSTREAM_TIMEOUT_MS): Promise<Buffer> {
  return exchange(upstream.host, upstream.port, query, transport, timeoutMs);
}

export interface DnsServerOptions {
  /** The current index (called per query; the caller rebuilds it when its caches change); undefined while not ready. */
  index: () => DnsIndex | undefined;
  upstream?: Upstream;
  log?: (msg: string) => void;
}

/** Answers DNS queries from an index; see the module comment. */
export class DnsServer {
  private readonly udp: Socket[] = [];
  private readonly tcp: Server[] = [];
  private readonly conns = new Set<TcpSocket>();

  constructor(private readonly o: DnsServerOptions) {}

  /**
   * The reply bytes for one raw query received over `transport`. Never rejects: undecodable
   * bytes get FORMERR, an upstream failure SERVFAIL.
   */
  async handle(raw: Buffer, transport: Transport): Promise<Buffer> {
    let query: Packet;
    try {
      query = dnsPacket.decode(raw);
    } catch {
      return formErr(raw);
    }
    const ra = this.o.upstream !== undefined;
    const limit = transport === 'udp' ? udpLimit(query) : 65535;
    const questions = query.questions ?? [];
    if (query.type === 'response') return formErr(raw);
    if ((query.flags ?? 0) & 0x7800) return encodeWithin(errorReply(query, 'NOTIMP', ra), limit); // opcode other than QUERY
    if (questions.length !== 1) return encodeWithin(errorReply(query, 'FORMERR', ra), limit);
    const index = this.o.index();
    if (!index) return encodeWithin(errorReply(query, 'SERVFAIL', ra), limit);
    const res = resolve(index, questions[0]);
    if (res.kind === 'forward') {
      if (!this.o.upstream) return encodeWithin(buildReply(query, { rcode: 'NXDOMAIN', authoritative: false, recursionAvailable: false }), limit);
      try {
        return await forwardQuery(this.o.upstream, raw, transport);
      } catch (e) {
        this.o.log?.(`forwarding ${questions[0].name} ${questions[0].type}: ${(e as Error).message}`);
        return encodeWithin(errorReply(query, 'SERVFAIL', ra), limit);
      }
    }
    const answers = [...res.answers];
    // An ExternalName alias pointing outside the cluster: chase it upstream when we may.
    const last = answers[answers.length - 1];
    const q = questions[0];
    const qtype: string = q.type;
    if (this.o.upstream && last?.type === 'CNAME' && qtype !== 'CNAME' && qtype !== 'ANY') {
      answers.push(...(await this.chase({ name: String(last.data), type: q.type, class: 'IN' })));
    }
    return encodeWithin(buildReply(query, {
      rcode: res.rcode, answers, authorities: res.authorities, additionals: res.additionals, authoritative: true, recursionAvailable: ra,
    }), limit);
  }

  /** The upstream's answers for `q` (empty on any failure: the CNAME alone still answers). */
  private async chase(q: Question): Promise<Answer[]> {
    if (!this.o.upstream) return [];
    const id = Math.floor(Math.random() * 65536);
    try {
      const reply = dnsPacket.decode(await forwardQuery(this.o.upstream, dnsPacket.encode({ id, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [q] }), 'udp'));
      return reply.answers ?? [];
    } catch (e) {
      this.o.log?.(`resolving CNAME target ${q.name}: ${(e as Error).message}`);
      return [];
    }
  }

  /**
   * Listens on UDP and TCP `port` of `address`; rejects if either cannot bind. Port 0 picks a
   * port free for both (tests): a UDP port whose TCP twin is taken is given back and another tried.
   */
  async listen(address: string, port: number): Promise<{ udpPort: number; tcpPort: number }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.listenOnce(address, port);
      } catch (e) {
        if (port !== 0 || attempt >= 20 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
      }
    }
  }

  private async listenOnce(address: string, port: number): Promise<{ udpPort: number; tcpPort: number }> {
    const udp = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((res, rej) => {
      udp.once('error', rej);
      udp.bind(port, address, () => {
        udp.off('error', rej);
        res();
      });
    });
    udp.on('error', (e) => this.o.log?.(`udp ${address}:${port}: ${e.message}`));
    udp.on('message', (msg, rinfo) => {
      void this.handle(msg, 'udp').then((reply) => udp.send(reply, rinfo.port, rinfo.address));
    });
    const udpPort = udp.address().port;
    const tcp = createServer((sock) => this.serveTcp(sock));
    try {
      await new Promise<void>((res, rej) => {
        tcp.once('error', rej);
        tcp.listen(port === 0 ? udpPort : port, address, () => {
          tcp.off('error', rej);
          res();
        });
      });
    } catch (e) {
      udp.close();
      throw e;
    }
    this.udp.push(udp);
    this.tcp.push(tcp);
    const a = tcp.address();
    return { udpPort, tcpPort: typeof a === 'object' && a ? a.port : 0 };
  }

  /** Length-prefixed queries on one TCP connection, answered in order. */
  private serveTcp(sock: TcpSocket): void {
    this.conns.add(sock);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('close', () => this.conns.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf = Buffer.alloc(0);
    let chain = Promise.resolve();
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        chain = chain.then(async () => {
          const reply = await this.handle(Buffer.from(msg), 'tcp');
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          if (!sock.destroyed) sock.write(Buffer.concat([len, reply]));
        });
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.conns) s.destroy();
    await Promise.all([
      ...this.udp.map((u) => new Promise<void>((r) => u.close(() => r()))),
      ...this.tcp.map((t) => new Promise<void>((r) => t.close(() => r()))),
    ]);
    this.udp.length = 0;
    this.tcp.length = 0;
  }
}
