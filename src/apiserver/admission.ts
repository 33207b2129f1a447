/**
 * The admission chain (Kubernetes' `k8s.io/apiserver/pkg/admission`): plugins that may change
 * (mutate) or refuse an object on its way to the store, after defaulting and before validation,
 * run in a fixed order on every create. Each plugin is small and testable alone; it reads other
 * objects only through the {@link ObjectReader} it is handed.
 */
import type { ResourceDef } from '../api/resource.js';
import type { KubeObject } from '../api/types.js';

/** Read access to stored objects for admission plugins (no caching: each call reads the store). */
export interface ObjectReader {
  get(group: string, resource: string, namespace: string, name: string): Promise<KubeObject | undefined>;
  list(group: string, resource: string, namespace?: string): Promise<KubeObject[]>;
}

export interface AdmissionRequest {
  operation: 'CREATE';
  def: ResourceDef;
  /** The object being created, already defaulted; plugins may change it in place. */
  object: KubeObject;
  namespace: string;
  /** The name the object will have, '' while a `generateName` is pending. */
  name: string;
}

export interface AdmissionPlugin {
  readonly name: string;
  /** Changes `req.object` in place, or throws an ApiError (403 Forbidden, usually) to refuse it. */
  admit(req: AdmissionRequest, objects: ObjectReader): Promise<void>;
}

/** Runs the plugins in order; the first refusal wins. */
export async function admit(plugins: readonly AdmissionPlugin[], req: AdmissionRequest, objects: ObjectReader): Promise<void> {
  for (const p of plugins) await p.admit(req, objects);
}
