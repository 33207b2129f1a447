import { describe, expect, it } from 'vitest';
import { Authenticator } from '../../src/apiserver/auth/authenticator.js';
import type { Attributes } from '../../src/apiserver/auth/rbac.js';
import type { ObjectReader } from '../../src/apiserver/admission.js';
import type { KubeObject } from '../../src/api/types.js';

/** An object reader over a fixed set of RBAC objects that counts its list calls. */
function reader(objects: Record<string, KubeObject[]>): ObjectReader & { lists: number } {
  const r = {
    lists: 0,
    get: async () => undefined,
    list: async (_group: string, resource: string) => {
      r.lists++;
      return objects[resource] ?? [];
    },
  };
  return r;
}

const attrs = (user: string, namespace = 'default'): Attributes => ({
  user: { name: user, groups: ['system:authenticated'] }, verb: 'list', resourceRequest: true, path: '',
  apiGroup: '', resource: 'pods', subresource: '', namespace, name: '',
});

const binding = (user: string): KubeObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'b', namespace: 'default' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', name: user }],
} as KubeObject);
const role: KubeObject = {
  apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', namespace: 'default' },
  rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }],
} as KubeObject;

describe('the authorizer\'s policy cache', () => {
  it('reads the policy of a namespace once, until an RBAC object changes', async () => {
    const objects: Record<string, KubeObject[]> = { roles: [role], rolebindings: [binding('alice')] };
    const r = reader(objects);
    const auth = new Authenticator({ adminToken: 't', objects: r, clock: () => new Date() });
    expect(await auth.authorize(attrs('alice'))).toBe(true);
    const afterFirst = r.lists;
    for (let i = 0; i < 10; i++) expect(await auth.authorize(attrs('bob'))).toBe(false);
    expect(r.lists).toBe(afterFirst);
    objects.rolebindings = [binding('bob')];
    expect(await auth.authorize(attrs('bob'))).toBe(false); // not told yet: the kept policy answers
    auth.policyChanged();
    expect(await auth.authorize(attrs('bob'))).toBe(true);
    expect(await auth.authorize(attrs('alice'))).toBe(false);
    expect(r.lists).toBe(afterFirst * 2);
  });
  it('never reads the policy for system:masters', async () => {
    const r = reader({});
    const auth = new Authenticator({ adminToken: 't', objects: r, clock: () => new Date() });
    expect(await auth.authorize({ ...attrs('admin'), user: { name: 'admin', groups: ['system:masters'] } })).toBe(true);
    expect(r.lists).toBe(0);
  });
  it('does not keep a failed read', async () => {
    let fail = true;
    const r: ObjectReader = {
      get: async () => undefined,
      list: async (_g, resource) => {
        if (fail) throw new Error('store closed');
        return resource === 'roles' ? [role] : resource === 'rolebindings' ? [binding('alice')] : [];
      },
    };
    const auth = new Authenticator({ adminToken: 't', objects: r, clock: () => new Date() });
    await expect(auth.authorize(attrs('alice'))).rejects.toThrow('store closed');
    fail = false;
    expect(await auth.authorize(attrs('alice'))).toBe(true);
  });
});
