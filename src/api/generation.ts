/**
 * Which kinds carry `metadata.generation`. Kubernetes sets it (to 1 on create, bumped on spec
 * changes) only in the strategies of kinds whose controllers report an `observedGeneration`:
 * workloads, PodDisruptionBudgets, Ingresses, EndpointSlices, custom resources. The kinds below
 * never get one, so `kubectl get -o yaml` of a ConfigMap, Pod or Service shows none.
 */
const WITHOUT_GENERATION = new Set([
  '/pods', '/services', '/namespaces', '/nodes', '/configmaps', '/secrets', '/serviceaccounts', '/endpoints', '/events',
  '/persistentvolumes', '/persistentvolumeclaims', '/limitranges', '/resourcequotas',
  'apps/controllerrevisions', 'coordination.k8s.io/leases', 'storage.k8s.io/storageclasses',
  'rbac.authorization.k8s.io/roles', 'rbac.authorization.k8s.io/rolebindings',
  'rbac.authorization.k8s.io/clusterroles', 'rbac.authorization.k8s.io/clusterrolebindings',
]);

/** Whether objects of `group`/`resource` have a server-owned `metadata.generation`. */
export function hasGeneration(def: { group: string; resource: string }): boolean {
  return !WITHOUT_GENERATION.has(`${def.group}/${def.resource}`);
}
