/**
 * The minikube-lite API server: Kubernetes' REST API over node:http, generic over the
 * ResourceDefs it is given, storing objects in a `Store`. Every component (scheduler,
 * controllers, kubelets, CLI, and real kubectl) talks to the cluster only through it.
 *
 * Requests are authenticated with one bearer token (health endpoints excepted); every error
 * is a Kubernetes `Status`. Routing lives here; object semantics in `rest.ts`, watch in
 * `watch.ts`, pod subresources in `pods.ts`, the scale subresource in `scale.ts` (and
 * `RestStorage.updateScale`), discovery in `discovery.ts`.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest, conflict, forbidden, invalid, invalidValue, notSupported, type FieldError } from '../api/errors.js';
import { decodeObject } from '../api/schema.js';
import type { ResourceDef } from '../api/resource.js';
import { scaleOf, type Scalable } from '../api/scale.js';
import type { KubeList, KubeObject, Node, Pod } from '../api/types.js';
import { collectionKey, type Store } from '../store/types.js';
import * as discovery from './discovery.js';
import { FIELD_VALIDATION_MODES, type FieldValidation } from '../api/schema.js';
import { loadYamlDocuments, YamlError } from '../api/yaml.js';
import {
  asObject, decodeJson, errorStatus, mediaType, methodNotAllowed, notFoundPath, parseJson, readBody, sendError, sendJson, sendText,
  setWarnings, unsupportedMediaType, parseJsonObject, boolParam, partialMetadata, partialMetadataVersion, successStatus, type ApiServerLogger, type DecodedBody,
} from './http.js';
import { evictPod, parseEviction, withDisruptionTarget, type Budget, type EvictionStore } from './eviction.js';
import { fieldManagerErrors, managerFromUserAgent } from './managedfields.js';
import { applyPatch, APPLY_PATCH_CONTENT_TYPE, PATCH_CONTENT_TYPES, unsupportedPatchType, type JsonObject } from './patch.js';
import { bindingCreated, kubeletAddress, logQuery, planBinding, proxyToKubelet, proxyUpgrade, resolveContainer, writeStatusOnSocket } from './pods.js';
import { continueExpired, continueResourceVersion, paginate } from './paging.js';
import { parseResourcePath, type ResourceRequest } from './requestinfo.js';
import { apiServerTracer, podTraceHooks, traceBinding } from '../trace/apiserver.js';
import { PROPAGATION_POLICIES, RestStorage, rfc3339, type DeleteOptions, type PropagationPolicy, type WriteOptions } from './rest.js';
import { buildFilter, type ObjectFilter } from './selectors.js';
import { includeObject, tableVersion, toTable } from './table.js';
import { ensureKubernetesService, kubernetesService, ServiceAllocations } from './services.js';
import { API_SERVER_CIPHERS, type ServingCertificate } from './tls.js';
import { serveWatch } from './watch.js';
import type { AdmissionPlugin } from './admission.js';
import { ADMIN_USER, Authenticator } from './auth/authenticator.js';
import { BOOTSTRAP_CLUSTER_ROLE_BINDINGS, BOOTSTRAP_CLUSTER_ROLES } from './auth/bootstrap.js';
import { forbiddenMessage, requestVerb, type Attributes, type UserInfo } from './auth/rbac.js';
import { confirmNoEscalation } from './auth/escalation.js';
import type { TokenIssuer } from './auth/tokens.js';
import { createToken } from './tokenrequest.js';
import { reviewAttributes, reviewBody, reviewResponse, rulesReviewResponse, selfReviewResponse } from './accessreview.js';
import { decodeProtobuf, isProtobuf, PROTOBUF_CONTENT_TYPE } from './protobuf.js';
import { METRICS_GROUP, metricsSource, serveNodeMetrics, servePodMetrics } from './metrics.js';
import { OpenApiHandler } from './openapi.js';

export type { ApiServerLogger } from './http.js';

export interface ApiServerOptions {
  store: Store;
  /** The kinds served; discovery and routing are derived from them. */
  resources: ResourceDef[];
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on; 0 picks a free one (see the returned `port`). */
  port: number;
  /** The bearer token every request (but health checks) must carry; also sent to kubelets. */
  token: string;
  /**
   * Signs and verifies service-account tokens (the `serviceaccounts/token` subresource and
   * bearer tokens other than `token`, which are then authorized by RBAC). Without it only
   * `token` is accepted and TokenRequest answers 503.
   */
  tokenIssuer?: TokenIssuer;
  /** Admission plugins run on every create, in order (default: none). */
  admission?: AdmissionPlugin[];
  /** Source of "now" for timestamps (creation, deletion, conditions). */
  clock?: () => Date;
  logger?: ApiServerLogger;
  /** How often watches that allow bookmarks get one (default 10 s). */
  bookmarkIntervalMs?: number;
  /**
   * Serve HTTPS with this certificate (see `selfSignedCertificate`). Needed for kubectl, which
   * sends a kubeconfig's token only to https servers. Without it the server speaks plain HTTP.
   */
  tls?: ServingCertificate;
  /**
   * With `tls`: serve HTTPS on this port (0 = any free port) *in addition to* plain HTTP on
   * `port`, the loopback address the cluster's own components use. kubectl gets the HTTPS one.
   */
  securePort?: number;
  /** IPv4 CIDR Service ClusterIPs come from (default 10.96.0.0/16). */
  serviceCIDR?: string;
  /** Node ports' range (default 30000-32767). */
  nodePortRange?: string;
  /** How often the `kubernetes` Service is checked and repaired (default 10 s; 0 = only at start). */
  kubernetesServiceIntervalMs?: number;
  /** Record pod creates, bindings and status writes as PodTraces (see src/trace; default off). */
  trace?: boolean;
}

export interface ApiServer {
  /** e.g. `http://127.0.0.1:6443` */
  url: string;
  port: number;
  /** The HTTPS URL when a secure port is served in addition to `url`. */
  secureUrl?: string;
  /** Stops listening, ends every watch and proxied stream, and waits for connections to close. */
  close(): Promise<void>;
}

/** Namespaces every cluster has. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

const HEALTH_PATHS = new Set(['/healthz', '/readyz', '/livez']);

const defaultLogger: ApiServerLogger = {
  info: () => undefined,
  error: (message, err) => console.error(`apiserver: ${message}`, err ?? ''),
};

/** Kubernetes' server-side watch limit: a random time between 30 and 60 minutes. */
const defaultWatchTimeout = (): number => (30 + Math.random() * 30) * 60_000;

/** Parses an integer query parameter; 400 when it is not one or is out of [min, 2^63). */
function intParam(q: URLSearchParams, name: string, min = -(2 ** 63)): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`${name}: Invalid value: ${JSON.stringify(v)}: must be an integer`);
  const n = Number(v);
  if (n >= 2 ** 63 || n < -(2 ** 63)) throw badRequest(`${name}: Invalid value: ${JSON.stringify(v)}: value out of range`);
  if (n < min) throw badRequest(`${name}: Invalid value: ${n}: must be greater than or equal to ${min}`);
  return n;
}

/**
 * `resourceVersion` (and `resourceVersionMatch`) of a read, checked as Kubernetes checks them:
 * a resourceVersion is an unsigned integer (400 otherwise), `resourceVersionMatch` needs one
 * and is `Exact` or `NotOlderThan`; `limit` is a non-negative integer.
 */
function checkReadParams(q: URLSearchParams): void {
  const rv = q.get('resourceVersion');
  if (rv !== null && rv !== '' && !/^\d{1,19}$/.test(rv)) {
    throw badRequest(`resourceVersion: Invalid value: ${JSON.stringify(rv)}: strconv.ParseUint: parsing ${JSON.stringify(rv)}: invalid syntax`);
  }
  const match = q.get('resourceVersionMatch');
  if (match !== null && match !== '') {
    if (!['Exact', 'NotOlderThan'].includes(match)) throw invalid('ListOptions', '', [notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan'])], 'meta.k8s.io');
    if (!rv) throw invalid('ListOptions', '', [forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided')], 'meta.k8s.io');
  }
  intParam(q, 'limit', 0);
  intParam(q, 'timeoutSeconds', 0);
}

/** The `fieldValidation` mode of a write (default Warn, as the Kubernetes API server's). */
function fieldValidation(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (!(FIELD_VALIDATION_MODES as readonly string[]).includes(v)) {
    throw badRequest(`fieldValidation: Unsupported value: ${JSON.stringify(v)}: supported values: ${FIELD_VALIDATION_MODES.map((m) => `"${m}"`).join(', ')}`);
  }
  return v as FieldValidation;
}

/**
 * Reads an object body (POST, PUT, binding, scale): JSON, or YAML (aliases and depth bounded),
 * with its duplicate keys; 415 for any other Content-Type, 413 when too large, 400 when it is
 * not an object.
 */
async function readObject(req: IncomingMessage): Promise<DecodedBody & { value: Record<string, unknown> }> {
  const type = mediaType(req);
  if (type === PROTOBUF_CONTENT_TYPE) return { value: decodeProtobuf(await readBody(req)), duplicates: [] };
  if (type !== '' && type !== 'application/json' && type !== 'application/yaml') {
    req.resume();
    throw unsupportedMediaType(type);
  }
  const body = await readBody(req);
  if (type === 'application/yaml') {
    let docs: unknown[];
    try {
      docs = loadYamlDocuments(body.toString('utf8'));
    } catch (e) {
      if (e instanceof YamlError) throw badRequest(`couldn't get version/kind; ${e.message}`);
      throw e;
    }
    if (docs.length !== 1) throw badRequest(`couldn't get version/kind; expected exactly one YAML document, got ${docs.length}`);
    return { value: asObject(docs[0]), duplicates: [] };
  }
  const decoded = decodeJson(body);
  return { value: asObject(decoded.value), duplicates: decoded.duplicates };
}

/**
 * The body of a server-side apply: one YAML document (JSON is YAML too), aliases and depth
 * bounded as for `application/yaml` objects; 400 `error decoding YAML: ...` otherwise.
 */
function decodeApplyConfiguration(body: Buffer): DecodedBody {
  const text = body.toString('utf8');
  if (/^\s*\{/.test(text)) return decodeJson(body);
  let docs: unknown[];
  try {
    docs = loadYamlDocuments(text);
  } catch (e) {
    if (e instanceof YamlError) throw badRequest(`error decoding YAML: ${e.message}`);
    throw e;
  }
  if (docs.length !== 1) throw badRequest(`error decoding YAML: expected exactly one YAML document, got ${docs.length}`);
  return { value: docs[0], duplicates: [] };
}

/**
 * 400 for a request path whose segments, once decoded, are `.` or `..`, contain `/` or NUL, or
 * are not valid percent-encoding. Checked on the raw path, before URL parsing would resolve
 * `pods/..` to the namespace itself (a DELETE of `pods/..` must not delete the namespace).
 */
function checkRawPath(raw: string): void {
  const path = raw.split('?')[0];
  for (const seg of path.split('/')) {
    if (seg === '') continue;
    let decoded: string;
    try {
      decoded = decodeURIComponent(seg);
    } catch {
      throw badRequest(`invalid path segment ${JSON.stringify(seg)}: malformed percent-encoding`);
    }
    const why = decoded === '.' || decoded === '..' ? `may not be '${decoded}'`
      : decoded.includes('/') ? "may not contain '/'"
        : decoded.includes('\0') ? 'may not contain NUL' : '';
    if (why) throw badRequest(`invalid resource name ${JSON.stringify(decoded)}: [${why}]`);
  }
}

/**
 * The deprecated watch paths Kubernetes still serves (`/api/v1/watch/namespaces/{ns}/pods[/{name}]`,
 * `/apis/{g}/{v}/watch/...`; Ruby's kubeclient uses them): rewritten in place to the list path
 * with `watch=true`, a name becoming a `metadata.name` field selector.
 */
export function legacyWatch(url: URL): void {
  const m = /^\/(api\/[^/]+|apis\/[^/]+\/[^/]+)\/watch(\/.*)?$/.exec(url.pathname);
  if (!m) return;
  let rest = m[2] ?? '';
  const r = parseResourcePath(`/${m[1]}${rest}`);
  if (r?.name && !r.subresource) {
    // drop the name segment; select it by field instead
    rest = rest.slice(0, rest.lastIndexOf('/'));
    const sel = url.searchParams.get('fieldSelector');
    url.searchParams.set('fieldSelector', [sel, `metadata.name=${r.name}`].filter(Boolean).join(','));
  }
  url.pathname = `/${m[1]}${rest}`;
  url.searchParams.set('watch', 'true');
}

/** The kinds whose storage answers a completed DELETE with the object itself (`ReturnDeletedObject`). */
const RETURNS_DELETED_OBJECT = new Set(['/pods', '/services', '/namespaces']);

/**
 * What a DELETE that removed the object answers: the object for pods, services and namespaces,
 * else a `Success` Status naming it (with its uid, which `kubectl delete --wait` waits on), as
 * Kubernetes' generic store does. An object that stays (grace period, finalizers) is answered itself.
 */
function deletedAnswer(def: ResourceDef, object: KubeObject): KubeObject | Record<string, unknown> {
  if (RETURNS_DELETED_OBJECT.has(`${def.group}/${def.resource}`)) return object;
  return {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success',
    details: { name: object.metadata?.name ?? '', group: def.group, kind: def.resource, uid: object.metadata?.uid ?? '' },
  };
}

/** `dryRun` from the query, plus (for DELETE, where kubectl sends it in DeleteOptions) from the body. */
function writeOptions(q: URLSearchParams, fromBody: readonly unknown[] = [], duplicates: readonly string[] = []): WriteOptions & { warnings: string[] } {
  const dry = [...q.getAll('dryRun'), ...fromBody].filter((v) => v !== '');
  for (const v of dry) {
    if (v !== 'All') throw badRequest(`dryRun: Unsupported value: ${JSON.stringify(v)}: supported values: "All"`);
  }
  return { dryRun: dry.length > 0, fieldValidation: fieldValidation(q), duplicates, warnings: [] };
}

/**
 * The field manager of a create, update or patch (`optionsKind`: `CreateOptions`,
 * `UpdateOptions`, `PatchOptions`): `fieldManager`, else the User-Agent's product name, as the
 * Kubernetes API server derives it. `force` is only for apply, and apply needs a fieldManager:
 * both are 422 as in Kubernetes' `ValidatePatchOptions`.
 */
function withFieldManager(wo: WriteOptions & { warnings: string[] }, req: IncomingMessage, q: URLSearchParams, optionsKind: string, apply = false): WriteOptions & { warnings: string[] } {
  const given = q.get('fieldManager') ?? '';
  const errs: FieldError[] = fieldManagerErrors(given);
  if (apply && given === '') errs.push({ field: 'fieldManager', type: 'FieldValueRequired', message: 'Required value: is required for apply patch' });
  if (!apply && q.has('force')) errs.push(forbidden('force', 'may not be specified for non-apply patch'));
  if (errs.length) throw invalid(optionsKind, '', errs, 'meta.k8s.io');
  const header = req.headers['user-agent'];
  return { ...wo, fieldManager: given || managerFromUserAgent(Array.isArray(header) ? header[0] : header), force: apply && boolParam(q, 'force') };
}

/**
 * DeleteOptions from the query and the (optional) body; the body wins where both say something.
 * 422 (`DeleteOptions.meta.k8s.io "" is invalid: ...`) for an unknown propagationPolicy or one
 * given together with orphanDependents, as Kubernetes' `ValidateDeleteOptions` words it.
 */
function deleteOptions(req: IncomingMessage, q: URLSearchParams, body: Buffer): { options: DeleteOptions; write: WriteOptions } {
  const type = mediaType(req);
  // client-go's typed clients (kubectl drain's pod deletes) send DeleteOptions as protobuf.
  if (type === PROTOBUF_CONTENT_TYPE && body.length > 0) return deleteOptionsFrom(q, decodeProtobuf(body, 'v1/DeleteOptions'));
  if (body.length > 0 && type !== '' && type !== 'application/json') throw unsupportedMediaType(type);
  return deleteOptionsFrom(q, body.length > 0 && body.toString('utf8').trim() !== '' ? asObject(parseJson(body)) : undefined);
}

/** {@link deleteOptions} from an already decoded DeleteOptions object (or none), e.g. an Eviction's. */
function deleteOptionsFrom(q: URLSearchParams, b: Record<string, unknown> | undefined): { options: DeleteOptions; write: WriteOptions } {
  const opts: DeleteOptions = {};
  let dryRun: unknown[] = [];
  const grace = intParam(q, 'gracePeriodSeconds');
  if (grace !== undefined) opts.gracePeriodSeconds = grace;
  let policy: unknown = q.get('propagationPolicy') || undefined;
  const orphanParam = q.get('orphanDependents');
  let orphan: unknown = orphanParam === null || orphanParam === '' ? undefined : boolParam(q, 'orphanDependents');
  if (b) {
    if (b.kind !== undefined && b.kind !== 'DeleteOptions') {
      throw badRequest(`${String(b.kind)} in version ${JSON.stringify(b.apiVersion ?? '')} cannot be handled as a DeleteOptions: the kind of the object does not match the endpoint`);
    }
    decodeObject('v1', 'DeleteOptions', b);
    if (b.gracePeriodSeconds !== undefined && b.gracePeriodSeconds !== null) {
      if (typeof b.gracePeriodSeconds !== 'number' || !Number.isInteger(b.gracePeriodSeconds)) {
        throw badRequest(`gracePeriodSeconds: Invalid value: ${JSON.stringify(b.gracePeriodSeconds)}: must be an integer`);
      }
      opts.gracePeriodSeconds = b.gracePeriodSeconds;
    }
    if (Array.isArray(b.dryRun)) dryRun = b.dryRun;
    if (b.propagationPolicy !== undefined && b.propagationPolicy !== null) policy = b.propagationPolicy;
    if (b.orphanDependents !== undefined && b.orphanDependents !== null) orphan = b.orphanDependents;
    const pre = b.preconditions as { uid?: unknown; resourceVersion?: unknown } | undefined;
    if (pre && typeof pre === 'object') {
      opts.preconditions = {};
      if (typeof pre.uid === 'string') opts.preconditions.uid = pre.uid;
      if (typeof pre.resourceVersion === 'string') opts.preconditions.resourceVersion = pre.resourceVersion;
    }
  }
  if (orphan !== undefined && typeof orphan !== 'boolean') throw badRequest(`orphanDependents: Invalid value: ${JSON.stringify(orphan)}: must be a boolean`);
  const errs: FieldError[] = [];
  if (policy !== undefined) {
    if (orphan !== undefined) errs.push(invalidValue('propagationPolicy', policy, 'orphanDependents and deletionPropagation cannot be both set'));
    if (!PROPAGATION_POLICIES.includes(policy as PropagationPolicy)) errs.push(notSupported('propagationPolicy', policy, [...PROPAGATION_POLICIES, 'nil']));
  }
  if (errs.length) throw invalid('DeleteOptions', '', errs, 'meta.k8s.io');
  if (policy !== undefined) opts.propagationPolicy = policy as PropagationPolicy;
  if (orphan !== undefined) opts.orphanDependents = orphan as boolean;
  return { options: opts, write: writeOptions(q, dryRun) };
}

/** Starts the API server and ensures the system namespaces exist; resolves once it listens. */
export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const logger = opts.logger ?? defaultLogger;
  const clock = opts.clock ?? (() => new Date());
  const find = (r: ResourceRequest): ResourceDef | undefined =>
    opts.resources.find((d) => d.group === r.group && d.version === r.version && d.resource === r.resource);
  const core = (resource: string): ResourceDef | undefined => opts.resources.find((d) => d.group === '' && d.resource === resource);

  // Service ClusterIPs and node ports, as the stored Services hold them.
  const servicesDef = core('services');
  const serviceAllocations = new ServiceAllocations({ serviceCIDR: opts.serviceCIDR, nodePortRange: opts.nodePortRange });
  if (servicesDef) {
    const { items } = await opts.store.list(collectionKey(servicesDef));
    for (const problem of serviceAllocations.restore(items)) logger.info(`services: ${problem}`);
  }
  const tracer = apiServerTracer(opts.trace, { create: (d, ns, o) => rest.create(d, ns, o) }, opts.resources, clock);
  const rest = new RestStorage(opts.store, clock, opts.resources, { ...(servicesDef ? { '/services': serviceAllocations } : {}), '/pods': podTraceHooks(tracer) }, opts.admission ?? []);
  const auth = new Authenticator({ adminToken: opts.token, issuer: opts.tokenIssuer, objects: rest.objects, clock });
  // The authorizer keeps the RBAC policy it read until an RBAC object changes.
  const rbacWatches = await Promise.all(opts.resources
    .filter((d) => d.group === 'rbac.authorization.k8s.io')
    .map((d) => opts.store.watch(collectionKey(d), {}, () => auth.policyChanged())));
  const streams = new Set<() => void>();
  const track = (end: () => void): (() => void) => {
    streams.add(end);
    return () => streams.delete(end);
  };
  let address = '';
  const openapi = new OpenApiHandler(opts.resources, clock);

  /**
   * The list a LIST request reads: the snapshot of its `continue` token (410 Expired with
   * Kubernetes' message once compacted), the exact `resourceVersion` it names with
   * `resourceVersionMatch=Exact`, or else the current state (any other resourceVersion is
   * "not older than", which the current state always is).
   */
  async function listAt(def: ResourceDef, ns: string, filter: ObjectFilter, q: URLSearchParams): Promise<KubeList> {
    const token = q.get('continue') || undefined;
    const rv = q.get('resourceVersion') || undefined;
    if (token && rv && rv !== '0') throw badRequest('specifying resource version is not allowed when using continue');
    if (token) {
      try {
        return await rest.list(def, ns, filter, continueResourceVersion(token));
      } catch (e) {
        if (e instanceof ApiError && e.code === 410) throw continueExpired(token);
        throw e;
      }
    }
    if (rv && q.get('resourceVersionMatch') === 'Exact') return rest.list(def, ns, filter, Number(rv));
    return rest.list(def, ns, filter);
  }

  /** What a request asks, in RBAC's terms (Kubernetes' RequestInfo + authorizer Attributes). */
  function attributesOf(user: UserInfo, method: string, path: string, q: URLSearchParams): Attributes {
    const r = parseResourcePath(path);
    if (!r) {
      return { user, verb: method.toLowerCase(), resourceRequest: false, path, apiGroup: '', resource: '', subresource: '', namespace: '', name: '' };
    }
    // A namespace object is addressed within itself, so a RoleBinding there can grant it.
    const namespace = r.group === '' && r.resource === 'namespaces' ? r.name : r.namespace;
    return {
      user, verb: requestVerb(method, r.name !== '', boolParam(q, 'watch'), r.subresource), resourceRequest: true, path,
      apiGroup: r.group, resource: r.resource, subresource: r.subresource, namespace, name: r.name,
    };
  }

  async function serveDiscovery(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    let doc: Record<string, unknown> | undefined;
    const parts = path.split('/').filter(Boolean);
    if (path === '/version') doc = discovery.versionInfo();
    else if (path === '/api') doc = discovery.apiVersions(address);
    else if (path === '/apis') doc = discovery.apiGroupList(opts.resources);
    else if (parts[0] === 'api' && parts.length === 2) doc = discovery.apiResourceList(opts.resources, '', parts[1]);
    else if (parts[0] === 'apis' && parts.length === 2) doc = discovery.apiGroupDoc(opts.resources, parts[1]);
    else if (parts[0] === 'apis' && parts.length === 3) doc = discovery.apiResourceList(opts.resources, parts[1], parts[2]);
    else return false;
    if (!doc) throw notFoundPath();
    if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed();
    sendJson(res, 200, doc);
    return true;
  }

  /** The stored object before a main-resource update of a kind that warns (warnings name only new problems). */
  async function previousForWarnings(def: ResourceDef, ns: string, name: string, sub: string): Promise<KubeObject | undefined> {
    if (!def.warnings || (sub !== '' && sub !== 'ephemeralcontainers')) return undefined;
    return rest.get(def, ns, name).catch(() => undefined);
  }

  /**
   * For RBAC writes by users other than the admin: computes the result first (a dry run of
   * `write`) and refuses it if it would grant permissions the user does not hold.
   */
  async function guardEscalation(def: ResourceDef, user: UserInfo, write: (dryRun: WriteOptions) => Promise<KubeObject>, q: URLSearchParams): Promise<void> {
    if (user === ADMIN_USER || def.group !== 'rbac.authorization.k8s.io') return;
    const result = await write({ ...writeOptions(q), dryRun: true });
    await confirmNoEscalation(def.resource, result, user, auth.escalationDeps());
  }

  async function serveResource(req: IncomingMessage, res: ServerResponse, r: ResourceRequest, q: URLSearchParams, user: UserInfo): Promise<void> {
    const def = find(r);
    if (!def) throw notFoundPath();
    if (r.namespace && !def.namespaced) throw notFoundPath();
    if (r.subresource && !def.subresources.includes(r.subresource)) throw notFoundPath();
    // A namespaced object is addressed inside its namespace; only lists span namespaces.
    if (def.namespaced && !r.namespace && (r.name || req.method !== 'GET')) {
      if (r.name) throw notFoundPath();
      throw methodNotAllowed();
    }
    const method = req.method ?? 'GET';
    const ns = r.namespace;
    if (def.group === METRICS_GROUP) return serveMetrics(req, res, def, r, q);

    if (!r.name) {
      switch (method) {
        case 'GET': {
          checkReadParams(q);
          const filter = buildFilter(def, q.get('labelSelector'), q.get('fieldSelector'));
          const tv = tableVersion(req);
          const pm = tv ? undefined : partialMetadataVersion(req);
          if (boolParam(q, 'watch')) {
            await serveWatch(res, {
              def, namespace: ns, filter,
              resourceVersion: q.get('resourceVersion') ?? undefined,
              timeoutSeconds: intParam(q, 'timeoutSeconds', 0),
              allowBookmarks: boolParam(q, 'allowWatchBookmarks'),
              sendInitialEvents: q.has('sendInitialEvents') ? boolParam(q, 'sendInitialEvents') : undefined,
              asTable: tv ? (obj) => toTable(def, [rest.served(def, obj)], obj.metadata?.resourceVersion ?? '', clock(), includeObject(q), tv)
                : pm ? (obj) => partialMetadata(obj, pm)
                  : def.conversion ? (obj) => rest.served(def, obj) : undefined,
            }, { store: opts.store, logger, bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 10_000, defaultTimeout: defaultWatchTimeout, track });
            return;
          }
          const list = paginate(await listAt(def, ns, filter, q), intParam(q, 'limit', 0), q.get('continue') || undefined);
          if (pm) {
            sendJson(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${pm}`, metadata: list.metadata, items: list.items.map((o) => partialMetadata(o, pm)) });
            return;
          }
          if (!tv) {
            sendJson(res, 200, list);
            return;
          }
          sendJson(res, 200, { ...toTable(def, list.items, list.metadata.resourceVersion, clock(), includeObject(q), tv), metadata: list.metadata });
          return;
        }
        case 'POST': {
          const { value, duplicates } = await readObject(req);
          const wo = withFieldManager(writeOptions(q, [], duplicates), req, q, 'CreateOptions');
          await guardEscalation(def, user, (w) => rest.create(def, ns, value as KubeObject, w), q);
          const created = await rest.create(def, ns, value as KubeObject, wo);
          setWarnings(res, [...(wo.warnings ?? []), ...(def.warnings?.(created) ?? [])]);
          sendJson(res, 201, created);
          return;
        }
        case 'DELETE': {
          const filter = buildFilter(def, q.get('labelSelector'), q.get('fieldSelector'));
          const { options, write } = deleteOptions(req, q, await readBody(req));
          const list = await rest.list(def, ns, filter);
          const items: KubeObject[] = [];
          for (const obj of list.items) {
            try {
              items.push((await rest.delete(def, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '', options, write)).object);
            } catch (e) {
              // Deleted by someone else meanwhile: it is gone, as asked.
              if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
            }
          }
          sendJson(res, 200, { ...list, items });
          return;
        }
        default:
          throw methodNotAllowed();
      }
    }

    switch (r.subresource) {
      case 'finalize': {
        if (method !== 'PUT') throw methodNotAllowed();
        const { value, duplicates } = await readObject(req);
        sendJson(res, 200, await rest.finalizeNamespace(def, r.name, value as KubeObject, writeOptions(q, [], duplicates)));
        return;
      }
      case '':
      case 'status':
      case 'ephemeralcontainers': {
        // ephemeralcontainers: GET is the pod; PUT and PATCH change spec.ephemeralContainers only.
        const sub = r.subresource;
        switch (method) {
          case 'GET': {
            checkReadParams(q);
            const obj = await rest.get(def, ns, r.name);
            const tv = tableVersion(req);
            const pm = tv ? undefined : partialMetadataVersion(req);
            sendJson(res, 200, tv ? toTable(def, [obj], obj.metadata?.resourceVersion ?? '', clock(), includeObject(q), tv) : pm ? partialMetadata(obj, pm) : obj);
            return;
          }
          case 'PUT': {
            const { value, duplicates } = await readObject(req);
            const wo = withFieldManager(writeOptions(q, [], duplicates), req, q, 'UpdateOptions');
            await guardEscalation(def, user, (w) => rest.update(def, ns, r.name, value as KubeObject, sub, w), q);
            const old = await previousForWarnings(def, ns, r.name, sub);
            const updated = await rest.update(def, ns, r.name, value as KubeObject, sub, wo);
            setWarnings(res, [...(wo.warnings ?? []), ...(old ? def.warnings?.(updated, old) ?? [] : [])]);
            sendJson(res, 200, updated);
            return;
          }
          case 'PATCH': {
            const ct = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
            if (ct === APPLY_PATCH_CONTENT_TYPE) {
              const config = decodeApplyConfiguration(await readBody(req));
              const wo = withFieldManager(writeOptions(q, [], config.duplicates), req, q, 'PatchOptions', true);
              await guardEscalation(def, user, async (w) => (await rest.apply(def, ns, r.name, config.value, sub, w)).object, q);
              const old = await previousForWarnings(def, ns, r.name, sub);
              const { object, created } = await rest.apply(def, ns, r.name, config.value, sub, wo);
              setWarnings(res, [...(wo.warnings ?? []), ...(old ? def.warnings?.(object, old) ?? [] : def.warnings?.(object) ?? [])]);
              sendJson(res, created ? 201 : 200, object);
              return;
            }
            const type = PATCH_CONTENT_TYPES[ct];
            if (!type) throw unsupportedPatchType(ct);
            const { value: patch, duplicates } = decodeJson(await readBody(req));
            const wo = withFieldManager(writeOptions(q, [], duplicates), req, q, 'PatchOptions');
            await guardEscalation(def, user, (w) => rest.patch(def, ns, r.name, type, patch, sub, w), q);
            const old = await previousForWarnings(def, ns, r.name, sub);
            const patched = await rest.patch(def, ns, r.name, type, patch, sub, wo);
            setWarnings(res, [...(wo.warnings ?? []), ...(old ? def.warnings?.(patched, old) ?? [] : [])]);
            sendJson(res, 200, patched);
            return;
          }
          case 'DELETE': {
            if (sub) throw methodNotAllowed();
            const { options, write } = deleteOptions(req, q, await readBody(req));
            const { object, deleted } = await rest.delete(def, ns, r.name, options, write);
            // Kubernetes answers 202 only when the object stays and the client asked for
            // cascading with the deprecated orphanDependents=false.
            sendJson(res, !deleted && options.orphanDependents === false ? 202 : 200, deleted ? deletedAnswer(def, object) : object);
            return;
          }
          default:
            throw methodNotAllowed();
        }
      }
      case 'scale': {
        switch (method) {
          case 'GET':
            sendJson(res, 200, scaleOf((await rest.get(def, ns, r.name)) as Scalable));
            return;
          case 'PUT': {
            const body = (await readObject(req)).value;
            sendJson(res, 200, await rest.updateScale(def, ns, r.name, () => body, withFieldManager(writeOptions(q), req, q, 'UpdateOptions')));
            return;
          }
          case 'PATCH': {
            const ct = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
            const type = PATCH_CONTENT_TYPES[ct];
            if (!type) throw unsupportedPatchType(ct, false);
            const patch = parseJson(await readBody(req));
            sendJson(res, 200, await rest.updateScale(def, ns, r.name, (current) => applyPatch(type, current as unknown as JsonObject, patch, 'Scale'),
              withFieldManager(writeOptions(q), req, q, 'PatchOptions')));
            return;
          }
          default:
            throw methodNotAllowed();
        }
      }
      case 'token': {
        if (method !== 'POST') throw methodNotAllowed();
        if (!opts.tokenIssuer) throw new ApiError(503, 'ServiceUnavailable', 'this API server has no service-account signing key, so it cannot issue tokens');
        const raw = await readBody(req);
        const body = isProtobuf(req.headers['content-type']) ? decodeProtobuf(raw, 'authentication.k8s.io/v1/TokenRequest') : parseJsonObject(raw);
        sendJson(res, 201, await createToken(ns, r.name, body, {
          issuer: opts.tokenIssuer, audiences: auth.audiences, objects: rest.objects, clock, dryRun: writeOptions(q).dryRun ?? false,
        }));
        return;
      }
      case 'binding': {
        if (method !== 'POST') throw methodNotAllowed();
        const body = (await readObject(req)).value;
        decodeObject('v1', 'Binding', body);
        const change = planBinding(r.name, body, rfc3339(clock()));
        if (!writeOptions(q).dryRun) traceBinding(tracer, await rest.modify(def, ns, r.name, change));
        sendJson(res, 201, bindingCreated());
        return;
      }
      case 'eviction': {
        if (method !== 'POST') throw methodNotAllowed();
        const raw = await readBody(req);
        const body = isProtobuf(req.headers['content-type']) ? decodeProtobuf(raw, 'policy/v1/Eviction') : parseJsonObject(raw);
        const { deleteOptions: embedded } = parseEviction(body, ns, r.name);
        const { options, write } = deleteOptionsFrom(q, embedded);
        const result = await evictPod(evictionStore(def, ns, r.name, write), options, write.dryRun ?? false);
        if (result.evicted) sendJson(res, 201, successStatus(201));
        else sendJson(res, result.status.code ?? 500, result.status);
        return;
      }
      case 'exec':
      case 'attach':
      case 'portforward':
        // Streams need an upgrade (WebSocket or SPDY), served by handleUpgrade.
        if (method !== 'GET' && method !== 'POST') throw methodNotAllowed();
        throw badRequest('Upgrade request required');
      case 'log': {
        if (method !== 'GET') throw methodNotAllowed();
        const pod = (await rest.get(def, ns, r.name)) as Pod;
        const container = resolveContainer(pod, q.get('container'));
        const { host, port } = await kubeletOf(pod);
        const where = `/${encodeURIComponent(ns)}/${encodeURIComponent(r.name)}/${encodeURIComponent(container)}`;
        const query = logQuery(q).toString();
        const path = `/containerLogs${where}${query ? `?${query}` : ''}`;
        await proxyToKubelet(req, res, { host, port, method: 'GET', path, token: opts.token }, track);
        return;
      }
      default:
        throw notFoundPath();
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    checkRawPath(req.url ?? '/');
    const url = new URL(req.url ?? '/', 'http://apiserver');
    legacyWatch(url);
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    if (HEALTH_PATHS.has(path)) {
      // livez/healthz: the process serves. readyz: it can also store what it is sent.
      const checks: [string, string | undefined][] = [['ping', undefined], ...(path === '/readyz' ? [['store', opts.store.health?.()] as [string, string | undefined]] : [])];
      const failed = checks.some(([, why]) => why);
      // As Kubernetes: one line per check with `?verbose` or when one fails, else just `ok`.
      if (!failed && !url.searchParams.has('verbose')) sendText(res, 200, 'ok');
      else {
        const lines = checks.map(([check, why]) => (why ? `[-]${check} failed: ${why}` : `[+]${check} ok`));
        sendText(res, failed ? 500 : 200, `${lines.join('\n')}\n${path.slice(1)} check ${failed ? 'failed' : 'passed'}\n`);
      }
      return;
    }
    const authenticated = await auth.authenticate(req.headers.authorization);
    if (!authenticated) {
      // Drain the body so the connection stays usable.
      req.resume();
      sendJson(res, 401, new ApiError(401, 'Unauthorized', 'Unauthorized').toStatus());
      return;
    }
    const user = await auth.impersonate(authenticated, req.headers);
    if ('forbidden' in user) {
      req.resume();
      const a = user.forbidden;
      sendJson(res, 403, new ApiError(403, 'Forbidden', forbiddenMessage(a), [], { name: a.name, kind: a.resource }).toStatus());
      return;
    }
    if (user !== ADMIN_USER) {
      const a = attributesOf(user, req.method ?? 'GET', path, url.searchParams);
      if (!(await auth.authorize(a))) {
        req.resume();
        const details = a.resourceRequest ? { name: a.name || undefined, group: a.apiGroup || undefined, kind: a.resource } : {};
        sendJson(res, 403, new ApiError(403, 'Forbidden', forbiddenMessage(a), [], details).toStatus());
        return;
      }
    }
    if (await serveDiscovery(req, res, path)) return;
    if (await openapi.serve(req, res, path, url.searchParams)) return;
    const r = parseResourcePath(path);
    if (!r) throw notFoundPath();
    if (r.group === 'authorization.k8s.io' && r.resource === 'selfsubjectaccessreviews') {
      if (r.name || r.namespace || req.method !== 'POST') throw methodNotAllowed();
      const raw = await readBody(req);
      const body = isProtobuf(req.headers['content-type']) ? decodeProtobuf(raw, 'authorization.k8s.io/v1/SelfSubjectAccessReview') : parseJsonObject(raw);
      const a = reviewAttributes(user, body);
      sendJson(res, 201, reviewResponse(body, user === ADMIN_USER || await auth.authorize(a)));
      return;
    }
    if (r.group === 'authorization.k8s.io' && r.resource === 'selfsubjectrulesreviews') {
      if (r.name || r.namespace || req.method !== 'POST') throw methodNotAllowed();
      const body = reviewBody((await readObject(req)).value, 'SelfSubjectRulesReview');
      const ns = (body.spec as { namespace?: unknown } | undefined)?.namespace;
      sendJson(res, 201, rulesReviewResponse(body, await auth.rules(user, typeof ns === 'string' ? ns : '')));
      return;
    }
    if (r.group === 'authentication.k8s.io' && r.resource === 'selfsubjectreviews') {
      if (r.name || r.namespace || req.method !== 'POST') throw methodNotAllowed();
      reviewBody((await readObject(req)).value, 'SelfSubjectReview');
      sendJson(res, 201, selfReviewResponse(user));
      return;
    }
    await serveResource(req, res, r, url.searchParams, user);
  }

  /**
   * metrics.k8s.io (NodeMetrics, PodMetrics): read-only, computed from the kubelets' summaries
   * (see metrics.ts); as a Table when kubectl asks for one.
   */
  async function serveMetrics(req: IncomingMessage, res: ServerResponse, def: ResourceDef, r: ResourceRequest, q: URLSearchParams): Promise<void> {
    if (req.method !== 'GET' || r.subresource || boolParam(q, 'watch')) throw methodNotAllowed();
    const nodesDef = core('nodes');
    const podsDef = core('pods');
    if (!nodesDef || !podsDef) throw new ApiError(503, 'ServiceUnavailable', 'this server does not serve nodes and pods, so it has no metrics');
    checkReadParams(q);
    const underlying = def.resource === 'nodes' ? nodesDef : podsDef;
    const filter = buildFilter(underlying, q.get('labelSelector'), q.get('fieldSelector'));
    const src = metricsSource({
      get: (d, ns, name) => rest.get(d, ns, name),
      list: async (d, ns) => (await rest.list(d, ns, { selective: false, matches: () => true })).items,
      nodesDef, podsDef, token: opts.token, clock, log: (m, e) => logger.info(`${m}: ${(e as Error).message}`),
    });
    const out = def.resource === 'nodes' ? await serveNodeMetrics(src, r.name, filter) : await servePodMetrics(src, r.namespace, r.name, filter);
    const tv = tableVersion(req);
    if (tv) {
      const items = r.name ? [out] : ((out as unknown as { items: KubeObject[] }).items);
      sendJson(res, 200, toTable(def, items, '', clock(), includeObject(q), tv));
      return;
    }
    sendJson(res, 200, out);
  }

  /** The kubelet serving `pod`: its node's address and kubelet port; 400 for an unscheduled pod. */
  /** The eviction subresource's view of storage for pod `name` (see eviction.ts). */
  function evictionStore(podsDef: ResourceDef, ns: string, name: string, write: WriteOptions): EvictionStore {
    const pdbs = opts.resources.find((d) => d.group === 'policy' && d.resource === 'poddisruptionbudgets');
    return {
      getPod: async () => (await rest.get(podsDef, ns, name)) as Pod & KubeObject,
      listBudgets: async () => (pdbs ? (await rest.list(pdbs, ns, { selective: false, matches: () => true })).items as Budget[] : []),
      getBudget: async (pdb) => {
        if (!pdbs) throw new ApiError(404, 'NotFound', `poddisruptionbudgets.policy "${pdb}" not found`);
        return (await rest.get(pdbs, ns, pdb)) as Budget;
      },
      updateBudgetStatus: async (pdb) => {
        if (pdbs) await rest.update(pdbs, ns, pdb.metadata?.name ?? '', pdb, 'status', {});
      },
      markDisruptionTarget: (pre) => rest.modify(podsDef, ns, name, (cur) => {
        const m = cur.metadata ?? {};
        if (pre?.uid && pre.uid !== m.uid) throw conflict('pods', name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${m.uid ?? ''}`);
        if (pre?.resourceVersion && pre.resourceVersion !== m.resourceVersion) {
          throw conflict('pods', name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${m.resourceVersion ?? ''}`);
        }
        const pod = cur as Pod;
        return { ...pod, status: { ...pod.status, conditions: withDisruptionTarget(pod.status?.conditions ?? [], clock()) } } as KubeObject;
      }),
      deletePod: async (options) => {
        await rest.delete(podsDef, ns, name, options, write);
      },
      now: clock,
    };
  }

  async function kubeletOf(pod: Pod): Promise<{ host: string; port: number }> {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) throw badRequest(`pod ${pod.metadata?.name ?? ''} does not have a host assigned`);
    const nodesDef = core('nodes');
    if (!nodesDef) throw new ApiError(503, 'ServiceUnavailable', 'this server does not serve nodes, so it cannot reach kubelets');
    return kubeletAddress((await rest.get(nodesDef, '', nodeName)) as Node);
  }

  /**
   * An upgrade request: `pods/exec`, `pods/attach` and `pods/portforward` over WebSocket or
   * SPDY/3.1, checked here (token, pod, container, node) and passed through to the kubelet of
   * the pod's node, which answers the upgrade and serves the stream.
   */
  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    checkRawPath(req.url ?? '/');
    const url = new URL(req.url ?? '/', 'http://apiserver');
    const path = url.pathname.replace(/\/+$/, '');
    // The same authentication, impersonation and authorization as every other request.
    const authenticated = await auth.authenticate(req.headers.authorization);
    if (!authenticated) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    const user = await auth.impersonate(authenticated, req.headers);
    if ('forbidden' in user) {
      const a = user.forbidden;
      throw new ApiError(403, 'Forbidden', forbiddenMessage(a), [], { name: a.name, kind: a.resource });
    }
    if (user !== ADMIN_USER) {
      // As Kubernetes 1.32 (AuthorizePodWebsocketUpgradeCreatePermission): a stream opened with
      // a WebSocket GET still needs `create` on pods/exec, attach or portforward.
      const a = attributesOf(user, 'POST', path, url.searchParams);
      if (!(await auth.authorize(a))) {
        const details = a.resourceRequest ? { name: a.name || undefined, group: a.apiGroup || undefined, kind: a.resource } : {};
        throw new ApiError(403, 'Forbidden', forbiddenMessage(a), [], details);
      }
    }
    const r = parseResourcePath(path);
    const def = r ? find(r) : undefined;
    if (!r || !def || def.group !== '' || def.resource !== 'pods' || !r.name || !r.namespace) {
      throw badRequest(`an upgrade to ${req.headers.upgrade ?? ''} is only served for pods/exec, pods/attach and pods/portforward`);
    }
    const verb = r.subresource;
    if (verb !== 'exec' && verb !== 'attach' && verb !== 'portforward') throw badRequest(`an upgrade to ${req.headers.upgrade ?? ''} is not served for ${r.subresource ? `pods/${r.subresource}` : 'pods'}`);
    if (req.method !== 'GET' && req.method !== 'POST') throw methodNotAllowed();
    const q = url.searchParams;
    const pod = (await rest.get(def, r.namespace, r.name)) as Pod;
    const query = new URLSearchParams();
    let where = `/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}`;
    if (verb === 'portforward') {
      for (const p of q.getAll('ports')) query.append('ports', p);
    } else {
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') throw badRequest(`cannot ${verb} into a container in a completed pod; current phase is ${phase}`);
      where += `/${encodeURIComponent(resolveContainer(pod, q.get('container')))}`;
      if (verb === 'exec') {
        const command = q.getAll('command');
        if (command.length === 0) throw badRequest('you must specify at least 1 command');
        command.forEach((c) => query.append('command', c));
      }
      const flags = ['stdin', 'stdout', 'stderr', 'tty'].filter((f) => boolParam(q, f));
      if (!flags.some((f) => f !== 'tty')) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
      for (const f of flags) query.set(f, 'true');
    }
    const { host, port } = await kubeletOf(pod);
    proxyUpgrade(req, socket, head, { host, port, path: `/${verb}${where}?${query.toString()}`, token: opts.token }, track);
  }

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    handleUpgrade(req, socket, head).catch((err: unknown) => writeStatusOnSocket(socket, errorStatus(err, logger, `${req.method} ${req.url} (upgrade)`)));
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => sendError(res, err, logger, `${req.method} ${req.url}`));
  };
  const dual = opts.tls !== undefined && opts.securePort !== undefined;
  const makeServer = (secure: boolean) => {
    const s = secure && opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key, ciphers: API_SERVER_CIPHERS }, onRequest) : http.createServer(onRequest);
    // Watches, log follows and exec sessions are long: no whole-request deadline.
    s.requestTimeout = 0;
    s.on('upgrade', onUpgrade);
    return s;
  };
  const listen = (s: http.Server, port: number) => new Promise<number>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, opts.host ?? '127.0.0.1', () => {
      s.off('error', reject);
      resolve((s.address() as AddressInfo).port);
    });
  });
  const server = makeServer(!dual && opts.tls !== undefined);
  const secureServer = dual ? makeServer(true) : undefined;
  const port = await listen(server, opts.port);
  const securePort = secureServer ? await listen(secureServer, opts.securePort ?? 0) : undefined;
  const host = opts.host ?? '127.0.0.1';
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  address = `${hostForUrl}:${port}`;

  const namespaces = core('namespaces');
  if (namespaces) {
    for (const name of SYSTEM_NAMESPACES) {
      await rest.ensure(namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
  }
  // The default RBAC policy (Kubernetes' bootstrap roles), when RBAC kinds are served.
  const clusterRoles = opts.resources.find((d) => d.group === 'rbac.authorization.k8s.io' && d.resource === 'clusterroles');
  const clusterRoleBindings = opts.resources.find((d) => d.group === 'rbac.authorization.k8s.io' && d.resource === 'clusterrolebindings');
  if (clusterRoles && clusterRoleBindings) {
    for (const role of BOOTSTRAP_CLUSTER_ROLES) await rest.ensure(clusterRoles, '', role);
    for (const binding of BOOTSTRAP_CLUSTER_ROLE_BINDINGS) await rest.ensure(clusterRoleBindings, '', binding);
  }
  // The `kubernetes` Service is created now and kept (recreated if deleted, repaired if
  // changed) every `kubernetesServiceIntervalMs`, as kube-apiserver's reconciler does every 10 s.
  let repairTimer: NodeJS.Timeout | undefined;
  if (servicesDef) {
    const want = kubernetesService(serviceAllocations.kubernetesIP, securePort ?? port);
    await ensureKubernetesService(rest, servicesDef, want, logger);
    const interval = opts.kubernetesServiceIntervalMs ?? 10_000;
    if (interval > 0) {
      repairTimer = setInterval(() => {
        ensureKubernetesService(rest, servicesDef, want, logger).catch((e: unknown) => logger.error('services: keeping the kubernetes Service', e));
      }, interval);
      repairTimer.unref();
    }
  }

  let closing: Promise<void> | undefined;
  return {
    url: `${opts.tls && !dual ? 'https' : 'http'}://${address}`,
    port,
    ...(securePort !== undefined ? { secureUrl: `https://${hostForUrl}:${securePort}` } : {}),
    close: () => {
      clearInterval(repairTimer);
      for (const w of rbacWatches) w.cancel();
      closing ??= Promise.all([server, ...(secureServer ? [secureServer] : [])].map((srv) => new Promise<void>((resolve) => {
        srv.close(() => resolve());
        for (const end of [...streams]) end();
        srv.closeIdleConnections();
        // Connections still mid-request after their streams ended have nothing left to say.
        setImmediate(() => srv.closeAllConnections());
      }))).then(() => undefined);
      return closing;
    },
  };
}
