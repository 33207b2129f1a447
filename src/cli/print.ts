/**
 * Printing helpers shared by the CLI commands: kubectl-style column alignment, the error lines
 * kubectl prints for API errors, YAML/JSON output, and the small value formatters tables and
 * `describe` use. Everything here is pure (no I/O) so it can be unit-tested on strings.
 */
import type { ApiError } from '../api/errors.js';
import type { KubeObject } from '../api/types.js';
import { toKubectlYaml } from './commands/yaml.js';

// ---------------------------------------------------------------------------------------------
// Column alignment

export interface TabWriterOptions {
  /** Minimum width of a padded cell, padding included. */
  minWidth: number;
  /** Spaces added after the widest cell of a column. */
  padding: number;
  /**
   * Keep each column at least as wide as it was in earlier flushes, so rows printed one at a
   * time (`get -w`) stay aligned with the table printed before them.
   */
  rememberWidths?: boolean;
}

/** `kubectl get` tables: columns 3 spaces apart, at least 6 wide, widths remembered. */
export const TABLE_LAYOUT: TabWriterOptions = { minWidth: 6, padding: 3, rememberWidths: true };
/** `kubectl describe`: values 2 spaces after the longest label of their block. */
export const DESCRIBE_LAYOUT: TabWriterOptions = { minWidth: 0, padding: 2 };

/** Display width of a string: one column per code point, as Go's tabwriter counts. */
function displayWidth(s: string): number {
  return Array.from(s).length;
}

/**
 * Elastic tabstops as Go's `text/tabwriter` does them, which is what gives kubectl output its
 * look. Text is written with `\t` ending cells and `\n` ending lines. A cell that ends with a
 * tab belongs to a column; the last cell of a line is never padded. A column block is a run of
 * adjacent lines that all have a cell in that column, and every cell in the block is padded to
 * the block's widest cell plus `padding` (at least `minWidth`). A line with fewer cells ends the
 * blocks of the columns it lacks, so a line without tabs starts a new alignment section.
 *
 * Nothing is emitted until `flush()`; not reentrant (one writer per output stream).
 */
export class TabWriter {
  private lines: string[][] = [];
  private partial = '';
  private remembered: number[] = [];

  constructor(private readonly emit: (text: string) => void, private readonly opts: TabWriterOptions) {}

  write(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.lines.push(line.split('\t'));
  }

  /** Aligns and emits everything written so far (a trailing partial line is emitted as is). */
  flush(): void {
    if (this.partial) {
      this.lines.push(this.partial.split('\t'));
    }
    const hadPartial = this.partial !== '';
    this.partial = '';
    const lines = this.lines;
    this.lines = [];
    if (!lines.length) return;
    const widths = this.columnWidths(lines);
    let out = '';
    lines.forEach((cells, i) => {
      cells.forEach((cell, j) => {
        if (j === cells.length - 1) {
          out += cell;
        } else {
          out += cell + ' '.repeat(widths[i][j] - displayWidth(cell));
        }
      });
      if (i < lines.length - 1 || !hadPartial) out += '\n';
    });
    this.emit(out);
  }

  /** Forgets widths remembered from earlier flushes (a new table starts). */
  resetWidths(): void {
    this.remembered = [];
  }

  /** widths[line][column] for every padded cell. */
  private columnWidths(lines: string[][]): number[][] {
    const widths: number[][] = lines.map(() => []);
    const columns = Math.max(0, ...lines.map((l) => l.length - 1));
    for (let col = 0; col < columns; col++) {
      let start = 0;
      while (start < lines.length) {
        if (lines[start].length - 1 <= col) {
          start++;
          continue;
        }
        let end = start;
        let width = this.opts.minWidth;
        while (end < lines.length && lines[end].length - 1 > col) {
          width = Math.max(width, displayWidth(lines[end][col]) + this.opts.padding);
          end++;
        }
        if (this.opts.rememberWidths) {
          width = Math.max(width, this.remembered[col] ?? 0);
          this.remembered[col] = width;
        }
        for (let i = start; i < end; i++) widths[i][col] = width;
        start = end;
      }
    }
    return widths;
  }
}

/** Aligns rows as a `kubectl get` table (no header handling: pass it as the first row). */
export function formatTable(rows: string[][]): string {
  let out = '';
  const w = new TabWriter((s) => { out += s; }, TABLE_LAYOUT);
  for (const r of rows) w.write(r.join('\t') + '\n');
  w.flush();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * The line(s) kubectl prints for an API error, without a trailing newline:
 * `Error from server (NotFound): pods "x" not found`; for 422
 * `The Pod "x" is invalid: spec.containers[0].image: Required value`, with one `* cause` line
 * per cause when there are several. With `inList`, an Invalid error is printed like any other
 * (`Error from server (Invalid): ...`), as kubectl does when one command reports several errors.
 * A client-side connection failure (the client's 503 "The connection to the server ...") is
 * printed as its message alone.
 */
export function formatApiError(e: ApiError, opts: { inList?: boolean } = {}): string {
  if (e.reason === 'Invalid' && !opts.inList) {
    const d = e.details;
    let s = 'The request is invalid';
    if (d.kind || d.name) s = `The ${d.kind ?? ''} "${d.name ?? ''}" is invalid`;
    const seen = new Set<string>();
    const msgs: string[] = [];
    for (const c of e.causes) {
      const m = `${c.field}: ${c.message}`;
      if (seen.has(m)) continue;
      seen.add(m);
      msgs.push(m);
    }
    if (msgs.length === 0) return s;
    if (msgs.length === 1) return `${s}: ${msgs[0]}`;
    return `${s}: \n${msgs.map((m) => `* ${m}`).join('\n')}`;
  }
  if (isConnectionError(e)) return e.message;
  if (e.reason === 'Unauthorized') return `error: You must be logged in to the server (${e.message})`;
  if (e.reason) return `Error from server (${e.reason}): ${e.message}`;
  return `Error from server: ${e.message}`;
}

/** The client reports an unreachable server as a 503 whose message starts this way. */
function isConnectionError(e: ApiError): boolean {
  return e.code === 503 && e.message.startsWith('The connection to the server ');
}

// ---------------------------------------------------------------------------------------------
// YAML / JSON

/** `-o yaml`, as kubectl (go-yaml) writes it: see `commands/yaml.ts`. */
export function toYaml(obj: unknown): string {
  return toKubectlYaml(obj);
}

/** A JSON string as Go's encoding/json writes it: HTML-safe (`<`, `>`, `&` escaped), U+2028/9 escaped. */
function goJsonString(str: string): string {
  return JSON.stringify(str).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Go's json.Marshal (indent undefined) or MarshalIndent with 4 spaces, of unstructured data. */
function goJson(v: unknown, indent: string | undefined): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goJsonString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const inner = indent === undefined ? undefined : indent + '    ';
  const open = inner === undefined ? '' : '\n' + inner;
  const sep = inner === undefined ? ',' : ',\n' + inner;
  const close = indent === undefined ? '' : '\n' + indent;
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return `[${open}${v.map((x) => goJson(x, inner)).join(sep)}${close}]`;
  }
  const o = v as Record<string, unknown>;
  // Go sorts map keys bytewise; JS objects would put integer-like keys first, so sort here.
  const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (!keys.length) return '{}';
  const colon = inner === undefined ? ':' : ': ';
  return `{${open}${keys.map((k) => `${goJsonString(k)}${colon}${goJson(o[k], inner)}`).join(sep)}${close}}`;
}

/** Compact JSON as Go's json.Marshal writes unstructured data (sorted keys, HTML-safe escapes). */
export function toCompactJson(obj: unknown): string {
  return goJson(obj, undefined);
}

/** `-o json`, as kubectl writes it: sorted keys, 4-space indent, Go's escaping, trailing newline. */
export function toJson(obj: unknown): string {
  return goJson(obj, '') + '\n';
}

/** The `v1 List` kubectl prints for several objects in `-o yaml|json`. */
export function asList(items: KubeObject[]): KubeObject & { items: KubeObject[] } {
  return { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } };
}

// ---------------------------------------------------------------------------------------------
// Small formatters

/** `a=1,b=2` (keys sorted) or `<none>`: one formatter for the CLI and the API server's tables. */
export { formatLabels } from '../api/labels.js';

/** The value, or `<none>` when it is empty. */
export const orNone = (s: string | undefined | null): string => (s ? s : '<none>');

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * Go's RFC1123Z layout in local time, as `describe` prints timestamps:
 * `Mon, 02 Jan 2006 15:04:05 -0700`. An unparsable input is returned unchanged.
 */
export function rfc1123z(ts: string | Date | undefined): string {
  if (ts === undefined || ts === '') return '';
  const d = ts instanceof Date ? ts : new Date(ts);
  if (Number.isNaN(d.getTime())) return String(ts);
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${DAYS[d.getDay()]}, ${pad2(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${sign}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`;
}

/**
 * Go's RFC3339 layout in local time, as `rollout restart` stamps pod templates:
 * `2006-01-02T15:04:05+07:00`, or `...Z` in UTC.
 */
export function rfc3339Local(ts: number | Date): string {
  const d = ts instanceof Date ? ts : new Date(ts);
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${pad2(Math.floor(Math.abs(off) / 60))}:${pad2(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}${zone}`;
}
