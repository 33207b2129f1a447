/**
 * The ReplicationController controller (Kubernetes' `pkg/controller/replication`): the
 * ReplicaSet controller itself, run over v1 ReplicationControllers through an adapter that
 * reads each as a ReplicaSet (its equality-based `selector` map becoming `matchLabels`) and
 * writes the status back to the ReplicationController — what Kubernetes' ReplicationManager
 * does with its informer and client adapters. No sync logic of its own.
 */
import type { KubeObject } from '../api/types.js';
import type { ControllerContext } from './base.js';
import { ReplicaSetController, type ReplicatedKind } from './replicaset.js';
import { REPLICATIONCONTROLLERS, type ReplicaSetObject, type ReplicationControllerObject } from './types.js';

/** The ReplicationController each converted ReplicaSet came from (for the status write). */
const origins = new WeakMap<ReplicaSetObject, ReplicationControllerObject>();

export const REPLICATIONCONTROLLER_KIND: ReplicatedKind = {
  controllerName: 'replication-controller',
  ref: REPLICATIONCONTROLLERS,
  apiVersion: 'v1',
  kind: 'ReplicationController',
  asReplicaSet(obj: KubeObject): ReplicaSetObject {
    const rc = obj as ReplicationControllerObject;
    const rs: ReplicaSetObject = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: rc.metadata,
      spec: {
        replicas: rc.spec?.replicas, minReadySeconds: rc.spec?.minReadySeconds,
        selector: { matchLabels: { ...(rc.spec?.selector ?? {}) } },
        template: rc.spec?.template,
      },
      status: rc.status as ReplicaSetObject['status'],
    };
    origins.set(rs, rc);
    return rs;
  },
  withStatus(rs, status): KubeObject {
    const rc = origins.get(rs);
    const base: ReplicationControllerObject = rc ?? { apiVersion: 'v1', kind: 'ReplicationController', metadata: rs.metadata };
    const out: ReplicationControllerObject = { ...base, metadata: rs.metadata, status: status as ReplicationControllerObject['status'] };
    return out;
  },
};

export class ReplicationControllerController extends ReplicaSetController {
  /** Workers default to Kubernetes' `--concurrent-rc-syncs` (5). */
  constructor(opts: ControllerContext) {
    super(opts, REPLICATIONCONTROLLER_KIND);
  }
}
