/**
 * The root CA certificate publisher (Kubernetes' `root-ca-cert-publisher`): every active
 * namespace has a ConfigMap `kube-root-ca.crt` whose `ca.crt` is the certificate that signs the
 * API server's serving certificate, so pods can verify the API server (the projected
 * `kube-api-access-*` volume mounts it). Changed or deleted copies are put back. Keys are
 * namespace names.
 */
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../api/errors.js';
import type { KubeObject, Namespace } from '../api/types.js';
import { CONFIGMAPS, NAMESPACES } from '../client/client.js';
import { Controller, type ControllerContext } from './base.js';
export { CONFIGMAPS } from '../client/client.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const DESCRIPTION = 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

type CM = ConfigMap & KubeObject;

export class RootCACertPublisher extends Controller {
  private readonly namespaces = this.informer<Namespace & KubeObject>(NAMESPACES);
  private readonly configMaps = this.informer<CM>(CONFIGMAPS);

  /** @param rootCA the PEM bundle to publish (the API server's CA). */
  constructor(ctx: ControllerContext, private readonly rootCA: string) {
    super('root-ca-cert-publisher', ctx, { workers: 1 });
    this.namespaces.addHandlers({ onAdd: (ns) => this.enqueue(ns.metadata?.name ?? ''), onUpdate: (_o, ns) => this.enqueue(ns.metadata?.name ?? '') });
    const mine = (cm: CM) => {
      if (cm.metadata?.name === ROOT_CA_CONFIGMAP) this.enqueue(cm.metadata.namespace ?? '');
    };
    this.configMaps.addHandlers({ onUpdate: (_o, cm) => mine(cm), onDelete: mine });
  }

  protected async sync(namespace: string): Promise<void> {
    const ns = this.namespaces.get(namespace);
    if (!ns || ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    const ref = { ...CONFIGMAPS, namespace };
    const current = this.configMaps.get(`${namespace}/${ROOT_CA_CONFIGMAP}`);
    const data = { 'ca.crt': this.rootCA };
    const annotations = { 'kubernetes.io/description': DESCRIPTION };
    try {
      if (!current) {
        await this.client.create<CM>(ref, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations }, data });
      } else if (current.data?.['ca.crt'] !== this.rootCA || Object.keys(current.data ?? {}).length !== 1 || current.binaryData) {
        await this.client.update<CM>(ref, { ...current, metadata: { ...current.metadata, annotations: { ...current.metadata?.annotations, ...annotations } }, data, binaryData: undefined });
      }
    } catch (e) {
      // Lost a race with another writer or with the namespace's deletion: the watch brings us back.
      if (e instanceof ApiError && (e.reason === 'AlreadyExists' || e.reason === 'Conflict' || e.code === 404)) return;
      throw e;
    }
  }
}
