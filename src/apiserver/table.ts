/**
 * Server-side printing: the `meta.k8s.io/v1` `Table` kubectl asks for
 * (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), with the columns Kubernetes'
 * printers give the built-in kinds (`kubectl get pods` → NAME READY STATUS RESTARTS AGE) and
 * NAME/AGE for any other kind. Pure functions of (objects, now).
 */
import type { IncomingMessage } from 'node:http';
import type { ResourceDef } from '../api/resource.js';
import type { Deployment, Endpoints, EndpointSlice, KubeObject, Pod, ReplicaSet, Service } from '../api/types.js';
import { endpointSliceRow, endpointsRow, serviceRow } from '../api/servicestatus.js';
import { deploymentRow, replicaSetRow } from '../api/appsstatus.js';
import { IDENTITY_STORAGE_ROWS } from '../api/identityrows.js';
import { ADMISSION_ROWS } from '../api/admissionrows.js';
import { humanDuration, podRow } from '../api/podstatus.js';
import { ingressClassRow, ingressRow, type Ingress, type IngressClass } from '../api/ingressvalidation.js';
import {
  controllerRevisionRow, cronJobRow, daemonSetRow, jobRow, replicationControllerRow, statefulSetRow,
} from '../api/workloadstatus.js';
import type { ControllerRevision, DaemonSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { ReplicationController } from 'kubernetes-types/core/v1.js';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import { hpaRow } from '../api/autoscalingstatus.js';

interface Column { name: string; type: string; format?: string; description: string; priority: number }
type Cell = string | number;
type Printer = { columns: Column[]; row(obj: KubeObject, now: Date): Cell[] };

/** The value at a dotted path of stored JSON (`status.phase`), or undefined. */
function g(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const k of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

const col = (name: string, type = 'string', priority = 0, format?: string): Column =>
  ({ name, type, priority, description: `${name} column`, ...(format ? { format } : {}) });

/** Which `Table` version the client asked for in its Accept header, if any. */
export function tableVersion(req: IncomingMessage): 'v1' | 'v1beta1' | undefined {
  for (const part of (req.headers.accept ?? '').split(',')) {
    const params = part.split(';').map((s) => s.trim());
    if (!params.includes('as=Table') || !params.includes('g=meta.k8s.io')) continue;
    if (params.includes('v=v1')) return 'v1';
    if (params.includes('v=v1beta1')) return 'v1beta1';
  }
  return undefined;
}

export const wantsTable = (req: IncomingMessage): boolean => tableVersion(req) !== undefined;

export { humanDuration };

const age = (obj: KubeObject, now: Date): string => {
  const t = obj.metadata?.creationTimestamp;
  return t ? humanDuration(now.getTime() - Date.parse(t)) : '<unknown>';
};

const str = (v: unknown, none = '<none>'): string => (v === undefined || v === null || v === '' ? none : String(v));
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0) || 0);

const PRINTERS: Record<string, Printer> = {
  '/pods': {
    columns: [col('Name', 'string', 0, 'name'), col('Ready'), col('Status'), col('Restarts', 'string'), col('Age'),
      col('IP', 'string', 1), col('Node', 'string', 1), col('Nominated Node', 'string', 1), col('Readiness Gates', 'string', 1)],
    // The same row `minikube-lite get pods` prints: one pod printer (src/api/podstatus.ts).
    row: (p, now) => {
      const r = podRow(p as Pod, now);
      return [r.name, r.ready, r.status, r.restarts, r.age, r.ip, r.node, r.nominatedNode, r.readinessGates];
    },
  },
  '/nodes': {
    columns: [col('Name', 'string', 0, 'name'), col('Status'), col('Roles'), col('Age'), col('Version'),
      col('Internal-IP', 'string', 1), col('External-IP', 'string', 1), col('OS-Image', 'string', 1), col('Kernel-Version', 'string', 1), col('Container-Runtime', 'string', 1)],
    row: (n, now) => {
      const ready = list(g(n, 'status.conditions')).find((c) => g(c, 'type') === 'Ready');
      const rs = g(ready, 'status');
      let status = ready ? (rs === 'True' ? 'Ready' : rs === 'False' ? 'NotReady' : 'Unknown') : 'Unknown';
      if (g(n, 'spec.unschedulable') === true) status += ',SchedulingDisabled';
      const prefix = 'node-role.kubernetes.io/';
      const roles = Object.keys(n.metadata?.labels ?? {}).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)).sort();
      const addr = (t: string): string => str(g(list(g(n, 'status.addresses')).find((a) => g(a, 'type') === t), 'address'));
      return [str(n.metadata?.name), status, roles.length ? roles.join(',') : '<none>', age(n, now), str(g(n, 'status.nodeInfo.kubeletVersion'), ''),
        addr('InternalIP'), addr('ExternalIP'), str(g(n, 'status.nodeInfo.osImage'), '<unknown>'),
        str(g(n, 'status.nodeInfo.kernelVersion'), '<unknown>'), str(g(n, 'status.nodeInfo.containerRuntimeVersion'), '<unknown>')];
    },
  },
  '/namespaces': {
    columns: [col('Name', 'string', 0, 'name'), col('Status'), col('Age')],
    row: (ns, now) => [str(ns.metadata?.name), str(g(ns, 'status.phase'), ''), age(ns, now)],
  },
  '/events': {
    // Kubernetes' order: the wide-only Subobject and Source come before Message.
    columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Subobject', 'string', 1), col('Source', 'string', 1), col('Message'),
      col('First Seen', 'string', 1), col('Count', 'integer', 1), col('Name', 'string', 1, 'name')],
    row: (e, now) => {
      const created = e.metadata?.creationTimestamp;
      const last = g(e, 'lastTimestamp') ?? g(e, 'eventTime') ?? created;
      const first = g(e, 'firstTimestamp') ?? g(e, 'eventTime') ?? created;
      const since = (t: unknown): string => (typeof t === 'string' ? humanDuration(now.getTime() - Date.parse(t)) : '<unknown>');
      const source = [g(e, 'source.component'), g(e, 'source.host')].filter((x) => x).map(String).join(', ');
      return [since(last), str(g(e, 'type'), ''), str(g(e, 'reason'), ''),
        `${str(g(e, 'involvedObject.kind'), '').toLowerCase()}/${str(g(e, 'involvedObject.name'), '')}`,
        str(g(e, 'involvedObject.fieldPath'), ''), source, str(g(e, 'message'), '').trim(), since(first), num(g(e, 'count') ?? 1), str(e.metadata?.name)];
    },
  },
  '/services': {
    columns: [col('Name', 'string', 0, 'name'), col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), col('Age'), col('Selector', 'string', 1)],
    row: (s, now) => {
      const r = serviceRow(s as Service, now);
      return [r.name, r.type, r.clusterIP, r.externalIP, r.ports, r.age, r.selector];
    },
  },
  '/endpoints': {
    columns: [col('Name', 'string', 0, 'name'), col('Endpoints'), col('Age')],
    row: (e, now) => {
      const r = endpointsRow(e as Endpoints, now);
      return [r.name, r.endpoints, r.age];
    },
  },
  'discovery.k8s.io/endpointslices': {
    columns: [col('Name', 'string', 0, 'name'), col('AddressType'), col('Ports'), col('Endpoints'), col('Age')],
    row: (e, now) => {
      const r = endpointSliceRow(e as EndpointSlice, now);
      return [r.name, r.addressType, r.ports, r.endpoints, r.age];
    },
  },
  '/configmaps': {
    columns: [col('Name', 'string', 0, 'name'), col('Data', 'integer'), col('Age')],
    row: (cm, now) => [str(cm.metadata?.name), Object.keys(g(cm, 'data') ?? {}).length + Object.keys(g(cm, 'binaryData') ?? {}).length, age(cm, now)],
  },
  '/secrets': {
    columns: [col('Name', 'string', 0, 'name'), col('Type'), col('Data', 'integer'), col('Age')],
    row: (s, now) => [str(s.metadata?.name), str(g(s, 'type'), ''), Object.keys(g(s, 'data') ?? {}).length, age(s, now)],
  },
  'coordination.k8s.io/leases': {
    columns: [col('Name', 'string', 0, 'name'), col('Holder'), col('Age')],
    row: (l, now) => [str(l.metadata?.name), str(g(l, 'spec.holderIdentity'), ''), age(l, now)],
  },
  'apps/deployments': {
    columns: [col('Name', 'string', 0, 'name'), col('Ready'), col('Up-to-date'), col('Available'), col('Age'),
      col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
    row: (d, now) => {
      const r = deploymentRow(d as Deployment, now);
      return [r.name, r.ready, r.upToDate, r.available, r.age, r.containers, r.images, r.selector];
    },
  },
  'apps/replicasets': {
    columns: [col('Name', 'string', 0, 'name'), col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), col('Age'),
      col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
    row: (rs, now) => {
      const r = replicaSetRow(rs as ReplicaSet, now);
      return [r.name, r.desired, r.current, r.ready, r.age, r.containers, r.images, r.selector];
    },
  },
  'batch/jobs': {
    columns: [col('Name', 'string', 0, 'name'), col('Status'), col('Completions'), col('Duration'), col('Age'),
      col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
    row: (j, now) => {
      const r = jobRow(j as Job, now);
      return [r.name, r.status, r.completions, r.duration, r.age, r.containers, r.images, r.selector];
    },
  },
  'batch/cronjobs': {
    columns: [col('Name', 'string', 0, 'name'), col('Schedule'), col('Timezone'), col('Suspend', 'boolean'), col('Active', 'integer'),
      col('Last Schedule'), col('Age'), col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
    row: (c, now) => {
      const r = cronJobRow(c as CronJob, now);
      return [r.name, r.schedule, r.timezone, r.suspend, Number(r.active), r.lastSchedule, r.age, r.containers, r.images, r.selector];
    },
  },
  'apps/daemonsets': {
    columns: [col('Name', 'string', 0, 'name'), col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'),
      col('Up-to-date', 'integer'), col('Available', 'integer'), col('Node Selector'), col('Age'),
      col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
    row: (d, now) => {
      const r = daemonSetRow(d as DaemonSet, now);
      return [r.name, Number(r.desired), Number(r.current), Number(r.ready), Number(r.upToDate), Number(r.available), r.nodeSelector, r.age,
        r.containers, r.images, r.selector];
    },
  },
  'apps/statefulsets': {
    columns: [col('Name', 'string', 0, 'name'), col('Ready'), col('Age'), col('Containers', 'string', 1), col('Images', 'string', 1)],
    row: (s, now) => {
      const r = statefulSetRow(s as StatefulSet, now);
      return [r.name, r.ready, r.age, r.containers, r.images];
    },
  },
  'apps/controllerrevisions': {
    columns: [col('Name', 'string', 0, 'name'), col('Controller'), col('Revision', 'integer'), col('Age')],
    row: (c, now) => {
      const r = controllerRevisionRow(c as ControllerRevision, now);
      return [r.name, r.controller, Number(r.revision), r.age];
    },
  },
  '/limitranges': {
    columns: [col('Name', 'string', 0, 'name'), col('Created At', 'date')],
    row: (o) => [str(o.metadata?.name), str(o.metadata?.creationTimestamp)],
  },
  '/resourcequotas': {
    // kubectl: NAME AGE REQUEST LIMIT (`requests.cpu: 500m/1, pods: 1/10`).
    columns: [col('Name', 'string', 0, 'name'), col('Age'), col('Request'), col('Limit')],
    row: (o, now) => {
      const hard = (g(o, 'status.hard') ?? {}) as Record<string, unknown>;
      const used = (g(o, 'status.used') ?? {}) as Record<string, unknown>;
      const cell = (limits: boolean) => Object.keys(hard).filter((k) => k.startsWith('limits.') === limits).sort()
        .map((k) => `${k}: ${String(used[k] ?? '0')}/${String(hard[k])}`).join(', ');
      return [str(o.metadata?.name), age(o, now), cell(false), cell(true)];
    },
  },
  '/replicationcontrollers': {
    columns: [col('Name', 'string', 0, 'name'), col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), col('Age'),
      col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
    row: (c, now) => {
      const r = replicationControllerRow(c as ReplicationController, now);
      return [r.name, Number(r.desired), Number(r.current), Number(r.ready), r.age, r.containers, r.images, r.selector];
    },
  },
};

PRINTERS['networking.k8s.io/ingresses'] = {
  columns: [col('Name', 'string', 0, 'name'), col('Class'), col('Hosts'), col('Address'), col('Ports'), col('Age')],
  row: (i, now) => {
    const r = ingressRow(i as Ingress, now);
    return [r.name, r.class, r.hosts, r.address, r.ports, r.age];
  },
};
PRINTERS['networking.k8s.io/ingressclasses'] = {
  columns: [col('Name', 'string', 0, 'name'), col('Controller'), col('Parameters'), col('Age')],
  row: (c, now) => {
    const r = ingressClassRow(c as IngressClass, now);
    return [r.name, r.controller, r.parameters, r.age];
  },
};
for (const [key, rows] of Object.entries({ ...IDENTITY_STORAGE_ROWS, ...ADMISSION_ROWS })) {
  PRINTERS[key] = {
    columns: rows.columns.map((c, i) => col(c.name, 'string', c.wide ? 1 : 0, i === 0 ? 'name' : undefined)),
    row: (obj, now) => rows.row(obj, now),
  };
}

PRINTERS['autoscaling/horizontalpodautoscalers'] = {
  columns: [col('Name', 'string', 0, 'name'), col('Reference'), col('Targets'), col('MinPods', 'string'), col('MaxPods', 'integer'), col('Replicas', 'integer'), col('Age')],
  row: (h, now) => [str(h.metadata?.name), ...hpaRow(h as HorizontalPodAutoscaler), age(h, now)],
};
// metrics-server's columns for `kubectl get nodes.metrics.k8s.io` / `pods.metrics.k8s.io`.
for (const resource of ['nodes', 'pods']) {
  PRINTERS[`metrics.k8s.io/${resource}`] = {
    columns: [col('Name', 'string', 0, 'name'), col('CPU'), col('Memory'), col('Window')],
    row: (m) => {
      const usage = (m as { usage?: { cpu?: string; memory?: string } }).usage
        ?? { cpu: list(g(m, 'containers')).map((c) => String(g(c, 'usage.cpu'))).join(','), memory: list(g(m, 'containers')).map((c) => String(g(c, 'usage.memory'))).join(',') };
      return [str(m.metadata?.name), str(usage.cpu), str(usage.memory), str(g(m, 'window'))];
    },
  };
}

const DEFAULT_PRINTER: Printer = {
  columns: [col('Name', 'string', 0, 'name'), col('Age')],
  row: (o, now) => [str(o.metadata?.name), age(o, now)],
};

export type IncludeObject = 'None' | 'Object' | 'PartialObjectMetadata';

/** `includeObject` query parameter; Kubernetes' default is PartialObjectMetadata. */
export function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'PartialObjectMetadata';
}

/** The `Table` of `items`, with ages measured from `now`. */
export function toTable(def: ResourceDef, items: KubeObject[], resourceVersion: string, now: Date, include: IncludeObject = 'PartialObjectMetadata', version: 'v1' | 'v1beta1' = 'v1'): Record<string, unknown> {
  const printer = PRINTERS[`${def.group}/${def.resource}`] ?? DEFAULT_PRINTER;
  const apiVersion = `meta.k8s.io/${version}`;
  return {
    kind: 'Table',
    apiVersion,
    metadata: { resourceVersion },
    columnDefinitions: printer.columns,
    rows: items.map((obj) => {
      const row: Record<string, unknown> = { cells: printer.row(obj, now) };
      if (include === 'Object') row.object = obj;
      else if (include === 'PartialObjectMetadata') row.object = { kind: 'PartialObjectMetadata', apiVersion, metadata: obj.metadata ?? {} };
      return row;
    }),
  };
}
