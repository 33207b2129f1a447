/**
 * Ruby's kubeclient (Debian's ruby-kubeclient, installed by scripts/setup.sh) against the API
 * server: namespaces, ConfigMaps (create, strategic and merge patch, update with a stale
 * resourceVersion → 409, 404), a Deployment in apps/v1 with its defaults, and a watch through
 * the legacy `/api/v1/watch/namespaces/{ns}/configmaps` path kubeclient uses.
 */
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/api/registry.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const TOKEN = 'ruby-client-token';
const SCRIPT = fileURLToPath(new URL('./clients.ruby.rb', import.meta.url));
const hasKubeclient = spawnSync('ruby', ['-e', "require 'kubeclient'"], { stdio: 'ignore' }).status === 0;
if (!hasKubeclient) console.log('clients.ruby: skipped — Ruby or ruby-kubeclient is not installed (scripts/setup.sh installs both)');

let server: ApiServer;
beforeAll(async () => {
  server = await startApiServer({ store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: TOKEN, logger: { info: () => {}, error: () => {} } });
});
afterAll(async () => {
  await server?.close();
});

describe.skipIf(!hasKubeclient)('Ruby kubeclient', () => {
  it('creates, patches, updates, lists, watches and deletes as against Kubernetes', async () => {
    const { stdout } = await promisify(execFile)('ruby', [SCRIPT, server.url, TOKEN], { timeout: 60_000 });
    expect(stdout.trim().split('\n')).toEqual([
      'namespace ruby',
      'created settings blue',
      'patched green',
      'merge-patched green xl',
      'listed settings rv',
      'updated red',
      'stale 409',
      'missing 404',
      'deployment web 2 RollingUpdate',
      'event MODIFIED settings green',
      'event MODIFIED settings green',
      'event MODIFIED settings red',
      'event DELETED settings red',
      'deleted 0',
    ]);
  }, 90_000);
});
