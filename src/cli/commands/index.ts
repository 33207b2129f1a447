/**
 * The kubectl-like resource commands: apply, get, describe, delete, logs, exec, debug, scale,
 * set, rollout, wait, service, expose, create, autoscale, top.
 * `main.ts` registers them on the root program, which owns the global options.
 */
import type { Command } from 'commander';
import type { GlobalOptions } from '../context.js';
import { applyCommand } from './apply.js';
import { createWithWorkloadsCommand } from './createworkloads.js';
import { debugCommand } from './debug.js';
import { deleteCommand } from './delete.js';
import { drainCommands } from './drain.js';
import { describeCommand } from './describe.js';
import { execCommand } from './exec.js';
import { exposeCommand } from './expose.js';
import { getCommand } from './get.js';
import { ingressCommand } from './ingress.js';
import { logsCommand } from './logs.js';
import { rolloutCommand } from './rollout.js';
import { scaleCommand } from './scale.js';
import { serviceCommand } from './service.js';
import { setCommand } from './set.js';
import { waitCommand } from './waitfor.js';
import { traceCommand } from './trace.js';
import { autoscaleCommand } from './autoscale.js';
import { topCommand } from './top.js';
import { dashboardCommand } from '../../dashboard/cli.js';
import { defaultDeps, type CommandDeps } from './shared.js';

/**
 * Adds the resource commands to `program`. `globals()` is read when a command runs (after
 * parsing). `deps` replaces the process's stdio and the cluster client, for tests.
 */
export function registerResourceCommands(program: Command, globals: () => GlobalOptions, deps: CommandDeps = defaultDeps()): void {
  for (const make of [applyCommand, getCommand, describeCommand, deleteCommand, logsCommand, execCommand, debugCommand,
    scaleCommand, setCommand, rolloutCommand, waitCommand, serviceCommand, exposeCommand, createWithWorkloadsCommand, ingressCommand, traceCommand, dashboardCommand,
    autoscaleCommand, topCommand]) {
    program.addCommand(make(deps, globals));
  }
  for (const c of drainCommands(deps, globals)) program.addCommand(c);
}

export type { CommandDeps, CommandIO } from './shared.js';
