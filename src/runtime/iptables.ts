/**
 * Host firewall rules that implement `Runtime.allowPodTraffic` for the Docker runtime: pods on
 * different node networks reach each other directly, by their real IPs.
 *
 * Docker isolates user-defined bridge networks from one another (DOCKER-ISOLATION chains, jumped
 * to from FORWARD after DOCKER-USER) and masquerades traffic leaving a bridge for another one.
 * Two rules undo both for the pod CIDR only:
 *   filter DOCKER-USER: -s CIDR -d CIDR -j ACCEPT    (evaluated before the isolation chains)
 *   nat    POSTROUTING: -s CIDR -d CIDR -m mark ! --mark MASQ -j RETURN  (before Docker's MASQUERADE)
 *
 * The RETURN skips packets the service proxy marked for masquerading (`MASQUERADE_MARK`, as
 * kube-proxy's KUBE-MARK-MASQ): a pod reaching its own Service (hairpin) must be masqueraded
 * even though source and destination are both pod IPs.
 *
 * Each rule carries a comment naming its owner (`minikube-lite:<cluster>`), so two clusters on
 * one host that use the same pod CIDR each own a rule and one's `disallow` leaves the other's.
 *
 * The rules are planned by a pure function and applied by `PodTrafficRules`, which runs the
 * host's `iptables` through an injected command runner (execFile, never a shell).
 */
import { execFile } from 'node:child_process';
import { RuntimeError } from './types.js';

/**
 * Runs a program without a shell, writing `input` (if any) to its stdin; resolves with its exit
 * code (rejects only if it cannot start).
 */
export type CommandRunner = (file: string, args: string[], input?: string) => Promise<{ code: number; stdout: string; stderr: string }>;

/** One rule: its table, chain and the match/target part (what follows `-I CHAIN`). */
export interface IptablesRule {
  table: 'filter' | 'nat';
  chain: string;
  spec: string[];
}

const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** The comment that marks a rule as `owner`'s (characters iptables and shells take literally). */
export function ruleComment(owner?: string): string {
  const safe = (owner ?? '').replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 200);
  return safe ? `minikube-lite:${safe}` : 'minikube-lite';
}

/** The packet mark (value/mask) that asks for masquerading, as kube-proxy's 0x4000. */
export const MASQUERADE_MARK = '0x4000/0x4000';

/** The rules that let pods inside `cidr` reach each other without isolation or NAT. */
export function podTrafficRules(cidr: string, owner?: string): IptablesRule[] {
  const m = CIDR_RE.exec(cidr);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) {
    throw new RuntimeError(`Invalid pod CIDR "${cidr}": expected an IPv4 CIDR such as 10.244.0.0/16.`);
  }
  const match = ['-s', cidr, '-d', cidr, '-m', 'comment', '--comment', ruleComment(owner)];
  return [
    { table: 'filter', chain: 'DOCKER-USER', spec: [...match, '-j', 'ACCEPT'] },
    { table: 'nat', chain: 'POSTROUTING', spec: ['-s', cidr, '-d', cidr, '-m', 'mark', '!', '--mark', MASQUERADE_MARK, ...match.slice(4), '-j', 'RETURN'] },
  ];
}

/** The default runner: `child_process.execFile`, no shell, exit code instead of a rejection. */
export const execFileRunner: CommandRunner = (file, args, input) =>
  new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: 30_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(err);
        return;
      }
      resolve({ code: err ? Number(err.code) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin?.end(input);
  });

/** A chain that is missing or a rule that does not match makes `iptables -C`/`-S` exit with 1. */
const NOT_FOUND_EXIT = 1;
/** Bound on deleting duplicates, so a misbehaving iptables cannot loop forever. */
const MAX_DUPLICATES = 64;

/**
 * Applies and removes pod traffic rules. Calls are serialized (check-then-insert must not
 * interleave, even across the two public methods); `-w` waits for the xtables lock that Docker
 * and other tools also take.
 */
export class PodTrafficRules {
  private queue: Promise<unknown> = Promise.resolve();

  /** `owner` names whose rules these are (the cluster); see `ruleComment`. */
  constructor(
    private readonly run: CommandRunner = execFileRunner,
    private readonly iptables = 'iptables',
    private readonly owner?: string,
  ) {}

  /**
   * Puts each rule at the top of its chain (creating DOCKER-USER if missing). A rule already
   * present but no longer first is moved up: Docker inserts each new network's MASQUERADE rule
   * at the top of POSTROUTING, so the kubelet calls this again after creating its network.
   */
  allow(cidr: string): Promise<void> {
    const rules = podTrafficRules(cidr, this.owner);
    return this.serialize(async () => {
      for (const rule of rules) {
        if (rule.chain === 'DOCKER-USER') await this.ensureChain(rule.table, rule.chain);
        if (await this.isFirst(rule)) continue;
        for (let i = 0; i < MAX_DUPLICATES && (await this.exists(rule)); i++) {
          await this.deleteOne(rule);
        }
        await this.must(['-t', rule.table, '-I', rule.chain, ...rule.spec]);
      }
    });
  }

  /** Whether the rule is the first rule of its chain (`iptables -S` lists it right after `-N`/`-P`). */
  private async isFirst(rule: IptablesRule): Promise<boolean> {
    const r = await this.exec(['-t', rule.table, '-S', rule.chain]);
    if (r.code !== 0) return false;
    const first = r.stdout.split('\n').find((l) => l.startsWith('-A '));
    if (!first) return false;
    const norm = (s: string) => s.replace(/"/g, '').trim();
    return norm(first) === norm(['-A', rule.chain, ...rule.spec].join(' '));
  }

  /** Deletes every copy of each rule; a missing rule or chain is not an error. */
  disallow(cidr: string): Promise<void> {
    const rules = podTrafficRules(cidr, this.owner);
    return this.serialize(async () => {
      for (const rule of rules) {
        for (let i = 0; i < MAX_DUPLICATES && (await this.exists(rule)); i++) {
          await this.deleteOne(rule);
        }
      }
    });
  }

  private serialize(task: () => Promise<void>): Promise<void> {
    const next = this.queue.then(task, task);
    // The queue only orders tasks; each caller sees its own task's outcome through `next`.
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async ensureChain(table: string, chain: string): Promise<void> {
    const r = await this.exec(['-t', table, '-S', chain]);
    if (r.code === 0) return;
    if (r.code !== NOT_FOUND_EXIT) throw this.failure(['-t', table, '-S', chain], r.stderr);
    const created = await this.exec(['-t', table, '-N', chain]);
    // Lost a race with another process creating it: fine.
    if (created.code !== 0 && !/exists/i.test(created.stderr)) throw this.failure(['-t', table, '-N', chain], created.stderr);
  }

  private async exists(rule: IptablesRule): Promise<boolean> {
    const args = ['-t', rule.table, '-C', rule.chain, ...rule.spec];
    const r = await this.exec(args);
    if (r.code === 0) return true;
    if (r.code === NOT_FOUND_EXIT) return false;
    throw this.failure(args, r.stderr);
  }

  /**
   * Deletes one copy of the rule. Every kubelet of a cluster manages the same cluster-wide rules
   * from its own process, so another one may delete the copy between our check and our delete:
   * "Bad rule (does a matching rule exist…)" then means the work is done, not a failure.
   */
  private async deleteOne(rule: IptablesRule): Promise<void> {
    const args = ['-t', rule.table, '-D', rule.chain, ...rule.spec];
    const r = await this.exec(args);
    if (r.code !== 0 && !/Bad rule|does a matching rule exist|No chain/i.test(r.stderr)) throw this.failure(args, r.stderr);
  }

  private async must(args: string[]): Promise<void> {
    const r = await this.exec(args);
    if (r.code !== 0) throw this.failure(args, r.stderr);
  }

  private async exec(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      return await this.run(this.iptables, ['-w', ...args]);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new RuntimeError(`Cannot run "${this.iptables}": iptables is not installed on this host; install it (apt-get install iptables) so pods on different nodes can reach each other.`);
      }
      if (code === 'EACCES' || code === 'EPERM') {
        throw new RuntimeError(`Cannot run "${this.iptables}": permission denied; run minikube-lite as root to manage pod networking.`);
      }
      throw new RuntimeError(`Cannot run "${this.iptables}": ${(err as Error).message}.`);
    }
  }

  private failure(args: string[], stderr: string): RuntimeError {
    const detail = stderr.trim().split('\n')[0] || 'unknown error';
    return new RuntimeError(`${this.iptables} ${args.join(' ')} failed: ${detail}`);
  }
}
