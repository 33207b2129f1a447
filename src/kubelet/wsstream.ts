/**
 * Kubernetes' WebSocket channel protocol (`channel.k8s.io` and its versions), as the kubelet
 * speaks it for `exec`, `attach` and `portforward`: every message starts with one channel byte
 * (0 stdin, 1 stdout, 2 stderr, 3 error/status, 4 terminal resize; for port-forward 2·i data
 * and 2·i+1 error of the i-th port) followed by the bytes. The `base64.` variants send text
 * messages: the channel as an ASCII digit, then the bytes in base64. `v5.channel.k8s.io` adds
 * one control message, `[255, channel]`, by which a client closes its side of a channel
 * (stdin EOF). Port-forward channels first carry the port number (uint16 little-endian).
 */
import { Writable } from 'node:stream';
import type { WebSocket } from 'ws';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
/** v5: a message `[255, channel]` closes the sender's side of `channel`. */
export const CLOSE_CHANNEL = 255;

/** The exec/attach subprotocols this server speaks, most preferred first. */
export const EXEC_PROTOCOLS = [
  'v5.channel.k8s.io',
  'v4.channel.k8s.io',
  'v4.base64.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
  'base64.channel.k8s.io',
] as const;

/** The plain-WebSocket port-forward subprotocols (client-node, older clients). */
export const PORTFORWARD_PROTOCOLS = ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io'] as const;

/** The WebSocket subprotocol carrying SPDY/3.1 frames for port-forward (kubectl 1.31+). */
export const SPDY_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

/** The first protocol of `preferred` the client offered; '' (plain `channel.k8s.io`) when it offered none. */
export function negotiate(offered: Iterable<string>, preferred: readonly string[]): string | undefined {
  const set = new Set(offered);
  if (set.size === 0) return '';
  return preferred.find((p) => set.has(p));
}

/** Whether `protocol` sends base64 text messages. */
export const isBase64 = (protocol: string): boolean => protocol.includes('base64.');

/** The protocol's version number: 1 for `channel.k8s.io` (and ''), 5 for `v5.…`. */
export function protocolVersion(protocol: string): number {
  const m = /^v(\d+)\./.exec(protocol);
  return m ? Number(m[1]) : 1;
}

/** One message for `channel`: binary `[channel, ...data]`, or base64 text for the base64 protocols. */
export function encodeFrame(protocol: string, channel: number, data: Buffer): { data: Buffer; binary: boolean } {
  if (isBase64(protocol)) return { data: Buffer.from(String.fromCharCode(48 + channel) + data.toString('base64')), binary: false };
  return { data: Buffer.concat([Buffer.from([channel]), data]), binary: true };
}

/** Splits a received message into its channel and bytes; undefined for an empty message. */
export function decodeFrame(protocol: string, message: Buffer): { channel: number; data: Buffer } | undefined {
  if (message.length === 0) return undefined;
  if (isBase64(protocol)) return { channel: message[0] - 48, data: Buffer.from(message.subarray(1).toString('latin1'), 'base64') };
  return { channel: message[0], data: message.subarray(1) };
}

/** The port-number prefix a port-forward channel starts with (uint16 little-endian). */
export function portPrefix(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port);
  return b;
}

/**
 * A server-side channel connection over one WebSocket: writers per channel, handlers for
 * what the client sends, and v5's per-channel close.
 */
export class ChannelConnection {
  private readonly handlers = new Map<number, (data: Buffer) => void>();
  private readonly closers = new Map<number, () => void>();

  constructor(readonly ws: WebSocket, readonly protocol: string) {
    ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[]) => {
      const message = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
      const frame = decodeFrame(protocol, message);
      if (!frame) return;
      if (frame.channel === CLOSE_CHANNEL && protocolVersion(protocol) >= 5) {
        if (frame.data.length) this.closers.get(frame.data[0])?.();
        return;
      }
      this.handlers.get(frame.channel)?.(frame.data);
    });
    ws.on('close', () => {
      for (const close of this.closers.values()) close();
    });
  }

  /** Sends bytes on `channel` (dropped once the socket is closing). */
  send(channel: number, data: Buffer): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const frame = encodeFrame(this.protocol, channel, data);
    this.ws.send(frame.data, { binary: frame.binary });
  }

  /** A stream writing to `channel`. */
  writer(channel: number): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        this.send(channel, Buffer.from(chunk));
        cb();
      },
    });
  }

  /** Calls `onData` with what the client sends on `channel`, `onClose` when it closes it (v5) or goes away. */
  receive(channel: number, onData: (data: Buffer) => void, onClose: () => void): void {
    this.handlers.set(channel, onData);
    let closed = false;
    this.closers.set(channel, () => {
      if (closed) return;
      closed = true;
      onClose();
    });
  }

  /** Closes the WebSocket normally. */
  close(): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(1000);
  }
}
