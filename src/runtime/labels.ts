/**
 * Labels the runtimes put on engine objects themselves (both Docker and the fake, so that
 * listings look the same). Callers' own labels are kept as given.
 */

/** Marks a pod sandbox (pause) container; value `true`. */
export const SANDBOX_LABEL = 'minikube-lite.sandbox';
/** On an app container: the id of the sandbox whose namespaces it joins. */
export const SANDBOX_ID_LABEL = 'minikube-lite.sandbox-id';
/** Scopes every object to one cluster when the runtime is given a `clusterLabel`. */
export const CLUSTER_LABEL = 'minikube-lite.cluster';

