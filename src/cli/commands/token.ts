/**
 * `create token SERVICE_ACCOUNT`: asks the API server for a service-account token (the
 * `serviceaccounts/{name}/token` subresource, a TokenRequest) and prints it, as
 * `kubectl create token` does, with its flags: `--duration`, `--audience` (repeatable) and a
 * bound object (`--bound-object-kind Pod --bound-object-name NAME [--bound-object-uid UID]`).
 */
import { Command } from 'commander';
import type { TokenRequest } from 'kubernetes-types/authentication/v1.js';
import { CliError, type GlobalOptions } from '../context.js';
import { collect, parseDuration, type CommandDeps } from './shared.js';

export interface TokenFlags {
  duration: string;
  audience: string[];
  boundObjectKind: string;
  boundObjectName: string;
  boundObjectUid: string;
}

/** The TokenRequest the flags ask for; kubectl's wording for bad combinations. */
export function tokenRequestFor(f: TokenFlags): TokenRequest {
  const spec: TokenRequest['spec'] = { audiences: f.audience.filter((a) => a !== '') };
  if (f.audience.some((a) => a === '')) throw new CliError('--audience must not be an empty string');
  if (f.duration) {
    const ms = parseDuration(f.duration, '--duration');
    if (ms < 0) throw new CliError('--duration must be positive');
    if (ms % 1000 !== 0) throw new CliError('--duration cannot be expressed in units less than seconds');
    if (ms > 0) spec.expirationSeconds = ms / 1000;
  }
  if (f.boundObjectKind) {
    if (f.boundObjectKind !== 'Pod') throw new CliError(`supported --bound-object-kind values are Pod`);
    if (!f.boundObjectName) throw new CliError('--bound-object-name is required if --bound-object-kind is provided');
    spec.boundObjectRef = { kind: 'Pod', apiVersion: 'v1', name: f.boundObjectName, ...(f.boundObjectUid ? { uid: f.boundObjectUid } : {}) };
  } else {
    if (f.boundObjectName) throw new CliError('--bound-object-name can only be set if --bound-object-kind is provided');
    if (f.boundObjectUid) throw new CliError('--bound-object-uid can only be set if --bound-object-kind is provided');
  }
  return { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec };
}

export async function runCreateToken(deps: CommandDeps, globals: GlobalOptions, name: string, f: TokenFlags): Promise<void> {
  const body = tokenRequestFor(f);
  const client = deps.client(globals);
  const out = await client.createSubresource<TokenRequest>(
    { group: '', version: 'v1', resource: 'serviceaccounts', namespace: globals.namespace }, name, 'token', body);
  const token = out.status?.token;
  if (!token) throw new CliError('no token in the server\'s response');
  deps.io.out(`${token}\n`);
}

/** The `token` subcommand of `create`. */
export function createTokenCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  return new Command('token')
    .summary('Request a service account token')
    .description('Request a service account token.')
    .usage('SERVICE_ACCOUNT_NAME [options]')
    .argument('<serviceaccount>', 'the service account the token is for')
    .option('--duration <duration>', 'Requested lifetime of the issued token (e.g. 10m, 1h). The server may return a token with a longer or shorter lifetime.', '')
    .option('--audience <audience>', 'Audience of the requested token. If unset, defaults to requesting a token for use with the Kubernetes API server. May be repeated to request a token valid for multiple audiences.', collect, [])
    .option('--bound-object-kind <kind>', 'Kind of an object to bind the token to. Supported kinds are Pod. If set, --bound-object-name must be provided.', '')
    .option('--bound-object-name <name>', 'Name of an object to bind the token to. The token will expire when the object is deleted. Requires --bound-object-kind.', '')
    .option('--bound-object-uid <uid>', 'UID of an object to bind the token to. Requires --bound-object-kind and --bound-object-name. If unset, the UID of the existing object is used.', '')
    .addHelpText('after', [
      '',
      'Examples:',
      '  # Request a token to authenticate to the kube-apiserver as the service account "myapp" in the current namespace',
      '  minikube-lite create token myapp',
      '',
      '  # Request a token with a custom expiration',
      '  minikube-lite create token myapp --duration 10m',
    ].join('\n'))
    .action((name: string, f: TokenFlags) => runCreateToken(deps, globals(), name, f));
}
