/**
 * Running host programs from the benchmark (the built CLI, `docker`, `docker-compose`, `git`),
 * always with an argument vector (no shell) and a timeout.
 */
import { execFile } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, ms. */
  ms: number;
}

/**
 * Runs `cmd args…` and resolves with its exit code and output; never rejects (a program that
 * cannot be started resolves with code 127 and the reason in `stderr`).
 */
export function exec(cmd: string, args: readonly string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<ExecResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = execFile(cmd, [...args], { timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 << 20, env: opts.env, cwd: opts.cwd }, (err, stdout, stderr) => {
      const ms = performance.now() - started;
      if (!err) {
        resolve({ code: 0, stdout: String(stdout), stderr: String(stderr), ms });
        return;
      }
      const e = err as NodeJS.ErrnoException & { code?: number | string };
      const code = typeof e.code === 'number' ? e.code : e.code === 'ENOENT' ? 127 : 1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || e.message, ms });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Like `exec`, but a non-zero exit becomes an Error with the command and its stderr. */
export async function execOk(cmd: string, args: readonly string[], opts: Parameters<typeof exec>[2] = {}): Promise<ExecResult> {
  const r = await exec(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
  return r;
}
