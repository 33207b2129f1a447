/**
 * Object types used across minikube-lite. They are the upstream Kubernetes types from the
 * `kubernetes-types` package, re-exported so that every component names them the same way.
 */
export type {
  Pod, PodSpec, PodStatus, PodCondition, Container, ContainerPort, ContainerStatus, ContainerState,
  EnvVar, Volume, VolumeMount, Node, NodeSpec, NodeStatus, NodeCondition, Namespace, Event,
  ObjectReference, Binding, ResourceRequirements, Service, ServiceSpec, ServicePort,
} from 'kubernetes-types/core/v1.js';
export type {
  Probe, Lifecycle, LifecycleHandler, HTTPGetAction, Toleration, EnvVarSource, EnvFromSource, ObjectFieldSelector,
  ContainerStateTerminated, NamespaceStatus, NodeAddress, ServiceStatus,
} from 'kubernetes-types/core/v1.js';
export type {
  ConfigMap, Secret, KeyToPath, DownwardAPIVolumeFile, VolumeProjection, ResourceFieldSelector,
} from 'kubernetes-types/core/v1.js';
export type { ObjectMeta, Status, StatusCause, LabelSelector, LabelSelectorRequirement, OwnerReference } from 'kubernetes-types/meta/v1.js';
export type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
export type {
  Deployment, DeploymentSpec, DeploymentStatus, DeploymentStrategy, DeploymentCondition, RollingUpdateDeployment,
  ReplicaSet, ReplicaSetSpec, ReplicaSetStatus, ReplicaSetCondition,
} from 'kubernetes-types/apps/v1.js';
export type { Scale, ScaleSpec, ScaleStatus } from 'kubernetes-types/autoscaling/v1.js';
export type { Endpoints, EndpointSubset, EndpointAddress, EndpointPort as CoreEndpointPort, LoadBalancerIngress } from 'kubernetes-types/core/v1.js';
export type { EndpointSlice, Endpoint as SliceEndpoint, EndpointPort as SliceEndpointPort, EndpointConditions } from 'kubernetes-types/discovery/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';

/** Any API object: the fields every stored kind has. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** A list as returned by LIST: items plus the collection's resourceVersion. */
export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

/** One event on a watch stream, as Kubernetes sends it (newline-delimited JSON). */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}

/** Labels that mark every Docker object minikube-lite makes, so `down` can find them all. */
export const LABEL_CLUSTER = 'minikube-lite.cluster';
export const LABEL_NODE = 'minikube-lite.node';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';
