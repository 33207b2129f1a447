/**
 * The ServiceAccount admission plugin (Kubernetes' `plugin/pkg/admission/serviceaccount`), on
 * pod create: the pod runs as `default` unless it names an account; the account must exist
 * (403 `error looking up service account ns/name: serviceaccount "name" not found`); and unless
 * the pod or the account sets `automountServiceAccountToken: false`, the pod gets the
 * `kube-api-access-xxxxx` projected volume (a bound token, the cluster CA and the namespace)
 * mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container.
 */
import { randomInt } from 'node:crypto';
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.js';
import type { Container, Pod, Volume } from '../../api/types.js';
import type { AdmissionPlugin, AdmissionRequest, ObjectReader } from '../admission.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
/** Lifetime of the projected token: one hour plus 7 s, so it can be told apart (as in Kubernetes). */
export const PROJECTED_TOKEN_SECONDS = 3607;
const VOLUME_PREFIX = 'kube-api-access-';
/** Kubernetes' `utilrand.String` alphabet: no vowels, no look-alikes. */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** The projected volume Kubernetes injects, named `name`. */
export function apiAccessVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: PROJECTED_TOKEN_SECONDS, path: 'token' } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

/**
 * The pure part: `pod` with the service account defaulted and, when `automount`, the volume and
 * mounts added (containers that already mount something at the path are left alone; an existing
 * `kube-api-access-` volume is reused). `suffix` makes the volume name.
 */
export function injectServiceAccount(pod: Pod, automount: boolean, suffix: string): void {
  const spec = pod.spec as NonNullable<Pod['spec']>;
  const mountedAlready = (c: Container) => (c.volumeMounts ?? []).some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH);
  if (!automount) return;
  const containers = [...(spec.initContainers ?? []), ...spec.containers];
  if (containers.every(mountedAlready)) return;
  let volume = (spec.volumes ?? []).find((v) => v.name.startsWith(VOLUME_PREFIX) && v.projected);
  if (!volume) {
    volume = apiAccessVolume(`${VOLUME_PREFIX}${suffix}`);
    spec.volumes = [...(spec.volumes ?? []), volume];
  }
  for (const c of containers) {
    if (mountedAlready(c)) continue;
    c.volumeMounts = [...(c.volumeMounts ?? []), { name: volume.name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
  }
}

const randomSuffix = (): string => Array.from({ length: 5 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

export const serviceAccountAdmission: AdmissionPlugin = {
  name: 'ServiceAccount',
  async admit(req: AdmissionRequest, objects: ObjectReader): Promise<void> {
    if (req.def.group !== '' || req.def.resource !== 'pods') return;
    const pod = req.object as Pod;
    const spec = (pod as { spec?: Pod['spec'] }).spec;
    if (!spec) return;
    // Mirror (static) pods are left alone, as in Kubernetes.
    if (pod.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined) return;
    const name = spec.serviceAccountName || spec.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
    spec.serviceAccountName = name;
    spec.serviceAccount = name;
    const sa = (await objects.get('', 'serviceaccounts', req.namespace, name)) as ServiceAccount | undefined;
    if (!sa) {
      const subject = req.name ? `pods ${JSON.stringify(req.name)}` : 'pods';
      throw new ApiError(403, 'Forbidden',
        `${subject} is forbidden: error looking up service account ${req.namespace}/${name}: serviceaccount ${JSON.stringify(name)} not found`,
        [], { name: req.name, kind: 'pods' });
    }
    const automount = spec.automountServiceAccountToken ?? sa.automountServiceAccountToken ?? true;
    injectServiceAccount(pod, automount, randomSuffix());
  },
};
