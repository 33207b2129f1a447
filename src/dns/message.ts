/**
 * DNS messages around {@link resolve}: the reply to a decoded query (header flags, RCODE, EDNS)
 * and the UDP size limit (truncation with the TC bit). Pure; wire encoding is `dns-packet`'s.
 */
import * as dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet';
import type { Rcode } from './records.js';

/** The classic UDP limit, used when the query carries no EDNS payload size. */
export const UDP_LIMIT = 512;
/** The largest UDP answer we send to an EDNS client (the DNS flag day's recommendation). */
export const EDNS_LIMIT = 1232;

const RCODES: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };
const RD = dnsPacket.RECURSION_DESIRED;
const RA = dnsPacket.RECURSION_AVAILABLE;
const AA = dnsPacket.AUTHORITATIVE_ANSWER;
const TC = dnsPacket.TRUNCATED_RESPONSE;

export interface ReplyParts {
  rcode: Rcode;
  answers?: Answer[];
  authorities?: Answer[];
  additionals?: Answer[];
  /** The cluster's own zone answered (sets AA). */
  authoritative: boolean;
  /** An upstream resolver is configured (sets RA). */
  recursionAvailable: boolean;
}

/** The client's EDNS OPT record, if it sent one. */
function optOf(query: Packet): Extract<Answer, { type: 'OPT' }> | undefined {
  return (query.additionals ?? []).find((a): a is Extract<Answer, { type: 'OPT' }> => a.type === 'OPT');
}

/** How large a UDP answer to this query may be. */
export function udpLimit(query: Packet): number {
  const opt = optOf(query);
  return opt ? Math.max(UDP_LIMIT, Math.min(EDNS_LIMIT, opt.udpPayloadSize || UDP_LIMIT)) : UDP_LIMIT;
}

/** The reply packet to `query` (same id and question; RD echoed; an OPT record if the client sent one). */
export function buildReply(query: Packet, parts: ReplyParts): Packet {
  const flags = ((query.flags ?? 0) & RD) | (parts.authoritative ? AA : 0) | (parts.recursionAvailable ? RA : 0) | RCODES[parts.rcode];
  const additionals = [...(parts.additionals ?? [])];
  if (optOf(query)) additionals.push({ type: 'OPT', name: '.', udpPayloadSize: EDNS_LIMIT, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] });
  return {
    id: query.id ?? 0, type: 'response', flags,
    questions: (query.questions ?? []).slice(0, 1) as Question[],
    answers: parts.answers ?? [], authorities: parts.authorities ?? [], additionals,
  };
}

/**
 * Encodes `reply`, fitting it into `limit` bytes: additional records go first (but the OPT
 * record stays), then answers and authority records from the end; when an answer or authority
 * record had to go, the TC bit tells the client to ask again over TCP (as miekg/dns's
 * `Truncate`, which CoreDNS uses, does). The records that fit are kept, so a client that does
 * not retry still gets a usable partial answer.
 */
export function encodeWithin(reply: Packet, limit: number): Buffer {
  let buf = dnsPacket.encode(reply);
  if (buf.length <= limit) return buf;
  const opt = (reply.additionals ?? []).filter((a) => a.type === 'OPT');
  const answers = [...(reply.answers ?? [])];
  const authorities = [...(reply.authorities ?? [])];
  let truncated = false;
  const packet = (): Packet => ({ ...reply, flags: (reply.flags ?? 0) | (truncated ? TC : 0), answers, authorities, additionals: opt });
  buf = dnsPacket.encode(packet());
  while (buf.length > limit && (answers.length || authorities.length)) {
    if (authorities.length) authorities.pop();
    else answers.pop();
    truncated = true;
    buf = dnsPacket.encode(packet());
  }
  if (truncated) buf = dnsPacket.encode(packet());
  return buf;
}

/** A reply with only a header and the question (FORMERR, SERVFAIL...), for a query we could decode. */
export function errorReply(query: Packet, rcode: Rcode, recursionAvailable: boolean): Packet {
  return buildReply(query, { rcode, authoritative: false, recursionAvailable });
}

/** The id of a raw query (first two bytes), for answering one we cannot decode. */
export function rawId(buf: Buffer): number {
  return buf.length >= 2 ? buf.readUInt16BE(0) : 0;
}

/** FORMERR for bytes that do not decode as a DNS message. */
export function formErr(buf: Buffer): Buffer {
  return dnsPacket.encode({ id: rawId(buf), type: 'response', flags: RCODES.FORMERR, questions: [], answers: [], authorities: [], additionals: [] });
}

export type { DecodedPacket };
