/**
 * The JSONPath templates of `get -o jsonpath=...`, `-o custom-columns=...` and
 * `wait --for=jsonpath=...`, as kubectl's `client-go/util/jsonpath` evaluates them (missing keys
 * allowed): text outside `{}` printed as is; inside, `"literals"`, paths (`.a.b`, `['a\.b']`,
 * `[0]`, `[-1]`, `[1:3]`, `[*]`, `.*`, `[?(@.type=="Ready")]`) and `{range ...}...{end}`.
 * Recursive descent (`..`) and unions (`a,b`) are not supported. Pure: parse, then evaluate.
 */
import { CliError } from '../context.js';
import { toCompactJson } from '../print.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** One step of a path, applied to each value the previous steps produced. */
type Step =
  | { kind: 'field'; name: string }
  | { kind: 'wildcard' }
  | { kind: 'slice'; start?: number; end?: number; step?: number; single: boolean }
  | { kind: 'all' }
  | { kind: 'filter'; path: Step[]; op?: string; value?: Json }
  /** A bare word (`{metadata.name}`): kubectl accepts it and then fails evaluating it. */
  | { kind: 'identifier'; name: string };

type TemplateNode =
  | { kind: 'text'; text: string }
  | { kind: 'path'; steps: Step[] }
  | { kind: 'range'; steps: Step[]; body: TemplateNode[] }
  | { kind: 'end' };

/** A parsed template; evaluate it with {@link executeJsonPath} or {@link findResults}. */
export interface JsonPath {
  source: string;
  nodes: TemplateNode[];
}

class ParseError extends Error {}
/** An error while evaluating (kubectl's "Error executing template: ..."). */
export class JsonPathExecError extends Error {}

const FIELD_END = new Set(['.', '[', ']', ' ', '(', ')', '=', '!', '<', '>', ',', '}', '{', '"', "'", '@', '$']);

/** Reads a field name at `i` (`\.` escapes a dot); returns the name and where it stopped. */
function readName(s: string, i: number): [string, number] {
  let name = '';
  while (i < s.length && !FIELD_END.has(s[i])) {
    if (s[i] === '\\' && i + 1 < s.length) {
      name += s[i + 1];
      i += 2;
    } else {
      name += s[i++];
    }
  }
  return [name, i];
}

/** Splits `a\.b.c` into fields `a.b` and `c` (the form kubectl gives `['...']` keys). */
function fieldsOf(key: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  while (i <= key.length) {
    let name = '';
    while (i < key.length && key[i] !== '.') {
      if (key[i] === '\\' && i + 1 < key.length) {
        name += key[i + 1];
        i += 2;
      } else {
        name += key[i++];
      }
    }
    steps.push({ kind: 'field', name });
    i++;
  }
  return steps;
}

/** The index of the bracket closing the one at `i`, quotes respected. */
function closingBracket(s: string, i: number): number {
  let depth = 0;
  let quote = '';
  for (let j = i; j < s.length; j++) {
    const c = s[j];
    if (quote) {
      if (c === '\\') j++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '[') {
      depth++;
    } else if (c === ']' && --depth === 0) {
      return j;
    }
  }
  return -1;
}

/** A literal in a filter or an action: `"x"` (Go escapes), `'x'`, a number, true/false. */
function parseLiteral(text: string): Json {
  const t = text.trim();
  if (t.startsWith('"')) return unquote(t);
  if (t.startsWith("'") && t.endsWith("'") && t.length >= 2) return t.slice(1, -1);
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  throw new ParseError(`unrecognized literal ${t}`);
}

/** A double-quoted Go string literal's value. */
function unquote(t: string): string {
  try {
    const v: unknown = JSON.parse(t.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1').replace(/\\a/g, '\\u0007').replace(/\\v/g, '\\u000b'));
    if (typeof v === 'string') return v;
  } catch {
    // fall through: not a well-formed quoted string
  }
  throw new ParseError('unterminated quoted string');
}

function parseFilter(body: string): Step {
  const m = /^\s*(@[^=!<>\s]*)\s*(==|!=|<=|>=|<|>)?\s*(.*?)\s*$/.exec(body);
  if (!m) throw new ParseError(`unrecognized filter ${body}`);
  const path = parsePath(m[1]);
  if (!m[2]) {
    if (m[3]) throw new ParseError(`unrecognized filter ${body}`);
    return { kind: 'filter', path };
  }
  return { kind: 'filter', path, op: m[2], value: parseLiteral(m[3]) };
}

function parseBracket(content: string): Step {
  if (content === '*') return { kind: 'all' };
  if (content.startsWith('?(') && content.endsWith(')')) return parseFilter(content.slice(2, -1));
  const parts = content.split(':');
  const isInt = (p: string): boolean => /^-?\d+$/.test(p);
  if (parts.length > 3 || !parts.every((p) => p === '' || isInt(p)) || (parts.length === 1 && !isInt(parts[0]))) {
    throw new ParseError(`invalid array index ${content}`);
  }
  const num = (p: string | undefined): number | undefined => (p === undefined || p === '' ? undefined : Number(p));
  if (parts.length === 1) return { kind: 'slice', start: Number(parts[0]), single: true };
  return { kind: 'slice', start: num(parts[0]), end: num(parts[1]), step: num(parts[2]), single: false };
}

/** Parses the path inside an action (`.a.b[0]`, `$.a`, `@.a`, `.`). */
function parsePath(expr: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  if (expr[i] === '$' || expr[i] === '@') i++;
  while (i < expr.length) {
    const c = expr[i];
    if (c === '.') {
      if (expr[i + 1] === '.') throw new ParseError('recursive descent (..) is not supported');
      if (expr[i + 1] === '*') {
        steps.push({ kind: 'wildcard' });
        i += 2;
        continue;
      }
      const [name, next] = readName(expr, i + 1);
      if (name) steps.push({ kind: 'field', name });
      i = next;
    } else if (c === '[') {
      const close = closingBracket(expr, i);
      if (close < 0) throw new ParseError('unterminated array');
      const content = expr.slice(i + 1, close);
      if (/^'.*'$/.test(content)) steps.push(...fieldsOf(content.slice(1, -1)));
      else steps.push(parseBracket(content));
      i = close + 1;
    } else if (c !== ' ' && !FIELD_END.has(c) && i === 0) {
      const [name, next] = readName(expr, i);
      steps.push({ kind: 'identifier', name });
      i = next;
    } else {
      throw new ParseError(`unrecognized character in action: U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} '${c}'`);
    }
  }
  return steps;
}

/** Finds the `}` ending the action that starts at `i` (after its `{`), quotes respected. */
function actionEnd(s: string, i: number): number {
  let quote = '';
  for (let j = i; j < s.length; j++) {
    const c = s[j];
    if (quote) {
      if (c === '\\') j++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '}') {
      return j;
    }
  }
  return -1;
}

/**
 * Parses a template. Throws a CliError worded as kubectl's:
 * `error parsing jsonpath {.a[}, unterminated array`.
 */
export function parseJsonPath(source: string): JsonPath {
  const root: TemplateNode[] = [];
  const stack: TemplateNode[][] = [root];
  try {
    let i = 0;
    while (i < source.length) {
      const open = source.indexOf('{', i);
      if (open < 0) {
        stack[stack.length - 1].push({ kind: 'text', text: source.slice(i) });
        break;
      }
      if (open > i) stack[stack.length - 1].push({ kind: 'text', text: source.slice(i, open) });
      const close = actionEnd(source, open + 1);
      if (close < 0) throw new ParseError('unclosed action');
      const action = source.slice(open + 1, close).trim();
      const top = stack[stack.length - 1];
      if (action === 'end') {
        if (stack.length > 1) stack.pop();
        else top.push({ kind: 'end' });
      } else if (/^range\s/.test(action)) {
        const node: TemplateNode = { kind: 'range', steps: parsePath(action.slice(5).trim()), body: [] };
        top.push(node);
        stack.push(node.body);
      } else if (action.startsWith('"') || action.startsWith("'")) {
        top.push({ kind: 'text', text: String(parseLiteral(action)) });
      } else {
        top.push({ kind: 'path', steps: parsePath(action) });
      }
      i = close + 1;
    }
  } catch (e) {
    if (e instanceof ParseError) throw new CliError(`error parsing jsonpath ${source}, ${e.message}`);
    throw e;
  }
  return { source, nodes: root };
}

const isMap = (v: Json): v is { [k: string]: Json } => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Go's type name for values an array step cannot index, as its error says. */
function goType(v: Json): string {
  if (isMap(v)) return 'map[string]interface {}';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  return 'interface {}';
}

function asArray(v: Json): Json[] {
  if (Array.isArray(v)) return v;
  throw new JsonPathExecError(`${goType(v)} is not array or slice`);
}

/** A filter without operator (`[?(@.x)]`) keeps items where the path leads to a non-null value. */
const present = (v: Json | undefined): boolean => v !== undefined && v !== null;

function compare(a: Json, op: string, b: Json): boolean {
  const both = typeof a === 'number' && typeof b === 'number';
  const x = both ? a : formatValue(a);
  const y = both ? b : formatValue(b);
  switch (op) {
    case '==': return x === y;
    case '!=': return x !== y;
    case '<': return x < y;
    case '>': return x > y;
    case '<=': return x <= y;
    default: return x >= y;
  }
}

function applySlice(arr: Json[], s: Extract<Step, { kind: 'slice' }>): Json[] {
  const len = arr.length;
  let start = s.start ?? 0;
  if (start < 0) start += len;
  let end: number;
  if (s.single) end = start + 1;
  else {
    end = s.end ?? len;
    if (end < 0) end += len;
  }
  if (start === end) return [];
  if (start >= len || start < 0) throw new JsonPathExecError(`array index out of bounds: index ${start}, length ${len}`);
  if (end > len || end < 0) throw new JsonPathExecError(`array index out of bounds: index ${end - 1}, length ${len}`);
  if (start > end) throw new JsonPathExecError(`starting index ${start} is greater than ending index ${end}`);
  const step = s.step ?? 1;
  if (step <= 0) throw new JsonPathExecError('step must be > 0');
  const out: Json[] = [];
  for (let i = start; i < end; i += step) out.push(arr[i]);
  return out;
}

/** Applies path steps to each value; missing fields yield nothing (kubectl allows missing keys). */
function evalSteps(values: Json[], steps: Step[]): Json[] {
  let cur = values;
  for (const step of steps) {
    const next: Json[] = [];
    for (const v of cur) {
      switch (step.kind) {
        case 'field':
          if (isMap(v) && Object.prototype.hasOwnProperty.call(v, step.name)) next.push(v[step.name]);
          break;
        case 'wildcard':
          if (isMap(v)) for (const k of Object.keys(v).sort()) next.push(v[k]);
          else if (Array.isArray(v)) next.push(...v);
          break;
        case 'all':
          next.push(...asArray(v));
          break;
        case 'slice':
          next.push(...applySlice(asArray(v), step));
          break;
        case 'identifier':
          throw new JsonPathExecError(`unrecognized identifier ${step.name}`);
        case 'filter':
          for (const item of asArray(v)) {
            const found = evalSteps([item], step.path);
            if (step.op === undefined ? present(found[0]) : found.some((f) => compare(f, step.op!, step.value ?? null))) next.push(item);
          }
          break;
      }
    }
    cur = next;
  }
  return cur;
}

/** How a value prints in jsonpath output: strings bare, maps and lists as JSON, null as `null`. */
export function formatValue(v: Json): string {
  if (typeof v === 'string') return v;
  if (v === null) return 'null';
  if (typeof v === 'object') return toCompactJson(v);
  return String(v);
}

/** Go's `%#v` of an unstructured value, as kubectl shows the object in jsonpath errors. */
function goSyntax(v: Json): string {
  if (v === null) return 'interface {}(nil)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[]interface {}{${v.map(goSyntax).join(', ')}}`;
  if (isMap(v)) return `map[string]interface {}{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${goSyntax(v[k])}`).join(', ')}}`;
  return String(v);
}

/** Go's `%v` of an unstructured value, as custom columns print it (`map[a:b]`, `[x y]`, `<nil>`). */
export function goSprint(v: Json): string {
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goSprint).join(' ')}]`;
  if (isMap(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goSprint(v[k])}`).join(' ')}]`;
  return String(v);
}

function run(nodes: TemplateNode[], data: Json, out: string[]): void {
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        out.push(node.text);
        break;
      case 'path':
        out.push(evalSteps([data], node.steps).map(formatValue).join(' '));
        break;
      case 'range':
        for (const item of evalSteps([data], node.steps)) run(node.body, item, out);
        break;
      case 'end':
        throw new JsonPathExecError('not in range, nothing to end');
    }
  }
}

/**
 * Evaluates a template against an object (or a `List`). Throws a CliError worded as kubectl's
 * (`error executing jsonpath "{.a[5]}": Error executing template: array index out of bounds: ...`).
 */
export function executeJsonPath(jp: JsonPath, data: unknown): string {
  const out: string[] = [];
  try {
    run(jp.nodes, data as Json, out);
  } catch (e) {
    if (e instanceof JsonPathExecError) {
      throw new CliError(`error executing jsonpath ${JSON.stringify(jp.source)}: Error executing template: ${e.message}. ` +
        `Printing more information for debugging the template:\n\ttemplate was:\n\t\t${jp.source}\n\tobject given to jsonpath engine was:\n\t\t${goSyntax(data as Json)}\n\n`);
    }
    throw e;
  }
  return out.join('');
}

/**
 * The values of a single-path template (`{.status.phase}`), as kubectl's `FindResults` gives
 * them to custom columns and `wait --for=jsonpath`. Evaluation errors throw JsonPathExecError.
 */
export function findResults(jp: JsonPath, data: unknown): unknown[] {
  const path = jp.nodes.find((n): n is Extract<TemplateNode, { kind: 'path' }> => n.kind === 'path');
  return path ? evalSteps([data as Json], path.steps) : [];
}

/**
 * kubectl's `RelaxedJSONPathExpression`: `metadata.name`, `.metadata.name`, `{metadata.name}`
 * and `{.metadata.name}` all become `{.metadata.name}`.
 */
export function relaxedJsonPath(expr: string): string {
  if (!expr) return expr;
  const m = /^\{\.?([^{}]+)\}$|^\.?([^{}]+)$/.exec(expr);
  if (!m) throw new CliError("unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'");
  return `{.${m[1] ?? m[2]}}`;
}

/** One column of `-o custom-columns=HEADER:PATH,...`. */
export interface CustomColumn {
  header: string;
  path: JsonPath;
}

/** Parses `NAME:.metadata.name,IP:.status.podIP` (kubectl's errors for malformed specs). */
export function parseCustomColumns(spec: string): CustomColumn[] {
  if (!spec) throw new CliError('custom-columns format specified but no custom columns given');
  return spec.split(',').map((part) => {
    const i = part.indexOf(':');
    if (i < 0) throw new CliError(`unexpected custom-columns spec: ${part}, expected <header>:<json-path-expr>`);
    return { header: part.slice(0, i), path: parseJsonPath(relaxedJsonPath(part.slice(i + 1))) };
  });
}

/** One object's cells: each column's values joined by commas, `<none>` when there are none. */
export function customColumnCells(columns: CustomColumn[], obj: unknown): string[] {
  return columns.map((c) => {
    let values: unknown[];
    try {
      values = findResults(c.path, obj);
    } catch (e) {
      if (e instanceof JsonPathExecError) throw new CliError(e.message);
      throw e;
    }
    return values.length ? values.map((v) => goSprint(v as Json)).join(',') : '<none>';
  });
}
