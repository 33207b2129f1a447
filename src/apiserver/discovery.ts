/**
 * Discovery documents, shaped like Kubernetes' so that kubectl and client libraries can find
 * every resource: `/version`, `/api`, `/apis`, `/api/v1`, `/apis/{group}/{version}`. All of it is
 * derived from the ResourceDefs. The OpenAPI documents are `openapi.ts`'s.
 */
import { apiVersionOf, type ResourceDef } from '../api/resource.js';

/** The Kubernetes version minikube-lite answers as (the API it imitates). */
export const SERVER_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-minikube-lite' };

/** Kinds `kubectl get all` lists (Kubernetes marks them with the `all` category). */
const ALL_CATEGORY = new Set(['pods', 'services', 'replicationcontrollers', 'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs']);

const ITEM_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const SUBRESOURCE_VERBS: Record<string, string[]> = {
  status: ['get', 'patch', 'update'],
  ephemeralcontainers: ['get', 'patch', 'update'],
  scale: ['get', 'patch', 'update'],
  binding: ['create'],
  eviction: ['create'],
  log: ['get'],
  exec: ['create', 'get'],
  attach: ['create', 'get'],
  portforward: ['create', 'get'],
  token: ['create'],
};
/** Kinds a subresource takes or returns when it is not the parent's kind. */
const SUBRESOURCE_KINDS: Record<string, { group?: string; version?: string; kind: string }> = {
  binding: { kind: 'Binding' },
  eviction: { group: 'policy', version: 'v1', kind: 'Eviction' },
  log: { kind: 'Pod' },
  exec: { kind: 'PodExecOptions' },
  attach: { kind: 'PodAttachOptions' },
  portforward: { kind: 'PodPortForwardOptions' },
  scale: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
  token: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' },
};

export function versionInfo(): Record<string, string> {
  return {
    ...SERVER_VERSION,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${process.arch}`,
  };
}

/** `/api`: the core group's versions. */
export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/** The named groups (not the core group) and their versions, in first-seen order. */
function groups(resources: ResourceDef[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of resources) {
    if (!r.group) continue;
    const versions = out.get(r.group) ?? [];
    if (!versions.includes(r.version)) versions.push(r.version);
    out.set(r.group, versions);
  }
  return out;
}

/** `/apis`: every named group. */
export function apiGroupList(resources: ResourceDef[]): Record<string, unknown> {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups(resources)].map(([name, versions]) => apiGroup(name, versions)),
  };
}

function apiGroup(name: string, versions: string[]): Record<string, unknown> {
  const gv = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: gv, preferredVersion: gv[0] };
}

/** `/apis/{group}`: one group, or undefined if no resource belongs to it. */
export function apiGroupDoc(resources: ResourceDef[], group: string): Record<string, unknown> | undefined {
  const versions = groups(resources).get(group);
  return versions ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group, versions) } : undefined;
}

/** `/api/v1`, `/apis/{group}/{version}`: the resources and subresources of one group version. */
export function apiResourceList(resources: ResourceDef[], group: string, version: string): Record<string, unknown> | undefined {
  const defs = resources.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0 && !(group === '' && version === 'v1')) return undefined;
  const list: Record<string, unknown>[] = [];
  for (const r of defs) {
    const entry: Record<string, unknown> = {
      name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs ?? ITEM_VERBS,
    };
    if (r.shortNames.length) entry.shortNames = r.shortNames;
    if (ALL_CATEGORY.has(r.resource)) entry.categories = ['all'];
    list.push(entry);
    for (const sub of r.subresources) {
      const k = SUBRESOURCE_KINDS[sub];
      const s: Record<string, unknown> = {
        name: `${r.resource}/${sub}`, singularName: '', namespaced: r.namespaced, kind: k?.kind ?? r.kind,
        verbs: SUBRESOURCE_VERBS[sub] ?? ['get'],
      };
      if (k?.group !== undefined) s.group = k.group;
      if (k?.version !== undefined) s.version = k.version;
      list.push(s);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources: list };
}
