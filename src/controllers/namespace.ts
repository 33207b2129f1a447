/**
 * The namespace controller (Kubernetes' `namespace` controller): a deleted namespace stays
 * `Terminating` while its `kubernetes` finalizer is set; this controller deletes everything in
 * it — every namespaced resource the API server's discovery lists with `list` and `delete` —
 * and once nothing is left removes the finalizer through the `finalize` subresource and deletes
 * the namespace again, which then goes. Objects that take time to go (pods in their grace
 * period) make the sync fail and retry with back-off. Keys are namespace names.
 */
import { ApiError } from '../api/errors.js';
import type { KubeList, KubeObject, Namespace } from '../api/types.js';
import { NAMESPACES, type ResourceRef } from '../client/client.js';
import { Controller, type ControllerContext } from './base.js';

const FINALIZER = 'kubernetes';

interface APIResource { name: string; namespaced: boolean; verbs: string[] }
interface APIResourceList { resources: APIResource[] }
interface APIGroupList { groups: { name: string; preferredVersion: { groupVersion: string } }[] }

/** The namespaced, listable and deletable resources in a discovery document. */
export function deletableResources(group: string, version: string, list: APIResourceList): ResourceRef[] {
  return list.resources
    .filter((r) => r.namespaced && !r.name.includes('/') && r.verbs.includes('list') && r.verbs.includes('delete'))
    .map((r) => ({ group, version, resource: r.name }));
}

export class NamespaceController extends Controller {
  private readonly namespaces = this.informer<Namespace & KubeObject>(NAMESPACES);

  constructor(ctx: ControllerContext) {
    super('namespace', ctx, { workers: 1 });
    const maybe = (ns: Namespace & KubeObject) => {
      if (ns.metadata?.deletionTimestamp) this.enqueue(ns.metadata.name ?? '');
    };
    this.namespaces.addHandlers({ onAdd: maybe, onUpdate: (_o, ns) => maybe(ns) });
  }

  /** Every namespaced resource the server serves, from discovery (preferred versions). */
  private async resources(): Promise<ResourceRef[]> {
    const out = deletableResources('', 'v1', await this.client.request<APIResourceList>('GET', '/api/v1'));
    const groups = await this.client.request<APIGroupList>('GET', '/apis');
    for (const g of groups.groups) {
      const [group, version] = g.preferredVersion.groupVersion.split('/');
      out.push(...deletableResources(group, version, await this.client.request<APIResourceList>('GET', `/apis/${group}/${version}`)));
    }
    return out;
  }

  protected async sync(name: string): Promise<void> {
    const ns = this.namespaces.get(name);
    if (!ns?.metadata?.deletionTimestamp) return;
    const finalizers = (ns.spec?.finalizers ?? []) as string[];
    if (finalizers.includes(FINALIZER)) {
      let remaining = 0;
      for (const ref of await this.resources()) {
        const scoped = { ...ref, namespace: name };
        const list = await this.client.list<KubeObject>(scoped);
        for (const obj of (list as KubeList<KubeObject>).items) {
          remaining++;
          if (obj.metadata?.deletionTimestamp) continue;
          try {
            await this.client.delete(scoped, obj.metadata?.name ?? '', { propagationPolicy: 'Background' });
          } catch (e) {
            if (!(e instanceof ApiError && e.code === 404)) throw e;
          }
        }
      }
      if (remaining > 0) throw new Error(`namespace ${name}: ${remaining} object(s) still being deleted`);
      const body = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, resourceVersion: ns.metadata.resourceVersion }, spec: { finalizers: finalizers.filter((f) => f !== FINALIZER) } };
      try {
        await this.client.request('PUT', `/api/v1/namespaces/${encodeURIComponent(name)}/finalize`, body);
      } catch (e) {
        if (e instanceof ApiError && (e.code === 404 || e.reason === 'Conflict')) return; // the watch brings the newer one
        throw e;
      }
      this.log(`namespace ${name}: emptied, finalizer removed`);
    }
    try {
      await this.client.delete(NAMESPACES, name);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }
}
