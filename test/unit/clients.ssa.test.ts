/**
 * Server-side apply from the other real clients, against the API server: Debian's
 * python3-kubernetes (`DynamicClient` `server_side_apply`) and ruby-kubeclient (`apply_*`).
 * Each applies a ConfigMap (created), is refused a conflicting apply by another manager (409)
 * and then forces it. Skipped with a printed reason where a client is not installed
 * (scripts/setup.sh installs both).
 */
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/api/registry.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const TOKEN = 'ssa-client-token';
const PYTHON = '/usr/bin/python3';
const hasPython = spawnSync(PYTHON, ['-c', 'import kubernetes'], { stdio: 'ignore' }).status === 0;
const hasRuby = spawnSync('ruby', ['-e', "require 'kubeclient'"], { stdio: 'ignore' }).status === 0;
if (!hasPython) console.log('clients.ssa: Python apply skipped — python3-kubernetes is not installed');
if (!hasRuby) console.log('clients.ssa: Ruby apply skipped — ruby-kubeclient is not installed');
const script = (name: string): string => fileURLToPath(new URL(name, import.meta.url));

let server: ApiServer;
beforeAll(async () => {
  server = await startApiServer({ store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: TOKEN, logger: { info: () => {}, error: () => {} } });
});
afterAll(async () => {
  await server?.close();
});

describe('server-side apply from other clients', () => {
  it.skipIf(!hasPython)('the Python client applies, gets a 409 for a conflict, and forces', async () => {
    const { stdout } = await promisify(execFile)(PYTHON, [script('./clients.ssa.py'), server.url, TOKEN], { timeout: 60_000 });
    expect(stdout.trim().split('\n')).toEqual(['applied 1 python Apply', 'conflict 409', 'forced 2 other']);
  }, 90_000);

  it.skipIf(!hasRuby)('Ruby kubeclient applies, gets a 409 for a conflict, and forces', async () => {
    const { stdout } = await promisify(execFile)('ruby', [script('./clients.ssa.rb'), server.url, TOKEN], { timeout: 60_000 });
    expect(stdout.trim().split('\n')).toEqual(['applied 1 ruby', 'conflict 409', 'forced 2 other']);
  }, 90_000);
});
