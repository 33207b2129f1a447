/**
 * `create configmap|secret` (and `create token`, in token.ts): builds the object from literals,
 * files, directories and env files the way kubectl's generators do (same flags, same key rules,
 * same errors), then creates it (`configmap/NAME created`), or prints it with
 * `--dry-run=client -o yaml|json`.
 *
 * The builders are pure over a small file-reading interface, so they carry the unit tests.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Command } from 'commander';
import type { ConfigMap, KubeObject, Secret } from '../../api/types.js';
import { isConfigMapKey } from '../../api/names.js';
import { CONFIGMAPS, SECRETS, type ResourceRef } from '../../client/client.js';
import { createIngressCommand } from './createingress.js';
import { CliError, type GlobalOptions } from '../context.js';
import { toJson, toYaml } from '../print.js';
import { collect, type CommandDeps } from './shared.js';
import { createTokenCommand } from './token.js';

/** What the builders read: files and directories (the real file system in production). */
export interface FileReader {
  isDirectory(path: string): boolean;
  /** Regular files directly in a directory (not recursive). */
  list(dir: string): string[];
  read(path: string): Buffer;
}

export const diskReader: FileReader = {
  isDirectory: (p) => {
    try {
      return statSync(p).isDirectory();
    } catch {
      throw new CliError(`error reading ${p}: no such file or directory`);
    }
  },
  list: (dir) => readdirSync(dir).filter((n) => statSync(join(dir, n)).isFile()).sort(),
  read: (p) => {
    try {
      return readFileSync(p);
    } catch {
      throw new CliError(`error reading ${p}: no such file or directory`);
    }
  },
};

/** The data sources of `create configmap` / `create secret generic`. */
export interface DataSources {
  fromLiteral: string[];
  fromFile: string[];
  fromEnvFile: string[];
}

/** `key=value` (the value may contain `=`); kubectl's error for anything else. */
function splitLiteral(s: string): [string, string] {
  const i = s.indexOf('=');
  if (i <= 0) throw new CliError(`invalid literal source ${s}, expected key=value`);
  return [s.slice(0, i), s.slice(i + 1)];
}

function checkKey(key: string, what: string): void {
  const errs = isConfigMapKey(key);
  if (errs.length) throw new CliError(`"${key}" is not valid key name for a ${what}: ${errs.join(';')}`);
}

/** `[key=]path` pairs from `--from-file`, directories expanded to their valid-keyed files. */
function fileEntries(spec: string, reader: FileReader, what: string): [string, Buffer][] {
  const eq = spec.indexOf('=');
  if (eq === 0) throw new CliError(`key names or file paths cannot be empty`);
  if (eq > 0) {
    const key = spec.slice(0, eq);
    const path = spec.slice(eq + 1);
    if (!path) throw new CliError(`key names or file paths cannot be empty`);
    if (reader.isDirectory(path)) throw new CliError(`cannot give a key name for a directory path.`);
    checkKey(key, what);
    return [[key, reader.read(path)]];
  }
  if (!reader.isDirectory(spec)) {
    const key = basename(spec);
    checkKey(key, what);
    return [[key, reader.read(spec)]];
  }
  // A directory: every regular file whose name is a valid key (others are skipped, as kubectl does).
  return reader.list(spec).filter((n) => isConfigMapKey(n).length === 0).map((n) => [n, reader.read(join(spec, n))]);
}

/** Lines of an env file: `KEY=VALUE`; `#` comments and blank lines skipped; BOM stripped. */
export function parseEnvFile(text: string, path: string): [string, string][] {
  const out: [string, string][] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/^\s+/, '');
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (!key) throw new CliError(`${path}: line ${i + 1}: invalid key: ${raw}`);
    if (/\s/.test(key)) throw new CliError(`${path}: line ${i + 1}: key cannot contain spaces: ${JSON.stringify(key)}`);
    const value = eq < 0 ? (process.env[key] ?? '') : line.slice(eq + 1);
    out.push([key, value]);
  });
  return out;
}

/** Collects the sources into key → bytes, refusing duplicates as kubectl does. */
function collectData(src: DataSources, reader: FileReader, kind: 'ConfigMap' | 'Secret', name: string): Map<string, Buffer> {
  if (src.fromEnvFile.length && (src.fromFile.length || src.fromLiteral.length)) {
    throw new CliError('from-env-file cannot be combined with from-file or from-literal');
  }
  const data = new Map<string, Buffer>();
  const add = (key: string, value: Buffer): void => {
    checkKey(key, kind);
    if (data.has(key)) throw new CliError(`cannot add key "${key}", another key by that name already exists in Data for ${kind} "${name}"`);
    data.set(key, value);
  };
  for (const f of src.fromFile) for (const [k, v] of fileEntries(f, reader, kind)) add(k, v);
  for (const l of src.fromLiteral) {
    const [k, v] = splitLiteral(l);
    add(k, Buffer.from(v, 'utf8'));
  }
  for (const f of src.fromEnvFile) for (const [k, v] of parseEnvFile(reader.read(f).toString('utf8'), f)) add(k, Buffer.from(v, 'utf8'));
  return data;
}

const isUtf8 = (b: Buffer): boolean => Buffer.from(b.toString('utf8'), 'utf8').equals(b);

/** `create configmap NAME ...`: UTF-8 contents go to `data`, anything else to `binaryData`. */
export function buildConfigMap(name: string, namespace: string, src: DataSources, reader: FileReader = diskReader): ConfigMap {
  const cm: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace } };
  for (const [k, v] of collectData(src, reader, 'ConfigMap', name)) {
    if (isUtf8(v)) (cm.data ??= {})[k] = v.toString('utf8');
    else (cm.binaryData ??= {})[k] = v.toString('base64');
  }
  return cm;
}

/** `create secret generic NAME ...`. */
export function buildGenericSecret(name: string, namespace: string, src: DataSources, type: string | undefined, reader: FileReader = diskReader): Secret {
  const s: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace } };
  if (type) s.type = type;
  for (const [k, v] of collectData(src, reader, 'Secret', name)) (s.data ??= {})[k] = v.toString('base64');
  return s;
}

/** `create secret tls NAME --cert --key`: the pair must load and match, as kubectl checks. */
export function buildTLSSecret(name: string, namespace: string, certPath: string | undefined, keyPath: string | undefined, reader: FileReader = diskReader): Secret {
  if (!certPath || !keyPath) throw new CliError('key and cert must be specified');
  const cert = reader.read(certPath);
  const key = reader.read(keyPath);
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error('private key does not match public key');
  } catch (e) {
    throw new CliError(`failed to load key pair tls: ${(e as Error).message}`);
  }
  return {
    apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'kubernetes.io/tls',
    data: { 'tls.crt': cert.toString('base64'), 'tls.key': key.toString('base64') },
  };
}

export interface DockerRegistryFlags {
  dockerServer: string;
  dockerUsername?: string;
  dockerPassword?: string;
  dockerEmail?: string;
  fromFile: string[];
}

/** `create secret docker-registry NAME`: a `.dockerconfigjson` from the flags, or from a file. */
export function buildDockerRegistrySecret(name: string, namespace: string, f: DockerRegistryFlags, reader: FileReader = diskReader): Secret {
  const s: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'kubernetes.io/dockerconfigjson' };
  if (f.fromFile.length) {
    for (const spec of f.fromFile) for (const [k, v] of fileEntries(spec, reader, 'Secret')) (s.data ??= {})[k] = v.toString('base64');
    return s;
  }
  if (!f.dockerUsername || !f.dockerPassword || !f.dockerServer) {
    throw new CliError('either --from-file or the combination of --docker-username, --docker-password and --docker-server is required');
  }
  const entry: Record<string, string> = { username: f.dockerUsername, password: f.dockerPassword };
  if (f.dockerEmail) entry.email = f.dockerEmail;
  entry.auth = Buffer.from(`${f.dockerUsername}:${f.dockerPassword}`, 'utf8').toString('base64');
  s.data = { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { [f.dockerServer]: entry } }), 'utf8').toString('base64') };
  return s;
}

export interface OutputFlags {
  dryRun: string;
  output?: string;
}

/** Creates `obj` (or, with `--dry-run=client`, only prints it) and prints kubectl's line or `-o`. */
export async function finish(deps: CommandDeps, globals: GlobalOptions, obj: KubeObject, kind: string, f: OutputFlags,
  ref: ResourceRef = kind === 'configmap' ? CONFIGMAPS : SECRETS): Promise<void> {
  if (!['none', 'client'].includes(f.dryRun)) {
    throw new CliError(`Invalid dry-run value (${f.dryRun}). Must be "none" or "client"${f.dryRun === 'server' ? ' (server-side dry run is not supported by create here)' : ''}.`);
  }
  const dry = f.dryRun === 'client';
  const result = dry ? obj : await deps.client(globals).create({ ...ref, namespace: globals.namespace }, obj);
  const out = f.output ?? '';
  if (out === 'yaml') deps.io.out(toYaml(result));
  else if (out === 'json') deps.io.out(toJson(result) + '\n');
  else if (out === 'name') deps.io.out(`${kind}/${result.metadata?.name ?? ''}\n`);
  else if (out === '') deps.io.out(`${kind}/${result.metadata?.name ?? ''} ${dry ? 'created (dry run)' : 'created'}\n`);
  else throw new CliError(`unable to match a printer suitable for the output format "${out}", allowed formats are: json,name,yaml`);
}

export const withOutput = (c: Command): Command => c
  .option('--dry-run <strategy>', 'Must be "none" or "client". If client strategy, only print the object that would be sent, without sending it.', 'none')
  .option('-o, --output <format>', 'Output format. One of: (json, yaml, name).');

const withData = (c: Command): Command => c
  .option('--from-literal <key=value>', 'Specify a key and literal value to insert (i.e. mykey=somevalue)', collect, [])
  .option('--from-file <[key=]source>', 'Key file can be specified using its file path, in which case file basename will be used as the key, or optionally with a key and file path, in which case the given key will be used. Specifying a directory will iterate each named file in the directory whose basename is a valid key.', collect, [])
  .option('--from-env-file <file>', 'Specify the path to a file to read lines of key=val pairs to create from.', collect, []);

/** The `create` command with its `configmap` and `secret` subcommands. */
export function createCommand(deps: CommandDeps, globals: () => GlobalOptions): Command {
  const create = new Command('create').summary('Create a resource (configmap, secret, token)')
    .description('Create a resource: a ConfigMap or a Secret from literals, files or env files (kubectl\'s flags), or a service-account token.')
    .addHelpText('after', '\nExamples:\n  minikube-lite create configmap game --from-literal=lives=3\n  minikube-lite create secret generic db --from-literal=password=s3cr3t\n  minikube-lite create token default');
  create.addCommand(createTokenCommand(deps, globals));

  create.addCommand(withOutput(withData(new Command('configmap').alias('cm')
    .summary('Create a config map from a local file, directory or literal value')
    .description('Create a config map based on a file, directory, or specified literal value. A directory adds every file whose name is a valid key.')
    .usage('NAME [--from-file=[key=]source] [--from-literal=key1=value1] [--from-env-file=source] [--dry-run=none|client] [-o yaml]')
    .argument('<name>'))
    .addHelpText('after', '\nExamples:\n  minikube-lite create configmap my-config --from-literal=key1=config1 --from-file=path/to/bar\n  minikube-lite create configmap my-config --from-env-file=path/to/foo.env')
    .action(async (name: string, o: DataSources & OutputFlags) => {
      const g = globals();
      await finish(deps, g, buildConfigMap(name, g.namespace, o), 'configmap', o);
    })));

  const secret = new Command('secret').summary('Create a secret (generic, tls, docker-registry)')
    .description('Create a secret: generic (from literals, files or env files), tls (from a key pair) or docker-registry (a .dockerconfigjson).')
    .addHelpText('after', [
      '', 'Examples:',
      '  minikube-lite create secret generic db --from-literal=username=admin --from-file=ssh-privatekey=~/.ssh/id_rsa',
      '  minikube-lite create secret tls web-tls --cert=tls.crt --key=tls.key',
      '  minikube-lite create secret docker-registry reg --docker-server=registry.example --docker-username=u --docker-password=p',
    ].join('\n'));
  secret.addCommand(withOutput(withData(new Command('generic')
    .summary('Create a secret from a local file, directory, or literal value')
    .description('Create a secret (type Opaque unless --type) from files, directories, env files or literal values.')
    .addHelpText('after', '\nExamples:\n  minikube-lite create secret generic my-secret --from-literal=key1=supersecret --from-literal=key2=topsecret')
    .usage('NAME [--type=string] [--from-file=[key=]source] [--from-literal=key1=value1] [--dry-run=none|client]')
    .argument('<name>')
    .option('--type <type>', 'The type of secret to create')))
    .action(async (name: string, o: DataSources & OutputFlags & { type?: string }) => {
      const g = globals();
      await finish(deps, g, buildGenericSecret(name, g.namespace, o, o.type), 'secret', o);
    }));
  secret.addCommand(withOutput(new Command('tls')
    .summary('Create a TLS secret')
    .description('Create a kubernetes.io/tls secret from a PEM certificate and its private key (the pair must match).')
    .addHelpText('after', '\nExamples:\n  minikube-lite create secret tls tls-secret --cert=path/to/tls.crt --key=path/to/tls.key')
    .usage('NAME --cert=path/to/cert/file --key=path/to/key/file [--dry-run=none|client]')
    .argument('<name>')
    .option('--cert <path>', 'Path to PEM encoded public key certificate.')
    .option('--key <path>', 'Path to private key associated with given certificate.'))
    .action(async (name: string, o: OutputFlags & { cert?: string; key?: string }) => {
      const g = globals();
      await finish(deps, g, buildTLSSecret(name, g.namespace, o.cert, o.key), 'secret', o);
    }));
  secret.addCommand(withOutput(new Command('docker-registry')
    .summary('Create a secret for use with a Docker registry')
    .description('Create a kubernetes.io/dockerconfigjson secret from registry credentials, or from an existing docker config file.')
    .addHelpText('after', '\nExamples:\n  minikube-lite create secret docker-registry my-secret --docker-server=DOCKER_REGISTRY_SERVER --docker-username=DOCKER_USER --docker-password=DOCKER_PASSWORD --docker-email=DOCKER_EMAIL')
    .usage('NAME --docker-username=user --docker-password=password --docker-email=email [--docker-server=string] [--from-file=[key=]source] [--dry-run=none|client]')
    .argument('<name>')
    .option('--docker-server <server>', 'Server location for Docker registry', 'https://index.docker.io/v1/')
    .option('--docker-username <user>', 'Username for Docker registry authentication')
    .option('--docker-password <password>', 'Password for Docker registry authentication')
    .option('--docker-email <email>', 'Email for Docker registry')
    .option('--from-file <[key=]source>', 'Key files can be specified using their file path, in which case a default name of .dockerconfigjson will be given to them, or optionally with a name and file path.', collect, []))
    .action(async (name: string, o: OutputFlags & DockerRegistryFlags) => {
      const g = globals();
      const fromFile = o.fromFile.map((f) => (f.includes('=') ? f : `.dockerconfigjson=${f}`));
      await finish(deps, g, buildDockerRegistrySecret(name, g.namespace, { ...o, fromFile }), 'secret', o);
    }));
  create.addCommand(secret);
  create.addCommand(createIngressCommand(deps, globals));
  return create;
}
