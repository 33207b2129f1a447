/**
 * `npm run bench [-- PART… [--quick] [--cpu-prof] [--out DIR]]`: runs the benchmark parts
 * (all by default, in the order below), prints one table with the machine and versions above
 * it, and writes the run as JSON under `bench/results/`. Each part cleans up what it made
 * (clusters, containers, networks, compose projects, temp dirs), also on Ctrl-C.
 *
 * No thresholds: the numbers are for reading, side by side with their references.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { newContext, type BenchContext } from './context.js';
import { machineInfo, REPO_ROOT } from './machine.js';
import { summarizeProfiles } from './profile.js';
import { newPart, renderColumns, renderReport, writeResults, type PartResult } from './report.js';
import { runApiServer } from './parts/apiserver.js';
import { runFootprint } from './parts/footprint.js';
import { runPods } from './parts/pods.js';
import { runScaleout } from './parts/scaleout.js';
import { runScheduler } from './parts/scheduler.js';
import { runServices } from './parts/services.js';
import { runIngress } from './parts/ingress.js';
import { runStartup } from './parts/startup.js';

/** Every part, in the order a full run takes them. */
export const PARTS: Record<string, { docker: boolean; run: (ctx: BenchContext) => Promise<PartResult> }> = {
  startup: { docker: true, run: runStartup },
  pods: { docker: true, run: runPods },
  scaleout: { docker: true, run: runScaleout },
  scheduler: { docker: false, run: (ctx) => runScheduler(ctx) },
  apiserver: { docker: false, run: (ctx) => runApiServer(ctx) },
  footprint: { docker: true, run: runFootprint },
  services: { docker: true, run: runServices },
  ingress: { docker: true, run: runIngress },
};

const USAGE = `usage: npm run bench [-- [PART…] [--quick] [--cpu-prof] [--out DIR]]

parts (default: all, in this order): ${Object.keys(PARTS).join(', ')}
  --quick      small N everywhere (a smoke run: seconds to a few minutes)
  --cpu-prof   CPU-profile the clusters' processes (control plane, kubelets) and print where their time went
  --out DIR    where the JSON (and profiles) go (default: bench/results)
`;

interface Args {
  parts: string[];
  quick: boolean;
  cpuProf: boolean;
  out: string;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { parts: [], quick: false, cpuProf: false, out: join(REPO_ROOT, 'bench', 'results') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--cpu-prof') args.cpuProf = true;
    else if (a === '--out') args.out = argv[++i] ?? '';
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else if (a in PARTS) {
      if (!args.parts.includes(a)) args.parts.push(a);
    } else {
      process.stderr.write(`unknown part or option "${a}"\n${USAGE}`);
      process.exit(2);
    }
  }
  if (!args.out) {
    process.stderr.write(`--out needs a directory\n${USAGE}`);
    process.exit(2);
  }
  if (args.parts.length === 0) args.parts = Object.keys(PARTS);
  else args.parts = Object.keys(PARTS).filter((p) => args.parts.includes(p));
  return args;
}

/** Adds a summary of the part's CPU profiles (written when its clusters went down) to its result. */
function addProfiles(part: PartResult, dir: string): void {
  // A part that profiled its measuring window (`profileSegments`) shows only those segments.
  const segments = part.profileSegments;
  const summaries = summarizeProfiles(dir, 10)
    .filter((s) => !s.file.startsWith('cli-'))
    .filter((s) => !segments || segments.some((seg) => s.file.endsWith(`-${seg}.cpuprofile`)));
  if (summaries.length === 0) return;
  part.details.cpuProfiles = { dir, summaries };
  for (const s of summaries) {
    part.tables.push({
      title: `CPU profile ${s.file}: ${(s.busyMs / 1000).toFixed(2)} s busy of ${(s.wallMs / 1000).toFixed(1)} s (GC ${(s.gcMs / 1000).toFixed(2)} s); self time by source`,
      header: ['SOURCE', 'SELF'],
      rows: s.byFile.slice(0, 8).map((f) => [f.file, `${f.ms.toFixed(0)} ms`]),
    });
    part.tables.push({
      title: `CPU profile ${s.file}: own functions, inclusive time`,
      header: ['FUNCTION', 'INCLUSIVE'],
      rows: s.topOwnInclusive.slice(0, 8).map((f) => [f.fn, `${f.ms.toFixed(0)} ms`]),
    });
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const startedAt = new Date().toISOString();
  const cpuProfDir = args.cpuProf ? join(args.out, `${startedAt.replace(/[:.]/g, '-')}-cpuprofiles`) : undefined;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const ctx = newContext({ quick: args.quick, cpuProfDir });
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    ctx.log(`${sig}: cleaning up before exiting`);
    void ctx.cleanup.runAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const machine = await machineInfo();
  ctx.log(`machine: ${machine.cores} cores, ${machine.memoryGiB.toFixed(1)} GiB; ${machine.docker}; minikube-lite ${machine.minikubeLite}`);
  const needsDocker = args.parts.some((p) => PARTS[p].docker);
  if (needsDocker && machine.docker.includes('not reachable')) {
    process.stderr.write('The Docker engine does not answer; run `bash scripts/setup.sh` (or use only the simulated parts: scheduler apiserver).\n');
    process.exit(1);
  }
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js')) && needsDocker) {
    process.stderr.write('dist/cli/main.js is missing: build first (npm run bench runs scripts/bench.sh, which does).\n');
    process.exit(1);
  }

  const results: PartResult[] = [];
  for (const name of args.parts) {
    if (interrupted) break;
    ctx.log(`part ${name}${args.quick ? ' (quick)' : ''}`);
    const started = performance.now();
    let result: PartResult;
    try {
      result = await PARTS[name].run(ctx);
    } catch (e) {
      result = newPart(name, 'failed');
      result.skipped = `failed: ${(e as Error).message.split('\n').slice(0, 6).join(' | ')}`;
      ctx.log(`part ${name} failed: ${(e as Error).stack ?? String(e)}`);
    }
    await ctx.cleanup.runAll();
    if (cpuProfDir) addProfiles(result, join(cpuProfDir, name));
    result.details.elapsedSeconds = (performance.now() - started) / 1000;
    results.push(result);
    ctx.log(`part ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }

  const report = renderReport(machine, results, args.quick);
  process.stdout.write(report + '\n');
  const path = writeResults(args.out, { machine, quick: args.quick, argv: process.argv.slice(2), startedAt, finishedAt: new Date().toISOString(), parts: results });
  process.stdout.write(`\nresults: ${path}${cpuProfDir ? `\ncpu profiles: ${cpuProfDir} (open in Chrome DevTools or speedscope)` : ''}\n`);
  const failed = results.filter((r) => r.skipped?.startsWith('failed'));
  if (failed.length > 0) {
    process.stderr.write(`\n${renderColumns([['PART', 'FAILURE'], ...failed.map((f) => [f.part, f.skipped ?? ''])])}\n`);
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
