import type { FieldError } from './errors.js';
import type { KubeObject } from './types.js';

/**
 * How the API server serves one kind: its REST names, scope and strategy (defaults and
 * validation). The set of these is `src/api/registry.ts`'s `RESOURCES`; the API server is
 * generic over it, so adding a kind (ReplicaSet, Deployment, Service) is adding one entry.
 */
export interface ResourceDef {
  /** API group, '' for the core group. */
  group: string;
  version: string;
  /** Plural lower-case REST name, e.g. `pods`. */
  resource: string;
  /** Singular lower-case name, e.g. `pod`. */
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  /** Subresources served for this kind, e.g. `status`, `binding`, `log`, `exec`, `scale`. */
  subresources: string[];
  /**
   * Fills Kubernetes defaults into a new object (in place). Called on create and on update
   * before validation; must be idempotent.
   */
  applyDefaults(obj: KubeObject): void;
  /**
   * Validates an object about to be stored. `old` is set on update, so immutable fields can
   * be checked. Returns every problem found (empty = valid); never throws for user mistakes.
   */
  validate(obj: KubeObject, old?: KubeObject): FieldError[];
  /**
   * Values selectable with `fieldSelector` besides `metadata.name`/`metadata.namespace`,
   * e.g. `spec.nodeName` and `status.phase` for pods.
   */
  fieldLabels?(obj: KubeObject): Record<string, string>;
}

/** `apiVersion` as written in manifests: `v1` for core, `apps/v1` otherwise. */
export const apiVersionOf = (r: Pick<ResourceDef, 'group' | 'version'>): string => (r.group ? `${r.group}/${r.version}` : r.version);
