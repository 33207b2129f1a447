/**
 * The files of the configuration volumes (`configMap`, `secret`, `downwardAPI`, `projected`),
 * computed as the kubelet's volume plugins compute them (`MakePayload`, `CollectData`): which
 * keys become which files with which modes, what a missing object or key means (an error, or
 * nothing when `optional`). No I/O of its own: objects come from `lookup`, tokens from
 * `requestToken`; the result goes to {@link writeAtomic}.
 */
import type {
  ConfigMap, ConfigMapVolumeSource, DownwardAPIVolumeFile, KeyToPath, Pod, ProjectedVolumeSource, Secret, SecretVolumeSource, ServiceAccountTokenProjection, Volume,
} from 'kubernetes-types/core/v1.js';
import { fieldRefValue, resourceFieldValue } from '../api/expansion.js';
import type { FileProjection } from './atomicwriter.js';

/** Where a pod's ConfigMaps and Secrets (in its namespace) and tokens come from. */
export interface PayloadSources {
  configMap(name: string): ConfigMap | undefined;
  secret(name: string): Secret | undefined;
  /** A token for the pod's service account (TokenRequest); rejects with the reason it failed. */
  requestToken(source: ServiceAccountTokenProjection): Promise<string>;
  /** Node allocatable, for `resourceFieldRef` limits a container does not set. */
  nodeAllocatable?: Readonly<Record<string, string>>;
}

/** Which of the configuration volume types a volume is, if any. */
export function configVolumeKind(v: Volume): 'configmap' | 'secret' | 'downward-api' | 'projected' | undefined {
  if (v.configMap) return 'configmap';
  if (v.secret) return 'secret';
  if (v.downwardAPI) return 'downward-api';
  if (v.projected) return 'projected';
  return undefined;
}

const DEFAULT_MODE = 0o644;

/** A map of files, each key of `data` (strings) and `binary` (base64) or the chosen items. */
function keysPayload(
  what: 'configmap' | 'secret', text: Readonly<Record<string, string>>, binary: Readonly<Record<string, string>>,
  items: readonly KeyToPath[] | undefined, defaultMode: number, optional: boolean, out: Map<string, FileProjection>,
): void {
  const bytes = (key: string): Buffer | undefined => {
    if (Object.prototype.hasOwnProperty.call(text, key)) return Buffer.from(text[key], 'utf8');
    if (Object.prototype.hasOwnProperty.call(binary, key)) return Buffer.from(binary[key], 'base64');
    return undefined;
  };
  if (!items?.length) {
    for (const key of [...Object.keys(text), ...Object.keys(binary)]) out.set(key, { data: bytes(key)!, mode: defaultMode });
    return;
  }
  for (const kp of items) {
    const data = bytes(kp.key);
    if (!data) {
      if (optional) continue;
      throw new Error(`${what} references non-existent ${what === 'configmap' ? 'config' : 'secret'} key: ${kp.key}`);
    }
    out.set(kp.path, { data, mode: kp.mode ?? defaultMode });
  }
}

function configMapFiles(name: string, items: readonly KeyToPath[] | undefined, optional: boolean, mode: number, src: PayloadSources, out: Map<string, FileProjection>): void {
  const cm = src.configMap(name);
  if (!cm) {
    if (optional) return;
    throw new Error(`configmap "${name}" not found`);
  }
  keysPayload('configmap', cm.data ?? {}, cm.binaryData ?? {}, items, mode, optional, out);
}

function secretFiles(name: string, items: readonly KeyToPath[] | undefined, optional: boolean, mode: number, src: PayloadSources, out: Map<string, FileProjection>): void {
  const s = src.secret(name);
  if (!s) {
    if (optional) return;
    throw new Error(`secret "${name}" not found`);
  }
  keysPayload('secret', {}, s.data ?? {}, items, mode, optional, out);
}

function downwardFiles(pod: Pod, items: readonly DownwardAPIVolumeFile[] | undefined, mode: number, src: PayloadSources, out: Map<string, FileProjection>): void {
  for (const f of items ?? []) {
    let value: string;
    if (f.fieldRef) value = fieldRefValue(f.fieldRef.fieldPath, { pod });
    else if (f.resourceFieldRef) {
      const container = pod.spec?.containers.find((c) => c.name === f.resourceFieldRef?.containerName)
        ?? pod.spec?.initContainers?.find((c) => c.name === f.resourceFieldRef?.containerName);
      if (!container) throw new Error(`container ${f.resourceFieldRef.containerName ?? ''} not found in pod ${pod.metadata?.namespace}/${pod.metadata?.name}`);
      value = resourceFieldValue(f.resourceFieldRef, container, { pod, nodeAllocatable: src.nodeAllocatable });
    } else continue;
    out.set(f.path, { data: Buffer.from(value, 'utf8'), mode: f.mode ?? mode });
  }
}

async function projectedFiles(pod: Pod, p: ProjectedVolumeSource, src: PayloadSources, out: Map<string, FileProjection>): Promise<void> {
  const mode = p.defaultMode ?? DEFAULT_MODE;
  const errors: string[] = [];
  for (const s of p.sources ?? []) {
    try {
      if (s.configMap) configMapFiles(s.configMap.name ?? '', s.configMap.items, s.configMap.optional === true, mode, src, out);
      else if (s.secret) secretFiles(s.secret.name ?? '', s.secret.items, s.secret.optional === true, mode, src, out);
      else if (s.downwardAPI) downwardFiles(pod, s.downwardAPI.items, mode, src, out);
      else if (s.serviceAccountToken) {
        const token = await src.requestToken(s.serviceAccountToken);
        out.set(s.serviceAccountToken.path, { data: Buffer.from(token, 'utf8'), mode });
      }
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length) throw new Error(errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`);
}

/**
 * The files of one configuration volume of `pod`. Throws an Error whose message is the
 * kubelet's (`configmap "x" not found`, `secret references non-existent secret key: k`,
 * `failed to fetch token: ...`); the caller reports it as `MountVolume.SetUp failed ...`.
 */
export async function volumePayload(pod: Pod, v: Volume, src: PayloadSources): Promise<Map<string, FileProjection>> {
  const out = new Map<string, FileProjection>();
  if (v.configMap) {
    const c: ConfigMapVolumeSource = v.configMap;
    configMapFiles(c.name ?? '', c.items, c.optional === true, c.defaultMode ?? DEFAULT_MODE, src, out);
  } else if (v.secret) {
    const s: SecretVolumeSource = v.secret;
    secretFiles(s.secretName ?? '', s.items, s.optional === true, s.defaultMode ?? DEFAULT_MODE, src, out);
  } else if (v.downwardAPI) {
    downwardFiles(pod, v.downwardAPI.items, v.downwardAPI.defaultMode ?? DEFAULT_MODE, src, out);
  } else if (v.projected) {
    await projectedFiles(pod, v.projected, src, out);
  }
  return out;
}
