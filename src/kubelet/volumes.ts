/**
 * Pod volumes on the node: `emptyDir` is a runtime named volume that lives and dies with the
 * pod; `hostPath` is a bind mount, with its `type` checked as Kubernetes does; the
 * configuration volumes (`configMap`, `secret`, `downwardAPI`, `projected`) are directories
 * under the kubelet's root (`<root>/pods/<uid>/volumes/kubernetes.io~<kind>/<name>`) written
 * by {@link writeAtomic} and bind-mounted read-only, re-rendered on every sync of the pod so
 * that a running pod sees changes of the objects in place; a `persistentVolumeClaim` is a bind
 * mount of its bound PersistentVolume's host directory (`hostPath` or `local`), found through
 * the API ({@link ClaimResolver}); until the claim is bound the pod waits (FailedMount).
 */
import { mkdirSync, statSync, writeFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { posix } from 'node:path';
import type { Container, Pod, Volume } from '../api/types.js';
import type { ServiceAccountTokenProjection } from 'kubernetes-types/core/v1.js';
import { payloadDigest, writeAtomic } from './atomicwriter.js';
import { ConfigError, type ConfigReader } from './configsource.js';
import { expand, type EnvVarValue } from '../api/expansion.js';
import { memoryToBytes } from '../api/quantity.js';
import { configVolumeKind, volumePayload } from './volumepayload.js';
import type { Mount, Runtime } from '../runtime/types.js';
import { LABEL_CLUSTER } from '../api/types.js';
import { emptyDirVolumeName, LABEL_POD_UID, LABEL_VOLUME_NAME, podLabels, type NodeIdentity } from './naming.js';
import type { ClaimResolver } from './claims.js';

/** A volume that could not be set up; the message is shown in a FailedMount event. */
export class MountError extends Error {
  constructor(readonly volume: string, message: string) {
    super(message);
    this.name = 'MountError';
  }
}

type Prepared = { kind: 'volume'; source: string } | { kind: 'host'; source: string; readOnly?: boolean } | { kind: 'config'; source: string };

/** What the configuration volumes need from the kubelet. */
export interface ConfigVolumeOptions {
  /** The kubelet's root directory (Kubernetes' `/var/lib/kubelet`); pods' volume dirs live under it. */
  rootDir: string;
  reader: ConfigReader;
  /** A service-account token for the pod (TokenRequest), cached and refreshed by the caller. */
  requestToken(pod: Pod, source: ServiceAccountTokenProjection): Promise<string>;
  /** Node allocatable, for `resourceFieldRef` limits containers do not set. */
  nodeAllocatable(): Readonly<Record<string, string>>;
  now(): Date;
}

/** `<root>/pods/<uid>/volumes/kubernetes.io~<kind>/<name>`, as the kubelet lays it out. */
export const podVolumeDir = (rootDir: string, uid: string, kind: string, name: string): string =>
  posix.join(rootDir, 'pods', uid, 'volumes', `kubernetes.io~${kind}`, name);

/** Checks a hostPath against its `type` (creating it for the *OrCreate types). */
export function checkHostPath(path: string, type: string): void {
  const stat = () => (existsSync(path) ? statSync(path) : undefined);
  switch (type) {
    case '':
      return;
    case 'DirectoryOrCreate':
      if (!stat()) mkdirSync(path, { recursive: true, mode: 0o755 });
      else if (!stat()?.isDirectory()) throw new Error(`hostPath type check failed: ${path} is not a directory`);
      return;
    case 'Directory':
      if (!stat()?.isDirectory()) throw new Error(`hostPath type check failed: ${path} is not a directory`);
      return;
    case 'FileOrCreate':
      if (!stat()) {
        mkdirSync(posix.dirname(path), { recursive: true, mode: 0o755 });
        writeFileSync(path, '', { mode: 0o644 });
      } else if (!stat()?.isFile()) throw new Error(`hostPath type check failed: ${path} is not a file`);
      return;
    case 'File':
      if (!stat()?.isFile()) throw new Error(`hostPath type check failed: ${path} is not a file`);
      return;
    case 'Socket':
      if (!stat()?.isSocket()) throw new Error(`hostPath type check failed: ${path} is not a socket file`);
      return;
    case 'CharDevice':
      if (!stat()?.isCharacterDevice()) throw new Error(`hostPath type check failed: ${path} is not a character device`);
      return;
    case 'BlockDevice':
      if (!stat()?.isBlockDevice()) throw new Error(`hostPath type check failed: ${path} is not a block device`);
      return;
    default:
      throw new Error(`hostPath type check failed: unknown type ${type}`);
  }
}

/** Whether any container of the pod mounts volume `name` through `subPath` or `subPathExpr`. */
export function mountedWithSubPath(pod: Pod, name: string): boolean {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]
    .some((c) => (c.volumeMounts ?? []).some((m) => m.name === name && (m.subPath || m.subPathExpr)));
}

/** Kubernetes' `ExpandContainerVolumeMounts` plus the kubelet's checks of the result. */
export function expandSubPath(expr: string, env: readonly EnvVarValue[]): string {
  const values = new Map(env.map((e) => [e.name, e.value]));
  const missing = new Set<string>();
  const out = expand(expr, (name) => {
    const v = values.get(name);
    if (!v) missing.add(name);
    return v ?? '';
  });
  if (missing.size) throw new ConfigError(`missing value for ${[...missing].sort().join(', ')}`);
  if (out.startsWith('/')) throw new ConfigError(`error SubPath \`${out}\` must not be an absolute path`);
  if (out.split('/').includes('..')) throw new ConfigError(`unable to provision SubPath \`${out}\`: must not contain '..'`);
  return out;
}

export class VolumeManager {
  /** Digest of what each config volume dir holds, so an unchanged payload is not re-read from disk. */
  private readonly written = new Map<string, string>();

  /** @param claims finds the directories of `persistentVolumeClaim` volumes (none: such pods wait). */
  constructor(private readonly runtime: Runtime, private readonly id: NodeIdentity, private readonly config?: ConfigVolumeOptions,
    private readonly claims?: ClaimResolver) {}

  /**
   * Creates/checks every volume of the pod and (re-)renders its configuration volumes;
   * idempotent, called on every sync of the pod. Throws MountError, with the kubelet's message
   * (`MountVolume.SetUp failed for volume "cfg" : configmap "x" not found`).
   */
  async setUp(pod: Pod): Promise<Map<string, Prepared>> {
    const out = new Map<string, Prepared>();
    const uid = pod.metadata?.uid ?? '';
    for (const v of pod.spec?.volumes ?? []) {
      const configKind = configVolumeKind(v);
      if (configKind) {
        out.set(v.name, { kind: 'config', source: await this.renderConfigVolume(pod, v, configKind) });
      } else if (v.emptyDir) {
        const name = emptyDirVolumeName(this.id, uid, v.name);
        // medium Memory: a tmpfs, at most sizeLimit when set (else the engine's default). Docker
        // mounts it only for containers that mount the whole volume, so one also mounted through a
        // subPath stays on disk (the API server warns about that).
        const tmpfs = v.emptyDir.medium === 'Memory' && !mountedWithSubPath(pod, v.name)
          ? { tmpfs: { sizeBytes: v.emptyDir.sizeLimit ? Math.round(memoryToBytes(String(v.emptyDir.sizeLimit))) : 0 } } : undefined;
        try {
          await this.runtime.createVolume(name, { ...podLabels(this.id, pod), [LABEL_VOLUME_NAME]: v.name }, tmpfs);
        } catch (e) {
          throw new MountError(v.name, `MountVolume.SetUp failed for volume "${v.name}" : ${(e as Error).message}`);
        }
        out.set(v.name, { kind: 'volume', source: name });
      } else if (v.hostPath) {
        try {
          checkHostPath(v.hostPath.path, v.hostPath.type ?? '');
        } catch (e) {
          throw new MountError(v.name, `MountVolume.SetUp failed for volume "${v.name}" : ${(e as Error).message}`);
        }
        out.set(v.name, { kind: 'host', source: v.hostPath.path });
      } else if (v.persistentVolumeClaim) {
        const claim = v.persistentVolumeClaim;
        const found = this.claims ? await this.claims.resolve(pod.metadata?.namespace ?? 'default', claim.claimName) : { ok: false as const, reason: 'this kubelet cannot resolve claims' };
        if (!found.ok) {
          throw new MountError(v.name, `Unable to attach or mount volumes: unmounted volumes=[${v.name}], unattached volumes=[${v.name}]: ${found.reason}`);
        }
        try {
          checkHostPath(found.path, found.hostPathType);
        } catch (e) {
          throw new MountError(v.name, `MountVolume.SetUp failed for volume "${v.name}" : ${(e as Error).message}`);
        }
        out.set(v.name, { kind: 'host', source: found.path, readOnly: claim.readOnly === true });
      } else {
        // Validation refuses the types nobody implements; one that passed it but has no setup
        // here yet (e.g. a claim before the storage work) keeps the pod waiting, never dropped.
        const type = Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
        throw new MountError(v.name, `MountVolume.SetUp failed for volume "${v.name}" : ${type} volumes are not set up by this kubelet`);
      }
    }
    return out;
  }

  /**
   * The runtime mounts for one container. `env` is the container's environment, for
   * `subPathExpr` (`$(POD_NAME)`), which expands as the kubelet expands it; a variable that is
   * missing or empty, or an expansion that is absolute or climbs out with `..`, throws a
   * {@link ConfigError} (the container then waits in CreateContainerConfigError).
   */
  mountsFor(container: Container, prepared: Map<string, Prepared>, env: readonly EnvVarValue[] = []): Mount[] {
    const mounts: Mount[] = [];
    for (const mount of container.volumeMounts ?? []) {
      const p = prepared.get(mount.name);
      if (!p) continue;
      const m = mount.subPathExpr ? { ...mount, subPath: expandSubPath(mount.subPathExpr, env) } : mount;
      const readOnly = m.readOnly === true || (p.kind === 'host' && p.readOnly === true);
      if (p.kind === 'config') {
        // Always read-only, as the kubelet mounts them; a subPath binds the file it names now
        // (the symlink is resolved at mount time), so it does not see later updates.
        mounts.push({ source: m.subPath ? posix.join(p.source, m.subPath) : p.source, target: m.mountPath, readOnly: true, volume: false });
      } else if (p.kind === 'volume') {
        mounts.push({ source: p.source, target: m.mountPath, readOnly, volume: true, ...(m.subPath ? { subPath: m.subPath } : {}) });
      } else {
        const source = m.subPath ? posix.join(p.source, m.subPath) : p.source;
        if (m.subPath && !existsSync(source)) mkdirSync(source, { recursive: true, mode: 0o755 });
        mounts.push({ source, target: m.mountPath, readOnly, volume: false });
      }
    }
    return mounts;
  }

  /** Removes the pod's emptyDir volumes, found by label, and its config volume dirs (containers must be gone first). */
  async tearDown(podUid: string): Promise<void> {
    const vols = await this.runtime.listVolumes({ [LABEL_CLUSTER]: this.id.cluster, [LABEL_POD_UID]: podUid });
    await Promise.all(vols.map((v) => this.runtime.removeVolume(v.name)));
    if (!this.config || !podUid) return;
    const podDir = posix.join(this.config.rootDir, 'pods', podUid);
    for (const k of this.written.keys()) if (k.startsWith(podDir + '/')) this.written.delete(k);
    rmSync(podDir, { recursive: true, force: true });
  }

  /** Pod uids that have a directory under the root (to find those left by deleted pods). */
  podDirs(): string[] {
    if (!this.config) return [];
    try {
      return readdirSync(posix.join(this.config.rootDir, 'pods'));
    } catch {
      return []; // no pod has had a config volume on this node yet
    }
  }

  /** Writes one configuration volume's files (when they changed) and returns its directory. */
  private async renderConfigVolume(pod: Pod, v: Volume, kind: string): Promise<string> {
    const fail = (msg: string) => new MountError(v.name, `MountVolume.SetUp failed for volume "${v.name}" : ${msg}`);
    const cfg = this.config;
    if (!cfg) throw fail(`${kind} volumes need the kubelet's root directory`);
    const ns = pod.metadata?.namespace ?? 'default';
    const dir = podVolumeDir(cfg.rootDir, pod.metadata?.uid ?? '', kind, v.name);
    try {
      const payload = await volumePayload(pod, v, {
        configMap: (name) => cfg.reader.configMap(ns, name),
        secret: (name) => cfg.reader.secret(ns, name),
        requestToken: (source) => cfg.requestToken(pod, source),
        nodeAllocatable: cfg.nodeAllocatable(),
      });
      const digest = payloadDigest(payload);
      if (this.written.get(dir) === digest && existsSync(posix.join(dir, '..data'))) return dir;
      writeAtomic(dir, payload, cfg.now());
      this.written.set(dir, digest);
      return dir;
    } catch (e) {
      throw fail((e as Error).message);
    }
  }
}
