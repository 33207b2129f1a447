/**
 * The dashboard page (Preact, no JSX so that the same TypeScript needs no extra transform).
 * Everything is live: one watch per kind through the dashboard's read-only API proxy; each
 * event updates the store and schedules one re-render per animation frame. No polling.
 */
import { h, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Pod } from '../../api/types.js';
import {
  applyEvent, emptyState, nodeBoxes, podEvents, podTimelineOf, rolloutViews, serviceViews, watchStream, WATCHED,
  type ClusterState, type PodView, type WatchedKind,
} from '../state.js';
import type { WatchEvent } from '../../api/types.js';
import { actorName, formatOffset } from '../../trace/timeline.js';
import { STEP_TITLES } from '../../trace/types.js';

const state: ClusterState = emptyState();
let version = 0;
const listeners = new Set<(v: number) => void>();
let scheduled = false;
function changed(): void {
  version++;
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    for (const l of listeners) l(version);
  });
}

// One multiplexed stream (the dashboard server watches each kind upstream): a browser opens at
// most 6 connections to a host, fewer than the kinds watched. A new connection replays everything.
let live = false;
watchStream((p, init) => fetch(p, { ...init, credentials: 'same-origin' }), '/watch', (e) => {
  const m = e as unknown as { kind: WatchedKind; type: string; object: WatchEvent['object'] };
  if (!(m.kind in WATCHED)) return;
  if (m.type === 'RESET') state[m.kind].clear();
  else applyEvent(state, m.kind, m as WatchEvent);
  changed();
}, {
  onOpen: () => {
    live = true;
    for (const kind of Object.keys(WATCHED) as WatchedKind[]) state[kind].clear();
    changed();
  },
  onError: () => {
    live = false;
    changed();
  },
});

function useVersion(): number {
  const [v, setV] = useState(version);
  useEffect(() => {
    listeners.add(setV);
    return () => {
      listeners.delete(setV);
    };
  }, []);
  return v;
}

function PodCard(props: { pod: PodView; selected: boolean; onSelect: (key: string) => void }) {
  const p = props.pod;
  return h('div', { class: `pod${props.selected ? ' selected' : ''}`, 'data-testid': 'pod', 'data-pod': p.name, 'data-phase': p.phase, 'data-ready': String(p.ready), onClick: () => props.onSelect(p.key) },
    h('div', null,
      h('span', { class: 'name' }, p.name),
      h('span', { class: `badge ${p.phase}` }, p.phase),
      h('span', { class: `badge ${p.ready ? 'ready' : 'notready'}` }, `${p.readyCount} ready`)),
    h('div', { class: 'muted mono' }, `${p.namespace} · ${p.ip || 'no IP yet'}`),
    h('ul', { class: 'containers' }, p.containers.map((c) => h('li', { key: c.name }, `${c.name}: ${c.state}${c.ready ? ', ready' : ''}${c.restarts ? `, ${c.restarts} restarts` : ''}`))));
}

function Nodes(props: { selected: string; onSelect: (key: string) => void }) {
  return h('section', null, h('h2', null, 'Nodes'),
    h('div', { class: 'nodes' }, nodeBoxes(state).map((n) => h('div', { key: n.name, class: `node${n.ready || n.name === '(unscheduled)' ? '' : ' notready'}`, 'data-testid': 'node', 'data-node': n.name },
      h('h3', null, n.name, ' ', h('span', { class: 'cidr' }, n.podCIDR), n.name !== '(unscheduled)' ? h('span', { class: `badge ${n.ready ? 'ready' : 'notready'}` }, n.ready ? 'Ready' : 'NotReady') : null),
      n.pods.length ? n.pods.map((p) => h(PodCard, { key: p.key, pod: p, selected: p.key === props.selected, onSelect: props.onSelect })) : h('div', { class: 'muted' }, 'no pods')))));
}

function Rollouts() {
  const rows = rolloutViews(state);
  return h('section', { class: 'panel' }, h('h2', null, 'Deployments'),
    rows.length ? h('table', null, h('tbody', null, rows.map((d) => h('tr', { key: d.key, 'data-testid': 'deployment', 'data-deployment': d.name },
      h('td', { class: 'mono' }, `${d.namespace}/${d.name}`),
      h('td', { 'data-testid': 'rollout-counts' }, `${d.ready}/${d.desired} ready, ${d.updated} up-to-date, ${d.available} available`),
      h('td', null, d.replicaSets.map((rs) => h('div', { key: rs.name, class: 'mono' }, `rev ${rs.revision} ${rs.name}: ${rs.ready}/${rs.desired} (${rs.pods} pods)`)),
        h('div', { class: 'muted' }, d.progress)))))) : h('div', { class: 'muted' }, 'none'));
}

function Services() {
  const rows = serviceViews(state);
  return h('section', { class: 'panel' }, h('h2', null, 'Services'),
    h('table', null, h('tbody', null, rows.map((s) => h('tr', { key: s.key, 'data-testid': 'service', 'data-service': s.name },
      h('td', { class: 'mono' }, `${s.namespace}/${s.name}`), h('td', null, s.type), h('td', { class: 'mono' }, s.clusterIP), h('td', null, s.ports),
      h('td', { class: 'mono' }, s.endpoints.length ? s.endpoints.join(' ') : h('span', { class: 'muted' }, 'no endpoints')))))));
}

function PodDetail(props: { podKey: string }) {
  const pod: Pod | undefined = state.pods.get(props.podKey);
  if (!pod) return h('section', { class: 'panel' }, h('h2', null, 'Pod'), h('div', { class: 'muted' }, props.podKey ? 'the pod is gone' : 'click a pod to see its trace timeline and events'));
  const t = podTimelineOf(state, pod);
  const events = podEvents(state, pod);
  return h('section', { class: 'panel', 'data-testid': 'pod-detail', 'data-pod': pod.metadata?.name },
    h('h2', null, `Pod ${pod.metadata?.namespace}/${pod.metadata?.name}`),
    h('div', { class: 'muted' }, t.readyAfterMs !== undefined ? `Ready ${formatOffset(t.readyAfterMs)} after creation` : 'not Ready yet'),
    h('h2', null, 'Trace timeline'),
    h('table', { 'data-testid': 'timeline' }, h('tbody', null, t.entries.map((e, i) => h('tr', { key: i, 'data-testid': 'timeline-entry', 'data-step': String(e.step) },
      h('td', { class: 'mono' }, formatOffset(e.offsetMs)),
      h('td', { class: 'step', title: STEP_TITLES[e.step] }, `[${e.step}]`),
      h('td', null, actorName(e)),
      h('td', null, e.message))))),
    h('h2', null, 'Events'),
    h('table', null, h('tbody', null, events.map((e) => h('tr', { key: e.metadata?.name },
      h('td', null, e.type), h('td', null, e.reason), h('td', null, `${e.count && e.count > 1 ? `(x${e.count}) ` : ''}${e.message ?? ''}`))))));
}

function App() {
  useVersion();
  const [selected, setSelected] = useState('');
  return h('div', null,
    h('header', null, h('h1', null, 'minikube-lite'), h('span', { class: 'conn', 'data-testid': 'connection', 'data-live': String(live) }, live ? 'live (watching)' : 'reconnecting…'),
      h('span', { class: 'conn' }, Object.entries(STEP_TITLES).map(([n, s]) => `[${n}] ${s}`).join('  '))),
    h('main', null,
      h('div', null, h(Nodes, { selected, onSelect: setSelected }), h(Rollouts, null), h(Services, null)),
      h('div', null, h(PodDetail, { podKey: selected }))));
}

const root = document.getElementById('app');
if (root) render(h(App, null), root);
