/**
 * Issue 12 finding 8: a damaged store is found at open (not at some later write), the WAL is
 * bounded by checkpoints, and `readyz` fails while the store cannot write (read-only, disk full).
 */
import { mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync, closeSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/api/registry.js';
import { startApiServer } from '../../src/apiserver/server.js';
import { storeDamagedMessage } from '../../src/cli/cluster.js';
import { checkStoreFile, SqliteStore, StoreDamagedError, WAL_SIZE_LIMIT_BYTES } from '../../src/store/sqlite.js';
import { call, TOKEN } from './apiserver.fixtures.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-trust-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const obj = (name: string, size = 100) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { x: 'y'.repeat(size) } });
const walSize = (path: string): number => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
const dbOf = (s: SqliteStore): Database.Database => (s as unknown as { db: Database.Database }).db;

async function filledStore(path: string, n: number, size = 2000): Promise<void> {
  const s = new SqliteStore(path, { checkpointIntervalMs: 0 });
  for (let i = 0; i < n; i++) await s.create(`/registry/configmaps/default/c${i}`, obj(`c${i}`, size));
  await s.close();
}

describe('a damaged store is found at open', () => {
  it('refuses a file whose pages were overwritten, naming the path (quick_check)', async () => {
    const path = join(dir, 'state.db');
    await filledStore(path, 400);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(8192, 0x5a), 0, 8192, 4096 * 3);
    closeSync(fd);
    expect(() => new SqliteStore(path)).toThrow(StoreDamagedError);
    expect(() => new SqliteStore(path)).toThrow(`the store at ${path} is damaged`);
    expect(checkStoreFile(path)).toBeTruthy();
  });

  it('refuses a file that is not a database at all', () => {
    const path = join(dir, 'state.db');
    writeFileSync(path, 'this is not sqlite'.repeat(500));
    expect(() => new SqliteStore(path)).toThrow(StoreDamagedError);
    expect(checkStoreFile(path)).toMatch(/not a database/);
  });

  it('passes a sound store and a missing one', async () => {
    const path = join(dir, 'state.db');
    expect(checkStoreFile(path)).toBeUndefined();
    expect(checkStoreFile(join(dir, 'no', 'such', 'dir', 'state.db'))).toBeUndefined();
    await filledStore(path, 10);
    expect(checkStoreFile(path)).toBeUndefined();
  });

  it('tells the user how to back up, repair or reset', () => {
    const m = storeDamagedMessage('/h/clusters/x/state.db', 'database disk image is malformed', 'x');
    expect(m).toContain('the store at /h/clusters/x/state.db is damaged: database disk image is malformed');
    expect(m).toContain('cp /h/clusters/x/state.db /h/clusters/x/state.db.damaged');
    expect(m).toContain('sqlite3 /h/clusters/x/state.db .recover | sqlite3 /h/clusters/x/state.recovered.db');
    expect(m).toContain('minikube-lite --name x down && minikube-lite --name x up');
  });
});

describe('the WAL is bounded', () => {
  it(`stays under ${WAL_SIZE_LIMIT_BYTES / 1048576} MiB under load, is cut back after a reader held it, and checkpoint() empties it`, async () => {
    const path = join(dir, 'state.db');
    const store = new SqliteStore(path, { checkpointIntervalMs: 0 });
    let max = 0;
    for (let i = 0; i < 3000; i++) {
      await store.create(`/registry/configmaps/default/a${i}`, obj(`a${i}`, 10_000));
      if (i % 50 === 0) max = Math.max(max, walSize(path));
    }
    // A reader in another connection (like `status` checking the file) holds checkpoints back.
    const reader = new Database(path, { readonly: true });
    reader.prepare('BEGIN').run();
    reader.prepare('SELECT count(*) AS n FROM objects').get();
    for (let i = 0; i < 3000; i++) await store.update(`/registry/configmaps/default/a${i}`, obj(`a${i}`, 10_001));
    const held = walSize(path);
    reader.prepare('COMMIT').run();
    reader.close();
    for (let i = 0; i < 1000; i++) await store.update(`/registry/configmaps/default/a${i}`, obj(`a${i}`, 10_002));
    const after = walSize(path);
    expect(store.checkpoint()).toBe(true);
    const truncated = walSize(path);
    console.log(`WAL: max ${(max / 1048576).toFixed(1)} MiB under 3,000 creates of 10 kB; ${(held / 1048576).toFixed(1)} MiB while a reader held it; ${(after / 1048576).toFixed(1)} MiB once it let go; ${truncated} bytes after checkpoint()`);
    expect(max).toBeLessThanOrEqual(WAL_SIZE_LIMIT_BYTES);
    expect(held).toBeGreaterThan(WAL_SIZE_LIMIT_BYTES);
    expect(after).toBeLessThanOrEqual(WAL_SIZE_LIMIT_BYTES);
    expect(truncated).toBe(0);
    await store.close();
  }, 60_000);
});

describe('readyz follows the store', () => {
  it('answers 500 with the reason while the store is read-only or the disk is full, 200 again after', async () => {
    const store = new SqliteStore(join(dir, 'state.db'), { checkpointIntervalMs: 0 });
    const server = await startApiServer({ store, resources: RESOURCES, port: 0, token: TOKEN, logger: { info: () => undefined, error: () => undefined } });
    try {
      const readyz = () => call(server.url, 'GET', '/readyz', { token: null });
      expect((await readyz()).status).toBe(200);

      dbOf(store).pragma('query_only = 1'); // the file turned read-only
      let r = await readyz();
      expect(r.status).toBe(500);
      expect(r.text).toContain('[-]store failed: attempt to write a readonly database');
      expect((await call(server.url, 'GET', '/livez', { token: null })).status).toBe(200);
      dbOf(store).pragma('query_only = 0');
      expect((await readyz()).status).toBe(200);

      // Disk full: no page may be added.
      const pages = (dbOf(store).pragma('page_count') as { page_count: number }[])[0].page_count;
      dbOf(store).pragma(`max_page_count = ${pages}`);
      const big = await call(server.url, 'POST', '/api/v1/namespaces/default/pods', {
        body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'big', annotations: { a: 'x'.repeat(500_000) } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      });
      expect(big.status).toBe(500);
      r = await readyz();
      expect(r.status).toBe(500);
      expect(r.text).toContain('database or disk is full');
      dbOf(store).pragma('max_page_count = 1073741823');
      expect((await call(server.url, 'POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'again' } } })).status).toBe(201);
      expect((await readyz()).status).toBe(200);
    } finally {
      await server.close();
      await store.close();
    }
  });
});
