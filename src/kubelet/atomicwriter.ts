/**
 * Writes a volume's files the way the kubelet's `AtomicWriter` does, so that a container that
 * has the directory mounted sees either the old set of files or the new one, never a mix:
 *
 *     <dir>/..2026_12_06_09_30_00.123456789/   the files of one version (a timestamped dir)
 *     <dir>/..data -> ..2026_12_06_09_30_00.…   swapped atomically (rename of a new symlink)
 *     <dir>/key    -> ..data/key                user-visible names, one per top-level entry
 *
 * An update writes a new timestamped dir, renames a fresh `..data_tmp` symlink over `..data`,
 * then adds/removes user-visible links and deletes the old dir. Symlinks are relative, so they
 * resolve inside the container too. A bind mount of a single file (`subPath`) keeps the file it
 * was given and does not see updates, as in Kubernetes.
 *
 * Synchronous file-system calls: the kubelet calls it from one pod worker at a time per pod.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync,
} from 'node:fs';
import { posix } from 'node:path';

/** One file of a volume: its bytes and permission bits. */
export interface FileProjection {
  data: Buffer;
  mode: number;
}

/** A volume's files by relative path (`key`, `dir/file`). */
export type Payload = ReadonlyMap<string, FileProjection>;

const DATA_DIR = '..data';
const DATA_TMP = '..data_tmp';

/** Checks that `p` is a relative path inside the volume that AtomicWriter may write. */
export function payloadPathError(p: string): string | undefined {
  if (!p) return 'invalid path: must not be empty';
  if (p.startsWith('/')) return `invalid path: must be relative path: ${p}`;
  if (p.split('/').includes('..')) return `invalid path: must not contain '..': ${p}`;
  if (p.startsWith('..')) return `invalid path: must not start with '..': ${p}`;
  if (p.length > 4096) return `invalid path: must be less than or equal to 4096 characters: ${p}`;
  return undefined;
}

/** The timestamped directory name prefix of one version: `..2026_12_06_09_30_00.` */
function versionPrefix(now: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.`;
}

/** A digest of a payload (paths, modes, bytes), to tell whether anything changed. */
export function payloadDigest(payload: Payload): string {
  const h = createHash('sha256');
  for (const p of [...payload.keys()].sort()) {
    const f = payload.get(p)!;
    h.update(`${p}\0${f.mode}\0${f.data.length}\0`);
    h.update(f.data);
  }
  return h.digest('hex');
}

/** Whether the version dir already holds exactly `payload`. */
function sameAsOnDisk(versionDir: string, payload: Payload): boolean {
  const onDisk: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(posix.join(versionDir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else onDisk.push(r);
    }
  };
  try {
    walk('');
  } catch {
    return false; // the version dir is gone or unreadable: write a new one
  }
  if (onDisk.length !== payload.size) return false;
  for (const rel of onDisk) {
    const want = payload.get(rel);
    if (!want) return false;
    const full = posix.join(versionDir, rel);
    if ((statSync(full).mode & 0o777) !== want.mode || !readFileSync(full).equals(want.data)) return false;
  }
  return true;
}

const topLevel = (payload: Payload): Set<string> => new Set([...payload.keys()].map((p) => p.split('/')[0]));

/**
 * Makes `dir` hold exactly `payload`, atomically for readers. Returns true when it wrote a new
 * version, false when the directory already held this payload. Throws for an invalid path in
 * the payload (before touching the disk) or a file-system error.
 */
export function writeAtomic(dir: string, payload: Payload, now: Date = new Date()): boolean {
  for (const p of payload.keys()) {
    const err = payloadPathError(p);
    if (err) throw new Error(err);
  }
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const dataLink = posix.join(dir, DATA_DIR);
  let oldVersion: string | undefined;
  try {
    oldVersion = readlinkSync(dataLink);
  } catch {
    oldVersion = undefined;
  }
  const wanted = topLevel(payload);
  if (oldVersion && sameAsOnDisk(posix.join(dir, oldVersion), payload)) {
    linkUserVisible(dir, wanted);
    return false;
  }
  // The new version, complete before anyone can see it.
  let version = '';
  for (let i = 0; i < 5 && (!version || existsSync(posix.join(dir, version))); i++) version = `${versionPrefix(now)}${randomBytes(5).toString('hex')}`;
  const versionDir = posix.join(dir, version);
  mkdirSync(versionDir, { mode: 0o755 });
  chmodSync(versionDir, 0o755);
  for (const [rel, f] of payload) {
    const full = posix.join(versionDir, rel);
    mkdirSync(posix.dirname(full), { recursive: true, mode: 0o755 });
    writeFileSync(full, f.data, { mode: f.mode });
    chmodSync(full, f.mode);
  }
  // The swap: a new symlink renamed over the old one (rename(2) is atomic).
  const tmp = posix.join(dir, DATA_TMP);
  rmSync(tmp, { force: true });
  symlinkSync(version, tmp);
  renameSync(tmp, dataLink);
  linkUserVisible(dir, wanted);
  if (oldVersion && oldVersion !== version) rmSync(posix.join(dir, oldVersion), { recursive: true, force: true });
  return true;
}

/** User-visible `name -> ..data/name` links for `wanted`; links for names no longer wanted go. */
function linkUserVisible(dir: string, wanted: Set<string>): void {
  for (const name of readdirSync(dir)) {
    if (name.startsWith('..') || wanted.has(name)) continue;
    const full = posix.join(dir, name);
    if (lstatSync(full).isSymbolicLink()) rmSync(full, { force: true });
  }
  for (const name of wanted) {
    const full = posix.join(dir, name);
    const target = `${DATA_DIR}/${name}`;
    let current: string | undefined;
    try {
      current = readlinkSync(full);
    } catch {
      current = undefined;
    }
    if (current === target) continue;
    rmSync(full, { force: true, recursive: true });
    symlinkSync(target, full);
  }
}
