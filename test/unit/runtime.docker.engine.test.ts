/**
 * How the Docker runtime talks to an engine that restarts or hangs, against stand-in engines on
 * a unix socket (no Docker needed): every short call has a deadline and fails with a sentence
 * that names the call, and each request opens its own connection — a dockerd that is shutting
 * down closes its listener but still serves connections it already has, so a kept-alive
 * connection would let containers be created during the shutdown.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../src/runtime/docker.js';
import { RuntimeError } from '../../src/runtime/types.js';

let dir = '';
let server: Server | undefined;
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A stand-in engine on a fresh socket; `onData` gets each connection's bytes. */
async function engine(onData: (socket: Socket, data: string) => void): Promise<{ socketPath: string; connections: () => number }> {
  dir = mkdtempSync(join(tmpdir(), 'mkl-engine-'));
  const socketPath = join(dir, 'docker.sock');
  let connections = 0;
  server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('data', (d) => onData(socket, d.toString()));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server?.listen(socketPath, resolve));
  return { socketPath, connections: () => connections };
}

const ok = (body: string) => `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('the Docker runtime against an engine that hangs or restarts', () => {
  it.each([
    { call: 'list containers', run: (rt: DockerRuntime) => rt.listContainers({}) },
    { call: 'list sandboxes', run: (rt: DockerRuntime) => rt.listPodSandboxes({}) },
    { call: 'remove container abc', run: (rt: DockerRuntime) => rt.removeContainer('abc') },
    { call: 'stop container abc', run: (rt: DockerRuntime) => rt.stopContainer('abc', 0) },
    { call: 'inspect abc', run: (rt: DockerRuntime) => rt.containerStatus('abc') },
    { call: 'ping', run: (rt: DockerRuntime) => rt.ping() },
  ])('gives up on $call when the engine accepts the request and never answers', async ({ call, run }) => {
    const { socketPath } = await engine(() => undefined);
    const rt = new DockerRuntime({ socketPath, callTimeoutMs: 1200 });
    const started = Date.now();
    const err = await run(rt).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as Error).message).toMatch(new RegExp(`^The Docker engine at unix://.* did not answer ${call} within \\d+ s \\(is dockerd restarting or overloaded\\?\\)\\.$`));
    expect(Date.now() - started).toBeLessThan(1200 + 1000);
  });

  it('opens a new connection for each request (no keep-alive into an engine that may be shutting down)', async () => {
    const { socketPath, connections } = await engine((socket, data) => {
      if (data.startsWith('GET /_ping')) socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK`);
      else if (data.startsWith('GET /version')) socket.write(ok('{"Version":"20.10.24"}'));
    });
    const rt = new DockerRuntime({ socketPath });
    await rt.ping();
    await rt.ping();
    expect(await rt.version()).toBe('docker 20.10.24');
    expect(connections()).toBe(3);
  });
});
