/**
 * YAML output the way kubectl prints it (`-o yaml`): kubectl turns objects into JSON, then into
 * YAML with go-yaml v2, whose choices this reproduces for JSON-shaped data:
 *  - map keys sorted with go-yaml's order (numbers inside keys compared by value);
 *  - block style; lists not indented under their key; `{}` and `[]` for empty collections;
 *  - strings plain when that reads back as the same string, `"double-quoted"` when they would
 *    read back as something else (`"true"`, `"1"`, `""`, timestamps), `'single-quoted'` when
 *    plain is not allowed (`: `, ` #`, leading indicators, edge spaces), literal `|` blocks
 *    for multi-line strings;
 *  - long scalars folded at the first space past column 80.
 * Pure and reentrant.
 */

const BEST_WIDTH = 80;
const INDENT = 2;

/** go-yaml's key order: letters after non-letters, digit runs compared as numbers. */
export function yamlKeyLess(a: string, b: string): boolean {
  const ar = Array.from(a);
  const br = Array.from(b);
  const isLetter = (c: string): boolean => /\p{L}/u.test(c);
  const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue;
    const al = isLetter(ar[i]);
    const bl = isLetter(br[i]);
    if (al && bl) return ar[i] < br[i];
    if (al || bl) return bl;
    let an = 0;
    let bn = 0;
    if (ar[i] === '0' || br[i] === '0') {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]); j--) {
        if (ar[j] !== '0') {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    let ai = i;
    let bi = i;
    for (; ai < ar.length && isDigit(ar[ai]); ai++) an = an * 10 + Number(ar[ai]);
    for (; bi < br.length && isDigit(br[bi]); bi++) bn = bn * 10 + Number(br[bi]);
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return ar[i] < br[i];
  }
  return ar.length < br.length;
}

const NON_STRINGS = new Set([
  '', '~', 'null', 'Null', 'NULL',
  'y', 'Y', 'yes', 'Yes', 'YES', 'n', 'N', 'no', 'No', 'NO', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE',
  'on', 'On', 'ON', 'off', 'Off', 'OFF',
  '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF', '.nan', '.NaN', '.NAN',
]);
const GO_INT = /^[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)$/;
const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const TIMESTAMPS = [
  /^\d{4}-\d{1,2}-\d{1,2}[Tt]\d{1,2}:\d{1,2}:\d{1,2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
  /^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}(\.\d+)?$/,
  /^\d{4}-\d{1,2}-\d{1,2}$/,
];

/** Whether go-yaml would read the plain string back as null, bool, number or timestamp. */
function resolvesToNonString(s: string): boolean {
  if (NON_STRINGS.has(s) || BASE60_FLOAT.test(s)) return true;
  if (!'+-.0123456789'.includes(s[0])) return false;
  if (TIMESTAMPS.some((r) => r.test(s))) return true;
  const plain = s.replace(/_/g, '');
  return GO_INT.test(plain) || YAML_FLOAT.test(plain) || /^-?0b[01]+$/.test(plain);
}

/** go-yaml's printable set: it emits BMP text as is, escapes the rest in double quotes. */
function isPrintable(c: string): boolean {
  const cp = c.codePointAt(0) ?? 0;
  return cp === 0x0a || (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff);
}

const isBreak = (c: string): boolean => c === '\n' || c === '\r' || c === '\u0085' || c === '\u2028' || c === '\u2029';

interface Analysis {
  multiline: boolean;
  plainAllowed: boolean;
  singleQuotedAllowed: boolean;
  blockAllowed: boolean;
}

/** go-yaml's scalar analysis, block context. */
function analyze(s: string): Analysis {
  const chars = Array.from(s);
  let blockIndicators = s.startsWith('---') || s.startsWith('...');
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let prevSpace = false;
  let prevBreak = false;
  let precededByWhitespace = true;
  chars.forEach((c, i) => {
    const next = chars[i + 1];
    const followedByWhitespace = next === undefined || next === ' ' || next === '\t' || next === '\n' || next === '\r';
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) blockIndicators = true;
      else if ((c === '?' || c === ':' || c === '-') && followedByWhitespace) blockIndicators = true;
    } else if ((c === ':' && followedByWhitespace) || (c === '#' && precededByWhitespace)) {
      blockIndicators = true;
    }
    if (!isPrintable(c)) special = true;
    if (c === ' ') {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (prevBreak) breakSpace = true;
      prevSpace = true;
      prevBreak = false;
    } else if (isBreak(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === chars.length - 1) trailingBreak = true;
      if (prevSpace) spaceBreak = true;
      prevSpace = false;
      prevBreak = true;
    } else {
      prevSpace = false;
      prevBreak = false;
    }
    precededByWhitespace = c === ' ' || c === '\t' || c === '\n' || c === '\r';
  });
  let plainAllowed = !(leadingSpace || leadingBreak || trailingSpace || trailingBreak || breakSpace || spaceBreak || special || lineBreaks || blockIndicators);
  if (s === '') plainAllowed = true;
  return {
    multiline: lineBreaks,
    plainAllowed,
    singleQuotedAllowed: !(breakSpace || spaceBreak || special),
    blockAllowed: !(trailingSpace || spaceBreak || special),
  };
}

const ESCAPES: Record<string, string> = {
  '\0': '0', '\x07': 'a', '\b': 'b', '\t': 't', '\n': 'n', '\v': 'v', '\f': 'f', '\r': 'r', '\x1b': 'e',
  '"': '"', '\\': '\\', '\u0085': 'N', '\u2028': 'L', '\u2029': 'P',
};

/**
 * Writes one scalar that starts at `column`, folding at spaces past column 80 onto new lines
 * indented by `indent` (keys are never folded). Returns the text (no trailing newline).
 */
function scalar(s: string, column: number, indent: number, isKey: boolean): string {
  const a = analyze(s);
  let style: 'plain' | 'single' | 'double' | 'literal';
  if (a.multiline && !isKey) style = 'literal';
  else style = resolvesToNonString(s) ? 'double' : 'plain';
  if (style === 'plain' && (!a.plainAllowed || (s === '' && isKey))) style = 'single';
  if (style === 'single' && !a.singleQuotedAllowed) style = 'double';
  if (style === 'literal' && !a.blockAllowed) style = 'double';

  if (style === 'literal') return literal(s, indent);
  const chars = Array.from(s);
  const quote = style === 'single' ? "'" : style === 'double' ? '"' : '';
  let out = quote;
  let col = column + quote.length;
  let prevSpace = false;
  const newline = (): void => {
    out += '\n' + ' '.repeat(indent);
    col = indent;
  };
  chars.forEach((c, i) => {
    if (c === ' ') {
      const next = chars[i + 1];
      const canFold = !isKey && !prevSpace && col > BEST_WIDTH &&
        (style === 'plain' ? next !== ' ' : style === 'single' ? i > 0 && i < chars.length - 1 && next !== ' ' : i > 0 && i < chars.length - 1);
      if (canFold) {
        newline();
        if (style === 'double' && next === ' ') {
          out += '\\';
          col++;
        }
      } else {
        out += c;
        col++;
      }
      prevSpace = true;
      return;
    }
    prevSpace = false;
    let piece = c;
    if (style === 'single' && c === "'") piece = "''";
    else if (style === 'double' && (!isPrintable(c) || isBreak(c) || c === '"' || c === '\\')) {
      const cp = c.codePointAt(0) ?? 0;
      piece = ESCAPES[c] !== undefined ? '\\' + ESCAPES[c] : cp <= 0xff ? `\\x${cp.toString(16).toUpperCase().padStart(2, '0')}`
        : cp <= 0xffff ? `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}` : `\\U${cp.toString(16).toUpperCase().padStart(8, '0')}`;
    }
    out += piece;
    col += Array.from(piece).length;
  });
  return out + quote;
}

/** A `|` block: chomping `-` without a final newline, `+` with several; lines at `indent`. */
function literal(s: string, indent: number): string {
  let hints = '|';
  if (s.startsWith(' ') || s.startsWith('\n')) hints += String(INDENT);
  if (!s.endsWith('\n')) hints += '-';
  else if (s === '\n' || s.endsWith('\n\n')) hints += '+';
  const body = s.endsWith('\n') ? s.slice(0, -1) : s;
  return hints + body.split('\n').map((line) => '\n' + (line ? ' '.repeat(indent) + line : '')).join('');
}

type Value = unknown;
const isMap = (v: Value): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function sortedKeys(m: Record<string, unknown>): string[] {
  return Object.keys(m).filter((k) => m[k] !== undefined).sort((a, b) => (a === b ? 0 : yamlKeyLess(a, b) ? -1 : 1));
}

/** A non-collection value written after `key: ` or `- ` at `column`; continuation lines at `indent`. */
function inline(v: Value, column: number, indent: number): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return '.nan';
    if (!Number.isFinite(v)) return v > 0 ? '+.inf' : '-.inf';
    return String(v);
  }
  if (Array.isArray(v)) return '[]';
  if (isMap(v)) return '{}';
  return scalar(String(v), column, indent, false);
}

/** Lines of a block mapping whose keys sit at `indent`; the first line's indent is `firstPrefix`. */
function mapping(m: Record<string, unknown>, indent: number, firstPrefix: string): string {
  let out = '';
  sortedKeys(m).forEach((k, i) => {
    const prefix = i === 0 ? firstPrefix : ' '.repeat(indent);
    const key = scalar(k, prefix.length, indent, true);
    out += prefix + key + ':' + value(m[k], indent, prefix.length + Array.from(key).length + 1);
  });
  return out;
}

/** Lines of a block sequence whose dashes sit at `indent`; the first line's indent is `firstPrefix`. */
function sequence(list: unknown[], indent: number, firstPrefix: string): string {
  let out = '';
  list.forEach((item, i) => {
    const prefix = (i === 0 ? firstPrefix : ' '.repeat(indent)) + '- ';
    if (isMap(item) && Object.keys(item).length) out += mapping(item, indent + INDENT, prefix);
    else if (Array.isArray(item) && item.length) out += sequence(item, indent + INDENT, prefix);
    else out += prefix + inline(item, prefix.length, indent + INDENT) + '\n';
  });
  return out;
}

/** What follows `key:` for a value of a mapping whose keys are at `indent`. */
function value(v: Value, indent: number, column: number): string {
  if (isMap(v) && Object.keys(v).length) return '\n' + mapping(v, indent + INDENT, ' '.repeat(indent + INDENT));
  if (Array.isArray(v) && v.length) return '\n' + sequence(v, indent, ' '.repeat(indent));
  return ' ' + inline(v, column + 1, indent + INDENT) + '\n';
}

/** The YAML document kubectl prints for a JSON-shaped value. */
export function toKubectlYaml(doc: Value): string {
  if (isMap(doc)) return Object.keys(doc).length ? mapping(doc, 0, '') : '{}\n';
  if (Array.isArray(doc)) return doc.length ? sequence(doc, 0, '') : '[]\n';
  return inline(doc, 0, 0) + '\n';
}
