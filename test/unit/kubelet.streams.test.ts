/**
 * The streaming framings: Kubernetes' WebSocket channel protocol (wsstream.ts), SPDY/3.1
 * frames, header blocks and their zlib compression with the spec's dictionary (spdy.ts, with
 * bytes captured from the stock kubectl 1.32), a SPDY session end to end over a TCP socket, the
 * exec Status kubectl reads its exit code from, and the API server's WebSocket frame splitter.
 */
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WebSocketFrameSplitter } from '../../src/apiserver/pods.js';
import {
  FLAG_FIN, FrameParser, HeaderCodec, PING, SPDY_DICTIONARY, SYN_REPLY, SYN_STREAM, SpdySession, decodeHeaderBlock,
  encodeControlFrame, encodeDataFrame, encodeHeaderBlock, type Frame, type SpdyStream,
} from '../../src/kubelet/spdy.js';
import { exitStatus, forwardPorts, serveStream, streamOptions } from '../../src/kubelet/streaming.js';
import type { TerminalSize } from '../../src/runtime/types.js';
import { EXEC_PROTOCOLS, decodeFrame, encodeFrame, negotiate, portPrefix, protocolVersion } from '../../src/kubelet/wsstream.js';

/**
 * What kubectl 1.32 sends first after the SPDY upgrade of `kubectl exec -i x -- cat`
 * (captured): SYN_STREAM for stream 1 whose compressed header block is `streamtype: error`.
 * Its zlib header names the dictionary by Adler-32 (0xe3c6a7c2).
 */
const KUBECTL_SYN_STREAM = Buffer.from('80030001000000290000000100000000000078f9e3c6a7c26260606004a7b392a2d4c45c6851c29a0a0a6800000000ffff', 'hex');

function adler32(buf: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of buf) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

describe('WebSocket channel protocol', () => {
  it.each([
    { protocol: 'v5.channel.k8s.io', channel: 1, data: 'hi', wire: Buffer.from([1, 0x68, 0x69]), binary: true },
    { protocol: 'v4.channel.k8s.io', channel: 3, data: '{}', wire: Buffer.from([3, 0x7b, 0x7d]), binary: true },
    { protocol: 'v4.base64.channel.k8s.io', channel: 2, data: 'hi', wire: Buffer.from('2aGk='), binary: false },
    { protocol: 'base64.channel.k8s.io', channel: 0, data: '', wire: Buffer.from('0'), binary: false },
  ])('$protocol: channel $channel frames as $wire', ({ protocol, channel, data, wire, binary }) => {
    const f = encodeFrame(protocol, channel, Buffer.from(data));
    expect(f).toEqual({ data: wire, binary });
    expect(decodeFrame(protocol, wire)).toEqual({ channel, data: Buffer.from(data) });
  });

  it('reads nothing from an empty message', () => {
    expect(decodeFrame('v5.channel.k8s.io', Buffer.alloc(0))).toBeUndefined();
  });

  it.each([
    { offered: ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io'], want: 'v5.channel.k8s.io' },
    { offered: ['v4.channel.k8s.io'], want: 'v4.channel.k8s.io' },
    { offered: ['base64.channel.k8s.io', 'channel.k8s.io'], want: 'channel.k8s.io' },
    { offered: [], want: '' },
    { offered: ['v9.channel.k8s.io'], want: undefined },
  ])('negotiates $want from $offered', ({ offered, want }) => {
    expect(negotiate(offered, EXEC_PROTOCOLS)).toBe(want);
  });

  it.each([['v5.channel.k8s.io', 5], ['v4.base64.channel.k8s.io', 4], ['channel.k8s.io', 1], ['', 1]] as const)('%s is version %d', (p, v) => {
    expect(protocolVersion(p)).toBe(v);
  });

  it('prefixes port-forward channels with the port, little-endian', () => {
    expect(portPrefix(8080)).toEqual(Buffer.from([0x90, 0x1f]));
  });
});

describe('exec and attach requests', () => {
  it.each([
    { q: 'stdout=true&stderr=true', want: { stdin: false, stdout: true, stderr: true, tty: false } },
    { q: 'stdin=1&stdout=True&stderr=true&tty=true', want: { stdin: true, stdout: true, stderr: false, tty: true } },
  ])('reads $q', ({ q, want }) => {
    expect(streamOptions(new URLSearchParams(q))).toEqual(want);
  });

  it('refuses a request for no stream', () => {
    expect(() => streamOptions(new URLSearchParams('tty=true'))).toThrow('you must specify at least 1 of stdin, stdout, stderr');
  });

  it('ends with Success, or NonZeroExitCode carrying the code as kubectl reads it', () => {
    expect(exitStatus(['ls'], 0)).toEqual({ metadata: {}, status: 'Success' });
    expect(exitStatus(['sh', '-c', 'exit 3'], 3)).toEqual({
      metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
      message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });

  it.each([
    { q: 'ports=80&ports=8080', want: [80, 8080] },
    { q: 'ports=80,443', want: [80, 443] },
    { q: '', want: [] },
  ])('port-forward ports of $q', ({ q, want }) => {
    expect(forwardPorts(new URLSearchParams(q))).toEqual(want);
  });

  it.each(['ports=0', 'ports=70000', 'ports=http'])('refuses %s', (q) => {
    expect(() => forwardPorts(new URLSearchParams(q))).toThrow(/invalid port/);
  });
});

describe('SPDY/3.1 frames', () => {
  it('has the spec\'s 1423-byte dictionary, the one kubectl names in its zlib header', () => {
    expect(SPDY_DICTIONARY.length).toBe(1423);
    expect(adler32(SPDY_DICTIONARY)).toBe(0xe3c6a7c2);
    expect(KUBECTL_SYN_STREAM.readUInt32BE(20)).toBe(0xe3c6a7c2);
  });

  it('reads the SYN_STREAM kubectl sends (captured bytes), also when it arrives in pieces', async () => {
    const parser = new FrameParser();
    const frames: Frame[] = [];
    for (let i = 0; i < KUBECTL_SYN_STREAM.length; i += 7) frames.push(...parser.push(KUBECTL_SYN_STREAM.subarray(i, i + 7)));
    expect(frames).toHaveLength(1);
    const f = frames[0];
    expect(f).toMatchObject({ control: true, type: SYN_STREAM, flags: 0 });
    expect(f.data.readUInt32BE(0)).toBe(1);
    const headers = decodeHeaderBlock(await new HeaderCodec('decompress').run(f.data.subarray(10)));
    expect(headers).toEqual({ streamtype: 'error' });
  });

  it('writes control and data frames bit for bit', () => {
    expect(encodeControlFrame(PING, 0, Buffer.from([0, 0, 0, 1])).toString('hex')).toBe('800300060000000400000001');
    expect(encodeDataFrame(3, FLAG_FIN, Buffer.from('ab')).toString('hex')).toBe('00000003010000026162');
    const parsed = new FrameParser().push(Buffer.concat([encodeDataFrame(5, 0, Buffer.from('x')), encodeControlFrame(SYN_REPLY, 0, Buffer.from([0, 0, 0, 5]))]));
    expect(parsed).toEqual([
      { control: false, streamId: 5, flags: 0, data: Buffer.from('x') },
      { control: true, type: SYN_REPLY, flags: 0, data: Buffer.from([0, 0, 0, 5]) },
    ]);
  });

  it('refuses frames of another SPDY version', () => {
    expect(() => new FrameParser().push(Buffer.from('8002000100000000', 'hex'))).toThrow('unsupported SPDY version 2');
  });

  it('compresses header blocks in one zlib stream per direction, primed with the dictionary', async () => {
    const out = new HeaderCodec('compress');
    const back = new HeaderCodec('decompress');
    const blocks = [{ streamtype: 'stdout' }, { streamtype: 'data', port: '80', requestid: '0' }];
    const compressed = [];
    for (const b of blocks) compressed.push(await out.run(encodeHeaderBlock(b)));
    // The second block refers back to the first: only the session's inflater can read it.
    for (const [i, c] of compressed.entries()) expect(decodeHeaderBlock(await back.run(c))).toEqual(blocks[i]);
    expect(() => zlib.inflateSync(compressed[1], { dictionary: SPDY_DICTIONARY })).toThrow();
  });
});

describe('SPDY session over a TCP socket', () => {
  const closers: (() => void)[] = [];
  afterEach(() => closers.splice(0).forEach((c) => c()));

  it('answers SYN_STREAM with SYN_REPLY, carries data both ways with FIN, and echoes PING', async () => {
    const streams: SpdyStream[] = [];
    const server = net.createServer((sock) => {
      const session = new SpdySession(sock);
      session.on('stream', (s: SpdyStream) => {
        streams.push(s);
        const got: Buffer[] = [];
        s.on('data', (c: Buffer) => got.push(c));
        s.on('end', () => s.end(Buffer.concat([Buffer.from('echo:'), ...got])));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => server.close());
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    closers.push(() => client.destroy());
    const parser = new FrameParser();
    const frames: Frame[] = [];
    let notify = (): void => undefined;
    client.on('data', (c: Buffer) => {
      frames.push(...parser.push(c));
      notify();
    });
    const until = (ok: () => boolean) => new Promise<void>((resolve) => {
      notify = () => ok() && resolve();
      notify();
    });
    client.write(KUBECTL_SYN_STREAM);
    client.write(encodeDataFrame(1, 0, Buffer.from('one,')));
    client.write(encodeDataFrame(1, FLAG_FIN, Buffer.from('two')));
    client.write(encodeControlFrame(PING, 0, Buffer.from([0, 0, 0, 7])));
    await until(() => frames.some((f) => !f.control && (f.flags & FLAG_FIN) !== 0));
    expect(streams.map((s) => s.headers)).toEqual([{ streamtype: 'error' }]);
    const [reply, ...rest] = frames;
    expect(reply).toMatchObject({ control: true, type: SYN_REPLY });
    expect(reply.data.readUInt32BE(0)).toBe(1);
    expect(rest.filter((f) => f.control)).toEqual([{ control: true, type: PING, flags: 0, data: Buffer.from([0, 0, 0, 7]) }]);
    const data = rest.filter((f): f is Extract<Frame, { control: false }> => !f.control && f.streamId === 1);
    expect(Buffer.concat(data.map((f) => f.data)).toString()).toBe('echo:one,two');
    expect(data.at(-1)?.flags).toBe(FLAG_FIN);
  });
});

describe('the API server\'s WebSocket frame splitter', () => {
  const frame = (len: number): Buffer => {
    const payload = Buffer.alloc(len, 0x61);
    if (len < 126) return Buffer.concat([Buffer.from([0x82, len]), payload]);
    if (len < 65536) {
      const h = Buffer.from([0x82, 126, 0, 0]);
      h.writeUInt16BE(len, 2);
      return Buffer.concat([h, payload]);
    }
    const h = Buffer.alloc(10);
    h[0] = 0x82;
    h[1] = 127;
    h.writeBigUInt64BE(BigInt(len), 2);
    return Buffer.concat([h, payload]);
  };

  it('cuts the HTTP answer and then one piece per frame, whatever the chunking', () => {
    const head = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n');
    const frames = [frame(3), frame(300), frame(70_000), frame(0)];
    const all = Buffer.concat([head, ...frames]);
    for (const step of [1, 13, 4096, all.length]) {
      const s = new WebSocketFrameSplitter();
      const pieces: Buffer[] = [];
      for (let i = 0; i < all.length; i += step) pieces.push(...s.push(all.subarray(i, i + step)));
      expect(pieces.map((p) => p.length)).toEqual([head.length, ...frames.map((f) => f.length)]);
    }
  });
});

describe('exec sessions served over WebSocket and SPDY (serveStream with a stand-in runtime session)', () => {
  const closers: (() => void)[] = [];
  afterEach(() => closers.splice(0).forEach((c) => c()));

  /** A server whose exec "runs" by copying stdin to stdout in upper case and exiting with 2; records resizes. */
  async function server(): Promise<{ port: number; resizes: TerminalSize[] }> {
    const resizes: TerminalSize[] = [];
    const srv = http.createServer();
    srv.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      serveStream(req, socket, head, {
        verb: 'exec',
        query: new URL(req.url ?? '/', 'http://k').searchParams,
        start: async (io) => {
          const done = new Promise<{ exitCode?: number }>((resolve) => {
            io.stdin?.on('data', (c: Buffer) => io.stdout?.write(c.toString().toUpperCase()));
            io.stdin?.on('end', () => resolve({ exitCode: 2 }));
          });
          return { resize: (s) => resizes.push(s), done, close: () => undefined };
        },
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    closers.push(() => srv.close());
    return { port: (srv.address() as net.AddressInfo).port, resizes };
  }

  it('WebSocket v5: stdin and its close, resize, stdout, then the Status with the exit code', async () => {
    const { port, resizes } = await server();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/exec?command=x&stdin=true&stdout=true&tty=true`, ['v5.channel.k8s.io']);
    closers.push(() => ws.terminate());
    const got: [number, string][] = [];
    ws.on('message', (m: Buffer) => got.push([m[0], m.subarray(1).toString()]));
    await new Promise<void>((r) => ws.once('open', () => r()));
    expect(ws.protocol).toBe('v5.channel.k8s.io');
    ws.send(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":80,"Height":24}')]));
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('abc')]));
    ws.send(Buffer.from([255, 0]));
    await new Promise<void>((r) => ws.once('close', () => r()));
    expect(resizes).toEqual([{ width: 80, height: 24 }]);
    expect(got[0]).toEqual([1, 'ABC']);
    expect(JSON.parse(got[1][1])).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '2' }] } });
    expect(got[1][0]).toBe(3);
  });

  it('SPDY/3.1: upgrade answer, SYN_REPLY per stream, stdout data then FIN, Status on the error stream', async () => {
    const { port } = await server();
    const sock = net.connect(port, '127.0.0.1');
    closers.push(() => sock.destroy());
    sock.write('POST /exec?command=x&stdin=true&stdout=true HTTP/1.1\r\nHost: k\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n'
      + 'X-Stream-Protocol-Version: v5.channel.k8s.io, v4.channel.k8s.io\r\nContent-Length: 0\r\n\r\n');
    let head = '';
    const parser = new FrameParser();
    const frames: Frame[] = [];
    let notify = (): void => undefined;
    sock.on('data', (c: Buffer) => {
      if (!head.includes('\r\n\r\n')) {
        head += c.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        c = Buffer.from(head.slice(end + 4), 'latin1');
        head = head.slice(0, end + 4);
      }
      frames.push(...parser.push(c));
      notify();
    });
    const until = (ok: () => boolean) => new Promise<void>((resolve) => {
      notify = () => ok() && resolve();
      notify();
    });
    const deflate = new HeaderCodec('compress');
    const syn = async (id: number, type: string) => {
      const p = Buffer.alloc(10);
      p.writeUInt32BE(id);
      return encodeControlFrame(SYN_STREAM, 0, Buffer.concat([p, await deflate.run(encodeHeaderBlock({ streamType: type }))]));
    };
    sock.write(await syn(1, 'error'));
    sock.write(await syn(3, 'stdin'));
    sock.write(await syn(5, 'stdout'));
    await until(() => frames.filter((f) => f.control && f.type === SYN_REPLY).length === 3);
    expect(head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n[^]*X-Stream-Protocol-Version: v4\.channel\.k8s\.io\r\n/);
    sock.write(encodeDataFrame(3, FLAG_FIN, Buffer.from('hey')));
    const fin = (id: number) => frames.some((f) => !f.control && f.streamId === id && (f.flags & FLAG_FIN) !== 0);
    await until(() => fin(1) && fin(5));
    const bytesOf = (id: number) => Buffer.concat(frames.filter((f): f is Extract<Frame, { control: false }> => !f.control && f.streamId === id).map((f) => f.data)).toString();
    expect(bytesOf(5)).toBe('HEY');
    expect(JSON.parse(bytesOf(1))).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '2' }] } });
  });
});
