/**
 * What the API server does to objects between HTTP and the store, for every kind alike (the
 * part Kubernetes calls the generic registry): server-set metadata on create, optimistic
 * concurrency and immutable fields on update, the status and scale subresources, defaults,
 * validation and each kind's prepare-for-create/update hooks, patches, graceful deletion,
 * finalizers and propagation policies. Pod-only rules come from `pods.ts`.
 *
 * Safe for concurrent requests: every read-modify-write goes through `Store.guaranteedUpdate`
 * or a precondition, so a lost race is retried or answered 409, never silently overwritten.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { hasGeneration } from '../api/generation.js';
import { ApiError, badRequest, conflict, invalid, notFound, type FieldError } from '../api/errors.js';
import { apiVersionOf, type ResourceDef, type UpdateSubresource } from '../api/resource.js';
import { decodeObject, fieldProblems, type FieldValidation } from '../api/schema.js';
import { scaleOf, validateScale, type Scalable } from '../api/scale.js';
import type { KubeList, KubeObject, ObjectMeta, Scale } from '../api/types.js';
import { collectionKey, objectKey, parseResourceVersion, qualifiedResource, type Store } from '../store/types.js';
import { admit, type AdmissionPlugin, type ObjectReader } from './admission.js';
import { kindType } from '../api/listtypes.js';
import { applyConfiguration, managersForUpdate, recordUpdate, type FieldOwner } from './managedfields.js';
import { applyPatch, type Json, type PatchType } from './patch.js';
import { podGracePeriod, withEphemeralContainers } from './pods.js';
import { checkScaleBody } from './scale.js';
import type { ObjectFilter } from './selectors.js';

/** How a DELETE treats the object's dependents (objects whose ownerReferences name it). */
export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';
export const PROPAGATION_POLICIES: readonly PropagationPolicy[] = ['Foreground', 'Background', 'Orphan'];

/** A namespace's `spec.finalizers` (`kubernetes` until the namespace controller has emptied it). */
export const namespaceFinalizers = (ns: KubeObject): string[] => {
  const f = (ns as { spec?: { finalizers?: unknown } }).spec?.finalizers;
  return Array.isArray(f) ? f.filter((x): x is string => typeof x === 'string') : [];
};

/** The finalizer that keeps an owner until the garbage collector has deleted its dependents. */
export const FOREGROUND_FINALIZER = 'foregroundDeletion';
/** The finalizer that asks for an owner's dependents to be orphaned before it goes. */
export const ORPHAN_FINALIZER = 'orphan';

/** DeleteOptions as Kubernetes defines them (the fields minikube-lite acts on). */
export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  /**
   * `Background` (the default for every kind): the object goes now and the garbage collector
   * deletes its dependents afterwards. `Foreground`: the object stays, marked with
   * deletionTimestamp and the `foregroundDeletion` finalizer, until the garbage collector has
   * deleted its dependents and removed the finalizer. `Orphan`: the dependents lose their
   * ownerReference to it first, and are kept.
   */
  propagationPolicy?: PropagationPolicy;
  /** Deprecated form of the policy: true means Orphan, false Background (never both given). */
  orphanDependents?: boolean;
}

/**
 * Side effects of a write that must happen exactly once, whatever the outcome: allocations are
 * made when the hook begins (and undone by `revert` when the write fails, or is a dry run);
 * releases happen on `commit`, once the write is stored.
 */
export interface Transaction {
  commit(): void;
  revert(): void;
}

/**
 * A kind's storage hooks (Kubernetes' `BeginCreate`/`BeginUpdate`/`AfterDelete` of the generic
 * registry), e.g. Service ClusterIP allocation. They run after defaults, the strategy and
 * validation; they may change the object (fill allocated values) and throw ApiErrors (422).
 * `afterDelete` runs once the object is gone from the store, on every deletion path.
 */
export interface StorageHooks {
  beginCreate?(obj: KubeObject): Transaction;
  beginUpdate?(obj: KubeObject, old: KubeObject): Transaction;
  afterDelete?(obj: KubeObject): void;
}

export interface WriteOptions {
  /** `dryRun=All`: validate and answer as if written, store nothing. */
  dryRun?: boolean;
  /** How unknown and duplicate fields are treated (`fieldValidation`; default Warn). */
  fieldValidation?: FieldValidation;
  /** Keys the request body gave twice in one object, by path (see `scanJson`). */
  duplicates?: readonly string[];
  /** Where warnings for the client's `Warning` headers are appended (e.g. unknown fields). */
  warnings?: string[];
  /**
   * The field manager recorded in managedFields (`fieldManager`, else from the User-Agent);
   * writes the server makes itself are `kube-apiserver`'s.
   */
  fieldManager?: string;
  /** Server-side apply only: take the fields of conflicting managers (`force=true`). */
  force?: boolean;
}

/** How a write records managedFields: an Update by a manager, or an Apply already recorded. */
type Tracking = { operation: 'Update'; owner: FieldOwner } | { operation: 'Apply' };

/** The manager of writes that name none (the server's own, e.g. the built-in namespaces). */
const SERVER_MANAGER = 'kube-apiserver';
const updateBy = (opts: WriteOptions, subresource: string): Tracking => ({ operation: 'Update', owner: { manager: opts.fieldManager ?? SERVER_MANAGER, subresource } });

/** Namespaces that can never be deleted, as in Kubernetes. */
const UNDELETABLE_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);
/** Alphabet of generated name suffixes (Kubernetes leaves out vowels and look-alikes). */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
/** How many generated names to try before giving up with 409 (Kubernetes retries too). */
const GENERATE_NAME_ATTEMPTS = 8;

/** RFC 3339 in UTC with whole seconds, as Kubernetes writes timestamps: `2024-05-01T12:00:00Z`. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** ObjectMeta with the server-owned fields writable: the API server is the one that sets them. */
export type MutableMeta = { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] };

/** Any stored object, with its kind-specific top-level fields (spec, status, ...) reachable. */
export type AnyObject = KubeObject & { [field: string]: unknown };

/** The object's metadata, created if missing, writable (for objects the server is building). */
export function meta(obj: KubeObject): MutableMeta {
  obj.metadata ??= {};
  return obj.metadata as MutableMeta;
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** A deep copy of JSON data (much cheaper than structuredClone on Node 20). */
export const copyJson = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

/** Kubernetes' path-segment rule for names: they end up in URLs and store keys. */
function pathSegmentErrors(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const bad = ['/', '%'].filter((c) => name.includes(c));
  return bad.map((c) => `may not contain '${c}'`);
}

/**
 * The finalizers an object should carry once a DELETE with `options` has been applied, and
 * whether its dependents are to be orphaned (Kubernetes' `deletionFinalizersForGarbageCollection`):
 * an explicit policy wins, else an `orphan` or `foregroundDeletion` finalizer already present,
 * else Background. Foreground keeps exactly one `foregroundDeletion` finalizer; the `orphan`
 * finalizer is never kept, since orphaning happens at once (see `RestStorage.delete`).
 */
export function deletionFinalizers(obj: KubeObject, options: DeleteOptions): { finalizers: string[]; orphan: boolean } {
  const existing = obj.metadata?.finalizers ?? [];
  let policy: PropagationPolicy | undefined = options.orphanDependents !== undefined
    ? (options.orphanDependents ? 'Orphan' : 'Background')
    : options.propagationPolicy;
  if (!policy) {
    const first = existing.find((f) => f === ORPHAN_FINALIZER || f === FOREGROUND_FINALIZER);
    policy = first === ORPHAN_FINALIZER ? 'Orphan' : first === FOREGROUND_FINALIZER ? 'Foreground' : 'Background';
  }
  let finalizers = existing.filter((f) => f !== ORPHAN_FINALIZER);
  if (policy !== 'Foreground') finalizers = finalizers.filter((f) => f !== FOREGROUND_FINALIZER);
  else if (!finalizers.includes(FOREGROUND_FINALIZER)) finalizers.push(FOREGROUND_FINALIZER);
  return { finalizers, orphan: policy === 'Orphan' };
}

export class RestStorage {
  /** The namespaces kind, if served: namespaced creates then need an existing namespace. */
  private readonly namespaces?: ResourceDef;

  constructor(
    private readonly store: Store,
    private readonly clock: () => Date,
    private readonly resources: ResourceDef[],
    /** Storage hooks by `group/resource` (`/services`). */
    private readonly hooks: Readonly<Record<string, StorageHooks>> = {},
    /** Admission plugins run on every create, after defaults and before validation. */
    private readonly admission: readonly AdmissionPlugin[] = [],
  ) {
    this.namespaces = resources.find((d) => d.group === '' && d.resource === 'namespaces');
  }

  /** Uncached reads of stored objects, for admission plugins and the authenticator/authorizer. */
  readonly objects: ObjectReader = {
    get: async (group, resource, namespace, name) => {
      const def = this.resources.find((d) => d.group === group && d.resource === resource);
      return def ? this.store.get(this.key(def, namespace, name)) : undefined;
    },
    list: async (group, resource, namespace) => {
      const def = this.resources.find((d) => d.group === group && d.resource === resource);
      if (!def) return [];
      return (await this.store.list(collectionKey(def, def.namespaced && namespace ? namespace : undefined))).items;
    },
  };

  key(def: ResourceDef, namespace: string, name: string): string {
    return objectKey(def, def.namespaced ? namespace : undefined, name);
  }

  async get(def: ResourceDef, namespace: string, name: string): Promise<KubeObject> {
    const obj = await this.store.get(this.key(def, namespace, name));
    if (!obj) throw notFound(def.resource, name, def.group);
    return this.served(def, obj);
  }

  /** The def objects of `def`'s group/resource are stored as (itself, unless it converts). */
  storageDef(def: ResourceDef): ResourceDef {
    const conv = def.conversion;
    if (!conv) return def;
    const s = this.resources.find((d) => d.group === def.group && d.resource === def.resource && d.version === conv.storageVersion);
    if (!s) throw new ApiError(500, 'InternalError', `no storage version ${conv.storageVersion} for ${def.resource}.${def.group}`);
    return s;
  }

  /** A stored object as `def`'s version serves it. */
  served(def: ResourceDef, obj: KubeObject): KubeObject {
    return def.conversion ? def.conversion.fromStorage(obj) : obj;
  }

  /**
   * LIST: matching objects of one namespace (or all, when `namespace` is empty), as they are now
   * or, given `at`, as they were at that resourceVersion.
   */
  async list(def: ResourceDef, namespace: string, filter: ObjectFilter, at?: number): Promise<KubeList> {
    const prefix = collectionKey(def, def.namespaced && namespace ? namespace : undefined);
    const { items, resourceVersion } = await (at === undefined ? this.store.list(prefix) : this.store.listAt(prefix, at));
    return {
      kind: def.listKind,
      apiVersion: apiVersionOf(def),
      metadata: { resourceVersion: String(resourceVersion) },
      items: (filter.selective ? items.filter((o) => filter.matches(o)) : items).map((o) => this.served(def, o)),
    };
  }

  /** CREATE: 201-worthy object, or 400/404/409/422. `body` becomes the caller-visible object. */
  async create(def: ResourceDef, namespace: string, input: KubeObject, opts: WriteOptions = {}, tracking: Tracking = updateBy(opts, '')): Promise<KubeObject> {
    if (def.conversion) {
      const converted = def.conversion.toStorage(this.decode(def, this.withTypeMeta(def, input), opts));
      return this.served(def, await this.create(this.storageDef(def), namespace, converted, opts, tracking));
    }
    const body = this.decode(def, this.withTypeMeta(def, input), opts);
    const m = meta(body);
    this.checkNamespace(def, namespace, m);
    if (def.namespaced) await this.requireNamespace(m.namespace ?? '');
    const generate = !m.name && !!m.generateName;
    if (!m.name && !generate) {
      throw invalid(def.kind, '', [{ field: 'metadata.name', type: 'FieldValueRequired', message: 'Required value: name or generateName is required' }], def.group);
    }
    const now = rfc3339(this.clock());
    for (let attempt = 1; ; attempt++) {
      const obj = copyJson(body);
      const om = meta(obj);
      if (generate) om.name = om.generateName + Array.from({ length: 5 }, () => NAME_ALPHABET[randomInt(NAME_ALPHABET.length)]).join('');
      const name = om.name ?? '';
      om.uid = randomUUID();
      om.creationTimestamp = now;
      if (hasGeneration(def)) om.generation = 1;
      else delete om.generation;
      delete om.resourceVersion;
      delete om.deletionTimestamp;
      delete om.deletionGracePeriodSeconds;
      delete om.selfLink;
      def.applyDefaults(obj);
      if (tracking.operation === 'Update') {
        const base = managersForUpdate(def, undefined, (body.metadata as { managedFields?: unknown } | undefined)?.managedFields);
        om.managedFields = recordUpdate(def, undefined, obj, base, tracking.owner, now) as ObjectMeta['managedFields'];
      }
      def.prepareForCreate?.(obj);
      if (this.admission.length) {
        await admit(this.admission, { operation: 'CREATE', def, object: obj, namespace: om.namespace ?? '', name: generate ? '' : name }, this.objects);
      }
      this.validate(def, obj, undefined, name);
      const txn = this.hooksOf(def).beginCreate?.(obj);
      if (opts.dryRun) {
        txn?.revert();
        return obj;
      }
      try {
        const created = await this.store.create(this.key(def, om.namespace ?? '', name), obj);
        txn?.commit();
        return created;
      } catch (e) {
        txn?.revert();
        if (generate && e instanceof ApiError && e.reason === 'AlreadyExists' && attempt < GENERATE_NAME_ATTEMPTS) continue;
        throw e;
      }
    }
  }

  /**
   * UPDATE (PUT) of the object or of its `status` (or a pod's `ephemeralcontainers`) subresource. A resourceVersion in `body`
   * makes it conditional (409 if stale); none makes it unconditional.
   */
  async update(def: ResourceDef, namespace: string, name: string, input: KubeObject, subresource: UpdateSubresource, opts: WriteOptions = {}): Promise<KubeObject> {
    if (def.conversion) {
      const converted = def.conversion.toStorage(this.decode(def, this.withTypeMeta(def, input), opts));
      return this.served(def, await this.update(this.storageDef(def), namespace, name, converted, subresource, opts));
    }
    const body = this.decode(def, this.withTypeMeta(def, input), opts);
    const m = meta(body);
    this.checkNamespace(def, namespace, m);
    if (m.name && m.name !== name) throw badRequest(`the name of the object (${m.name}) does not match the name on the URL (${name})`);
    m.name = name;
    const expected = parseResourceVersion(m.resourceVersion);
    return this.write(def, namespace, name, opts, (cur) => {
      if (expected !== undefined && String(expected) !== cur.metadata?.resourceVersion) throw conflict(qualifiedResource(def), name);
      return this.prepareUpdate(def, cur as AnyObject, body as AnyObject, subresource, updateBy(opts, subresource));
    });
  }

  /**
   * Server-side apply (PATCH with `application/apply-patch+yaml`) of `config` to the object or
   * its `status` subresource, by `opts.fieldManager` (required: the caller checks it). Creates
   * the object when it does not exist (`created` true). 409 on conflicts unless `opts.force`.
   */
  async apply(def: ResourceDef, namespace: string, name: string, config: unknown, subresource: UpdateSubresource, opts: WriteOptions = {}): Promise<{ object: KubeObject; created: boolean }> {
    if (config === null || typeof config !== 'object' || Array.isArray(config)) throw badRequest('error decoding YAML: the applied configuration must be an object');
    const input = config as KubeObject;
    if (!input.apiVersion) throw badRequest(`Object 'apiVersion' is missing in '${JSON.stringify(input)}'`);
    if (!input.kind) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(input)}'`);
    const body = this.decode(def, this.withTypeMeta(def, input), opts);
    const m = meta(body);
    if ((m as { managedFields?: unknown }).managedFields !== undefined) throw badRequest('metadata.managedFields must be nil');
    if (m.name !== undefined && m.name !== name) throw badRequest(`the name of the object (${m.name}) does not match the name on the URL (${name})`);
    m.name = name;
    this.checkNamespace(def, namespace, m);
    const owner: FieldOwner = { manager: opts.fieldManager ?? '', subresource };
    const expected = parseResourceVersion(m.resourceVersion);
    for (;;) {
      const cur = await this.store.get(this.key(def, namespace, name));
      if (!cur) {
        if (subresource) throw notFound(def.resource, name, def.group);
        if (expected !== undefined) throw conflict(qualifiedResource(def), name);
        const { object } = applyConfiguration(def, undefined, copyJson(body), owner, opts.force ?? false, rfc3339(this.clock()));
        try {
          return { object: await this.create(def, namespace, object, opts, { operation: 'Apply' }), created: true };
        } catch (e) {
          // Created by someone else meanwhile: apply to theirs.
          if (e instanceof ApiError && e.reason === 'AlreadyExists') continue;
          throw e;
        }
      }
      // The configuration applies to the object as the request's version serves it.
      const sdef = this.storageDef(def);
      const object = await this.write(sdef, namespace, name, opts, (stored) => {
        if (expected !== undefined && String(expected) !== stored.metadata?.resourceVersion) throw conflict(qualifiedResource(def), name);
        const live = this.served(def, stored);
        const { object: applied } = applyConfiguration(def, live, copyJson(body), owner, opts.force ?? false, rfc3339(this.clock()));
        const am = meta(applied);
        am.resourceVersion = stored.metadata?.resourceVersion;
        const toStore = def.conversion ? def.conversion.toStorage(applied) : applied;
        return this.prepareUpdate(sdef, stored as AnyObject, toStore as AnyObject, subresource, { operation: 'Apply' });
      });
      return { object: this.served(def, object), created: false };
    }
  }

  /** PATCH of the object or of its `status` (or a pod's `ephemeralcontainers`) subresource. */
  async patch(def: ResourceDef, namespace: string, name: string, type: PatchType, patch: unknown, subresource: UpdateSubresource, opts: WriteOptions = {}): Promise<KubeObject> {
    // A patch applies to the object as the request's version serves it.
    const conv = def.conversion;
    const sdef = this.storageDef(def);
    const out = await this.write(sdef, namespace, name, opts, (stored) => {
      const cur = this.served(def, stored);
      const served = this.decode(def, this.withTypeMeta(def, applyPatch(type, cur as { [k: string]: Json }, patch, kindType(apiVersionOf(def), def.kind)) as KubeObject), opts, true);
      const patched = conv ? conv.toStorage(served) : served;
      const pm = meta(patched);
      // A resourceVersion written by the patch is a precondition, as in Kubernetes.
      if (pm.resourceVersion !== undefined && pm.resourceVersion !== cur.metadata?.resourceVersion) throw conflict(qualifiedResource(def), name);
      if (pm.name !== name) throw badRequest(`the name of the object (${pm.name ?? ''}) does not match the name on the URL (${name})`);
      if (def.namespaced && pm.namespace !== cur.metadata?.namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      return this.prepareUpdate(sdef, stored as AnyObject, patched as AnyObject, subresource, updateBy(opts, subresource));
    });
    return this.served(def, out);
  }

  /**
   * DELETE. Pods on a node get a grace period (deletionTimestamp set, object kept, `deleted`
   * false); objects with finalizers are kept until the last finalizer goes; everything else is
   * removed now. Deleting a namespace removes its objects first.
   *
   * Dependents follow `propagationPolicy` (see {@link DeleteOptions}); without one, an
   * `orphan` or `foregroundDeletion` finalizer already on the object decides, else Background.
   * Orphaning is done here, synchronously, before the object is deleted or marked: every object
   * that names it in an ownerReference (in its namespace, or anywhere for a cluster-scoped
   * owner) loses that reference. Kubernetes lets the garbage collector do it behind an `orphan`
   * finalizer; the outcome is the same, without the finalizer ever being visible.
   */
  async delete(def: ResourceDef, namespace: string, name: string, options: DeleteOptions, opts: WriteOptions = {}): Promise<{ object: KubeObject; deleted: boolean }> {
    if (def.conversion) {
      const r = await this.delete(this.storageDef(def), namespace, name, options, opts);
      return { ...r, object: this.served(def, r.object) };
    }
    if (def.group === '' && def.resource === 'namespaces' && UNDELETABLE_NAMESPACES.has(name)) {
      throw new ApiError(403, 'Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, [], { name, kind: 'namespaces' });
    }
    const key = this.key(def, namespace, name);
    let orphaned = false;
    for (;;) {
      const cur = await this.store.get(key);
      if (!cur) throw notFound(def.resource, name, def.group);
      this.checkPreconditions(def, cur, options);
      if (def.group === '' && def.resource === 'namespaces' && namespaceFinalizers(cur).length > 0) {
        // Terminating until the namespace controller has emptied it and removed its finalizers.
        if (cur.metadata?.deletionTimestamp) return { object: cur, deleted: false };
        const next = copyJson(cur) as AnyObject;
        const nm = meta(next);
        nm.deletionTimestamp = rfc3339(this.clock());
        nm.deletionGracePeriodSeconds = 0;
        next.status = { ...(next.status as Record<string, unknown> | undefined), phase: 'Terminating' };
        if (opts.dryRun) return { object: next, deleted: false };
        try {
          return { object: await this.store.update(key, next, { expectedResourceVersion: Number(cur.metadata?.resourceVersion) }), deleted: false };
        } catch (e) {
          if (e instanceof ApiError && e.reason === 'Conflict') continue;
          throw e;
        }
      }
      const gc = deletionFinalizers(cur, options);
      const plan = this.planDelete(def, cur, options.gracePeriodSeconds, gc.finalizers);
      if (opts.dryRun) return { object: plan.update ?? cur, deleted: plan.action === 'delete' };
      if (gc.orphan && !orphaned) {
        await this.orphanDependents(def, cur);
        orphaned = true;
      }
      const rv = Number(cur.metadata?.resourceVersion);
      try {
        if (plan.action === 'keep') return { object: cur, deleted: false };
        if (plan.action === 'update' && plan.update) {
          return { object: await this.store.update(key, plan.update, { expectedResourceVersion: rv }), deleted: false };
        }
        if (def.group === '' && def.resource === 'namespaces') await this.deleteNamespaceContents(name);
        const gone = await this.store.delete(key, { expectedResourceVersion: rv });
        this.hooksOf(def).afterDelete?.(gone);
        return { object: gone, deleted: true };
      } catch (e) {
        // Changed under us between read and write: decide again on the fresh object.
        if (e instanceof ApiError && e.reason === 'Conflict') continue;
        throw e;
      }
    }
  }

  /**
   * PUT of a namespace's `finalize` subresource: only `spec.finalizers` changes (the namespace
   * controller removes `kubernetes` once the namespace is empty). 409 on a stale resourceVersion.
   */
  async finalizeNamespace(def: ResourceDef, name: string, input: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    const body = this.decode(def, this.withTypeMeta(def, input), opts) as AnyObject;
    const m = meta(body);
    if (m.name && m.name !== name) throw badRequest(`the name of the object (${m.name}) does not match the name on the URL (${name})`);
    const expected = parseResourceVersion(m.resourceVersion);
    const finalizers = namespaceFinalizers(body);
    return this.write(def, '', name, opts, (cur) => {
      if (expected !== undefined && String(expected) !== cur.metadata?.resourceVersion) throw conflict(qualifiedResource(def), name);
      const next = copyJson(cur) as AnyObject;
      next.spec = { ...(next.spec as Record<string, unknown> | undefined), finalizers };
      if (!finalizers.length) delete (next.spec as Record<string, unknown>).finalizers;
      return next as KubeObject;
    });
  }

  /**
   * PUT or PATCH of the `scale` subresource. `change` turns the parent's current Scale into the
   * requested one (the PUT body, or the patched Scale); 400 when that is not an
   * `autoscaling/v1` Scale for this object, 422 `Scale.autoscaling "x" is invalid: ...` for a
   * negative `spec.replicas`, 409 when its uid or resourceVersion (a precondition on the
   * parent) is stale. Only `spec.replicas` reaches the parent, which is then updated like a PUT
   * (defaults, validation, generation). Returns the parent's new Scale.
   */
  async updateScale(def: ResourceDef, namespace: string, name: string, change: (current: Scale) => unknown, opts: WriteOptions = {}): Promise<Scale> {
    const out = await this.write(def, namespace, name, opts, (cur) => {
      const wanted = checkScaleBody(change(scaleOf(cur as Scalable)), namespace, name);
      const errs = validateScale(wanted);
      if (errs.length) throw invalid('Scale', name, errs, 'autoscaling');
      const m = cur.metadata ?? {};
      const uid = wanted.metadata?.uid;
      if (uid && uid !== m.uid) {
        throw conflict(`${def.resource}/scale${def.group ? `.${def.group}` : ''}`, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${m.uid ?? ''}`);
      }
      const rv = wanted.metadata?.resourceVersion;
      if (rv && rv !== m.resourceVersion) throw conflict(qualifiedResource(def), name);
      const next = copyJson(cur) as AnyObject;
      const spec = (next.spec !== null && typeof next.spec === 'object' ? next.spec : (next.spec = {})) as { replicas?: number };
      spec.replicas = wanted.spec?.replicas ?? 0;
      return this.prepareUpdate(def, cur as AnyObject, next, '', updateBy(opts, 'scale'));
    });
    return scaleOf(out as Scalable);
  }

  /** Store writes for Binding and other server-side changes that are not user PUT/PATCH. */
  async modify(def: ResourceDef, namespace: string, name: string, fn: (cur: KubeObject) => KubeObject): Promise<KubeObject> {
    try {
      return await this.store.guaranteedUpdate(this.key(def, namespace, name), fn);
    } catch (e) {
      if (e instanceof ApiError && e.code === 404 && e.reason === 'NotFound') throw notFound(def.resource, name, def.group);
      throw e;
    }
  }

  /** Creates the object unless it exists (used for the built-in namespaces at start). */
  async ensure(def: ResourceDef, namespace: string, obj: KubeObject): Promise<void> {
    try {
      await this.create(def, namespace, obj);
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e;
    }
  }

  // -------------------------------------------------------------------------------------------

  /** guaranteedUpdate with dry-run and "no longer has finalizers after deletion" handling. */
  private async write(def: ResourceDef, namespace: string, name: string, opts: WriteOptions, fn: (cur: KubeObject) => KubeObject): Promise<KubeObject> {
    const key = this.key(def, namespace, name);
    const hooks = this.hooksOf(def);
    if (opts.dryRun) {
      const cur = await this.store.get(key);
      if (!cur) throw notFound(def.resource, name, def.group);
      const next = fn(cur);
      hooks.beginUpdate?.(next, cur).revert();
      return next;
    }
    let finished = false;
    // The store may call the update function again after a conflict: each attempt undoes the
    // allocations of the one before.
    let txn: Transaction | undefined;
    let out: KubeObject;
    try {
      out = await this.modify(def, namespace, name, (cur) => {
        txn?.revert();
        txn = undefined;
        const next = fn(cur);
        txn = hooks.beginUpdate?.(next, cur);
        const nm = meta(next);
        // Kubernetes deletes an object being deleted once its last finalizer is removed (and its
        // grace period, if any, has been cut to zero).
        finished = !!nm.deletionTimestamp && !(nm.finalizers?.length) && (nm.deletionGracePeriodSeconds ?? 0) === 0;
        return next;
      });
    } catch (e) {
      txn?.revert();
      throw e;
    }
    txn?.commit();
    if (finished) {
      try {
        const gone = await this.store.delete(key, { expectedResourceVersion: Number(out.metadata?.resourceVersion) });
        hooks.afterDelete?.(gone);
      } catch (e) {
        // Someone else already removed it or changed it again; their write decides.
        if (!(e instanceof ApiError && (e.reason === 'NotFound' || e.reason === 'Conflict'))) throw e;
      }
    }
    return out;
  }

  private hooksOf(def: ResourceDef): StorageHooks {
    return this.hooks[`${def.group}/${def.resource}`] ?? {};
  }

  /** The object to store for an update of `cur` with `body` (already name- and namespace-checked). */
  private prepareUpdate(def: ResourceDef, cur: AnyObject, body: AnyObject, subresource: UpdateSubresource, tracking: Tracking): KubeObject {
    const old = cur.metadata ?? {};
    let next: AnyObject;
    if (subresource === 'ephemeralcontainers') {
      next = withEphemeralContainers(cur, body) as AnyObject;
    } else if (subresource === 'status') {
      // The status subresource changes status only; everything else stays as stored.
      next = { ...copyJson(cur), status: copyJson(body.status) };
      if (body.status === undefined) delete next.status;
    } else {
      next = copyJson(body);
      // With a status subresource, the main resource cannot change status.
      if (def.subresources.includes('status')) {
        if (cur.status === undefined) delete next.status;
        else next.status = copyJson(cur.status);
      }
    }
    next.apiVersion ??= cur.apiVersion;
    next.kind ??= cur.kind;
    const nm = meta(next);
    const uid = nm.uid;
    nm.name = old.name;
    if (def.namespaced) nm.namespace = old.namespace;
    else delete nm.namespace;
    nm.uid = old.uid;
    nm.creationTimestamp = old.creationTimestamp;
    nm.generation = old.generation;
    nm.resourceVersion = old.resourceVersion;
    if (old.generateName !== undefined && nm.generateName === undefined) nm.generateName = old.generateName;
    // Deletion state is the server's: an update can neither set nor clear it.
    if (old.deletionTimestamp) nm.deletionTimestamp = old.deletionTimestamp;
    else delete nm.deletionTimestamp;
    if (old.deletionGracePeriodSeconds !== undefined) nm.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds;
    else delete nm.deletionGracePeriodSeconds;
    def.applyDefaults(next);
    this.track(def, cur, body, next, tracking);
    if (subresource === '' && old.generation !== undefined && !sameJson(next.spec, cur.spec)) nm.generation = old.generation + 1;
    def.prepareForUpdate?.(next, cur, body, subresource);
    const extra: FieldError[] = [];
    if (uid && uid !== old.uid) extra.push({ field: 'metadata.uid', type: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(uid)}: field is immutable` });
    this.validate(def, next, cur, old.name ?? '', extra, subresource);
    return next;
  }

  /**
   * Sets `next`'s managedFields for an update of `cur` with `body` (as Kubernetes' field
   * manager: after defaults, before the kind's update rules). An Update starts from the
   * managers `body` carries when it rewrites them (as kubectl does when it moves client-side
   * apply to server-side apply; see `managersForUpdate`), else from the stored ones; an Apply
   * has set them already (`applyConfiguration`).
   */
  private track(def: ResourceDef, cur: AnyObject, body: AnyObject, next: AnyObject, tracking: Tracking): void {
    const nm = meta(next) as Omit<MutableMeta, 'managedFields'> & { managedFields?: unknown };
    const sent = (body.metadata as { managedFields?: unknown } | undefined)?.managedFields;
    if (tracking.operation === 'Apply') {
      nm.managedFields = sent;
      return;
    }
    const base = managersForUpdate(def, cur, tracking.owner.subresource === '' ? sent : undefined);
    nm.managedFields = recordUpdate(def, cur, next, base, tracking.owner, rfc3339(this.clock()));
  }

  private validate(def: ResourceDef, obj: KubeObject, old: KubeObject | undefined, name: string, extra: FieldError[] = [], subresource: UpdateSubresource = ''): void {
    const errs = [...extra];
    for (const msg of pathSegmentErrors(name)) {
      errs.push({ field: 'metadata.name', type: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(name)}: ${msg}` });
    }
    errs.push(...def.validate(obj, old, subresource));
    if (errs.length) throw invalid(def.kind, name, errs, def.group);
  }

  /**
   * kind/apiVersion must be the endpoint's when given; the object with them set (first, as
   * Kubernetes writes them) is returned.
   */
  private withTypeMeta(def: ResourceDef, obj: KubeObject): KubeObject {
    const want = apiVersionOf(def);
    if (obj.kind !== undefined && obj.kind !== '' && obj.kind !== def.kind) {
      throw badRequest(`${String(obj.kind)} in version ${JSON.stringify(obj.apiVersion ?? '')} cannot be handled as a ${def.kind}: the kind of the object does not match the endpoint`);
    }
    if (obj.apiVersion !== undefined && obj.apiVersion !== '' && obj.apiVersion !== want) {
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${want})`);
    }
    const { kind: _kind, apiVersion: _apiVersion, ...rest } = obj;
    return { kind: def.kind, apiVersion: want, ...rest };
  }

  /**
   * The object with every field of the declared type (400 otherwise) and without unknown
   * fields, which `opts.fieldValidation` refuses (Strict) or reports in `opts.warnings` (Warn).
   * `patched`: `obj` is the result of a patch (Kubernetes words its strict errors differently).
   * Changes `obj` in place and returns it.
   */
  private decode(def: ResourceDef, obj: KubeObject, opts: WriteOptions, patched = false): KubeObject {
    const apiVersion = apiVersionOf(def);
    const { unknown } = decodeObject(apiVersion, def.kind, obj as Record<string, unknown>);
    const warnings = fieldProblems(opts.fieldValidation ?? 'Warn', apiVersion, def.kind, unknown, opts.duplicates ?? [], patched);
    for (const w of warnings) if (opts.warnings && !opts.warnings.includes(w)) opts.warnings.push(w);
    return obj;
  }

  /** The object's namespace must be the request's, or empty (then it becomes the request's). */
  private checkNamespace(def: ResourceDef, namespace: string, m: MutableMeta): void {
    if (!def.namespaced) {
      delete m.namespace;
      return;
    }
    if (!m.namespace) m.namespace = namespace;
    else if (m.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
  }

  private async requireNamespace(namespace: string): Promise<void> {
    if (!namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    if (!this.namespaces) return;
    const ns = await this.store.get(objectKey(this.namespaces, undefined, namespace));
    if (!ns) throw notFound('namespaces', namespace);
  }

  private checkPreconditions(def: ResourceDef, cur: KubeObject, options: DeleteOptions): void {
    const p = options.preconditions;
    const m = cur.metadata ?? {};
    const name = m.name ?? '';
    if (p?.uid !== undefined && p.uid !== m.uid) {
      throw conflict(qualifiedResource(def), name, `Precondition failed: UID in precondition: ${p.uid}, UID in object meta: ${m.uid ?? ''}`);
    }
    if (p?.resourceVersion !== undefined && p.resourceVersion !== m.resourceVersion) {
      throw conflict(qualifiedResource(def), name, `Precondition failed: ResourceVersion in precondition: ${p.resourceVersion}, ResourceVersion in object meta: ${m.resourceVersion ?? ''}`);
    }
  }

  /**
   * What a DELETE does to `cur`, following Kubernetes' BeforeDelete: a pod already terminating
   * can only have its grace period shortened; a graceful kind gets deletionTimestamp = now +
   * grace; finalizers (`finalizers`: the object's, as the propagation policy leaves them) keep
   * the object, with deletionTimestamp set, until they are removed.
   */
  private planDelete(def: ResourceDef, cur: KubeObject, requested: number | undefined, finalizers: string[]): { action: 'delete' | 'update' | 'keep'; update?: KubeObject } {
    const m = cur.metadata ?? {};
    const hasFinalizers = finalizers.length > 0;
    const finalizersChanged = !sameJson(finalizers, m.finalizers ?? []);
    const grace = requested !== undefined && requested < 0 ? 1 : requested;
    const now = this.clock();
    const next = copyJson(cur);
    const nm = meta(next);
    if (finalizersChanged) {
      if (hasFinalizers) nm.finalizers = finalizers;
      else delete nm.finalizers;
    }
    if (m.deletionTimestamp) {
      const curGrace = m.deletionGracePeriodSeconds ?? 0;
      if (curGrace > 0 && grace !== undefined && grace < curGrace) {
        // Only a shorter grace period may be asked for; it counts from the first request.
        const requestedAt = Date.parse(m.deletionTimestamp) - curGrace * 1000;
        nm.deletionTimestamp = rfc3339(new Date(requestedAt + grace * 1000));
        nm.deletionGracePeriodSeconds = grace;
        if (grace === 0 && !hasFinalizers) return { action: 'delete' };
        return { action: 'update', update: next };
      }
      if (curGrace > 0 || hasFinalizers) return finalizersChanged ? { action: 'update', update: next } : { action: 'keep' };
      return { action: 'delete' };
    }
    const period = def.group === '' && def.resource === 'pods' ? podGracePeriod(cur, grace) : 0;
    if (period > 0 || hasFinalizers) {
      nm.deletionTimestamp = rfc3339(new Date(now.getTime() + period * 1000));
      nm.deletionGracePeriodSeconds = period;
      if ((nm.generation ?? 0) > 0) nm.generation = (nm.generation ?? 0) + 1;
      return { action: 'update', update: next };
    }
    return { action: 'delete' };
  }

  /**
   * Removes `owner`'s ownerReferences from every object that has one: in the owner's namespace
   * for a namespaced owner, everywhere for a cluster-scoped one. Each change is an ordinary
   * write (new resourceVersion, MODIFIED to watchers); objects deleted meanwhile are skipped.
   */
  private async orphanDependents(ownerDef: ResourceDef, owner: KubeObject): Promise<void> {
    const uid = owner.metadata?.uid;
    if (!uid) return;
    const namespace = ownerDef.namespaced ? owner.metadata?.namespace ?? '' : undefined;
    for (const def of this.resources) {
      if (namespace !== undefined && !def.namespaced) continue;
      const { items } = await this.store.list(collectionKey(def, def.namespaced ? namespace : undefined));
      for (const obj of items) {
        if (!(obj.metadata?.ownerReferences ?? []).some((r) => r.uid === uid)) continue;
        try {
          await this.store.guaranteedUpdate(this.key(def, obj.metadata?.namespace ?? '', obj.metadata?.name ?? ''), (c) => {
            const refs = (c.metadata?.ownerReferences ?? []).filter((r) => r.uid !== uid);
            const cm = meta(c);
            if (refs.length) cm.ownerReferences = refs;
            else delete cm.ownerReferences;
            return c;
          });
        } catch (e) {
          // Deleted meanwhile: it depends on nobody any more.
          if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
        }
      }
    }
  }

  /** Removes every namespaced object in `namespace` (immediately; no grace periods). */
  private async deleteNamespaceContents(namespace: string): Promise<void> {
    for (const def of this.resources) {
      if (!def.namespaced) continue;
      const { items } = await this.store.list(collectionKey(def, namespace));
      for (const obj of items) {
        try {
          const gone = await this.store.delete(this.key(def, namespace, obj.metadata?.name ?? ''));
          this.hooksOf(def).afterDelete?.(gone);
        } catch (e) {
          // Already gone (deleted concurrently): that is the outcome we want.
          if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
        }
      }
    }
  }
}
