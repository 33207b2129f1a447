/**
 * What a benchmark part produces, how it is printed (one table for the whole run) and how it is
 * saved (one JSON file per run under `bench/results/`). Figures carry their references; a
 * reference measured in the same run is marked `measured`, a quoted one carries its source.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ratio, type Summary } from './stats.js';
import type { MachineInfo } from './machine.js';

/** The unit of a figure's samples. */
export type Unit = 'ms' | 'pods/s' | 'req/s' | 'MiB' | 'cpu-s';

/** Something a figure is compared with. */
export interface Reference {
  /** e.g. `raw Docker floor`, `kind`, `Kubernetes SLO (p99)`. */
  label: string;
  /** In the figure's unit. */
  value: number;
  /** Measured in this run, side by side with the figure; false: quoted from `source`. */
  measured: boolean;
  /** Where a quoted value comes from. */
  source?: string;
  /** Which of the figure's statistics the ratio uses (default p50). */
  compare?: 'p50' | 'p99';
}

/** One measured figure: a distribution (or one value) with its references. */
export interface Figure {
  name: string;
  unit: Unit;
  summary: Summary;
  /** How the spread column reads: p99 (many samples) or min–max (few). */
  spread: 'p99' | 'minmax';
  references: Reference[];
  /** Raw samples, kept in the JSON only. */
  samples?: number[];
}

/** A small extra table printed under the main one (e.g. a phase breakdown). */
export interface ExtraTable {
  title: string;
  header: string[];
  rows: string[][];
}

/** Everything one part measured. */
export interface PartResult {
  part: string;
  /** What was measured and how, for the reader of the table (N, images, sizes). */
  setup: string;
  figures: Figure[];
  /** Why the part (or some of it) did not run. */
  skipped?: string;
  notes: string[];
  tables: ExtraTable[];
  /** Anything else worth keeping in the JSON. */
  details: Record<string, unknown>;
  /**
   * With --cpu-prof: the profile segments (see BenchCluster.profileSegment) that cover the
   * part's measuring windows; only those are summarized. Unset: whole-process profiles.
   */
  profileSegments?: string[];
}

/** A fresh, empty result for `part`. */
export function newPart(part: string, setup: string): PartResult {
  return { part, setup, figures: [], notes: [], tables: [], details: {} };
}

/** A value in its unit, short: `12.3 ms`, `1.23 s`, `270 pods/s`, `85 MiB`, `1.4 s CPU`. */
export function formatValue(v: number, unit: Unit): string {
  if (!Number.isFinite(v)) return '—';
  switch (unit) {
    case 'ms':
      if (v < 1) return `${v.toFixed(2)} ms`;
      if (v < 10) return `${v.toFixed(1)} ms`;
      if (v < 1000) return `${Math.round(v)} ms`;
      if (v < 10_000) return `${(v / 1000).toFixed(2)} s`;
      if (v < 100_000) return `${(v / 1000).toFixed(1)} s`;
      return `${(v / 1000).toFixed(0)} s`;
    case 'pods/s':
    case 'req/s':
      return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${unit}`;
    case 'MiB':
      return `${v < 10 ? v.toFixed(1) : Math.round(v)} MiB`;
    case 'cpu-s':
      return `${v.toFixed(2)} s CPU`;
  }
}

/** `1.8×`, `0.031×`; `—` when there is no ratio. */
export function formatRatio(r: number): string {
  if (!Number.isFinite(r)) return '—';
  return `${r >= 100 ? Math.round(r) : Number(r.toPrecision(2))}×`;
}

/** Pads the columns of `rows` (the first is the header) to a plain-text table. */
export function renderColumns(rows: string[][], indent = ''): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length); });
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
}

function spreadOf(f: Figure): string {
  const s = f.summary;
  if (s.n <= 1) return '';
  return f.spread === 'p99' ? `p99 ${formatValue(s.p99, f.unit)}` : `${formatValue(s.min, f.unit)} – ${formatValue(s.max, f.unit)}`;
}

/** The ratio a figure has to one of its references (ours / reference). */
export function figureRatio(f: Figure, ref: Reference): number {
  return ratio(ref.compare === 'p99' ? f.summary.p99 : f.summary.p50, ref.value);
}

/** The main table: one row per figure and reference. */
export function renderTable(parts: readonly PartResult[]): string {
  const rows: string[][] = [['PART', 'FIGURE', 'N', 'P50', 'SPREAD', 'REFERENCE', 'OURS/REF']];
  for (const p of parts) {
    if (p.skipped && p.figures.length === 0) {
      rows.push([p.part, p.skipped.startsWith('failed') ? 'FAILED (see below)' : 'skipped (see below)', '', '', '', '', '']);
      continue;
    }
    for (const f of p.figures) {
      const base = [p.part, f.name, String(f.summary.n), formatValue(f.summary.p50, f.unit), spreadOf(f)];
      if (f.references.length === 0) rows.push([...base, '', '']);
      f.references.forEach((ref, i) => {
        const what = `${ref.label}${ref.compare === 'p99' ? ' (p99)' : ''} ${formatValue(ref.value, f.unit)}${ref.measured ? '' : ' (quoted)'}`;
        const r = formatRatio(figureRatio(f, ref)) + (ref.compare === 'p99' ? ' at p99' : '');
        rows.push(i === 0 ? [...base, what, r] : ['', '', '', '', '', what, r]);
      });
    }
  }
  return renderColumns(rows);
}

/** The whole report: header with machine and versions, the table, then each part's setup, extra tables and notes. */
export function renderReport(machine: MachineInfo, parts: readonly PartResult[], quick: boolean): string {
  const out: string[] = [];
  out.push(`minikube-lite bench${quick ? ' (--quick)' : ''} — ${machine.date}`);
  out.push(`machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB.toFixed(1)} GiB memory, ${machine.os}, load average at start ${machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}`);
  out.push(`versions: node ${machine.node}, ${machine.docker}, minikube-lite ${machine.minikubeLite}${machine.dockerCompose ? `, ${machine.dockerCompose}` : ''}`);
  out.push('');
  out.push(renderTable(parts));
  for (const p of parts) {
    out.push('');
    out.push(`[${p.part}] ${p.setup}`);
    if (p.skipped) out.push(`  skipped: ${p.skipped}`);
    for (const t of p.tables) {
      out.push(`  ${t.title}`);
      out.push(renderColumns([t.header, ...t.rows], '    '));
    }
    for (const n of p.notes) out.push(`  - ${n}`);
  }
  out.push('');
  out.push('References marked (quoted) were not run here: they come from other machines and are context, not a like-for-like comparison.');
  return out.join('\n');
}

/** Writes the run as JSON to `<dir>/<timestamp>-<parts>.json` and returns the path. */
export function writeResults(dir: string, run: { machine: MachineInfo; quick: boolean; argv: string[]; startedAt: string; finishedAt: string; parts: PartResult[] }): string {
  mkdirSync(dir, { recursive: true });
  const stamp = run.startedAt.replace(/[:.]/g, '-');
  const path = join(dir, `${stamp}-${run.parts.map((p) => p.part).join('-') || 'none'}.json`);
  writeFileSync(path, JSON.stringify(run, null, 2) + '\n');
  return path;
}
