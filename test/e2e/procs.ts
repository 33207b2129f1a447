/**
 * A cluster's processes as the operating system sees them, for e2e tests of process faults:
 * read from /proc (command lines), independent of the CLI's own locks and pid files.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Live processes of the cluster (by /proc command line): `command` → count, plus their argv. */
export function clusterProcesses(name: string): { pid: number; command: string; argv: string[] }[] {
  const out: { pid: number; command: string; argv: string[] }[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (/\) Z /.test(readFileSync(`/proc/${e}/stat`, 'utf8'))) continue;
    } catch {
      continue; // exited while we looked
    }
    const main = argv.findIndex((a) => a.endsWith('/main.js'));
    if (main < 0 || argv[argv.indexOf('--name') + 1] !== name) continue;
    const command = argv.slice(main + 1).find((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--')) ?? '';
    out.push({ pid: Number(e), command, argv });
  }
  return out;
}

