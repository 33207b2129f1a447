/**
 * Preloaded (`NODE_OPTIONS=--import=…/cpuprof-preload.js`) into every process of a benchmark
 * cluster when the run profiles: `node --cpu-prof` cannot go through NODE_OPTIONS, and `up`
 * starts its components with plain `node main.js …`. It samples the process with the V8
 * profiler and writes `.cpuprofile` files (the format `--cpu-prof` writes) into
 * `MKL_BENCH_CPU_PROF_DIR`:
 *
 * - on SIGUSR2, the segment since the last one, as `<component>-<pid>-<label>.cpuprofile`, where
 *   the label is read from `<dir>/<pid>.label` (written by the benchmark just before signalling),
 *   then it starts a new segment — so a part can profile exactly its measuring window;
 * - on exit, the last segment (label `end`, or no label when there were no segments).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.MKL_BENCH_CPU_PROF_DIR;

/** `controlplane`, `kubelet-node-1`, or `cli-<command>` from this process's arguments. */
function componentName(argv: readonly string[]): string {
  const args = argv.slice(2);
  const valued = new Set(['--name', '--home', '-n', '--namespace']);
  let i = 0;
  while (i < args.length && args[i].startsWith('-')) i += valued.has(args[i]) ? 2 : 1;
  const cmd = args[i] ?? 'node';
  if (cmd === 'kubelet') {
    const at = args.indexOf('--node');
    return `kubelet-${at >= 0 ? args[at + 1] : 'unknown'}`;
  }
  return cmd === 'controlplane' ? cmd : `cli-${cmd}`;
}

if (dir) {
  const session = new Session();
  session.connect();
  const start = () => {
    session.post('Profiler.enable');
    session.post('Profiler.setSamplingInterval', { interval: 1000 });
    session.post('Profiler.start');
  };
  let segments = 0;
  /** Stops the profiler and writes what it sampled; the in-thread session answers synchronously. */
  const flush = (label: string | undefined) => {
    session.post('Profiler.stop', (err, result) => {
      if (err) {
        process.stderr.write(`cpu profile not written: ${err.message}\n`);
        return;
      }
      mkdirSync(dir, { recursive: true });
      const name = `${componentName(process.argv)}-${process.pid}${label ? `-${label}` : ''}.cpuprofile`;
      writeFileSync(join(dir, name), JSON.stringify(result.profile));
    });
  };
  start();
  process.on('SIGUSR2', () => {
    const labelFile = join(dir, `${process.pid}.label`);
    const label = existsSync(labelFile) ? readFileSync(labelFile, 'utf8').trim().replace(/[^a-zA-Z0-9_.-]/g, '-') : `segment${segments + 1}`;
    segments++;
    flush(label);
    start();
  });
  process.on('exit', () => flush(segments > 0 ? 'end' : undefined));
}
