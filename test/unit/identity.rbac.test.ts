/**
 * The RBAC authorizer as a table: rules (verbs, groups, resources with subresources, names,
 * non-resource URLs), bindings (cluster-wide, namespaced, ClusterRole through a RoleBinding),
 * subjects (User, Group, ServiceAccount) and Kubernetes' Forbidden messages.
 */
import type { ClusterRoleBinding, PolicyRule, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import { describe, expect, it } from 'vitest';
import { BOOTSTRAP_CLUSTER_ROLE_BINDINGS, BOOTSTRAP_CLUSTER_ROLES } from '../../src/apiserver/auth/bootstrap.js';
import { authorize, forbiddenMessage, requestVerb, type Attributes, type Policy, type UserInfo } from '../../src/apiserver/auth/rbac.js';

const sa: UserInfo = { name: 'system:serviceaccount:default:default', groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'] };
const alice: UserInfo = { name: 'alice', groups: ['devs', 'system:authenticated'] };
const res = (user: UserInfo, verb: string, resource: string, namespace = 'default', extra: Partial<Attributes> = {}): Attributes =>
  ({ user, verb, resourceRequest: true, path: '', apiGroup: '', resource, subresource: '', namespace, name: '', ...extra });
const url = (user: UserInfo, path: string, verb = 'get'): Attributes =>
  ({ user, verb, resourceRequest: false, path, apiGroup: '', resource: '', subresource: '', namespace: '', name: '' });

const role = (name: string, ns: string, rules: PolicyRule[]): Role => ({ metadata: { name, namespace: ns }, rules });
const rb = (name: string, ns: string, kind: 'Role' | 'ClusterRole', roleName: string, subjects: RoleBinding['subjects']): RoleBinding =>
  ({ metadata: { name, namespace: ns }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: roleName }, subjects });
const crb = (name: string, roleName: string, subjects: ClusterRoleBinding['subjects']): ClusterRoleBinding =>
  ({ metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName }, subjects });

const policy = (p: Partial<Policy>): Policy => ({
  clusterRoles: [...BOOTSTRAP_CLUSTER_ROLES, ...(p.clusterRoles ?? [])],
  clusterRoleBindings: [...BOOTSTRAP_CLUSTER_ROLE_BINDINGS, ...(p.clusterRoleBindings ?? [])],
  roles: p.roles ?? [], roleBindings: p.roleBindings ?? [],
});

const podReader = role('pod-reader', 'default', [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] }]);
const saBinding = rb('read-pods', 'default', 'Role', 'pod-reader', [{ kind: 'ServiceAccount', name: 'default' }]);

const cases: { name: string; attrs: Attributes; policy: Policy; allowed: boolean }[] = [
  { name: 'a service account with no binding cannot list pods', attrs: res(sa, 'list', 'pods'), policy: policy({}), allowed: false },
  { name: 'a RoleBinding to a Role lets a service account list pods in its namespace', attrs: res(sa, 'list', 'pods'), policy: policy({ roles: [podReader], roleBindings: [saBinding] }), allowed: true },
  { name: 'the same binding does not reach another namespace', attrs: res(sa, 'list', 'pods', 'other'), policy: policy({ roles: [podReader], roleBindings: [saBinding] }), allowed: false },
  { name: 'a Role for pods does not grant the pods/log subresource', attrs: res(sa, 'get', 'pods', 'default', { subresource: 'log', name: 'web' }), policy: policy({ roles: [podReader], roleBindings: [saBinding] }), allowed: false },
  { name: 'a rule naming pods/log grants it', attrs: res(sa, 'get', 'pods', 'default', { subresource: 'log', name: 'web' }),
    policy: policy({ roles: [role('logs', 'default', [{ verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }])], roleBindings: [rb('b', 'default', 'Role', 'logs', [{ kind: 'ServiceAccount', name: 'default', namespace: 'default' }])] }), allowed: true },
  { name: 'a */scale rule grants any scale subresource', attrs: res(alice, 'update', 'deployments', 'default', { apiGroup: 'apps', subresource: 'scale', name: 'web' }),
    policy: policy({ roles: [role('scaler', 'default', [{ verbs: ['update'], apiGroups: ['apps'], resources: ['*/scale'] }])], roleBindings: [rb('b', 'default', 'Role', 'scaler', [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }])] }), allowed: true },
  { name: 'the wrong API group does not match', attrs: res(alice, 'get', 'deployments', 'default', { apiGroup: 'apps', name: 'web' }),
    policy: policy({ roles: [role('r', 'default', [{ verbs: ['get'], apiGroups: [''], resources: ['deployments'] }])], roleBindings: [rb('b', 'default', 'Role', 'r', [{ kind: 'User', name: 'alice' }])] }), allowed: false },
  { name: 'resourceNames limit a rule to the objects named', attrs: res(alice, 'get', 'configmaps', 'default', { name: 'app-config' }),
    policy: policy({ roles: [role('r', 'default', [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['app-config'] }])], roleBindings: [rb('b', 'default', 'Role', 'r', [{ kind: 'User', name: 'alice' }])] }), allowed: true },
  { name: 'resourceNames never grant list', attrs: res(alice, 'list', 'configmaps'),
    policy: policy({ roles: [role('r', 'default', [{ verbs: ['list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['app-config'] }])], roleBindings: [rb('b', 'default', 'Role', 'r', [{ kind: 'User', name: 'alice' }])] }), allowed: false },
  { name: 'a ClusterRole bound by a RoleBinding applies in that namespace only', attrs: res(alice, 'delete', 'pods', 'dev', { name: 'x' }),
    policy: policy({ roleBindings: [rb('b', 'dev', 'ClusterRole', 'edit', [{ kind: 'Group', name: 'devs' }])] }), allowed: true },
  { name: 'a ClusterRole bound by a RoleBinding grants nothing cluster-wide', attrs: res(alice, 'list', 'nodes', ''),
    policy: policy({ roleBindings: [rb('b', 'dev', 'ClusterRole', 'cluster-admin', [{ kind: 'Group', name: 'devs' }])] }), allowed: false },
  { name: 'view does not allow writes', attrs: res(alice, 'create', 'pods'), policy: policy({ clusterRoleBindings: [crb('b', 'view', [{ kind: 'User', name: 'alice' }])] }), allowed: false },
  { name: 'view does not show secrets', attrs: res(alice, 'list', 'secrets'), policy: policy({ clusterRoleBindings: [crb('b', 'view', [{ kind: 'User', name: 'alice' }])] }), allowed: false },
  { name: 'the system:serviceaccounts:<ns> group matches a namespace\'s accounts', attrs: res(sa, 'list', 'pods'),
    policy: policy({ clusterRoleBindings: [crb('b', 'view', [{ kind: 'Group', name: 'system:serviceaccounts:default' }])] }), allowed: true },
  { name: 'cluster-admin allows any verb on anything, cluster-scoped too', attrs: res(alice, 'deletecollection', 'nodes', ''),
    policy: policy({ clusterRoleBindings: [crb('b', 'cluster-admin', [{ kind: 'User', name: 'alice' }])] }), allowed: true },
  { name: 'every authenticated user may read discovery (/api)', attrs: url(sa, '/api'), policy: policy({}), allowed: true },
  { name: 'and /apis/apps/v1', attrs: url(sa, '/apis/apps/v1'), policy: policy({}), allowed: true },
  { name: 'but not other paths', attrs: url(sa, '/metrics'), policy: policy({}), allowed: false },
  { name: 'a ServiceAccount subject of a ClusterRoleBinding needs its namespace to match', attrs: res(sa, 'list', 'pods'),
    policy: policy({ clusterRoleBindings: [crb('b', 'view', [{ kind: 'ServiceAccount', name: 'default', namespace: 'other' }])] }), allowed: false },
  { name: 'an aggregated ClusterRole has the rules of the roles it selects', attrs: res(alice, 'list', 'widgets', 'default', { apiGroup: 'example.com' }),
    policy: policy({
      clusterRoles: [
        { metadata: { name: 'agg' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'agg': 'true' } }] } },
        { metadata: { name: 'widgets', labels: { agg: 'true' } }, rules: [{ verbs: ['list'], apiGroups: ['example.com'], resources: ['widgets'] }] },
      ],
      clusterRoleBindings: [crb('b', 'agg', [{ kind: 'User', name: 'alice' }])],
    }), allowed: true },
];

describe('RBAC authorizer', () => {
  for (const tc of cases) {
    it(tc.name, () => expect(authorize(tc.attrs, tc.policy)).toBe(tc.allowed));
  }
});

describe('Forbidden messages', () => {
  it('name the namespace for namespaced requests', () => {
    expect(forbiddenMessage(res(sa, 'list', 'pods'))).toBe('pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"');
  });
  it('say "at the cluster scope" for cluster-scoped ones', () => {
    expect(forbiddenMessage(res(sa, 'list', 'nodes', ''))).toBe('nodes is forbidden: User "system:serviceaccount:default:default" cannot list resource "nodes" in API group "" at the cluster scope');
  });
  it('name the object, group and subresource', () => {
    expect(forbiddenMessage(res(alice, 'get', 'deployments', 'dev', { apiGroup: 'apps', name: 'web', subresource: 'scale' })))
      .toBe('deployments.apps "web" is forbidden: User "alice" cannot get resource "deployments/scale" in API group "apps" in the namespace "dev"');
  });
  it('name the path of non-resource requests', () => {
    expect(forbiddenMessage(url(alice, '/metrics'))).toBe('forbidden: User "alice" cannot get path "/metrics"');
  });
});

describe('request verbs', () => {
  const verbs: [string, boolean, boolean, string, string][] = [
    ['GET', false, false, '', 'list'], ['GET', false, true, '', 'watch'], ['GET', true, false, '', 'get'], ['POST', false, false, '', 'create'],
    ['PUT', true, false, '', 'update'], ['PATCH', true, false, '', 'patch'], ['DELETE', true, false, '', 'delete'], ['DELETE', false, false, '', 'deletecollection'],
    ['GET', true, false, 'exec', 'create'], ['GET', true, false, 'log', 'get'],
  ];
  for (const [method, named, watch, sub, verb] of verbs) {
    it(`${method}${named ? ' of an object' : ' of a collection'}${watch ? ' with watch' : ''}${sub ? ` on ${sub}` : ''} is "${verb}"`, () => {
      expect(requestVerb(method, named, watch, sub)).toBe(verb);
    });
  }
});
