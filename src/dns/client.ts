/**
 * A minimal DNS client (one question, UDP or TCP) on `dns-packet`: how `up` checks that the
 * cluster DNS answers, how the server forwards to an upstream, and what tests and the
 * benchmark query it with.
 */
import { createSocket } from 'node:dgram';
import { Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { DecodedPacket, RecordType } from 'dns-packet';

export interface QueryOptions {
  type?: RecordType;
  transport?: 'udp' | 'tcp';
  timeoutMs?: number;
  /** Advertise this EDNS UDP payload size (no OPT record when undefined). */
  ednsSize?: number;
}

/**
 * Sends one raw DNS message to `host:port` over UDP or TCP (2-byte length framing) and
 * resolves with the raw reply whose id matches; rejects on timeout or a socket error.
 */
export function exchange(host: string, port: number, query: Buffer, transport: 'udp' | 'tcp', timeoutMs: number): Promise<Buffer> {
  const id = query.readUInt16BE(0);
  const timeout = () => new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`);
  return new Promise<Buffer>((resolve, reject) => {
    if (transport === 'udp') {
      const sock = createSocket('udp4');
      const timer = setTimeout(() => finish(timeout()), timeoutMs);
      const finish = (err?: Error, reply?: Buffer) => {
        clearTimeout(timer);
        sock.close();
        if (err) reject(err);
        else resolve(reply as Buffer);
      };
      sock.on('error', (e) => finish(e));
      sock.on('message', (msg) => {
        if (msg.length >= 2 && msg.readUInt16BE(0) === id) finish(undefined, msg);
      });
      sock.send(query, port, host);
      return;
    }
    const sock = new Socket();
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => fail(timeout()), timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      sock.destroy();
      reject(e);
    };
    sock.on('error', fail);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    sock.connect(port, host, () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
  });
}

/** Asks `server:port` one question; rejects on timeout or a socket error. */
export async function queryDns(server: string, port: number, name: string, o: QueryOptions = {}): Promise<DecodedPacket> {
  const query = dnsPacket.encode({
    id: Math.floor(Math.random() * 65536), type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: o.type ?? 'A', class: 'IN' }],
    additionals: o.ednsSize ? [{ type: 'OPT', name: '.', udpPayloadSize: o.ednsSize, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
  });
  return dnsPacket.decode(await exchange(server, port, query, o.transport ?? 'udp', o.timeoutMs ?? 2000));
}

/** The RCODE of a decoded reply (dns-packet keeps it in the low four flag bits). */
export const rcodeOf = (p: DecodedPacket): number => (p.flags ?? 0) & 0xf;
