/**
 * The host's network stack as the service proxy sees it: iptables-save / iptables-restore, the
 * routing table and the addresses of the host's interfaces (to find a node network's bridge).
 * The proxy plans with pure functions (src/proxy/plan.ts) and calls these to act; unit tests
 * pass a fake `HostNetwork`.
 *
 * Every call goes through an injected `CommandRunner` (execFile, no shell). `-w` waits for the
 * xtables lock that Docker and the kubelets also take.
 */
import { execFileRunner, type CommandRunner } from './iptables.js';
import { RuntimeError } from './types.js';

/** One route the proxy owns: `ip route replace <type> <dst> [dev <dev>]`. */
export interface HostRoute {
  dst: string;
  /** `unicast` routes need `dev`; `unreachable` answers at once with "No route to host". */
  type: 'unicast' | 'unreachable';
  dev?: string;
}

/** What the service proxy needs from the host (implemented by `LinuxHostNetwork`). */
export interface HostNetwork {
  /** `iptables-save -t <table>` output. */
  save(table: 'nat' | 'filter'): Promise<string>;
  /** Applies `text` with `iptables-restore --noflush` in one atomic step; rejects with iptables' message. */
  restore(text: string): Promise<void>;
  /** Adds or replaces a route for `dst`. */
  replaceRoute(route: HostRoute): Promise<void>;
  /** Deletes the route for `dst` of that type if there is one (no error if absent). */
  deleteRoute(route: Pick<HostRoute, 'dst' | 'type'>): Promise<void>;
  /** The routes of the main table whose destination is exactly `dst`. */
  routesTo(dst: string): Promise<HostRoute[]>;
  /** Every IPv4 address of the host's interfaces: `{ dev, address }`. */
  addresses(): Promise<{ dev: string; address: string }[]>;
  /** Hairpin mode of each port of a bridge (`/sys/class/net/<br>/brif/<port>/hairpin_mode`). */
  hairpinModes(bridge: string): Promise<Record<string, boolean>>;
  /**
   * Turns hairpin mode on for every port of `bridge`; returns how many ports changed. Needed
   * for a pod reaching itself through its Service: with br_netfilter, a frame DNATed to a pod
   * on the same bridge is bridged back out of the port it came in on, which a bridge refuses
   * unless the port is in hairpin mode (kubenet's hairpin-veth mode).
   */
  enableHairpin(bridge: string): Promise<number>;
}

/** `HostNetwork` on Linux with the `iptables`, `iptables-save`, `iptables-restore` and `ip` programs. */
export class LinuxHostNetwork implements HostNetwork {
  constructor(private readonly run: CommandRunner = execFileRunner) {}

  async save(table: 'nat' | 'filter'): Promise<string> {
    return (await this.must('iptables-save', ['-t', table])).stdout;
  }

  async restore(text: string): Promise<void> {
    await this.must('iptables-restore', ['-w', '5', '--noflush'], text);
  }

  async replaceRoute(route: HostRoute): Promise<void> {
    await this.must('ip', ['route', 'replace', ...(route.type === 'unreachable' ? ['unreachable'] : []), route.dst, ...(route.dev ? ['dev', route.dev] : [])]);
  }

  async deleteRoute(route: Pick<HostRoute, 'dst' | 'type'>): Promise<void> {
    const r = await this.exec('ip', ['route', 'del', ...(route.type === 'unreachable' ? ['unreachable'] : []), route.dst]);
    // "RTNETLINK answers: No such process": there was no such route.
    if (r.code !== 0 && !/No such process|not found/i.test(r.stderr)) throw this.failure('ip', ['route', 'del', route.dst], r.stderr);
  }

  async routesTo(dst: string): Promise<HostRoute[]> {
    const out = (await this.must('ip', ['-o', 'route', 'show', 'exact', dst])).stdout;
    return parseRoutes(out);
  }

  /** Every route of the main table. */
  async routes(): Promise<HostRoute[]> {
    return parseRoutes((await this.must('ip', ['-o', 'route', 'show'])).stdout);
  }

  async addresses(): Promise<{ dev: string; address: string }[]> {
    const out = (await this.must('ip', ['-o', '-4', 'addr', 'show'])).stdout;
    return parseAddresses(out);
  }

  async hairpinModes(bridge: string): Promise<Record<string, boolean>> {
    const { readdir, readFile } = await import('node:fs/promises');
    const dir = `/sys/class/net/${bridge}/brif`;
    const ports = await readdir(dir).catch(() => [] as string[]);
    const out: Record<string, boolean> = {};
    for (const p of ports) out[p] = (await readFile(`${dir}/${p}/hairpin_mode`, 'utf8').catch(() => '0')).trim() === '1';
    return out;
  }

  async enableHairpin(bridge: string): Promise<number> {
    const { writeFile } = await import('node:fs/promises');
    let changed = 0;
    for (const [port, on] of Object.entries(await this.hairpinModes(bridge))) {
      if (on) continue;
      try {
        await writeFile(`/sys/class/net/${bridge}/brif/${port}/hairpin_mode`, '1');
        changed++;
      } catch (e) {
        // The port went away with its container between listing and writing: nothing to do.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new RuntimeError(`cannot turn on hairpin mode on ${bridge} port ${port}: ${(e as Error).message}`);
      }
    }
    return changed;
  }

  private async must(file: string, args: string[], input?: string): Promise<{ stdout: string }> {
    const r = await this.exec(file, args, input);
    if (r.code !== 0) throw this.failure(file, args, r.stderr);
    return r;
  }

  private async exec(file: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      return await this.run(file, args, input);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new RuntimeError(`Cannot run "${file}": it is not installed on this host; install iptables and iproute2 (apt-get install iptables iproute2) for Services to work.`);
      if (code === 'EACCES' || code === 'EPERM') throw new RuntimeError(`Cannot run "${file}": permission denied; run minikube-lite as root to program Services.`);
      throw new RuntimeError(`Cannot run "${file}": ${(err as Error).message}.`);
    }
  }

  private failure(file: string, args: string[], stderr: string): RuntimeError {
    const detail = stderr.trim().split('\n').slice(0, 3).join(' / ') || 'unknown error';
    return new RuntimeError(`${file} ${args.join(' ')} failed: ${detail}`);
  }
}

/** `ip -o route show` lines → routes (`unreachable 10.1.0.0/16`, `10.96.0.0/16 dev br-x scope link`). */
export function parseRoutes(out: string): HostRoute[] {
  const routes: HostRoute[] = [];
  for (const line of out.split('\n')) {
    const words = line.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) continue;
    const type = words[0] === 'unreachable' ? 'unreachable' : 'unicast';
    const dst = type === 'unreachable' ? words[1] : words[0];
    const i = words.indexOf('dev');
    routes.push({ dst, type, ...(i >= 0 ? { dev: words[i + 1] } : {}) });
  }
  return routes;
}

/** `ip -o -4 addr show` lines (`5: br-1a2b    inet 10.244.1.1/24 brd … scope global br-1a2b`) → addresses. */
export function parseAddresses(out: string): { dev: string; address: string }[] {
  const res: { dev: string; address: string }[] = [];
  for (const line of out.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+(\d+\.\d+\.\d+\.\d+)\//.exec(line.trim());
    if (m) res.push({ dev: m[1].replace(/@.*$/, ''), address: m[2] });
  }
  return res;
}
