/**
 * The `get` tables: which columns each kind shows (kubectl's, `-o wide` adding more) and how
 * rows are laid out (namespace column with -A, `kind/name` when several kinds are listed,
 * LABELS with --show-labels). Pure: objects and a clock in, lines of text out.
 */
import type { ResourceDef } from '../../api/resource.js';
import type { ConfigMap, Deployment, Endpoints, EndpointSlice, Event, Node, Pod, ReplicaSet, Secret, Service } from '../../api/types.js';
import { endpointSliceRow, endpointsRow, serviceRow } from '../../api/servicestatus.js';
import type { KubeObject } from '../../api/types.js';
import { deploymentRow, replicaSetRow } from '../../api/appsstatus.js';
import {
  controllerRevisionRow, cronJobRow, daemonSetRow, jobRow, replicationControllerRow, statefulSetRow,
} from '../../api/workloadstatus.js';
import type { ControllerRevision, DaemonSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { ReplicationController } from 'kubernetes-types/core/v1.js';
import { age as ageSince, eventRow, nodeRow, podRow } from '../../api/podstatus.js';
import { formatLabels } from '../print.js';
import { ingressClassRow, ingressRow, type Ingress, type IngressClass } from '../../api/ingressvalidation.js';
import { IDENTITY_STORAGE_ROWS } from '../../api/identityrows.js';
import { ADMISSION_ROWS } from '../../api/admissionrows.js';
import { eventTime } from './describers.js';
import { kindString } from './shared.js';
import { hpaRow } from '../../api/autoscalingstatus.js';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';

interface Column {
  header: string;
  /** Shown only with `-o wide`. */
  wide?: boolean;
  /** Key into the row record. */
  key: string;
}

/** How one kind prints as a table. */
export interface TableSpec {
  columns: Column[];
  row(obj: KubeObject, now: number): Record<string, string>;
}

/** `5m`, or `<unknown>` without a timestamp. */
const age = (ts: string | undefined, now: number): string => ageSince(ts, new Date(now));

const col = (header: string, key: string, wide = false): Column => ({ header, key, wide });

const PODS: TableSpec = {
  columns: [col('NAME', 'name'), col('READY', 'ready'), col('STATUS', 'status'), col('RESTARTS', 'restarts'), col('AGE', 'age'),
    col('IP', 'ip', true), col('NODE', 'node', true), col('NOMINATED NODE', 'nominatedNode', true), col('READINESS GATES', 'readinessGates', true)],
  row: (obj, now) => {
    const r = podRow(obj as Pod, new Date(now));
    return { ...r };
  },
};

const NODES: TableSpec = {
  columns: [col('NAME', 'name'), col('STATUS', 'status'), col('ROLES', 'roles'), col('AGE', 'age'), col('VERSION', 'version'),
    col('INTERNAL-IP', 'internalIP', true), col('EXTERNAL-IP', 'externalIP', true), col('OS-IMAGE', 'osImage', true),
    col('KERNEL-VERSION', 'kernelVersion', true), col('CONTAINER-RUNTIME', 'containerRuntime', true)],
  row: (obj, now) => {
    const r = nodeRow(obj as Node, new Date(now));
    return { ...r };
  },
};

const EVENTS: TableSpec = {
  columns: [col('LAST SEEN', 'lastSeen'), col('TYPE', 'type'), col('REASON', 'reason'), col('OBJECT', 'object'),
    col('SUBOBJECT', 'subobject', true), col('SOURCE', 'source', true), col('MESSAGE', 'message'),
    col('FIRST SEEN', 'firstSeen', true), col('COUNT', 'count', true), col('NAME', 'name', true)],
  row: (obj, now) => {
    const r = eventRow(obj as Event, new Date(now));
    return { ...r, count: String(r.count) };
  },
};

const NAMESPACES: TableSpec = {
  columns: [col('NAME', 'name'), col('STATUS', 'status'), col('AGE', 'age')],
  row: (obj, now) => ({
    name: obj.metadata?.name ?? '',
    status: (obj as { status?: { phase?: string } }).status?.phase ?? '',
    age: age(obj.metadata?.creationTimestamp, now),
  }),
};

const WORKLOAD_WIDE = [col('CONTAINERS', 'containers', true), col('IMAGES', 'images', true), col('SELECTOR', 'selector', true)];

const DEPLOYMENTS: TableSpec = {
  columns: [col('NAME', 'name'), col('READY', 'ready'), col('UP-TO-DATE', 'upToDate'), col('AVAILABLE', 'available'), col('AGE', 'age'), ...WORKLOAD_WIDE],
  row: (obj, now) => {
    const r = deploymentRow(obj as Deployment, new Date(now));
    return { ...r, upToDate: String(r.upToDate), available: String(r.available) };
  },
};

const REPLICASETS: TableSpec = {
  columns: [col('NAME', 'name'), col('DESIRED', 'desired'), col('CURRENT', 'current'), col('READY', 'ready'), col('AGE', 'age'), ...WORKLOAD_WIDE],
  row: (obj, now) => {
    const r = replicaSetRow(obj as ReplicaSet, new Date(now));
    return { ...r, desired: String(r.desired), current: String(r.current), ready: String(r.ready) };
  },
};

const SERVICES: TableSpec = {
  columns: [col('NAME', 'name'), col('TYPE', 'type'), col('CLUSTER-IP', 'clusterIP'), col('EXTERNAL-IP', 'externalIP'), col('PORT(S)', 'ports'),
    col('AGE', 'age'), col('SELECTOR', 'selector', true)],
  row: (obj, now) => ({ ...serviceRow(obj as Service, new Date(now), false) }),
};

const ENDPOINTS: TableSpec = {
  columns: [col('NAME', 'name'), col('ENDPOINTS', 'endpoints'), col('AGE', 'age')],
  row: (obj, now) => ({ ...endpointsRow(obj as Endpoints, new Date(now)) }),
};

const ENDPOINTSLICES: TableSpec = {
  columns: [col('NAME', 'name'), col('ADDRESSTYPE', 'addressType'), col('PORTS', 'ports'), col('ENDPOINTS', 'endpoints'), col('AGE', 'age')],
  row: (obj, now) => ({ ...endpointSliceRow(obj as EndpointSlice, new Date(now)) }),
};

const JOBS: TableSpec = {
  columns: [col('NAME', 'name'), col('STATUS', 'status'), col('COMPLETIONS', 'completions'), col('DURATION', 'duration'), col('AGE', 'age'), ...WORKLOAD_WIDE],
  row: (obj, now) => ({ ...jobRow(obj as Job, new Date(now)) }),
};

const CRONJOBS: TableSpec = {
  columns: [col('NAME', 'name'), col('SCHEDULE', 'schedule'), col('TIMEZONE', 'timezone'), col('SUSPEND', 'suspend'), col('ACTIVE', 'active'),
    col('LAST SCHEDULE', 'lastSchedule'), col('AGE', 'age'), ...WORKLOAD_WIDE],
  row: (obj, now) => ({ ...cronJobRow(obj as CronJob, new Date(now)) }),
};

const DAEMONSETS: TableSpec = {
  columns: [col('NAME', 'name'), col('DESIRED', 'desired'), col('CURRENT', 'current'), col('READY', 'ready'), col('UP-TO-DATE', 'upToDate'),
    col('AVAILABLE', 'available'), col('NODE SELECTOR', 'nodeSelector'), col('AGE', 'age'), ...WORKLOAD_WIDE],
  row: (obj, now) => ({ ...daemonSetRow(obj as DaemonSet, new Date(now)) }),
};

const STATEFULSETS: TableSpec = {
  columns: [col('NAME', 'name'), col('READY', 'ready'), col('AGE', 'age'), col('CONTAINERS', 'containers', true), col('IMAGES', 'images', true)],
  row: (obj, now) => ({ ...statefulSetRow(obj as StatefulSet, new Date(now)) }),
};

const CONTROLLERREVISIONS: TableSpec = {
  columns: [col('NAME', 'name'), col('CONTROLLER', 'controller'), col('REVISION', 'revision'), col('AGE', 'age')],
  row: (obj, now) => ({ ...controllerRevisionRow(obj as ControllerRevision, new Date(now)) }),
};

const REPLICATIONCONTROLLERS: TableSpec = {
  columns: [col('NAME', 'name'), col('DESIRED', 'desired'), col('CURRENT', 'current'), col('READY', 'ready'), col('AGE', 'age'), ...WORKLOAD_WIDE],
  row: (obj, now) => ({ ...replicationControllerRow(obj as ReplicationController, new Date(now)) }),
};

const LIMITRANGES: TableSpec = {
  columns: [col('NAME', 'name'), col('CREATED AT', 'createdAt')],
  row: (obj) => ({ name: obj.metadata?.name ?? '', createdAt: obj.metadata?.creationTimestamp ?? '' }),
};

const RESOURCEQUOTAS: TableSpec = {
  columns: [col('NAME', 'name'), col('AGE', 'age'), col('REQUEST', 'request'), col('LIMIT', 'limit')],
  row: (obj, now) => {
    const st = (obj as { status?: { hard?: Record<string, string>; used?: Record<string, string> } }).status ?? {};
    const cell = (limits: boolean) => Object.keys(st.hard ?? {}).filter((k) => k.startsWith('limits.') === limits).sort()
      .map((k) => `${k}: ${st.used?.[k] ?? '0'}/${st.hard?.[k] ?? ''}`).join(', ');
    return { name: obj.metadata?.name ?? '', age: age(obj.metadata?.creationTimestamp, now), request: cell(false), limit: cell(true) };
  },
};

const CONFIGMAPS: TableSpec = {
  columns: [col('NAME', 'name'), col('DATA', 'data'), col('AGE', 'age')],
  row: (obj, now) => {
    const cm = obj as ConfigMap;
    return { name: obj.metadata?.name ?? '', data: String(Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length), age: age(obj.metadata?.creationTimestamp, now) };
  },
};

const SECRETS: TableSpec = {
  columns: [col('NAME', 'name'), col('TYPE', 'type'), col('DATA', 'data'), col('AGE', 'age')],
  row: (obj, now) => {
    const s = obj as Secret;
    return { name: obj.metadata?.name ?? '', type: s.type ?? '', data: String(Object.keys(s.data ?? {}).length), age: age(obj.metadata?.creationTimestamp, now) };
  },
};

const INGRESSES: TableSpec = {
  columns: [col('NAME', 'name'), col('CLASS', 'class'), col('HOSTS', 'hosts'), col('ADDRESS', 'address'), col('PORTS', 'ports'), col('AGE', 'age')],
  row: (obj, now) => ({ ...ingressRow(obj as Ingress, new Date(now)) }),
};

const INGRESSCLASSES: TableSpec = {
  columns: [col('NAME', 'name'), col('CONTROLLER', 'controller'), col('PARAMETERS', 'parameters'), col('AGE', 'age')],
  row: (obj, now) => ({ ...ingressClassRow(obj as IngressClass, new Date(now)) }),
};

const HPAS: TableSpec = {
  columns: [col('NAME', 'name'), col('REFERENCE', 'reference'), col('TARGETS', 'targets'), col('MINPODS', 'minPods'), col('MAXPODS', 'maxPods'),
    col('REPLICAS', 'replicas'), col('AGE', 'age')],
  row: (obj, now) => {
    const [reference, targets, minPods, maxPods, replicas] = hpaRow(obj as HorizontalPodAutoscaler).map(String);
    return { name: obj.metadata?.name ?? '', reference, targets, minPods, maxPods, replicas, age: age(obj.metadata?.creationTimestamp, now) };
  },
};

const GENERIC: TableSpec = {
  columns: [col('NAME', 'name'), col('AGE', 'age')],
  row: (obj, now) => ({ name: obj.metadata?.name ?? '', age: age(obj.metadata?.creationTimestamp, now) }),
};

const SPECS: Record<string, TableSpec> = {
  pods: PODS, nodes: NODES, events: EVENTS, namespaces: NAMESPACES, deployments: DEPLOYMENTS, replicasets: REPLICASETS, services: SERVICES,
  jobs: JOBS, cronjobs: CRONJOBS, daemonsets: DAEMONSETS, statefulsets: STATEFULSETS, controllerrevisions: CONTROLLERREVISIONS,
  replicationcontrollers: REPLICATIONCONTROLLERS, limitranges: LIMITRANGES, resourcequotas: RESOURCEQUOTAS,
  configmaps: CONFIGMAPS, secrets: SECRETS,
  endpoints: ENDPOINTS, endpointslices: ENDPOINTSLICES,
  ingresses: INGRESSES, ingressclasses: INGRESSCLASSES,
  horizontalpodautoscalers: HPAS,
};

/** The identity and storage kinds' tables, by `group/resource`, from their shared rows. */
const BY_GROUP: Record<string, TableSpec> = Object.fromEntries(Object.entries({ ...IDENTITY_STORAGE_ROWS, ...ADMISSION_ROWS }).map(([key, rows]) => [key, {
  columns: rows.columns.map((c, i) => col(c.name.toUpperCase(), i === 0 ? 'name' : `c${i}`, c.wide)),
  row: (obj: KubeObject, now: number) => Object.fromEntries(rows.row(obj, new Date(now)).map((v, i) => [i === 0 ? 'name' : `c${i}`, v])),
}]));

/** The table spec for a resource (`NAME AGE` for kinds without their own). */
export function tableSpec(def: Pick<ResourceDef, 'resource' | 'group'>): TableSpec {
  const byGroup = BY_GROUP[`${def.group}/${def.resource}`];
  if (byGroup) return byGroup;
  const spec = SPECS[def.resource];
  const coreOnly = ['pods', 'nodes', 'events', 'namespaces', 'services', 'endpoints', 'configmaps', 'secrets', 'replicationcontrollers', 'limitranges', 'resourcequotas'];
  if (spec && (def.group === '' || !coreOnly.includes(def.resource))) return spec;
  return GENERIC;
}

export interface TableOptions {
  wide?: boolean;
  /** Leading NAMESPACE column (with -A, for namespaced kinds). */
  withNamespace?: boolean;
  /** `kind/name` in the NAME column (several kinds in one listing). */
  withKind?: boolean;
  showLabels?: boolean;
  now: number;
}

/** The header cells for a kind's table. */
export function tableHeader(def: Pick<ResourceDef, 'resource' | 'group'>, o: Omit<TableOptions, 'now' | 'withKind'>): string[] {
  const cols = tableSpec(def).columns.filter((c) => o.wide || !c.wide).map((c) => c.header);
  return [...(o.withNamespace ? ['NAMESPACE'] : []), ...cols, ...(o.showLabels ? ['LABELS'] : [])];
}

/** The cells of one object's row. */
export function tableRow(def: Pick<ResourceDef, 'resource' | 'group' | 'kind'>, obj: KubeObject, o: TableOptions): string[] {
  const spec = tableSpec(def);
  const r = spec.row(obj, o.now);
  const cells = spec.columns.filter((c) => o.wide || !c.wide).map((c) => {
    const v = r[c.key] ?? '';
    return c.key === 'name' && o.withKind ? `${kindString(def)}/${v}` : v;
  });
  return [...(o.withNamespace ? [obj.metadata?.namespace ?? ''] : []), ...cells, ...(o.showLabels ? [formatLabels(obj.metadata?.labels)] : [])];
}

/** Events oldest first, by their last occurrence (as `get events` shows them). */
export function sortEvents<T extends KubeObject>(items: T[]): T[] {
  return [...items].sort((a, b) => eventTime(a as unknown as Event) - eventTime(b as unknown as Event));
}
