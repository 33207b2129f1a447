/**
 * The table rows `kubectl get deployments` and `kubectl get replicasets` print, computed as
 * Kubernetes' printers do (`printDeployment`, `printReplicaSet`). The API server's Table output
 * and the CLI both use them. Pure functions; the current time is a parameter.
 */
import type { Container, Deployment, LabelSelector, ReplicaSet } from './types.js';
import { fromLabelSelector, selectorToString } from './labels.js';
import { age } from './podstatus.js';

/** One `kubectl get deployments` row; the last three are the `-o wide` columns. */
export interface DeploymentRow {
  name: string;
  /** `ready/desired`, e.g. `2/3`. */
  ready: string;
  upToDate: number;
  available: number;
  age: string;
  /** Container names of the template, comma-separated. */
  containers: string;
  /** Their images, comma-separated, in the same order. */
  images: string;
  /** The selector as a label-selector string (`app=web`); empty when it selects everything or nothing. */
  selector: string;
}

/** One `kubectl get replicasets` row; the last three are the `-o wide` columns. */
export interface ReplicaSetRow {
  name: string;
  desired: number;
  current: number;
  ready: number;
  age: string;
  containers: string;
  images: string;
  /** The selector as a label-selector string, `<none>` when empty. */
  selector: string;
}

/**
 * A `LabelSelector` as a selector string (`app=web,tier in (be,fe)`), as `LabelSelectorAsSelector`
 * then `String()` give it: `''` for an empty or absent selector, undefined for one that does not parse.
 */
export function labelSelectorString(ls: LabelSelector | undefined | null): string | undefined {
  const parsed = fromLabelSelector(ls);
  return parsed.ok ? selectorToString(parsed.selector) : undefined;
}

/** `metav1.FormatLabelSelector`: the selector string, `<none>` when empty, `<error>` when it does not parse. */
export function formatLabelSelector(ls: LabelSelector | undefined | null): string {
  const s = labelSelectorString(ls);
  if (s === undefined) return '<error>';
  return s || '<none>';
}

const count = (n: number | undefined | null): number => (typeof n === 'number' ? n : 0);

export function containerCells(containers: readonly Container[] | undefined): { containers: string; images: string } {
  const list = Array.isArray(containers) ? containers : [];
  return { containers: list.map((c) => c.name ?? '').join(','), images: list.map((c) => c.image ?? '').join(',') };
}

/**
 * The row `kubectl get deployments` prints: READY is `status.readyReplicas/spec.replicas`,
 * UP-TO-DATE and AVAILABLE come from status (0 when unset; an unset `spec.replicas` counts as
 * 0, as the printer reads it). SELECTOR is `<invalid>` for a selector that does not parse.
 */
export function deploymentRow(d: Deployment, now: Date): DeploymentRow {
  const status = d.status;
  return {
    name: d.metadata?.name ?? '',
    ready: `${count(status?.readyReplicas)}/${count(d.spec?.replicas)}`,
    upToDate: count(status?.updatedReplicas),
    available: count(status?.availableReplicas),
    age: age(d.metadata?.creationTimestamp, now),
    ...containerCells(d.spec?.template?.spec?.containers),
    selector: labelSelectorString(d.spec?.selector) ?? '<invalid>',
  };
}

/**
 * The row `kubectl get replicasets` prints: DESIRED `spec.replicas`, CURRENT `status.replicas`,
 * READY `status.readyReplicas` (each 0 when unset); SELECTOR `<none>` when empty.
 */
export function replicaSetRow(rs: ReplicaSet, now: Date): ReplicaSetRow {
  return {
    name: rs.metadata?.name ?? '',
    desired: count(rs.spec?.replicas),
    current: count(rs.status?.replicas),
    ready: count(rs.status?.readyReplicas),
    age: age(rs.metadata?.creationTimestamp, now),
    ...containerCells(rs.spec?.template?.spec?.containers),
    selector: formatLabelSelector(rs.spec?.selector),
  };
}
