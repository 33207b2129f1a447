/**
 * What every benchmark part gets: the run's options, a progress log and the cleanup registry
 * that removes what the part made (clusters, floor containers, compose projects, temp dirs)
 * even when the part fails or the run is interrupted.
 */
import { randomBytes } from 'node:crypto';

/** One thing to undo; `run` does it at most once and unregisters it. */
export interface CleanupTask {
  run(): Promise<void>;
  /**
   * Like `run`, but a failure is returned as a sentence (for the part's notes) instead of
   * thrown, so that a leftover does not discard what the part measured.
   */
  runReporting(): Promise<string | undefined>;
}

/** Undo actions, run last-in first-out. Errors are logged and the remaining tasks still run. */
export class Cleanup {
  private readonly tasks: { what: string; fn: () => Promise<void>; done: boolean }[] = [];

  constructor(private readonly log: (msg: string) => void) {}

  /** Registers `fn` (described by `what` in logs) and returns a handle to run it early. */
  add(what: string, fn: () => Promise<void>): CleanupTask {
    const task = { what, fn, done: false };
    this.tasks.push(task);
    const run = async () => {
      if (task.done) return;
      task.done = true;
      this.tasks.splice(this.tasks.indexOf(task), 1);
      await fn();
    };
    return {
      run,
      runReporting: async () => {
        try {
          await run();
          return undefined;
        } catch (e) {
          const msg = `cleanup of ${what} failed, remove it by hand: ${(e as Error).message}`;
          this.log(msg);
          return msg;
        }
      },
    };
  }

  /** Runs every registered task, newest first. */
  async runAll(): Promise<void> {
    while (this.tasks.length > 0) {
      const task = this.tasks.pop();
      if (!task || task.done) continue;
      task.done = true;
      try {
        this.log(`cleanup: ${task.what}`);
        await task.fn();
      } catch (e) {
        this.log(`cleanup of ${task.what} failed: ${(e as Error).message}`);
      }
    }
  }

  get pending(): number {
    return this.tasks.length;
  }
}

export interface BenchContext {
  /** Small N everywhere (seconds, not minutes). */
  quick: boolean;
  /** Short random id shared by every name this run creates (clusters, networks, projects). */
  runId: string;
  /** Progress messages (stderr), so the table on stdout stays clean. */
  log(msg: string): void;
  cleanup: Cleanup;
  /**
   * When set, cluster components run with `node --cpu-prof` writing their profiles here, and
   * parts summarize where the time went.
   */
  cpuProfDir?: string;
}

/** A context for a run; `log` defaults to stderr with elapsed seconds. */
export function newContext(opts: { quick: boolean; cpuProfDir?: string; log?: (msg: string) => void }): BenchContext {
  const started = performance.now();
  const log = opts.log ?? ((msg: string) => process.stderr.write(`[bench +${((performance.now() - started) / 1000).toFixed(1)}s] ${msg}\n`));
  return {
    quick: opts.quick,
    runId: randomBytes(3).toString('hex'),
    log,
    cleanup: new Cleanup(log),
    ...(opts.cpuProfDir ? { cpuProfDir: opts.cpuProfDir } : {}),
  };
}
