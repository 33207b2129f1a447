/**
 * One table per kind: the server's Table (what stock kubectl prints) and `minikube-lite get`
 * have the same columns in the same order, and the same cells, for the workload, event and core kinds.
 */
import { describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/api/registry.js';
import type { KubeObject } from '../../src/api/types.js';
import { toTable } from '../../src/apiserver/table.js';
import { tableHeader, tableRow } from '../../src/cli/commands/tables.js';

const now = new Date('2026-01-01T12:00:00Z');
const created = '2026-01-01T11:00:00Z';
const tmpl = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };

const objects: [string, string, KubeObject][] = [
  ['', 'events', {
    apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.1', namespace: 'default', creationTimestamp: created },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', fieldPath: 'spec.containers{c}' }, reason: 'Pulled', message: 'Pulled image\n', type: 'Normal',
    source: { component: 'kubelet', host: 'node-1' }, firstTimestamp: created, lastTimestamp: '2026-01-01T11:30:00Z', count: 3,
  } as KubeObject],
  ['batch', 'jobs', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'default', creationTimestamp: created },
    spec: { completions: 2, selector: { matchLabels: { a: 'b' } }, template: tmpl }, status: { succeeded: 1, active: 1, startTime: created } } as KubeObject],
  ['batch', 'cronjobs', { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'cj', namespace: 'default', creationTimestamp: created },
    spec: { schedule: '@hourly', jobTemplate: { spec: { template: tmpl } } }, status: { lastScheduleTime: created } } as KubeObject],
  ['apps', 'daemonsets', { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'ds', namespace: 'default', creationTimestamp: created },
    spec: { selector: { matchLabels: { app: 'a' } }, template: { ...tmpl, spec: { ...tmpl.spec, nodeSelector: { disk: 'ssd' } } } },
    status: { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 2, numberAvailable: 1, numberMisscheduled: 0 } } as KubeObject],
  ['apps', 'statefulsets', { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'default', creationTimestamp: created },
    spec: { replicas: 3, serviceName: 'db', selector: { matchLabels: { app: 'a' } }, template: tmpl }, status: { replicas: 3, readyReplicas: 2 } } as KubeObject],
  ['', 'replicationcontrollers', { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'rc', namespace: 'default', creationTimestamp: created },
    spec: { replicas: 2, selector: { app: 'a' }, template: tmpl }, status: { replicas: 2, readyReplicas: 1 } } as KubeObject],
  ['apps', 'deployments', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', creationTimestamp: created },
    spec: { replicas: 3, selector: { matchLabels: { app: 'a' } }, template: tmpl }, status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } } as KubeObject],
  ['apps', 'replicasets', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-1', namespace: 'default', creationTimestamp: created },
    spec: { replicas: 3, selector: { matchLabels: { app: 'a' } }, template: tmpl }, status: { replicas: 3, readyReplicas: 2 } } as KubeObject],
  ['apps', 'controllerrevisions', { apiVersion: 'apps/v1', kind: 'ControllerRevision', revision: 2,
    metadata: { name: 'ds-1', namespace: 'default', creationTimestamp: created, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'ds', uid: 'u', controller: true }] } } as KubeObject],
  ['', 'services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default', creationTimestamp: created },
    spec: { type: 'NodePort', clusterIP: '10.96.0.5', selector: { app: 'a' }, ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] } } as KubeObject],
  ['', 'configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default', creationTimestamp: created }, data: { a: 'b' }, binaryData: { x: 'eA==' } } as KubeObject],
  ['', 'secrets', { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 't', namespace: 'default', creationTimestamp: created }, data: { 'tls.crt': 'eA==', 'tls.key': 'eA==' } } as KubeObject],
  ['', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns', creationTimestamp: created }, status: { phase: 'Active' } } as KubeObject],
  ['', 'limitranges', { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr', namespace: 'default', creationTimestamp: created }, spec: { limits: [] } } as KubeObject],
  ['', 'resourcequotas', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'default', creationTimestamp: created },
    spec: { hard: { pods: '10', 'limits.cpu': '2' } }, status: { hard: { pods: '10', 'limits.cpu': '2' }, used: { pods: '1', 'limits.cpu': '0' } } } as KubeObject],
];

describe('the server Table and minikube-lite get agree', () => {
  it.each(objects)('%s/%s: columns (with -o wide) and cells', (group, resource, obj) => {
    const def = RESOURCES.find((d) => d.group === group && d.resource === resource)!;
    const table = toTable(def, [obj], '1', now) as { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
    expect(table.columnDefinitions.map((c) => c.name.toUpperCase())).toEqual(tableHeader(def, { wide: true }));
    expect(table.rows[0].cells.map(String)).toEqual(tableRow(def, obj, { wide: true, now: now.getTime() }));
  });
});
