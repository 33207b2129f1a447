/**
 * Where the control plane publishes its dashboard (`<data-dir>/dashboard.json`), and the
 * `dashboard` command: it asks the dashboard for a one-time login code with the cluster token
 * and prints the URL to open. It opens nothing by itself.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { CliError, clusterDir, readClusterConfig, type GlobalOptions } from '../cli/context.js';
import type { CommandDeps } from '../cli/commands/shared.js';

export const DASHBOARD_FILE = 'dashboard.json';

export function writeDashboardInfo(dataDir: string, url: string): void {
  writeFileSync(join(dataDir, DASHBOARD_FILE), JSON.stringify({ url }) + '\n', { mode: 0o600 });
}

/** The URL (with a fresh one-time login code) of the cluster's dashboard. */
export async function dashboardLoginUrl(g: GlobalOptions): Promise<string> {
  const cfg = readClusterConfig(g.home, g.name);
  const file = join(clusterDir(g.home, g.name), DASHBOARD_FILE);
  if (!cfg || !existsSync(file)) throw new CliError(`cluster "${g.name}" is not running or serves no dashboard (no ${file}); start it with "minikube-lite up"`);
  const { url } = JSON.parse(readFileSync(file, 'utf8')) as { url: string };
  let res: Response;
  try {
    res = await fetch(new URL('/login-codes', url), { method: 'POST', headers: { authorization: `Bearer ${cfg.token}` } });
  } catch (e) {
    throw new CliError(`the dashboard at ${url} does not answer (${(e as Error).message}); is the cluster up?`);
  }
  if (!res.ok) throw new CliError(`the dashboard refused a login code: ${res.status} ${await res.text()}`);
  const { code } = (await res.json()) as { code: string };
  return `${new URL('/login', url).href}?code=${encodeURIComponent(code)}`;
}

export function dashboardCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  return new Command('dashboard')
    .summary('Print the URL of the cluster\'s live web dashboard (with a one-time login code)')
    .description('The control plane serves a web dashboard on 127.0.0.1: nodes with their pods, Services with endpoints, ' +
      'each pod\'s trace timeline and events, Deployment rollouts, all live through watches. This prints a URL with a ' +
      'one-time login code (good for 5 minutes, for one browser); it opens nothing by itself.')
    .option('--url', 'print only the URL')
    .addHelpText('after', ['', 'Examples:', '  # A one-time login link to open in a browser on this machine', '  minikube-lite dashboard'].join('\n'))
    .action(async (opts: { url?: boolean }) => {
      const url = await dashboardLoginUrl(globals());
      deps.io.out(opts.url ? `${url}\n` : `Open the dashboard (one-time link, valid 5 minutes):\n  ${url}\n`);
    });
}
