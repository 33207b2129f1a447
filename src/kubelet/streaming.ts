/**
 * The kubelet's streaming endpoints, reached by an HTTP upgrade (the API server passes the
 * client's upgrade through to here):
 *   /exec/{ns}/{pod}/{container}?command=…&stdin=&stdout=&stderr=&tty=
 *   /attach/{ns}/{pod}/{container}?stdin=&stdout=&stderr=&tty=
 *   /portforward/{ns}/{pod}?ports=80,8080
 * over WebSocket (`v5`/`v4`/…`channel.k8s.io`, see wsstream.ts; for port-forward also the
 * `SPDY/3.1+portforward.k8s.io` tunnel) or SPDY/3.1 (spdy.ts; `X-Stream-Protocol-Version`
 * `v4.channel.k8s.io`…`channel.k8s.io`, `portforward.k8s.io`). Exec and attach end with a
 * `Status` on the error channel/stream: Success, or Failure with reason NonZeroExitCode and an
 * `ExitCode` cause, which kubectl turns into its own exit code.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Duplex, type Readable, type Writable } from 'node:stream';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { Status } from '../api/types.js';
import type { StreamSession, TerminalSize } from '../runtime/types.js';
import { SpdySession, type SpdyStream } from './spdy.js';
import {
  ChannelConnection, EXEC_PROTOCOLS, PORTFORWARD_PROTOCOLS, SPDY_TUNNEL_PROTOCOL, ERROR, RESIZE, STDERR, STDIN, STDOUT,
  negotiate, portPrefix, protocolVersion,
} from './wsstream.js';

/** SPDY `X-Stream-Protocol-Version`s for exec/attach, most preferred first. */
export const SPDY_EXEC_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];
export const SPDY_PORTFORWARD_PROTOCOL = 'portforward.k8s.io';
/** How long the client has to open its SPDY streams (the kubelet's streamCreationTimeout). */
const STREAM_CREATION_TIMEOUT_MS = 30_000;
/** How long a tty session waits for the client's terminal size before starting anyway. */
const FIRST_SIZE_WAIT_MS = 500;

/** What an exec/attach request asks for. */
export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

const truthy = (v: string | null): boolean => v !== null && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v);

/**
 * The streams a query asks for; throws with Kubernetes' message when it asks for none. With a
 * tty, stderr is folded into stdout (as the kubelet does).
 */
export function streamOptions(q: URLSearchParams): StreamOptions {
  const o = { stdin: truthy(q.get('stdin')), stdout: truthy(q.get('stdout')), stderr: truthy(q.get('stderr')), tty: truthy(q.get('tty')) };
  if (!o.stdin && !o.stdout && !o.stderr) throw new Error('you must specify at least 1 of stdin, stdout, stderr');
  if (o.tty) o.stderr = false;
  return o;
}

/** The final Status of an exec: Success, or NonZeroExitCode with the code as an `ExitCode` cause. */
export function exitStatus(command: string[], exitCode: number | undefined): Status {
  if (!exitCode) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** A Failure Status for an error that ended a session. */
export const failureStatus = (message: string): Status => ({ metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 });

/** One exec/attach connection, whatever carries it. */
export interface ExecTransport {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  onResize(cb: (size: TerminalSize) => void): void;
  onGone(cb: () => void): void;
  /** Sends the final Status on the error channel and closes the connection. */
  finish(status: Status): void;
}

/** Reads resize messages (`{"Width":80,"Height":24}`, one JSON object per message or line). */
function resizeParser(cb: () => ((size: TerminalSize) => void) | undefined): (data: Buffer) => void {
  let pending = '';
  return (data) => {
    pending += data.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    // A WebSocket message is a whole object even without a newline.
    if (pending.trim().startsWith('{') && pending.trim().endsWith('}')) {
      parts.push(pending);
      pending = '';
    }
    for (const p of parts) {
      if (!p.trim()) continue;
      try {
        const s = JSON.parse(p) as { Width?: number; Height?: number };
        if (typeof s.Width === 'number' && typeof s.Height === 'number') cb()?.({ width: s.Width, height: s.Height });
      } catch {
        // Not a size: ignore it as the kubelet does.
      }
    }
  };
}

/** An exec/attach transport over a WebSocket channel connection. */
export function wsExecTransport(conn: ChannelConnection, opts: StreamOptions): ExecTransport {
  let resize: ((size: TerminalSize) => void) | undefined;
  let stdin: PassThrough | undefined;
  if (opts.stdin) {
    const input = new PassThrough();
    stdin = input;
    conn.receive(STDIN, (d) => input.write(d), () => input.end());
  }
  conn.receive(RESIZE, resizeParser(() => resize), () => undefined);
  const version = protocolVersion(conn.protocol);
  return {
    stdin,
    stdout: opts.stdout ? conn.writer(STDOUT) : undefined,
    stderr: opts.stderr ? conn.writer(STDERR) : undefined,
    onResize: (cb) => (resize = cb),
    onGone: (cb) => conn.ws.once('close', cb),
    finish: (status) => {
      if (version >= 4) conn.send(ERROR, Buffer.from(JSON.stringify(status)));
      else if (status.status !== 'Success') conn.send(ERROR, Buffer.from(status.message ?? ''));
      conn.close();
    },
  };
}

/** Waits for the SPDY streams an exec/attach client must open, then wraps them. */
export function spdyExecTransport(session: SpdySession, protocol: string, opts: StreamOptions): Promise<ExecTransport> {
  const version = protocolVersion(protocol);
  const want = ['error'];
  if (opts.stdin) want.push('stdin');
  if (opts.stdout) want.push('stdout');
  if (opts.stderr) want.push('stderr');
  if (opts.tty && version >= 3) want.push('resize');
  const got = new Map<string, SpdyStream>();
  return new Promise<ExecTransport>((resolve, reject) => {
    const timer = setTimeout(() => {
      session.close();
      reject(new Error(`timed out waiting for client to create streams: have [${[...got.keys()].join(' ')}], want [${want.join(' ')}]`));
    }, STREAM_CREATION_TIMEOUT_MS);
    session.once('close', () => {
      clearTimeout(timer);
      reject(new Error('the client closed the connection before opening its streams'));
    });
    session.on('stream', (s: SpdyStream) => {
      const type = s.headers.streamtype ?? '';
      got.set(type, s);
      if (type !== 'stdin') s.resume();
      if (!want.every((w) => got.has(w))) return;
      clearTimeout(timer);
      let resize: ((size: TerminalSize) => void) | undefined;
      const resizeStream = got.get('resize');
      if (resizeStream) {
        resizeStream.pause();
        resizeStream.on('data', resizeParser(() => resize));
        resizeStream.resume();
      }
      const errorStream = got.get('error');
      resolve({
        stdin: got.get('stdin'),
        stdout: got.get('stdout'),
        stderr: got.get('stderr'),
        onResize: (cb) => (resize = cb),
        onGone: (cb) => session.once('close', cb),
        finish: (status) => {
          got.get('stdout')?.end();
          got.get('stderr')?.end();
          got.get('stdin')?.end();
          resizeStream?.end();
          if (version >= 4) errorStream?.write(JSON.stringify(status));
          else if (status.status !== 'Success') errorStream?.write(status.message ?? '');
          errorStream?.end();
          session.end();
        },
      });
    });
  });
}

/**
 * Runs one exec/attach session over `t`: starts it, forwards resizes (the latest size also
 * when it came before the start), gives up when the client goes away, and finishes with the
 * Status of how it ended.
 */
export async function runSession(t: ExecTransport, start: () => Promise<StreamSession>, command: string[], tty = false): Promise<void> {
  let size: TerminalSize | undefined;
  let session: StreamSession | undefined;
  let gone = false;
  let sized = (): void => undefined;
  // A terminal client sends its size first thing: start once it is here (or soon anyway), so
  // the process sees the right size from its first moment rather than 0x0.
  const firstSize = tty ? new Promise<void>((resolve) => {
    sized = resolve;
    setTimeout(resolve, FIRST_SIZE_WAIT_MS);
  }) : Promise.resolve();
  t.onResize((s) => {
    size = s;
    sized();
    session?.resize(s);
  });
  t.onGone(() => {
    gone = true;
    session?.close();
  });
  await firstSize;
  try {
    session = await start();
  } catch (err) {
    t.finish(failureStatus((err as Error).message));
    return;
  }
  if (gone) session.close();
  if (size) session.resize(size);
  try {
    const { exitCode } = await session.done;
    t.finish(exitStatus(command, exitCode));
  } catch (err) {
    t.finish(failureStatus((err as Error).message));
  }
}

/** Opens a connection to a pod port (the runtime's portForward, bound to the pod). */
export type PortDialer = (port: number) => Promise<Duplex>;

/** The ports of a port-forward query (`ports=80,8080` or repeated); throws on a bad one. */
export function forwardPorts(q: URLSearchParams): number[] {
  const ports: number[] = [];
  for (const v of q.getAll('ports')) {
    for (const p of v.split(',')) {
      const n = Number(p.trim());
      if (!/^\d+$/.test(p.trim()) || n < 1 || n > 65535) throw new Error(`invalid port "${p}"`);
      ports.push(n);
    }
  }
  return ports;
}

/** Port-forward over a plain channel WebSocket: channel 2·i carries port i's bytes, 2·i+1 its errors. */
export function wsPortForward(conn: ChannelConnection, ports: number[], dial: PortDialer, describe: (port: number, why: string) => string): void {
  if (!ports.length) {
    conn.send(1, Buffer.from('query parameter "port" is required'));
    conn.close();
    return;
  }
  let open = ports.length;
  const sockets: Duplex[] = [];
  const closed = () => {
    open -= 1;
    if (open === 0) conn.close();
  };
  conn.ws.once('close', () => sockets.forEach((s) => s.destroy()));
  ports.forEach((port, i) => {
    const data = 2 * i;
    const error = 2 * i + 1;
    conn.send(data, portPrefix(port));
    conn.send(error, portPrefix(port));
    const early: Buffer[] = [];
    let socket: Duplex | undefined;
    let clientDone = false;
    conn.receive(data, (d) => (socket ? socket.write(d) : early.push(d)), () => {
      clientDone = true;
      socket?.end();
    });
    dial(port).then((s) => {
      socket = s;
      sockets.push(s);
      for (const d of early) s.write(d);
      if (clientDone) s.end();
      s.on('data', (d: Buffer) => conn.send(data, d));
      s.on('error', (err: Error) => conn.send(error, Buffer.from(describe(port, err.message))));
      s.once('close', closed);
    }, (err: Error) => {
      conn.send(error, Buffer.from(describe(port, err.message)));
      closed();
    });
  });
}

/** Port-forward over SPDY (kubectl): each connection is an `error` and a `data` stream sharing a `requestid`. */
export function spdyPortForward(session: SpdySession, dial: PortDialer, describe: (port: number, why: string) => string): void {
  const pairs = new Map<string, { error?: SpdyStream; data?: SpdyStream }>();
  session.on('stream', (s: SpdyStream) => {
    const id = s.headers.requestid ?? '';
    const pair = pairs.get(id) ?? {};
    pairs.set(id, pair);
    if (s.headers.streamtype === 'error') {
      pair.error = s;
      s.resume();
    } else if (s.headers.streamtype === 'data') {
      pair.data = s;
    } else {
      s.destroy();
      return;
    }
    if (!pair.error || !pair.data) return;
    pairs.delete(id);
    const { error: errStream, data: dataStream } = pair;
    const port = Number(s.headers.port);
    const fail = (why: string) => {
      errStream.end(describe(port, why));
      dataStream.end();
    };
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      fail(`invalid port "${s.headers.port ?? ''}"`);
      return;
    }
    dataStream.pause();
    dial(port).then((sock) => {
      dataStream.pipe(sock);
      sock.on('data', (d: Buffer) => dataStream.write(d));
      sock.once('end', () => dataStream.end());
      sock.on('error', (err: Error) => fail(err.message));
      sock.once('close', () => errStream.end());
      dataStream.once('close', () => sock.destroy());
      session.once('close', () => sock.destroy());
    }, (err: Error) => fail(err.message));
  });
}

/** What the kubelet's upgrade handler needs to serve one request. */
export interface StreamTarget {
  verb: 'exec' | 'attach' | 'portforward';
  query: URLSearchParams;
  /** exec/attach: starts the runtime session with the transport's streams. */
  start?: (io: { stdin?: Readable; stdout?: Writable; stderr?: Writable; tty: boolean }) => Promise<StreamSession>;
  /** portforward: a connection to a pod port. */
  dial?: PortDialer;
  describePortError?: (port: number, why: string) => string;
}

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
/**
 * The subprotocol chosen for each request. It is negotiated here, not by `ws`, because `ws`
 * refuses offers that are not HTTP tokens, and kubectl's `SPDY/3.1+portforward.k8s.io` is not.
 */
const chosenProtocol = new WeakMap<IncomingMessage, string>();
wss.on('headers', (headers: string[], req: IncomingMessage) => {
  const protocol = chosenProtocol.get(req);
  if (protocol) headers.push(`Sec-WebSocket-Protocol: ${protocol}`);
});

/** Writes a plain HTTP error on a socket whose request asked for an upgrade. */
export function refuseUpgrade(socket: Duplex, code: number, message: string): void {
  const body = `${message}\n`;
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed' }[code] ?? 'Error';
  socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** The values of a header a client may send several times or comma-separated. */
const headerValues = (req: IncomingMessage, name: string): string[] =>
  req.headersDistinct[name.toLowerCase()]?.flatMap((v) => v.split(',').map((s) => s.trim()).filter(Boolean)) ?? [];

/** Serves an upgraded exec/attach/portforward request (WebSocket or SPDY/3.1). */
export function serveStream(req: IncomingMessage, socket: Duplex, head: Buffer, target: StreamTarget): void {
  const upgrade = (req.headers.upgrade ?? '').toLowerCase();
  const portforward = target.verb === 'portforward';
  let options: StreamOptions | undefined;
  let ports: number[] = [];
  try {
    if (portforward) ports = forwardPorts(target.query);
    else options = streamOptions(target.query);
  } catch (err) {
    refuseUpgrade(socket, 400, (err as Error).message);
    return;
  }
  const command = target.query.getAll('command');
  const describe = target.describePortError ?? ((port: number, why: string) => `error forwarding port ${port}: ${why}`);
  if (upgrade === 'websocket') {
    const offered = headerValues(req, 'sec-websocket-protocol');
    const protocol = portforward
      ? negotiate(offered, [SPDY_TUNNEL_PROTOCOL, ...PORTFORWARD_PROTOCOLS])
      : negotiate(offered, EXEC_PROTOCOLS);
    if (protocol === undefined) {
      refuseUpgrade(socket, 400, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${(portforward ? [SPDY_TUNNEL_PROTOCOL, ...PORTFORWARD_PROTOCOLS] : EXEC_PROTOCOLS).join(' ')}]`);
      return;
    }
    delete req.headers['sec-websocket-protocol'];
    chosenProtocol.set(req, protocol);
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      if (portforward && target.dial) {
        if (protocol === SPDY_TUNNEL_PROTOCOL) {
          spdyPortForward(new SpdySession(createWebSocketStream(ws)), target.dial, describe);
          return;
        }
        wsPortForward(new ChannelConnection(ws, protocol), ports, target.dial, describe);
        return;
      }
      if (!options || !target.start) return;
      const t = wsExecTransport(new ChannelConnection(ws, protocol), options);
      const opts = options;
      void runSession(t, () => target.start!({ stdin: t.stdin, stdout: t.stdout, stderr: t.stderr, tty: opts.tty }), command, opts.tty);
    });
    return;
  }
  if (upgrade === 'spdy/3.1') {
    const offered = headerValues(req, 'x-stream-protocol-version');
    const supported = portforward ? [SPDY_PORTFORWARD_PROTOCOL] : SPDY_EXEC_PROTOCOLS;
    const protocol = supported.find((p) => offered.includes(p));
    if (!protocol) {
      refuseUpgrade(socket, 403, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${supported.join(' ')}]`);
      return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
    const session = new SpdySession(socket, head);
    if (portforward && target.dial) {
      spdyPortForward(session, target.dial, describe);
      return;
    }
    if (!options || !target.start) return;
    const opts = options;
    spdyExecTransport(session, protocol, opts).then((t) => runSession(t, () => target.start!({ stdin: t.stdin, stdout: t.stdout, stderr: t.stderr, tty: opts.tty }), command, opts.tty), () => session.close());
    return;
  }
  refuseUpgrade(socket, 400, `unsupported upgrade "${req.headers.upgrade ?? ''}": use websocket or SPDY/3.1`);
}
