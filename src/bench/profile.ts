/**
 * Reading V8 CPU profiles (`.cpuprofile`, as `node --cpu-prof` and `cpuprof-preload.ts` write
 * them): where a process spent its CPU time, by function (self time), by source file or
 * package, and the inclusive time of the project's own functions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
/** The parts of the `.cpuprofile` format read here. */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  /** Wall time the profile covers, ms. */
  wallMs: number;
  /** Sampled time not idle (JS, GC, native "program"), ms. */
  busyMs: number;
  gcMs: number;
  /** Self time by function, descending. */
  topSelf: { fn: string; ms: number }[];
  /** Self time by file or package, descending. */
  byFile: { file: string; ms: number }[];
  /** Inclusive time of functions in the project's own code (dist/), descending. */
  topOwnInclusive: { fn: string; ms: number }[];
}

/** `dist/kubelet/kubelet.js`, `node:internal/…`, `npm:dockerode`, or the special V8 names. */
export function sourceOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `npm:${nm[1]}`;
  const dist = /\/(dist\/.*)$/.exec(url);
  if (dist) return dist[1];
  if (url.startsWith('node:')) return url.replace(/^node:internal\/(deps\/)?([^/]+).*$/, 'node:$2');
  return url.replace(/^file:\/\//, '');
}

const frameName = (f: CallFrame): string => `${f.functionName || '(anonymous)'} ${sourceOf(f.url, f.functionName)}${f.url ? `:${f.lineNumber + 1}` : ''}`;

function top<K>(m: Map<K, number>, n: number): [K, number][] {
  return [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
}

/** Summarizes one profile; `n` rows per list. */
export function summarizeProfile(p: CpuProfile, file = '', n = 12): ProfileSummary {
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of p.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  // Each sample's time is the delta to the next sample (the last one gets none).
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + Math.max(0, dt));
  }
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  const ownInclusive = new Map<string, number>();
  let busy = 0;
  let gc = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const f = node.callFrame;
    if (f.functionName === '(idle)') continue;
    busy += us;
    if (f.functionName === '(garbage collector)') gc += us;
    self.set(frameName(f), (self.get(frameName(f)) ?? 0) + us);
    const src = sourceOf(f.url, f.functionName);
    files.set(src, (files.get(src) ?? 0) + us);
    // Inclusive: credit every distinct own-code frame on the stack once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)?.callFrame;
      if (cf && cf.url.includes('/dist/')) {
        const name = frameName(cf);
        if (!seen.has(name)) {
          seen.add(name);
          ownInclusive.set(name, (ownInclusive.get(name) ?? 0) + us);
        }
      }
    }
  }
  const ms = (us: number) => us / 1000;
  return {
    file,
    wallMs: ms(p.endTime - p.startTime),
    busyMs: ms(busy),
    gcMs: ms(gc),
    topSelf: top(self, n).map(([fn, us]) => ({ fn, ms: ms(us) })),
    byFile: top(files, n).map(([f, us]) => ({ file: f, ms: ms(us) })),
    topOwnInclusive: top(ownInclusive, n).map(([fn, us]) => ({ fn, ms: ms(us) })),
  };
}

/** Summaries of every `.cpuprofile` in `dir` (none when it does not exist). */
export function summarizeProfiles(dir: string, n = 12): ProfileSummary[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return files.map((f) => summarizeProfile(JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile, basename(f), n));
}
