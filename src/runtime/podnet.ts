/**
 * HTTP and TCP requests from the node into a pod's network, for the Docker runtime's
 * `podHttpGet`/`podTcpConnect` (probes and lifecycle hooks). The node reaches its pods directly:
 * each node is a bridge network of this host, and the pod IP lives on it. Failures become
 * RuntimeErrors worded like the Go errors the real kubelet shows in events
 * (`dial tcp 10.244.1.5:81: connect: connection refused`).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { RuntimeError, type PodHttpGet, type PodHttpResponse } from './types.js';

/** The start of a body kept for the caller, as the kubelet's prober reads at most 10 KiB. */
const MAX_BODY = 10 * 1024;

/** What the kubelet's probes send unless the probe sets these headers itself. */
const DEFAULT_HEADERS: Record<string, string> = { 'user-agent': 'kube-probe/1.32', accept: '*/*' };

const hostPort = (host: string, port: number) => (net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`);

/** A Node socket error in Go's words: `dial tcp 10.0.0.1:81: connect: connection refused`. */
export function dialError(err: NodeJS.ErrnoException, host: string, port: number, connected: boolean): string {
  const addr = hostPort(host, port);
  switch (err.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${addr}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${addr}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${addr}: connect: network is unreachable`;
    case 'ETIMEDOUT':
      return `dial tcp ${addr}: i/o timeout`;
    case 'ECONNRESET':
      return connected ? `read tcp ${addr}: read: connection reset by peer` : `dial tcp ${addr}: connect: connection reset by peer`;
    case 'ABORT_ERR':
      return connected ? 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)' : `dial tcp ${addr}: i/o timeout`;
    default:
      return err.message;
  }
}

/** An HTTP(S) GET to `ip` (or `req.host`); resolves with any status, rejects when there is no answer. */
export function httpGetFromNode(ip: string, req: PodHttpGet, signal?: AbortSignal): Promise<PodHttpResponse> {
  const host = req.host || ip;
  const url = `${req.scheme.toLowerCase()}://${hostPort(host, req.port)}${req.path}`;
  const headers: Record<string, string> = { ...DEFAULT_HEADERS };
  for (const h of req.headers) headers[h.name.toLowerCase()] = h.value;
  return new Promise<PodHttpResponse>((resolve, reject) => {
    let connected = false;
    const fail = (err: NodeJS.ErrnoException) => reject(new RuntimeError(`Get "${url}": ${dialError(err, host, req.port, connected)}`));
    if (signal?.aborted) {
      fail(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }));
      return;
    }
    const options = { host, port: req.port, path: req.path, method: 'GET', headers, signal, agent: false as const };
    const request = req.scheme === 'HTTPS'
      ? https.request({ ...options, rejectUnauthorized: false })
      : http.request(options);
    request.on('socket', (s) => s.once('connect', () => (connected = true)));
    request.on('error', fail);
    request.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_BODY) });
        res.destroy();
      };
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        if (size >= MAX_BODY) done();
      });
      res.on('end', done);
      // The status line arrived: a body cut short still answers the probe.
      res.on('error', done);
      res.on('aborted', done);
    });
    request.end();
  });
}

/** Opens a TCP connection to `ip` (or `host`) and closes it at once. */
export function tcpConnectFromNode(ip: string, target: { host?: string; port: number }, signal?: AbortSignal): Promise<void> {
  const host = target.host || ip;
  return new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) => reject(new RuntimeError(dialError(err, host, target.port, false)));
    if (signal?.aborted) {
      fail(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }));
      return;
    }
    const socket = net.connect({ host, port: target.port, signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', fail);
  });
}

/** Opens a TCP connection from the node to `ip:port` and hands it over once connected. */
export function openTcpFromNode(ip: string, port: number): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect({ host: ip, port });
    const fail = (err: NodeJS.ErrnoException) => reject(new RuntimeError(dialError(err, ip, port, false)));
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.off('error', fail);
      resolve(socket);
    });
  });
}
