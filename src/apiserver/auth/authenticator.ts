/**
 * Authentication and authorization of API requests. A bearer token is either the cluster's
 * token (user `minikube-lite-admin`, group `system:masters`: every request allowed, as for
 * Kubernetes' masters group) or a service-account JWT (user
 * `system:serviceaccount:<ns>:<name>`, groups `system:serviceaccounts`,
 * `system:serviceaccounts:<ns>`, `system:authenticated`), valid while its account, and the pod
 * it is bound to, still exist with the uids it names. Anything else is 401. Every other user
 * goes through RBAC. The policy objects are read from the store once per namespace and kept
 * until {@link Authenticator.policyChanged} says an RBAC object changed (the API server calls it
 * from a store watch, as Kubernetes' RBAC authorizer reads through informers).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import type { KubeObject } from '../../api/types.js';
import type { ObjectReader } from '../admission.js';
import { authorize, rulesFor, type Attributes, type Policy, type UserInfo } from './rbac.js';
import type { TokenIssuer } from './tokens.js';
import type { EscalationDeps } from './escalation.js';

export const ADMIN_USER: UserInfo = { name: 'minikube-lite-admin', groups: ['system:masters', 'system:authenticated'] };
const RBAC = 'rbac.authorization.k8s.io';

export interface AuthOptions {
  /** The cluster token (admin). */
  adminToken: string;
  /** Verifies service-account tokens; without it only the admin token is accepted. */
  issuer?: TokenIssuer;
  /** Audiences the API server accepts (default: the issuer). */
  audiences?: string[];
  objects: ObjectReader;
  clock: () => Date;
}

export class Authenticator {
  private readonly adminDigest: Buffer;
  readonly audiences: string[];
  /** The policy of each namespace ('' = cluster only) read since the last RBAC change. */
  private readonly policies = new Map<string, Promise<Policy>>();

  constructor(private readonly opts: AuthOptions) {
    this.adminDigest = createHash('sha256').update(opts.adminToken).digest();
    this.audiences = opts.audiences ?? (opts.issuer ? [opts.issuer.issuer] : []);
  }

  /** The user a request's `Authorization` header names, or undefined (→ 401). */
  async authenticate(header: string | undefined): Promise<UserInfo | undefined> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m) return undefined;
    const token = m[1];
    // Compare digests: constant time, whatever the lengths.
    if (timingSafeEqual(createHash('sha256').update(token).digest(), this.adminDigest)) return ADMIN_USER;
    const issuer = this.opts.issuer;
    const kind = issuer?.issuerOf(token);
    if (!issuer || !kind) return undefined;
    if (kind === 'legacy') return this.legacyUser(issuer, token);
    const v = await issuer.verify(token, this.audiences);
    if (!v.ok) return undefined;
    const { namespace, serviceAccount, pod } = v.claims;
    const sa = await this.opts.objects.get('', 'serviceaccounts', namespace, serviceAccount.name);
    if (!live(sa, serviceAccount.uid, this.opts.clock())) return undefined;
    if (pod) {
      const p = await this.opts.objects.get('', 'pods', namespace, pod.name);
      if (!live(p, pod.uid, this.opts.clock())) return undefined;
    }
    return {
      name: `system:serviceaccount:${namespace}:${serviceAccount.name}`,
      uid: serviceAccount.uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
    };
  }

  /** A legacy Secret-held token: valid while its Secret holds exactly it and its account lives. */
  private async legacyUser(issuer: TokenIssuer, token: string): Promise<UserInfo | undefined> {
    const v = await issuer.verifyLegacy(token);
    if (!v.ok) return undefined;
    const { namespace, serviceAccount, secretName } = v.claims;
    const secret = (await this.opts.objects.get('', 'secrets', namespace, secretName)) as (KubeObject & { data?: Record<string, string> }) | undefined;
    if (!secret || secret.metadata?.deletionTimestamp || Buffer.from(secret.data?.token ?? '', 'base64').toString('utf8') !== token) return undefined;
    const sa = await this.opts.objects.get('', 'serviceaccounts', namespace, serviceAccount.name);
    if (!live(sa, serviceAccount.uid, this.opts.clock())) return undefined;
    return {
      name: `system:serviceaccount:${namespace}:${serviceAccount.name}`, uid: serviceAccount.uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
    };
  }

  /**
   * Kubernetes' impersonation (`Impersonate-User`, `Impersonate-Group`, `Impersonate-Uid`
   * headers, as `kubectl --as`/`--as-group` send them): the request then runs as the named user,
   * provided `user` may `impersonate` that user (or service account) and each group; 403
   * otherwise. Without the headers, `user` itself.
   */
  async impersonate(user: UserInfo, headers: Readonly<Record<string, string | string[] | undefined>>): Promise<UserInfo | { forbidden: Attributes }> {
    const name = headers['impersonate-user'];
    const groupsHeader = headers['impersonate-group'];
    const groups = (Array.isArray(groupsHeader) ? groupsHeader : groupsHeader ? groupsHeader.split(',') : []).map((g) => g.trim()).filter(Boolean);
    if (typeof name !== 'string' || !name) return user;
    const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
    const checks: Attributes[] = [
      sa ? target(user, 'serviceaccounts', sa[1], sa[2]) : target(user, 'users', '', name),
      ...groups.map((g) => target(user, 'groups', '', g)),
    ];
    for (const a of checks) if (!(await this.authorize(a))) return { forbidden: a };
    const implied = sa ? ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`] : [];
    return { name, groups: [...new Set([...groups, ...implied, 'system:authenticated'])] };
  }

  /** Whether RBAC (or membership of `system:masters`) allows the request. */
  async authorize(a: Attributes): Promise<boolean> {
    if (a.user.groups.includes('system:masters')) return true;
    return (await this.authorizer(a.namespace))(a);
  }

  /**
   * An authorizer over one namespace's policy (and the cluster's), read once: for deciding many
   * attributes together (escalation checks). Attributes of other namespaces are refused.
   */
  async authorizer(namespace: string): Promise<(a: Attributes) => boolean> {
    const policy = await this.policy(namespace);
    return (a) => a.user.groups.includes('system:masters') || ((a.namespace === namespace || a.namespace === '') && authorize(a, a.namespace ? policy : { ...policy, roles: [], roleBindings: [] }));
  }

  /** The user's rules in a namespace (SelfSubjectRulesReview); `system:masters` may do everything. */
  async rules(user: UserInfo, namespace: string): Promise<PolicyRule[]> {
    if (user.groups.includes('system:masters')) {
      return [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }];
    }
    return rulesFor(user, namespace, await this.policy(namespace));
  }

  /** Forgets every policy read so far: an RBAC object was created, changed or deleted. */
  policyChanged(): void {
    this.policies.clear();
  }

  /** The RBAC objects of the cluster and of one namespace, read once per RBAC change. */
  private policy(namespace: string): Promise<Policy> {
    const cached = this.policies.get(namespace);
    if (cached) return cached;
    // A change during the read clears the map, so this read is never kept past a change.
    const read = this.readPolicy(namespace);
    this.policies.set(namespace, read);
    read.catch(() => { if (this.policies.get(namespace) === read) this.policies.delete(namespace); });
    return read;
  }

  private async readPolicy(namespace: string): Promise<Policy> {
    const o = this.opts.objects;
    const [clusterRoles, clusterRoleBindings, roles, roleBindings] = await Promise.all([
      o.list(RBAC, 'clusterroles'), o.list(RBAC, 'clusterrolebindings'),
      namespace ? o.list(RBAC, 'roles', namespace) : Promise.resolve([]),
      namespace ? o.list(RBAC, 'rolebindings', namespace) : Promise.resolve([]),
    ]);
    return {
      clusterRoles: clusterRoles as ClusterRole[], clusterRoleBindings: clusterRoleBindings as ClusterRoleBinding[],
      roles: roles as Role[], roleBindings: roleBindings as RoleBinding[],
    };
  }

  /** What the escalation check reads. */
  escalationDeps(): EscalationDeps {
    const o = this.opts.objects;
    return {
      authorizer: (ns) => this.authorizer(ns),
      clusterRoles: async () => (await o.list(RBAC, 'clusterroles')) as ClusterRole[],
      role: async (ns, name) => (await o.get(RBAC, 'roles', ns, name)) as Role | undefined,
    };
  }
}

const target = (user: UserInfo, resource: string, namespace: string, name: string): Attributes =>
  ({ user, verb: 'impersonate', resourceRequest: true, path: '', apiGroup: '', resource, subresource: '', namespace, name });

/** The object exists with this uid and is not past its deletion time. */
function live(obj: KubeObject | undefined, uid: string, now: Date): boolean {
  if (!obj || obj.metadata?.uid !== uid) return false;
  const del = obj.metadata.deletionTimestamp;
  return !del || Date.parse(del) > now.getTime();
}
