/**
 * The embedded default store: one SQLite file (or ':memory:') through better-sqlite3.
 *
 * Tables: `objects` (current state, one row per key, JSON stamped with its resourceVersion),
 * `changes` (the change log watches resume from, trimmed to the last `historySize` changes) and
 * `meta` (how far the log has been compacted). Every write is one synchronous transaction that
 * updates both tables; watchers are notified after it commits. The resourceVersion is the
 * change log's sequence number, so it keeps increasing across restarts.
 *
 * One process owns the file at a time: watch delivery relies on all writes going through this
 * object.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ApiError, alreadyExists, notFound } from '../api/errors.js';
import type { KubeObject } from '../api/types.js';
import {
  describeKey, tooLargeResourceVersion, tooOldResourceVersion,
  type Preconditions, type Store, type StoreWatch, type StoreWatchEvent, type StoreWatchOptions,
} from './types.js';
import { WatchHub, type RawChange } from './watchhub.js';
import { jsonEqual } from '../api/json.js';

export interface SqliteStoreOptions {
  /** How many recent changes to keep for watch resume (default 10,000). */
  historySize?: number;
  /** How often to checkpoint the WAL into the database and truncate it (default 60 s; 0: never). */
  checkpointIntervalMs?: number;
}

/**
 * Durability (SQLite WAL mode, `synchronous = NORMAL`): a committed write is in the WAL file
 * before the API server answers, so a crash of the process (kill -9) loses nothing that was
 * acknowledged. The WAL is fsynced at checkpoints, not at every commit: a power loss or kernel
 * crash can lose the writes acknowledged since the last checkpoint (at most ~1,000 pages, or
 * `CHECKPOINT_INTERVAL_MS`), never corrupt the database.
 */
export const SYNCHRONOUS = 'NORMAL';
/** WAL pages after which SQLite checkpoints on commit (SQLite's default, stated). 1,000 pages = 4 MiB. */
export const WAL_AUTOCHECKPOINT_PAGES = 1000;
/** After a checkpoint the WAL file is cut back to at most this size (`journal_size_limit`). */
export const WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024;
export const CHECKPOINT_INTERVAL_MS = 60_000;

/**
 * The store file is damaged (or not a SQLite database): found at open by `PRAGMA quick_check`,
 * or by the first statement SQLite refuses with SQLITE_CORRUPT / SQLITE_NOTADB.
 */
export class StoreDamagedError extends Error {
  constructor(readonly path: string, readonly reason: string) {
    super(`the store at ${path} is damaged: ${reason}`);
    this.name = 'StoreDamagedError';
  }
}

const DAMAGE_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_INDEX', 'SQLITE_CORRUPT_VTAB', 'SQLITE_CORRUPT_SEQUENCE']);
const sqliteCode = (e: unknown): string => (e instanceof Database.SqliteError ? e.code : '');
/** Errors that mean the disk (or file) no longer takes writes, as opposed to a bug. */
const isStorageError = (e: unknown): boolean => /^SQLITE_(FULL|READONLY|IOERR|CORRUPT|NOTADB|CANTOPEN|PERM)/.test(sqliteCode(e));

/**
 * Checks the SQLite file at `path` without changing it (read-only, `PRAGMA quick_check`);
 * returns why it is damaged, or undefined when it is sound or does not exist yet. Used by `up`
 * and `status` before (or beside) the control plane.
 */
export function checkStoreFile(path: string): string | undefined {
  if (!existsSync(path)) return undefined; // no store yet
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const rows = db.pragma('quick_check') as { quick_check: string }[];
    const problems = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
    return problems.length ? problems.slice(0, 3).join('; ') : undefined;
  } catch (e) {
    if (sqliteCode(e) === 'SQLITE_CANTOPEN') return undefined; // no store yet
    if (DAMAGE_CODES.has(sqliteCode(e))) return (e as Error).message;
    throw e;
  } finally {
    db?.close();
  }
}

interface ObjectRow { rv: number; value: string }
interface ChangeRow { rv: number; type: RawChange['type']; key: string; value: string; prev: string | null }

const SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY, rv INTEGER NOT NULL, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS changes (rv INTEGER PRIMARY KEY, type TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, prev TEXT);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

/** The smallest string greater than every string starting with `prefix`. */
function prefixEnd(prefix: string): string {
  if (prefix === '') return '\uffff';
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** The object's JSON with `metadata.resourceVersion` set to `rv` (the argument is not changed). */
function stamp(obj: KubeObject, rv: number): string {
  return JSON.stringify({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } });
}

function notFoundAt(key: string): ApiError {
  const k = describeKey(key);
  return notFound(k.resource, k.name, k.group);
}

function conflictAt(key: string, why: string): ApiError {
  const k = describeKey(key);
  const qualified = k.group ? `${k.resource}.${k.group}` : k.resource;
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified} "${k.name}": ${why}`, [],
    { name: k.name, group: k.group, kind: k.resource });
}

const STALE = 'the object has been modified; please apply your changes to the latest version and try again';

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly hub: WatchHub;
  private readonly historySize: number;
  /** Compact once the log holds this many changes beyond `historySize`. */
  private readonly compactEvery: number;
  /** resourceVersion of the last committed change. */
  private rv: number;
  /** Changes up to and including this resourceVersion have been dropped from the log. */
  private compacted: number;
  private closed = false;
  /** Why the last write failed for a storage reason, until a write succeeds again. */
  private writeError?: string;
  private readonly checkpointTimer?: NodeJS.Timeout;

  private readonly stmt: {
    get: Database.Statement<[string], ObjectRow>;
    list: Database.Statement<[string, string], { value: string }>;
    listKeyed: Database.Statement<[string, string], { key: string; value: string }>;
    insert: Database.Statement<[string, number, string]>;
    replace: Database.Statement<[number, string, string]>;
    remove: Database.Statement<[string]>;
    log: Database.Statement<[number, string, string, string, string | null]>;
    history: Database.Statement<[number, string, string], ChangeRow>;
    compact: Database.Statement<[number]>;
    setMeta: Database.Statement<[string, number]>;
  };

  /** Opens (creating if needed) the store at `path`, a file path or ':memory:'. */
  constructor(path: string, opts: SqliteStoreOptions = {}) {
    this.historySize = Math.max(1, opts.historySize ?? 10_000);
    this.compactEvery = Math.max(1, Math.min(1000, Math.floor(this.historySize / 10)));
    try {
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      if (path !== ':memory:') {
        const problems = (this.db.pragma('quick_check') as { quick_check: string }[]).map((r) => r.quick_check).filter((r) => r !== 'ok');
        if (problems.length) throw new StoreDamagedError(path, problems.slice(0, 3).join('; '));
      }
    } catch (e) {
      if (DAMAGE_CODES.has(sqliteCode(e))) throw new StoreDamagedError(path, (e as Error).message);
      throw e;
    }
    this.db.pragma(`synchronous = ${SYNCHRONOUS}`);
    this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    this.db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    this.db.exec(SCHEMA);
    const every = opts.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS;
    if (every > 0 && path !== ':memory:') {
      this.checkpointTimer = setInterval(() => this.checkpoint(), every);
      this.checkpointTimer.unref();
    }
    const num = (sql: string): number => (this.db.prepare<[], { v: number | null }>(sql).get()?.v ?? 0);
    this.compacted = num(`SELECT value AS v FROM meta WHERE name = 'compacted'`);
    this.rv = Math.max(num('SELECT MAX(rv) AS v FROM changes'), num('SELECT MAX(rv) AS v FROM objects'), this.compacted);
    this.stmt = {
      get: this.db.prepare('SELECT rv, value FROM objects WHERE key = ?'),
      list: this.db.prepare('SELECT value FROM objects WHERE key >= ? AND key < ? ORDER BY key'),
      listKeyed: this.db.prepare('SELECT key, value FROM objects WHERE key >= ? AND key < ?'),
      insert: this.db.prepare('INSERT INTO objects (key, rv, value) VALUES (?, ?, ?)'),
      replace: this.db.prepare('UPDATE objects SET rv = ?, value = ? WHERE key = ?'),
      remove: this.db.prepare('DELETE FROM objects WHERE key = ?'),
      log: this.db.prepare('INSERT INTO changes (rv, type, key, value, prev) VALUES (?, ?, ?, ?, ?)'),
      history: this.db.prepare('SELECT rv, type, key, value, prev FROM changes WHERE rv > ? AND key >= ? AND key < ? ORDER BY rv'),
      compact: this.db.prepare('DELETE FROM changes WHERE rv <= ?'),
      setMeta: this.db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
    };
    this.hub = new WatchHub(() => this.rv);
  }

  /** Number of live watches (for tests and metrics). */
  get watchCount(): number {
    return this.hub.size;
  }

  async get(key: string): Promise<KubeObject | undefined> {
    this.assertOpen();
    const row = this.stmt.get.get(key);
    return row ? (JSON.parse(row.value) as KubeObject) : undefined;
  }

  async list(prefix: string): Promise<{ items: KubeObject[]; resourceVersion: number }> {
    this.assertOpen();
    const values = this.stmt.list.all(prefix, prefixEnd(prefix)).map((r) => r.value);
    // One parse of the joined rows is markedly faster than one parse per row.
    return { items: JSON.parse(`[${values.join(',')}]`) as KubeObject[], resourceVersion: this.rv };
  }

  async listAt(prefix: string, resourceVersion: number): Promise<{ items: KubeObject[]; resourceVersion: number }> {
    this.assertOpen();
    if (resourceVersion > this.rv) throw tooLargeResourceVersion(resourceVersion, this.rv);
    if (resourceVersion < this.compacted) throw tooOldResourceVersion(resourceVersion, this.compacted);
    // Both reads in one synchronous step: no commit can fall between them.
    const rows = new Map(this.stmt.listKeyed.all(prefix, prefixEnd(prefix)).map((r) => [r.key, r.value]));
    const later = this.stmt.history.all(resourceVersion, prefix, prefixEnd(prefix));
    // Undo the changes after the snapshot, newest first.
    for (let i = later.length - 1; i >= 0; i--) {
      const c = later[i];
      if (c.type === 'ADDED') rows.delete(c.key);
      else if (c.prev !== null) rows.set(c.key, c.prev);
      // A deletion logged before deletions kept their object (older stores): the tombstone
      // holds the object as it was, stamped with the deletion's resourceVersion.
      else rows.set(c.key, c.value);
    }
    const values = [...rows.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);
    return { items: JSON.parse(`[${values.join(',')}]`) as KubeObject[], resourceVersion };
  }

  async create(key: string, obj: KubeObject): Promise<KubeObject> {
    this.assertOpen();
    const rv = this.rv + 1;
    const json = stamp(obj, rv);
    this.commit(rv, () => {
      if (this.stmt.get.get(key)) {
        const k = describeKey(key);
        throw alreadyExists(k.resource, k.name, k.group);
      }
      this.stmt.insert.run(key, rv, json);
      this.stmt.log.run(rv, 'ADDED', key, json, null);
    });
    this.hub.publish({ type: 'ADDED', key, resourceVersion: rv, json });
    return JSON.parse(json) as KubeObject;
  }

  async update(key: string, obj: KubeObject, pre: Preconditions = {}): Promise<KubeObject> {
    this.assertOpen();
    return this.updateSync(key, obj, pre);
  }

  private updateSync(key: string, obj: KubeObject, pre: Preconditions): KubeObject {
    const rv = this.rv + 1;
    const json = stamp(obj, rv);
    let prevJson = '';
    this.commit(rv, () => {
      const cur = this.stmt.get.get(key);
      if (!cur) throw notFoundAt(key);
      if (pre.expectedResourceVersion !== undefined && pre.expectedResourceVersion !== cur.rv) throw conflictAt(key, STALE);
      prevJson = cur.value;
      this.stmt.replace.run(rv, json, key);
      this.stmt.log.run(rv, 'MODIFIED', key, json, prevJson);
    });
    this.hub.publish({ type: 'MODIFIED', key, resourceVersion: rv, json, prevJson });
    return JSON.parse(json) as KubeObject;
  }

  async delete(key: string, pre: Preconditions = {}): Promise<KubeObject> {
    this.assertOpen();
    const rv = this.rv + 1;
    let last = '';
    let tombstone = '';
    this.commit(rv, () => {
      const cur = this.stmt.get.get(key);
      if (!cur) throw notFoundAt(key);
      if (pre.expectedResourceVersion !== undefined && pre.expectedResourceVersion !== cur.rv) {
        throw conflictAt(key, `Precondition failed: ResourceVersion in precondition: ${pre.expectedResourceVersion}, ResourceVersion in object meta: ${cur.rv}`);
      }
      last = cur.value;
      tombstone = stamp(JSON.parse(cur.value) as KubeObject, rv);
      this.stmt.remove.run(key);
      // The object before the deletion is kept, for lists at an earlier resourceVersion.
      this.stmt.log.run(rv, 'DELETED', key, tombstone, last);
    });
    this.hub.publish({ type: 'DELETED', key, resourceVersion: rv, json: tombstone });
    return JSON.parse(last) as KubeObject;
  }

  async guaranteedUpdate(key: string, fn: (current: KubeObject) => KubeObject | Promise<KubeObject>): Promise<KubeObject> {
    for (;;) {
      this.assertOpen();
      const cur = this.stmt.get.get(key);
      if (!cur) throw notFoundAt(key);
      const next = await fn(JSON.parse(cur.value) as KubeObject);
      const nextJson = stamp(next, cur.rv);
      // Unchanged (even if reordered): no write, no new resourceVersion, no watch event.
      if (nextJson === cur.value || jsonEqual(JSON.parse(nextJson), JSON.parse(cur.value))) return JSON.parse(cur.value) as KubeObject;
      try {
        this.assertOpen();
        return this.updateSync(key, next, { expectedResourceVersion: cur.rv });
      } catch (e) {
        // Someone wrote between our read and our write (only possible when `fn` awaited):
        // read again and let `fn` decide on the fresh object.
        if (e instanceof ApiError && e.reason === 'Conflict') continue;
        throw e;
      }
    }
  }

  async watch(prefix: string, opts: StoreWatchOptions, handler: (e: StoreWatchEvent) => void): Promise<StoreWatch> {
    this.assertOpen();
    const from = opts.fromResourceVersion;
    let history: RawChange[] = [];
    if (from !== undefined) {
      if (from < this.compacted) throw tooOldResourceVersion(from, this.compacted);
      if (from > this.rv) throw tooLargeResourceVersion(from, this.rv);
      history = this.stmt.history.all(from, prefix, prefixEnd(prefix)).map((r) => ({
        type: r.type, key: r.key, resourceVersion: r.rv, json: r.value, prevJson: r.type === 'MODIFIED' ? r.prev ?? undefined : undefined,
      }));
    }
    // Reading history and registering happen in one synchronous step: no commit can fall between.
    return this.hub.add(prefix, history, handler);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    this.hub.closeAll();
    this.db.close();
  }

  /**
   * Copies the WAL into the database and truncates it to zero bytes (`wal_checkpoint(TRUNCATE)`);
   * returns whether it completed (a reader in another connection can hold it back). Called
   * periodically; never throws (a failure is recorded for {@link health}).
   */
  checkpoint(): boolean {
    if (this.closed) return false;
    try {
      const [r] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      return r?.busy === 0;
    } catch (e) {
      if (!isStorageError(e)) throw e;
      this.writeError = (e as Error).message;
      return false;
    }
  }

  /**
   * Why the store cannot serve writes now, or undefined when it can: closed, read-only, or the
   * last write failed for a storage reason (disk full, I/O error) and none has succeeded since.
   * Probes with a write that is rolled back, so it costs no disk space. For `readyz`.
   */
  health(): string | undefined {
    if (this.closed) return 'the store is closed';
    if (this.writeError) return this.writeError;
    try {
      this.db.transaction(() => {
        this.stmt.setMeta.run('readyz', this.rv);
        throw new ProbeDone();
      })();
    } catch (e) {
      if (e instanceof ProbeDone) return undefined;
      if (isStorageError(e)) return (e as Error).message;
      throw e;
    }
    return undefined;
  }

  /**
   * Runs `write` (which logs the change with resourceVersion `rv`) in one transaction, trimming
   * the change log when it has grown past its size; advances the store's resourceVersion only
   * once the transaction has committed.
   */
  private commit(rv: number, write: () => void): void {
    const compactTo = rv - this.compacted >= this.historySize + this.compactEvery ? rv - this.historySize : undefined;
    try {
      this.db.transaction(() => {
        write();
        if (compactTo !== undefined) {
          this.stmt.compact.run(compactTo);
          this.stmt.setMeta.run('compacted', compactTo);
        }
      })();
    } catch (e) {
      if (isStorageError(e)) this.writeError = (e as Error).message;
      throw e;
    }
    this.writeError = undefined;
    this.rv = rv;
    if (compactTo !== undefined) this.compacted = compactTo;
  }

  private assertOpen(): void {
    if (this.closed) throw new ApiError(503, 'ServiceUnavailable', 'the store is closed');
  }
}

/** Thrown inside the readiness probe's transaction to roll it back. */
class ProbeDone extends Error {}

/** Opens the SQLite store at `path` (a file path or ':memory:'). */
export function openSqliteStore(path: string, opts?: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(path, opts);
}
