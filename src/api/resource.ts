import type { FieldError } from './errors.js';
import type { KubeObject } from './types.js';

/**
 * The subresources an update (PUT or PATCH) of an object can come through: the object itself,
 * its `status`, or a pod's `ephemeralcontainers` (which changes `spec.ephemeralContainers` only).
 */
export type UpdateSubresource = '' | 'status' | 'ephemeralcontainers';

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
  /** Verbs discovery lists for the kind, when not the usual CRUD set (e.g. `create` only for reviews). */
  verbs?: string[];
  /**
   * Fills Kubernetes defaults into a new object (in place). Called on create and on update
   * before validation; must be idempotent.
   */
  applyDefaults(obj: KubeObject): void;
  /**
   * Validates an object about to be stored. `old` is set on update, so immutable fields can
   * be checked; `subresource` names the subresource the update came through (pods'
   * `ephemeralcontainers` has its own rules). Returns every problem found (empty = valid); never throws for user mistakes.
   */
  validate(obj: KubeObject, old?: KubeObject, subresource?: UpdateSubresource): FieldError[];
  /**
   * Kind-specific changes to a new object, after defaults and before validation (Kubernetes'
   * strategy `PrepareForCreate`), e.g. dropping a status clients may not set. Optional.
   */
  prepareForCreate?(obj: KubeObject): void;
  /**
   * Kind-specific changes to an updated object (the strategy's, or for `subresource` `status`
   * the status strategy's, `PrepareForUpdate`). Called after the generic rules, which leave
   * `obj` as what would be stored (main resource: stored status kept, generation bumped when the
   * spec changed; status: everything but the status kept), and before validation. `requested`
   * is the object the client sent (after any patch); `old` is the stored object (read-only).
   */
  prepareForUpdate?(obj: KubeObject, old: KubeObject, requested: KubeObject, subresource: UpdateSubresource): void;
  /**
   * Values selectable with `fieldSelector` besides `metadata.name`/`metadata.namespace`,
   * e.g. `spec.nodeName` and `status.phase` for pods.
   */
  fieldLabels?(obj: KubeObject): Record<string, string>;
  /**
   * Warnings about an object just written (create, or update with `old`), e.g. fields that are
   * accepted but not honoured. The API server sends each as an HTTP `Warning: 299 - "..."`
   * header; kubectl and the CLI print them as `Warning: ...`. Optional.
   */
  warnings?(obj: KubeObject, old?: KubeObject): string[];
  /**
   * Set when this version is served from objects stored in another version of the same
   * group/resource (autoscaling/v1 HPAs are stored as autoscaling/v2): the API server converts
   * on every read and write. Defaults, validation and warnings are then the storage version's,
   * applied to the converted object.
   */
  conversion?: VersionConversion;
}

/** How one served version maps to the storage version (Kubernetes' conversion functions). */
export interface VersionConversion {
  storageVersion: string;
  /** A served-version object (type meta included) as it is stored. */
  toStorage(obj: KubeObject): KubeObject;
  /** A stored object as this version serves it. */
  fromStorage(obj: KubeObject): KubeObject;
}

/** `apiVersion` as written in manifests: `v1` for core, `apps/v1` otherwise. */
export const apiVersionOf = (r: Pick<ResourceDef, 'group' | 'version'>): string => (r.group ? `${r.group}/${r.version}` : r.version);
