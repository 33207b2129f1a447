/**
 * The server side of SPDY/3.1 (the public draft "SPDY Protocol - Draft 3.1"), as much as
 * Kubernetes' streaming needs: kubectl and client-go open streams with SYN_STREAM, each
 * answered at once with SYN_REPLY; DATA frames carry the bytes and FLAG_FIN half-closes a
 * stream; PINGs are echoed; RST_STREAM and GOAWAY end streams and the session; SETTINGS and
 * WINDOW_UPDATE are read and ignored (the Go peer does not account send windows either).
 *
 * Frames: a control frame is `1 | version(15) | type(16) | flags(8) | length(24) | data`; a
 * data frame is `0 | stream-id(31) | flags(8) | length(24) | data`. Header blocks are
 * `count(32)` then `len(32) name len(32) value` pairs (a value may hold several NUL-separated
 * values), compressed with one zlib stream per direction for the whole session, primed with
 * the spec's dictionary ({@link SPDY_DICTIONARY}) and sync-flushed after every block.
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';

export const SPDY_VERSION = 3;
export const SYN_STREAM = 1;
export const SYN_REPLY = 2;
export const RST_STREAM = 3;
export const SETTINGS = 4;
export const PING = 6;
export const GOAWAY = 7;
export const HEADERS = 8;
export const WINDOW_UPDATE = 9;
export const FLAG_FIN = 0x01;
/** The largest DATA payload this side sends in one frame. */
const MAX_DATA = 32 * 1024;

/** The words of the spec's header dictionary, each sent with a 32-bit length before it. */
const DICTIONARY_WORDS = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding',
  'accept-language', 'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection',
  'content-base', 'content-encoding', 'content-language', 'content-length', 'content-location',
  'content-md5', 'content-range', 'content-type', 'date', 'etag', 'expect', 'expires', 'from', 'host',
  'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since', 'last-modified',
  'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
  'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via',
  'warning', 'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url',
  'public', 'set-cookie', 'keep-alive', 'origin',
];
/** The dictionary's tail, which has no length prefixes. */
const DICTIONARY_TAIL = '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505'
  + '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized'
  + '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable'
  + 'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT'
  + 'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,'
  + 'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

/** The zlib dictionary of SPDY/3 header compression (1423 bytes, Adler-32 0xe3c6a7c2). */
export const SPDY_DICTIONARY: Buffer = Buffer.concat([
  ...DICTIONARY_WORDS.map((w) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    return Buffer.concat([len, Buffer.from(w, 'latin1')]);
  }),
  Buffer.from(DICTIONARY_TAIL, 'latin1'),
]);

export type Frame =
  | { control: true; type: number; flags: number; data: Buffer }
  | { control: false; streamId: number; flags: number; data: Buffer };

/** A control frame with `payload`. */
export function encodeControlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24 | payload.length) >>> 0, 4);
  return Buffer.concat([head, payload]);
}

/** A data frame for `streamId`. */
export function encodeDataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(((flags & 0xff) << 24 | data.length) >>> 0, 4);
  return Buffer.concat([head, data]);
}

/** Cuts a byte stream into frames; keeps a partial frame for the next chunk. */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);

  /** The frames completed by `chunk`; throws on a frame of another SPDY version. */
  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.buf.length >= 8) {
      const word = this.buf.readUInt32BE(4);
      const length = word & 0xffffff;
      if (this.buf.length < 8 + length) break;
      const flags = word >>> 24;
      const data = this.buf.subarray(8, 8 + length);
      if (this.buf[0] & 0x80) {
        const version = this.buf.readUInt16BE(0) & 0x7fff;
        if (version !== SPDY_VERSION) throw new Error(`unsupported SPDY version ${version}`);
        frames.push({ control: true, type: this.buf.readUInt16BE(2), flags, data });
      } else {
        frames.push({ control: false, streamId: this.buf.readUInt32BE(0) & 0x7fffffff, flags, data });
      }
      this.buf = this.buf.subarray(8 + length);
    }
    return frames;
  }
}

/** An uncompressed header block; names are lower-cased as SPDY/3 requires. */
export function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const entries = Object.entries(headers);
  parts.push(u32(entries.length));
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(value, 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/** Reads an uncompressed header block (several values of one name joined by NUL stay joined). */
export function decodeHeaderBlock(block: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  const need = (n: number) => {
    if (off + n > block.length) throw new Error('SPDY header block is truncated');
  };
  need(4);
  const count = block.readUInt32BE(off);
  off += 4;
  for (let i = 0; i < count; i++) {
    need(4);
    const nl = block.readUInt32BE(off);
    off += 4;
    need(nl);
    const name = block.subarray(off, off + nl).toString('utf8');
    off += nl;
    need(4);
    const vl = block.readUInt32BE(off);
    off += 4;
    need(vl);
    out[name] = block.subarray(off, off + vl).toString('utf8');
    off += vl;
  }
  return out;
}

/** One direction's header compression: a zlib stream kept for the session, sync-flushed per block. */
export class HeaderCodec {
  private readonly z: zlib.Deflate | zlib.Inflate;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(mode: 'compress' | 'decompress') {
    this.z = mode === 'compress'
      ? zlib.createDeflate({ dictionary: SPDY_DICTIONARY })
      : zlib.createInflate({ dictionary: SPDY_DICTIONARY });
  }

  /** The block compressed (or decompressed); calls are taken in order. */
  run(input: Buffer): Promise<Buffer> {
    const next = this.chain.then(() => new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const onData = (c: Buffer) => chunks.push(c);
      const onError = (err: Error) => {
        this.z.off('data', onData);
        reject(err);
      };
      this.z.on('data', onData);
      this.z.once('error', onError);
      this.z.write(input);
      this.z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        this.z.off('data', onData);
        this.z.off('error', onError);
        resolve(Buffer.concat(chunks));
      });
    }));
    this.chain = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.z.close();
  }
}

/**
 * One stream of a session: readable = what the peer sends (ends at its FIN), writable = what
 * this side sends (`end()` sends FIN). `headers` are the peer's SYN_STREAM headers.
 */
export class SpdyStream extends Duplex {
  constructor(readonly id: number, readonly headers: Record<string, string>, private readonly session: SpdySession) {
    super({ allowHalfOpen: true });
  }

  override _read(): void {
    // Data is pushed as frames arrive.
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    for (let off = 0; off < chunk.length; off += MAX_DATA) {
      this.session.sendFrame(encodeDataFrame(this.id, 0, chunk.subarray(off, off + MAX_DATA)));
    }
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.session.sendFrame(encodeDataFrame(this.id, FLAG_FIN, Buffer.alloc(0)));
    cb();
  }
}

/**
 * A server-side SPDY/3.1 session over `socket`. Emits `stream` (a {@link SpdyStream}) for each
 * SYN_STREAM after its SYN_REPLY is queued, and `close` once when the session ends.
 */
export class SpdySession extends EventEmitter {
  private readonly parser = new FrameParser();
  private readonly inflate = new HeaderCodec('decompress');
  private readonly deflate = new HeaderCodec('compress');
  private readonly streams = new Map<number, SpdyStream>();
  /** Output in order: header compression is asynchronous, so every frame waits its turn. */
  private out: Promise<void> = Promise.resolve();
  private input: Promise<void> = Promise.resolve();
  private closed = false;

  /** `head`: bytes that came with the upgrade request, already read off the socket. */
  constructor(private readonly socket: Duplex, head?: Buffer) {
    super();
    if (head?.length) this.feed(head);
    socket.on('data', (chunk: Buffer) => this.feed(chunk));
    socket.on('end', () => this.close());
    socket.on('close', () => this.close());
    socket.on('error', () => this.close());
  }

  private feed(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.parser.push(chunk);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    for (const f of frames) this.input = this.input.then(() => this.onFrame(f)).catch((err: unknown) => this.fail(err as Error));
  }

  /** Queues raw frame bytes behind everything queued before. */
  sendFrame(frame: Buffer | (() => Promise<Buffer>)): void {
    this.out = this.out.then(async () => {
      const bytes = typeof frame === 'function' ? await frame() : frame;
      if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
    }).catch(() => undefined);
  }

  /** Ends the session once everything queued has been written. */
  end(): void {
    this.out = this.out.then(() => {
      if (!this.socket.destroyed) this.socket.end();
    });
  }

  private async onFrame(f: Frame): Promise<void> {
    if (!f.control) {
      const s = this.streams.get(f.streamId);
      if (!s) return;
      if (f.data.length) s.push(Buffer.from(f.data));
      if (f.flags & FLAG_FIN) s.push(null);
      return;
    }
    switch (f.type) {
      case SYN_STREAM: {
        const id = f.data.readUInt32BE(0) & 0x7fffffff;
        const headers = decodeHeaderBlock(await this.inflate.run(f.data.subarray(10)));
        const stream = new SpdyStream(id, headers, this);
        this.streams.set(id, stream);
        stream.once('close', () => this.streams.delete(id));
        const replyHead = Buffer.alloc(4);
        replyHead.writeUInt32BE(id);
        this.sendFrame(async () => encodeControlFrame(SYN_REPLY, 0, Buffer.concat([replyHead, await this.deflate.run(encodeHeaderBlock({}))])));
        if (f.flags & FLAG_FIN) stream.push(null);
        this.emit('stream', stream);
        return;
      }
      case HEADERS:
        // Headers after the SYN_STREAM: decompress to keep the zlib stream in step.
        await this.inflate.run(f.data.subarray(4));
        return;
      case RST_STREAM: {
        const s = this.streams.get(f.data.readUInt32BE(0) & 0x7fffffff);
        s?.destroy();
        return;
      }
      case PING:
        this.sendFrame(encodeControlFrame(PING, 0, Buffer.from(f.data)));
        return;
      case GOAWAY:
        this.close();
        return;
      default:
        // SETTINGS, WINDOW_UPDATE and anything newer: nothing to do.
    }
  }

  private fail(err: Error): void {
    this.emit('protocolError', err);
    this.socket.destroy();
    this.close();
  }

  /** Ends every stream and the session (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.destroy();
    this.streams.clear();
    this.inflate.close();
    this.deflate.close();
    if (!this.socket.destroyed) this.socket.destroy();
    this.emit('close');
  }
}
