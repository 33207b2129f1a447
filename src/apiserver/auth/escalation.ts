/**
 * RBAC's escalation prevention (Kubernetes' `rbac/validation.ConfirmNoEscalation` and the
 * `escalate`/`bind` verbs): a user may write a Role or ClusterRole only with permissions they
 * already hold (or the `escalate` verb on it), and a RoleBinding or ClusterRoleBinding only to
 * a role whose permissions they hold, where it applies (or the `bind` verb on that role).
 * Without this, anyone allowed to create bindings could make themselves cluster-admin.
 */
import type { ClusterRole, PolicyRule, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import { ApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/types.js';
import { RBAC_GROUP } from '../../api/rbacvalidation.js';
import { clusterRoleRules, type Attributes, type UserInfo } from './rbac.js';

/** What the check needs: an authorizer for one namespace's policy, and role lookups. */
export interface EscalationDeps {
  /** Loads the policy once and answers for many attributes (namespace '' = cluster-wide only). */
  authorizer(namespace: string): Promise<(a: Attributes) => boolean>;
  clusterRoles(): Promise<ClusterRole[]>;
  role(namespace: string, name: string): Promise<Role | undefined>;
}

/** Every single permission a rule grants, as authorizer attributes (wildcards kept literally). */
export function ruleAttributes(user: UserInfo, rule: PolicyRule, namespace: string): Attributes[] {
  const out: Attributes[] = [];
  for (const verb of rule.verbs ?? []) {
    for (const path of rule.nonResourceURLs ?? []) {
      out.push({ user, verb, resourceRequest: false, path, apiGroup: '', resource: '', subresource: '', namespace: '', name: '' });
    }
    for (const apiGroup of rule.apiGroups ?? []) {
      for (const res of rule.resources ?? []) {
        const slash = res.indexOf('/');
        const resource = slash < 0 ? res : res.slice(0, slash);
        const subresource = slash < 0 ? '' : res.slice(slash + 1);
        for (const name of (rule.resourceNames ?? []).length ? rule.resourceNames ?? [] : ['']) {
          out.push({ user, verb, resourceRequest: true, path: '', apiGroup, resource, subresource, namespace, name });
        }
      }
    }
  }
  return out;
}

const goList = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;
function describeAttr(a: Attributes): string {
  if (!a.resourceRequest) return `{NonResourceURLs:${goList([a.path])}, Verbs:${goList([a.verb])}}`;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  return `{APIGroups:${goList([a.apiGroup])}, Resources:${goList([res])}${a.name ? `, ResourceNames:${goList([a.name])}` : ''}, Verbs:${goList([a.verb])}}`;
}

function forbidden(resource: string, name: string, user: UserInfo, missing: Attributes[]): ApiError {
  return new ApiError(403, 'Forbidden',
    `${resource}.${RBAC_GROUP} ${JSON.stringify(name)} is forbidden: user ${JSON.stringify(user.name)} (groups=${goList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${missing.map(describeAttr).join('\n')}`,
    [], { name, group: RBAC_GROUP, kind: resource });
}

/**
 * Throws 403 when `user` writing `obj` (of RBAC resource `resource`) would grant permissions
 * they do not hold. Other resources pass.
 */
export async function confirmNoEscalation(resource: string, obj: KubeObject, user: UserInfo, deps: EscalationDeps): Promise<void> {
  const name = obj.metadata?.name ?? '';
  const objNamespace = obj.metadata?.namespace ?? '';
  const verb = (v: string, res: string, ns: string, n: string): Attributes =>
    ({ user, verb: v, resourceRequest: true, path: '', apiGroup: RBAC_GROUP, resource: res, subresource: '', namespace: ns, name: n });
  let rules: readonly PolicyRule[];
  let scope: string;
  if (resource === 'roles' || resource === 'clusterroles') {
    scope = resource === 'roles' ? objNamespace : '';
    const allowed = await deps.authorizer(scope);
    if (allowed(verb('escalate', resource, scope, name))) return;
    const role = obj as ClusterRole;
    rules = role.aggregationRule ? clusterRoleRules(role, await deps.clusterRoles()) : role.rules ?? [];
    const missing = rules.flatMap((r) => ruleAttributes(user, r, scope)).filter((a) => !allowed(a));
    if (missing.length) throw forbidden(resource, name, user, missing);
    return;
  }
  if (resource !== 'rolebindings' && resource !== 'clusterrolebindings') return;
  const ref = (obj as RoleBinding).roleRef;
  scope = resource === 'rolebindings' ? objNamespace : '';
  const allowed = await deps.authorizer(scope);
  const refResource = ref?.kind === 'Role' ? 'roles' : 'clusterroles';
  if (allowed(verb('bind', refResource, ref?.kind === 'Role' ? scope : '', ref?.name ?? ''))) return;
  if (ref?.kind === 'Role') rules = (await deps.role(scope, ref.name))?.rules ?? [];
  else {
    const all = await deps.clusterRoles();
    const cr = all.find((r) => r.metadata?.name === ref?.name);
    rules = cr ? clusterRoleRules(cr, all) : [];
  }
  const missing = rules.flatMap((r) => ruleAttributes(user, r, scope)).filter((a) => !allowed(a));
  if (missing.length) throw forbidden(resource, name, user, missing);
}
