/**
 * The ServiceAccount controller (Kubernetes' `serviceaccounts-controller`): every active
 * namespace has a `default` ServiceAccount, created when the namespace appears and again if it
 * is deleted. Keys are namespace names.
 */
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../api/errors.js';
import type { KubeObject, Namespace } from '../api/types.js';
import { NAMESPACES, SERVICE_ACCOUNTS } from '../client/client.js';
import { Controller, type ControllerContext } from './base.js';
export { SERVICE_ACCOUNTS } from '../client/client.js';

/** The accounts every namespace gets. */
export const DEFAULT_SERVICE_ACCOUNTS = ['default'];

type SA = ServiceAccount & KubeObject;

export class ServiceAccountController extends Controller {
  private readonly namespaces = this.informer<Namespace & KubeObject>(NAMESPACES);
  private readonly accounts = this.informer<SA>(SERVICE_ACCOUNTS);

  constructor(ctx: ControllerContext) {
    super('serviceaccount-controller', ctx, { workers: 1 });
    this.namespaces.addHandlers({ onAdd: (ns) => this.enqueue(ns.metadata?.name ?? ''), onUpdate: (_o, ns) => this.enqueue(ns.metadata?.name ?? '') });
    this.accounts.addHandlers({ onDelete: (sa) => this.enqueue(sa.metadata?.namespace ?? '') });
  }

  protected async sync(namespace: string): Promise<void> {
    const ns = this.namespaces.get(namespace);
    if (!ns || ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    for (const name of DEFAULT_SERVICE_ACCOUNTS) {
      if (this.accounts.get(`${namespace}/${name}`)) continue;
      try {
        await this.client.create<SA>({ ...SERVICE_ACCOUNTS, namespace }, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
      } catch (e) {
        // Already there (the cache lagged) or the namespace went away meanwhile: nothing to do.
        if (e instanceof ApiError && (e.reason === 'AlreadyExists' || e.code === 404)) continue;
        throw e;
      }
    }
  }
}
