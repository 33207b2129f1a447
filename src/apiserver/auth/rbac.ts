/**
 * The RBAC authorizer, evaluated as Kubernetes' `rbac.RBACAuthorizer` does: a request is allowed
 * when some ClusterRoleBinding, or some RoleBinding in the request's namespace, names the user
 * (User), one of its groups (Group) or its service account (ServiceAccount), and the role it
 * refers to has a rule matching the verb, API group, resource (`pods`, `pods/log`, `*`,
 * `*\/scale`), resource name, or, for non-resource requests, the URL (`/api`, `/apis/*`). There
 * is no deny; no rule, no access. Pure: the policy objects are passed in.
 */
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from 'kubernetes-types/rbac/v1.js';
import { fromLabelSelector, matches } from '../../api/labels.js';

/** Who is asking (Kubernetes' `user.Info`). */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
}

/** What is asked (Kubernetes' `authorizer.Attributes`). */
export interface Attributes {
  user: UserInfo;
  verb: string;
  /** False for non-resource URLs such as `/api` or `/version`. */
  resourceRequest: boolean;
  /** The URL path, for non-resource requests. */
  path: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

/** The RBAC objects an authorization decision reads. */
export interface Policy {
  clusterRoles: readonly ClusterRole[];
  clusterRoleBindings: readonly ClusterRoleBinding[];
  /** Roles of the request's namespace (others are never consulted). */
  roles: readonly Role[];
  /** RoleBindings of the request's namespace. */
  roleBindings: readonly RoleBinding[];
}

const has = (list: readonly string[] | undefined, v: string): boolean => (list ?? []).some((x) => x === '*' || x === v);

/** Whether `rule` allows the request (`RuleAllows`). */
export function ruleAllows(a: Attributes, rule: PolicyRule): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) {
    return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))));
  }
  if (!has(rule.apiGroups, a.apiGroup)) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resources = rule.resources ?? [];
  const resourceOk = resources.some((r) => r === '*' || r === combined || (a.subresource !== '' && r === `*/${a.subresource}`));
  if (!resourceOk) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (a.name !== '' && names.includes(a.name));
}

/** Whether `subject` (of a binding in `bindingNamespace`, '' for cluster bindings) is the user. */
export function appliesTo(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.name === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subject.namespace || bindingNamespace;
      return ns !== '' && user.name === `system:serviceaccount:${ns}:${subject.name}`;
    }
    default:
      return false;
  }
}

/**
 * The rules of a ClusterRole; one with an `aggregationRule` has the rules of every ClusterRole
 * its selectors match (what Kubernetes' clusterrole-aggregation controller writes into it).
 */
export function clusterRoleRules(role: ClusterRole, all: readonly ClusterRole[]): readonly PolicyRule[] {
  const selectors = role.aggregationRule?.clusterRoleSelectors;
  if (!selectors?.length) return role.rules ?? [];
  const parsed = selectors.map((s) => fromLabelSelector(s)).flatMap((r) => (r.ok ? [r.selector] : []));
  const rules: PolicyRule[] = [...(role.rules ?? [])];
  for (const other of all) {
    if (other === role || other.aggregationRule) continue;
    if (parsed.some((sel) => matches(sel, other.metadata?.labels ?? {}))) rules.push(...(other.rules ?? []));
  }
  return rules;
}

/** Allowed or not, as RBAC decides it. */
export function authorize(a: Attributes, policy: Policy): boolean {
  const clusterRole = (name: string) => policy.clusterRoles.find((r) => r.metadata?.name === name);
  const rulesOfRef = (kind: string, name: string): readonly PolicyRule[] => {
    if (kind === 'ClusterRole') {
      const r = clusterRole(name);
      return r ? clusterRoleRules(r, policy.clusterRoles) : [];
    }
    return policy.roles.find((r) => r.metadata?.name === name)?.rules ?? [];
  };
  for (const b of policy.clusterRoleBindings) {
    if (b.roleRef?.kind !== 'ClusterRole') continue;
    if (!(b.subjects ?? []).some((s) => appliesTo(a.user, s, ''))) continue;
    if (rulesOfRef('ClusterRole', b.roleRef.name).some((r) => ruleAllows(a, r))) return true;
  }
  if (!a.namespace) return false;
  for (const b of policy.roleBindings) {
    if (b.metadata?.namespace !== a.namespace) continue;
    if (!(b.subjects ?? []).some((s) => appliesTo(a.user, s, a.namespace))) continue;
    if (rulesOfRef(b.roleRef?.kind ?? '', b.roleRef?.name ?? '').some((r) => ruleAllows(a, r))) return true;
  }
  return false;
}

/**
 * Kubernetes' Forbidden message:
 * `pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"`,
 * `... at the cluster scope`, or `forbidden: User "x" cannot get path "/api"`.
 */
export function forbiddenMessage(a: Attributes): string {
  if (!a.resourceRequest) return `forbidden: User ${JSON.stringify(a.user.name)} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const subject = a.name ? `${qualified} ${JSON.stringify(a.name)}` : qualified;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return `${subject} is forbidden: User ${JSON.stringify(a.user.name)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${scope}`;
}

/** The verb of a resource request (Kubernetes' RequestInfoFactory). */
export function requestVerb(method: string, hasName: boolean, watch: boolean, subresource: string): string {
  if (subresource === 'exec') return 'create';
  switch (method) {
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return hasName ? 'delete' : 'deletecollection';
    case 'GET':
    case 'HEAD':
      if (watch) return 'watch';
      return hasName ? 'get' : 'list';
    default: return '';
  }
}
