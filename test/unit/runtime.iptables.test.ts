/**
 * Pod traffic rules (the Docker runtime's allowPodTraffic), driven through a scripted iptables:
 * what is checked, inserted and deleted, and how failures read.
 */
import { describe, expect, it } from 'vitest';
import { PodTrafficRules, podTrafficRules, type CommandRunner } from '../../src/runtime/iptables.js';
import { RuntimeError } from '../../src/runtime/types.js';

/** An in-memory iptables: chains of rule strings; records every call. */
function fakeIptables(chains: Record<string, string[]> = { 'filter/DOCKER-USER': ['-j RETURN'], 'nat/POSTROUTING': [] }) {
  const calls: string[] = [];
  const run: CommandRunner = async (file, args) => {
    calls.push([file, ...args].join(' '));
    const [wait, tflag, table, op, chain, ...spec] = args;
    expect([wait, tflag]).toEqual(['-w', '-t']);
    const key = `${table}/${chain}`;
    const rule = spec.join(' ');
    const rules = chains[key];
    const missing = { code: 1, stdout: '', stderr: 'iptables: No chain/target/match by that name.\n' };
    switch (op) {
      case '-S':
        return rules ? { code: 0, stdout: rules.join('\n'), stderr: '' } : missing;
      case '-N':
        chains[key] = [];
        return { code: 0, stdout: '', stderr: '' };
      case '-C':
        return rules?.includes(rule) ? { code: 0, stdout: '', stderr: '' } : { code: 1, stdout: '', stderr: 'iptables: Bad rule (does a matching rule exist in that chain?).\n' };
      case '-I':
        if (!rules) return missing;
        rules.unshift(rule);
        return { code: 0, stdout: '', stderr: '' };
      case '-D': {
        const i = rules?.indexOf(rule) ?? -1;
        if (!rules || i < 0) return missing;
        rules.splice(i, 1);
        return { code: 0, stdout: '', stderr: '' };
      }
      default:
        throw new Error(`unexpected iptables call: ${args.join(' ')}`);
    }
  };
  return { run, calls, chains };
}

const CIDR = '10.244.0.0/16';
const MATCH = `-s ${CIDR} -d ${CIDR} -m comment --comment minikube-lite`;
const ACCEPT = `${MATCH} -j ACCEPT`;
const RETURN = `-s ${CIDR} -d ${CIDR} -m mark ! --mark 0x4000/0x4000 -m comment --comment minikube-lite -j RETURN`;

describe('pod traffic rules', () => {
  it('are an ACCEPT in DOCKER-USER and a RETURN before masquerading', () => {
    expect(podTrafficRules(CIDR)).toEqual([
      { table: 'filter', chain: 'DOCKER-USER', spec: ACCEPT.split(' ') },
      { table: 'nat', chain: 'POSTROUTING', spec: RETURN.split(' ') },
    ]);
  });

  it("carry their owner's name, made safe for iptables", () => {
    expect(podTrafficRules(CIDR, 'dev cluster/1')[0].spec).toContain('minikube-lite:dev_cluster_1');
  });

  it("one owner's disallow leaves another owner's rules for the same CIDR", async () => {
    const ipt = fakeIptables();
    await new PodTrafficRules(ipt.run, 'iptables', 'a').allow(CIDR);
    await new PodTrafficRules(ipt.run, 'iptables', 'b').allow(CIDR);
    await new PodTrafficRules(ipt.run, 'iptables', 'a').disallow(CIDR);
    expect(ipt.chains['nat/POSTROUTING']).toEqual([`-s ${CIDR} -d ${CIDR} -m mark ! --mark 0x4000/0x4000 -m comment --comment minikube-lite:b -j RETURN`]);
  });

  it.each(['10.244.0.0', '10.244.0.0/33', '300.1.1.1/8', '10.0.0.0/8; rm -rf /', ''])('refuse the malformed CIDR %j', (cidr) => {
    expect(() => podTrafficRules(cidr)).toThrow(RuntimeError);
  });

  it('allow inserts each rule at the top once, however often it is called', async () => {
    const ipt = fakeIptables();
    const rules = new PodTrafficRules(ipt.run);
    await Promise.all([rules.allow(CIDR), rules.allow(CIDR)]);
    await rules.allow(CIDR);
    expect(ipt.chains['filter/DOCKER-USER']).toEqual([ACCEPT, '-j RETURN']);
    expect(ipt.chains['nat/POSTROUTING']).toEqual([RETURN]);
  });

  it('allow creates DOCKER-USER when it is missing', async () => {
    const ipt = fakeIptables({ 'nat/POSTROUTING': [] });
    await new PodTrafficRules(ipt.run).allow(CIDR);
    expect(ipt.calls).toContain('iptables -w -t filter -N DOCKER-USER');
    expect(ipt.chains['filter/DOCKER-USER']).toEqual([ACCEPT]);
  });

  it('disallow deletes every copy and leaves other rules alone', async () => {
    const ipt = fakeIptables({ 'filter/DOCKER-USER': [ACCEPT, '-j RETURN', ACCEPT], 'nat/POSTROUTING': [RETURN, RETURN, '-s 172.17.0.0/16 -j MASQUERADE'] });
    const rules = new PodTrafficRules(ipt.run);
    await rules.disallow(CIDR);
    await rules.disallow(CIDR);
    expect(ipt.chains['filter/DOCKER-USER']).toEqual(['-j RETURN']);
    expect(ipt.chains['nat/POSTROUTING']).toEqual(['-s 172.17.0.0/16 -j MASQUERADE']);
  });

  it('a missing iptables binary is one clear sentence', async () => {
    const enoent: CommandRunner = async () => {
      throw Object.assign(new Error('spawn iptables ENOENT'), { code: 'ENOENT' });
    };
    await expect(new PodTrafficRules(enoent).allow(CIDR)).rejects.toThrow(
      'Cannot run "iptables": iptables is not installed on this host; install it (apt-get install iptables) so pods on different nodes can reach each other.',
    );
  });

  it("iptables' own failure is reported with its message, and does not block later calls", async () => {
    let fail = true;
    const ipt = fakeIptables();
    const run: CommandRunner = async (file, args) =>
      fail ? { code: 4, stdout: '', stderr: 'iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n' } : ipt.run(file, args);
    const rules = new PodTrafficRules(run);
    await expect(rules.allow(CIDR)).rejects.toThrow(/Permission denied \(you must be root\)/);
    fail = false;
    await rules.allow(CIDR);
    expect(ipt.chains['nat/POSTROUTING']).toEqual([RETURN]);
  });
});

describe('pod traffic rules shared by the kubelets of one cluster', () => {
  it('treat a rule another process deleted between check and delete as deleted (two kubelets starting at once)', async () => {
    const ipt = fakeIptables({ 'filter/DOCKER-USER': ['-j RETURN', ACCEPT], 'nat/POSTROUTING': ['-j MASQUERADE', RETURN] });
    // The other kubelet wins every race: each delete finds its copy already gone.
    const racing: CommandRunner = async (file, args) => {
      if (args[3] === '-D') return { code: 1, stdout: '', stderr: 'iptables: Bad rule (does a matching rule exist in that chain?).\n' };
      return ipt.run(file, args);
    };
    let checks = 0;
    const once: CommandRunner = async (file, args) => {
      // After the lost delete, the rule is gone (the other process removed it).
      if (args[3] === '-C' && ++checks % 2 === 0) return { code: 1, stdout: '', stderr: 'iptables: Bad rule (does a matching rule exist in that chain?).\n' };
      return racing(file, args);
    };
    await expect(new PodTrafficRules(once).allow(CIDR)).resolves.toBeUndefined();
  });
});
