/**
 * Sends hostile cases (see hostile.cases.ts) over raw node:http — no URL normalisation, no
 * client-side checks — and classifies each answer.
 */
import http from 'node:http';
import type { HostileCase } from './hostile.cases.js';

export interface HostileResult {
  c: HostileCase;
  status: number;
  /** The Status body when the answer was one. */
  statusBody?: { kind?: string; code?: number; message?: string };
  /** A transport failure (reset, hang-up) instead of an answer. */
  error?: string;
  ms: number;
}

/** Sends one case to `base` (http://host:port) with `token`; never rejects. */
export function sendCase(base: string, token: string, c: HostileCase): Promise<HostileResult> {
  const url = new URL(base);
  const started = Date.now();
  const body = c.body === undefined ? undefined : Buffer.isBuffer(c.body) ? c.body : Buffer.from(c.body, 'utf8');
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { Authorization: `Bearer ${token}` };
    if (c.contentType) headers['Content-Type'] = c.contentType;
    if (body) headers['Content-Length'] = body.length;
    const req = http.request({ host: url.hostname, port: url.port, method: c.method, path: c.path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let statusBody: HostileResult['statusBody'];
        try {
          statusBody = JSON.parse(text) as HostileResult['statusBody'];
        } catch {
          statusBody = undefined;
        }
        resolve({ c, status: res.statusCode ?? 0, statusBody, ms: Date.now() - started });
      });
      res.on('error', (e) => resolve({ c, status: 0, error: e.message, ms: Date.now() - started }));
    });
    req.on('error', (e) => resolve({ c, status: 0, error: e.message, ms: Date.now() - started }));
    req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')));
    if (body) req.end(body);
    else req.end();
  });
}

/** What is wrong with a result, or undefined when it is the 4xx Status the case asks for. */
export function problem(r: HostileResult): string | undefined {
  if (r.error) return `transport error: ${r.error}`;
  if (r.status < 400 || r.status >= 500) return `HTTP ${r.status}: ${JSON.stringify(r.statusBody)?.slice(0, 300)}`;
  if (r.statusBody?.kind !== 'Status' || r.statusBody.code !== r.status) return `HTTP ${r.status} without a matching Status body`;
  if (r.c.status !== undefined && r.status !== r.c.status) return `HTTP ${r.status}, want ${r.c.status}: ${r.statusBody.message?.slice(0, 300)}`;
  const m = r.c.message;
  if (m !== undefined && !(typeof m === 'string' ? (r.statusBody.message ?? '').includes(m) : m.test(r.statusBody.message ?? ''))) {
    return `message ${JSON.stringify(r.statusBody.message?.slice(0, 300))} lacks ${String(m)}`;
  }
  return undefined;
}

/** Per-family counts: `family: n requests, n 4xx` lines for the report. */
export function summarize(results: HostileResult[]): string[] {
  const byFamily = new Map<string, { n: number; ok: number; codes: Map<number, number> }>();
  for (const r of results) {
    const f = byFamily.get(r.c.family) ?? { n: 0, ok: 0, codes: new Map() };
    f.n++;
    if (!problem(r)) f.ok++;
    f.codes.set(r.status, (f.codes.get(r.status) ?? 0) + 1);
    byFamily.set(r.c.family, f);
  }
  const lines = [...byFamily].map(([family, f]) =>
    `${family.padEnd(20)} ${String(f.n).padStart(4)} requests, ${String(f.ok).padStart(4)} answered as required (${[...f.codes].sort((a, b) => a[0] - b[0]).map(([c, n]) => `${c}×${n}`).join(' ')})`);
  const ok = results.filter((r) => !problem(r)).length;
  lines.push(`${'total'.padEnd(20)} ${String(results.length).padStart(4)} requests, ${String(ok).padStart(4)} answered as required`);
  return lines;
}
