/** Objects as the API server returns them, for the CLI's printing tests. */
import type { Deployment, Event, Node, Pod, PodTemplateSpec, ReplicaSet } from '../../src/api/types.js';

const at = (iso: string): string => iso;

/** A running nginx pod on node-1, 5 minutes old, everything filled in. */
export function nginxPod(): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'nginx', namespace: 'default', uid: 'uid-nginx', resourceVersion: '42',
      creationTimestamp: at('2024-05-01T11:55:00Z'),
      labels: { app: 'nginx', tier: 'web' },
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"v1"}\n',
        'example.com/owner': 'team-a',
      },
    },
    spec: {
      nodeName: 'node-1',
      priority: 0,
      serviceAccountName: 'default',
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      containers: [{
        name: 'nginx', image: 'nginx:latest', imagePullPolicy: 'Always',
        ports: [{ containerPort: 80, protocol: 'TCP' }],
        env: [{ name: 'MODE', value: 'demo' }, { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } }],
        resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
        livenessProbe: { httpGet: { path: '/', port: 80, scheme: 'HTTP' }, initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
        readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, initialDelaySeconds: 5, timeoutSeconds: 1, periodSeconds: 5, successThreshold: 1, failureThreshold: 3 },
        volumeMounts: [{ name: 'html', mountPath: '/usr/share/nginx/html', readOnly: true }, { name: 'data', mountPath: '/data', subPath: 'nginx' }],
      }],
      volumes: [
        { name: 'html', emptyDir: {} },
        { name: 'data', hostPath: { path: '/tmp/data', type: 'DirectoryOrCreate' } },
      ],
    },
    status: {
      phase: 'Running',
      hostIP: '172.18.0.2',
      podIP: '10.244.1.5',
      podIPs: [{ ip: '10.244.1.5' }],
      startTime: at('2024-05-01T11:55:01Z'),
      qosClass: 'Burstable',
      conditions: [
        { type: 'Initialized', status: 'True' },
        { type: 'Ready', status: 'True' },
        { type: 'ContainersReady', status: 'True' },
        { type: 'PodScheduled', status: 'True' },
      ],
      containerStatuses: [{
        name: 'nginx', ready: true, restartCount: 0, image: 'nginx:latest',
        imageID: 'docker-pullable://nginx@sha256:0123', containerID: 'docker://abc123',
        state: { running: { startedAt: at('2024-05-01T11:55:03Z') } },
      }],
    },
  };
}

/** A pod that has not been scheduled: no node, no IP, no statuses. */
export function pendingPod(): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'nowhere', namespace: 'default', uid: 'uid-nowhere', creationTimestamp: at('2024-05-01T11:59:30Z') },
    spec: { containers: [{ name: 'c', image: 'nginx:latest' }], nodeSelector: { disktype: 'ssd' } },
    status: {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector." }],
    },
  };
}

export function readyNode(name: string, ip: string, labels: Record<string, string> = {}): Node {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name, uid: `uid-${name}`, creationTimestamp: at('2024-05-01T10:00:00Z'),
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...labels },
    },
    spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] },
    status: {
      conditions: [{
        type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status',
        lastHeartbeatTime: at('2024-05-01T11:59:50Z'), lastTransitionTime: at('2024-05-01T10:00:05Z'),
      }],
      addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }],
      capacity: { cpu: '2', memory: '4Gi', pods: '110' },
      allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
      nodeInfo: {
        machineID: '', systemUUID: '', bootID: '', kernelVersion: '6.1.0', osImage: 'Debian GNU/Linux 12 (bookworm)',
        operatingSystem: 'linux', architecture: 'amd64', containerRuntimeVersion: 'docker://20.10.24',
        kubeletVersion: 'v1.32.0-minikube-lite', kubeProxyVersion: '',
      },
    },
  };
}

export function podEvent(name: string, reason: string, message: string, opts: {
  type?: 'Normal' | 'Warning'; first: string; last?: string; count?: number; component?: string; pod?: string;
}): Event {
  return {
    apiVersion: 'v1', kind: 'Event',
    metadata: { name, namespace: 'default' },
    involvedObject: { kind: 'Pod', namespace: 'default', name: opts.pod ?? 'nginx', uid: `uid-${opts.pod ?? 'nginx'}`, apiVersion: 'v1' },
    reason, message, type: opts.type ?? 'Normal',
    source: { component: opts.component ?? 'kubelet' },
    firstTimestamp: opts.first, lastTimestamp: opts.last ?? opts.first, count: opts.count ?? 1,
  };
}

/** A pod template of myapp (the e2e example) with the given image and, for a ReplicaSet's, its hash label. */
export function myappTemplate(image: string, hash?: string): PodTemplateSpec {
  return {
    metadata: { labels: { app: 'myapp', ...(hash ? { 'pod-template-hash': hash } : {}) } },
    spec: {
      containers: [{ name: 'web', image, imagePullPolicy: 'Always', ports: [{ containerPort: 80, protocol: 'TCP' }],
        resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }],
      restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler',
    },
  };
}

/**
 * Deployment myapp, 5 minutes old, rolled out twice (revision 2 is nginx:1.22), three replicas
 * all available, with the status and conditions its controller writes.
 */
export function myappDeployment(): Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: {
      name: 'myapp', namespace: 'default', uid: 'uid-myapp', resourceVersion: '50', generation: 2,
      creationTimestamp: at('2024-05-01T11:55:00Z'), labels: { app: 'myapp' },
      annotations: { 'deployment.kubernetes.io/revision': '2' },
    },
    spec: {
      replicas: 3, selector: { matchLabels: { app: 'myapp' } }, template: myappTemplate('nginx:1.22'),
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10, progressDeadlineSeconds: 600,
    },
    status: {
      observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3,
      conditions: [
        { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.',
          lastUpdateTime: at('2024-05-01T11:55:10Z'), lastTransitionTime: at('2024-05-01T11:55:10Z') },
        { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet "myapp-7d9c6b5f4" has successfully progressed.',
          lastUpdateTime: at('2024-05-01T11:58:00Z'), lastTransitionTime: at('2024-05-01T11:55:00Z') },
      ],
    },
  };
}

/** A ReplicaSet of myapp at `revision`, owned by the Deployment. */
export function myappReplicaSet(hash: string, image: string, revision: number, replicas: number, created: string, changeCause?: string): ReplicaSet {
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: {
      name: `myapp-${hash}`, namespace: 'default', uid: `uid-myapp-${hash}`, creationTimestamp: at(created),
      labels: { app: 'myapp', 'pod-template-hash': hash },
      annotations: {
        'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4',
        'deployment.kubernetes.io/revision': String(revision), ...(changeCause ? { 'kubernetes.io/change-cause': changeCause } : {}),
      },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'myapp', uid: 'uid-myapp', controller: true, blockOwnerDeletion: true }],
    },
    spec: { replicas, selector: { matchLabels: { app: 'myapp', 'pod-template-hash': hash } }, template: myappTemplate(image, hash) },
    status: { replicas, fullyLabeledReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas, observedGeneration: 1 },
  };
}

/** A running pod of a myapp ReplicaSet. */
export function myappPod(name: string, hash: string, phase: 'Running' | 'Pending' = 'Running'): Pod {
  const p = nginxPod();
  p.metadata = {
    name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: at('2024-05-01T11:58:00Z'),
    labels: { app: 'myapp', 'pod-template-hash': hash },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `myapp-${hash}`, uid: `uid-myapp-${hash}`, controller: true, blockOwnerDeletion: true }],
  };
  p.status!.phase = phase;
  return p;
}
