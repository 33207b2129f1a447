/**
 * `create`: makes an object of a given kind from flags rather than a manifest, as kubectl's
 * `create <kind>` subcommands do. Each subcommand lives in its own file and is added here.
 */
import { Command } from 'commander';
import type { GlobalOptions } from '../context.js';
import type { CommandDeps } from './shared.js';
import { createTokenCommand } from './token.js';

export function createCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  const cmd = new Command('create').summary('Create a resource from flags').description('Create a resource from flags.')
    .addHelpText('after', ['', 'Examples:', '  # Request a token for the service account "default"', '  minikube-lite create token default'].join('\n'));
  cmd.addCommand(createTokenCommand(deps, globals));
  return cmd;
}
