/**
 * The object types and REST coordinates the controllers work with. The apps/v1 kinds are the
 * upstream types from `kubernetes-types`, named here so every controller spells them alike.
 */
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { DaemonSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { ReplicationController } from 'kubernetes-types/core/v1.js';
import type { KubeObject, Node, Pod } from '../api/types.js';
import type { ResourceRef } from '../client/client.js';
export { DAEMONSETS, STATEFULSETS, CONTROLLERREVISIONS, REPLICATIONCONTROLLERS, JOBS, CRONJOBS, REPLICASETS, DEPLOYMENTS } from '../client/client.js';

export type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetStatus };

export type PodObject = Pod & KubeObject;
export type NodeObject = Node & KubeObject;
export type ReplicaSetObject = ReplicaSet & KubeObject;
export type DeploymentObject = Deployment & KubeObject;

export type JobObject = Job & KubeObject;
export type CronJobObject = CronJob & KubeObject;

export type DaemonSetObject = DaemonSet & KubeObject;
export type StatefulSetObject = StatefulSet & KubeObject;
export type ReplicationControllerObject = ReplicationController & KubeObject;

/** The collection of `ref` in one namespace. */
export const inNamespace = (ref: ResourceRef, namespace: string | undefined): ResourceRef => ({ ...ref, namespace: namespace || 'default' });
