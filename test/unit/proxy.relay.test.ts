/**
 * The proxy's loopback relays, on real sockets on 127.0.0.1: they pipe to their target, keep
 * a published port across reconciles, reset clients when the target refuses, and close what
 * is no longer wanted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import net from 'node:net';
import { Relays } from '../../src/proxy/relay.js';

function echoServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((s) => s.on('data', (d) => s.write(`echo:${String(d)}`)));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    resolve({ port: typeof a === 'object' && a ? a.port : 0, close: () => new Promise<void>((r) => server.close(() => r())) });
  }));
}

function talk(port: number, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(msg));
    s.once('data', (d) => { resolve(String(d)); s.destroy(); });
    s.once('error', (e: NodeJS.ErrnoException) => reject(e));
    s.once('close', () => resolve(''));
  });
}

describe('relays', () => {
  const relays = new Relays();
  afterEach(() => relays.closeAll());

  it('pipe a connection on an ephemeral port to the target', async () => {
    const target = await echoServer();
    const state = await relays.reconcile([{ key: 'a', host: '127.0.0.1', port: 0, targetHost: '127.0.0.1', targetPort: target.port }]);
    const port = state.get('a')?.boundPort ?? 0;
    expect(port).toBeGreaterThan(0);
    expect(await talk(port, 'hi')).toBe('echo:hi');
    await target.close();
  });

  it('keep the bound port when reconciled again, and follow a new target in place', async () => {
    const t1 = await echoServer();
    const t2 = await echoServer();
    const first = await relays.reconcile([{ key: 'a', host: '127.0.0.1', port: 0, targetHost: '127.0.0.1', targetPort: t1.port }]);
    const second = await relays.reconcile([{ key: 'a', host: '127.0.0.1', port: 0, targetHost: '127.0.0.1', targetPort: t2.port }]);
    expect(second.get('a')?.boundPort).toBe(first.get('a')?.boundPort);
    expect(await talk(second.get('a')?.boundPort ?? 0, 'x')).toBe('echo:x');
    await Promise.all([t1.close(), t2.close()]);
  });

  it('reuse the preferred port after a restart when it is free', async () => {
    const t = await echoServer();
    const first = await relays.reconcile([{ key: 'a', host: '127.0.0.1', port: 0, targetHost: '127.0.0.1', targetPort: t.port }]);
    const port = first.get('a')?.boundPort ?? 0;
    await relays.closeAll();
    const again = await new Relays().reconcile([{ key: 'a', host: '127.0.0.1', port: 0, preferredPort: port, targetHost: '127.0.0.1', targetPort: t.port }]);
    expect(again.get('a')?.boundPort).toBe(port);
    await t.close();
  });

  it('close listeners that are no longer wanted', async () => {
    const t = await echoServer();
    const state = await relays.reconcile([{ key: 'a', host: '127.0.0.1', port: 0, targetHost: '127.0.0.1', targetPort: t.port }]);
    await relays.reconcile([]);
    await expect(talk(state.get('a')?.boundPort ?? 0, 'x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await t.close();
  });

  it('reset the client at once when the target refuses', async () => {
    const t = await echoServer();
    await t.close();
    const state = await relays.reconcile([{ key: 'a', host: '127.0.0.1', port: 0, targetHost: '127.0.0.1', targetPort: t.port }]);
    await expect(talk(state.get('a')?.boundPort ?? 0, 'x')).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('relay UDP datagrams to the target and the replies back to each client', async () => {
    const target = dgram.createSocket('udp4');
    target.on('message', (m, from) => target.send(`echo:${String(m)}`, from.port, from.address));
    await new Promise<void>((r) => target.bind(0, '127.0.0.1', () => r()));
    const state = await relays.reconcile([{ key: 'u', host: '127.0.0.1', port: 0, protocol: 'UDP', targetHost: '127.0.0.1', targetPort: target.address().port }]);
    const port = state.get('u')?.boundPort ?? 0;
    expect(port).toBeGreaterThan(0);
    const client = dgram.createSocket('udp4');
    const reply = new Promise<string>((resolve) => client.once('message', (m) => resolve(String(m))));
    client.send('ping', port, '127.0.0.1');
    expect(await reply).toBe('echo:ping');
    client.close();
    target.close();
  });

  it('report a port that is taken instead of throwing', async () => {
    const t = await echoServer();
    const state = await relays.reconcile([{ key: 'a', host: '127.0.0.1', port: t.port, targetHost: '127.0.0.1', targetPort: t.port }]);
    expect(state.get('a')?.error).toMatch(/EADDRINUSE/);
    await t.close();
  });
});
