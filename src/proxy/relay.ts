/**
 * TCP relays of the service proxy: a listener on this host (127.0.0.1 by default) that pipes
 * each connection to a target, usually a Service's ClusterIP:port, so that the nat rules pick
 * the endpoint (and refuse when there is none). Used for NodePorts, LoadBalancer ports, the
 * loopback port of every ClusterIP Service port (`service --url`) and the API server's HTTPS
 * port on a node network address (the `kubernetes` Service's endpoint).
 *
 * `reconcile` is the only mutator: it closes listeners that are no longer wanted (or whose
 * target changed in place it just re-targets them) and opens new ones. Not reentrant: the
 * proxy calls it from its single sync loop.
 */
import dgram from 'node:dgram';
import net from 'node:net';

/** How long a UDP client's flow is kept without traffic (kube-proxy's userspace mode used 250 ms–300 s). */
const UDP_IDLE_MS = 30_000;

export interface RelaySpec {
  /** Stable identity, e.g. `nodeport:default/web:http`. */
  key: string;
  host: string;
  /** 0 = any free port (reusing `preferredPort` when it is free). */
  port: number;
  preferredPort?: number;
  targetHost: string;
  targetPort: number;
  /** Default TCP. UDP relays keep one upstream socket per client address, closed after 30 s idle. */
  protocol?: 'TCP' | 'UDP';
}

export interface RelayState {
  spec: RelaySpec;
  /** The port actually bound, once listening. */
  boundPort?: number;
  /** Why it is not listening (EADDRINUSE, EADDRNOTAVAIL …). */
  error?: string;
}

interface Live {
  spec: RelaySpec;
  server?: net.Server | dgram.Socket;
  boundPort?: number;
  error?: string;
  sockets: Set<net.Socket>;
}

export class Relays {
  private readonly live = new Map<string, Live>();

  /** Makes the listeners match `specs`; resolves with the state of each (bound port or error). */
  async reconcile(specs: readonly RelaySpec[]): Promise<Map<string, RelayState>> {
    const wanted = new Map(specs.map((s) => [s.key, s]));
    for (const [key, l] of this.live) {
      const s = wanted.get(key);
      const sameListener = s && s.host === l.spec.host && s.port === l.spec.port && (s.protocol ?? 'TCP') === (l.spec.protocol ?? 'TCP') && l.server;
      if (sameListener) {
        l.spec = { ...s, port: l.spec.port };
        continue;
      }
      await this.close(l);
      this.live.delete(key);
    }
    await Promise.all(specs.filter((s) => !this.live.has(s.key)).map(async (s) => {
      const l: Live = { spec: s, sockets: new Set() };
      this.live.set(s.key, l);
      await this.open(l);
    }));
    const out = new Map<string, RelayState>();
    for (const [key, l] of this.live) out.set(key, { spec: l.spec, ...(l.boundPort ? { boundPort: l.boundPort } : {}), ...(l.error ? { error: l.error } : {}) });
    return out;
  }

  /** Closes every listener and open connection. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.live.values()].map((l) => this.close(l)));
    this.live.clear();
  }

  private async open(l: Live): Promise<void> {
    if (l.spec.protocol === 'UDP') return this.openUdp(l);
    const server = net.createServer((client) => this.pipe(l, client));
    const tryListen = (port: number) => new Promise<number>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      server.once('error', onError);
      server.listen({ host: l.spec.host, port, exclusive: true }, () => {
        server.off('error', onError);
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
    try {
      if (l.spec.port === 0 && l.spec.preferredPort) {
        try {
          l.boundPort = await tryListen(l.spec.preferredPort);
        } catch {
          l.boundPort = await tryListen(0);
        }
      } else {
        l.boundPort = await tryListen(l.spec.port);
      }
      l.server = server;
      server.on('error', (e) => (l.error = e.message));
    } catch (e) {
      l.error = `listen ${l.spec.host}:${l.spec.port || l.spec.preferredPort || 0}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
      server.close();
    }
  }

  private async openUdp(l: Live): Promise<void> {
    const server = dgram.createSocket('udp4');
    const flows = new Map<string, { socket: dgram.Socket; timer: NodeJS.Timeout }>();
    const closeFlow = (key: string) => {
      const f = flows.get(key);
      if (!f) return;
      clearTimeout(f.timer);
      f.socket.close();
      flows.delete(key);
    };
    server.on('message', (msg, from) => {
      const key = `${from.address}:${from.port}`;
      let f = flows.get(key);
      if (!f) {
        const socket = dgram.createSocket('udp4');
        socket.on('message', (reply) => server.send(reply, from.port, from.address));
        socket.on('error', () => closeFlow(key));
        f = { socket, timer: setTimeout(() => closeFlow(key), UDP_IDLE_MS) };
        flows.set(key, f);
      }
      f.timer.refresh();
      f.socket.send(msg, l.spec.targetPort, l.spec.targetHost);
    });
    server.on('close', () => { for (const k of [...flows.keys()]) closeFlow(k); });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.bind({ address: l.spec.host, port: l.spec.port, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      l.boundPort = server.address().port;
      l.server = server;
      server.on('error', (e) => (l.error = e.message));
    } catch (e) {
      l.error = `listen ${l.spec.host}:${l.spec.port}/UDP: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
      server.close();
    }
  }

  private pipe(l: Live, client: net.Socket): void {
    const upstream = net.connect({ host: l.spec.targetHost, port: l.spec.targetPort });
    l.sockets.add(client);
    l.sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const done = () => {
      l.sockets.delete(client);
      l.sockets.delete(upstream);
    };
    // A refused or reset upstream resets the client too, so it sees the failure at once.
    upstream.on('error', () => client.resetAndDestroy());
    client.on('error', () => upstream.destroy());
    upstream.on('close', () => { client.end(); done(); });
    client.on('close', () => { upstream.end(); done(); });
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private async close(l: Live): Promise<void> {
    for (const s of l.sockets) s.destroy();
    l.sockets.clear();
    const server = l.server;
    l.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}
