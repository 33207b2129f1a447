/**
 * Label selectors (`app=web,tier in (fe,be),!canary`) and field selectors
 * (`spec.nodeName=node-1,status.phase!=Running`), parsed, matched and printed as
 * `k8s.io/apimachinery/pkg/labels` and `pkg/fields` do, including their error messages.
 *
 * All functions are pure. Parse functions never throw: they return `{ ok: false, error }`.
 */
import type { LabelSelector } from './types.js';
import { isQualifiedName, isValidLabelValue } from './names.js';

/** Label selector operators, spelled as Kubernetes' `selection.Operator`. */
export type SelectorOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'gt' | 'lt' | 'exists' | '!';

/** One condition on one label key; a selector is the AND of its requirements. */
export interface Requirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** Sorted for `in`/`notin` parsed from strings; one value for `=`, `==`, `!=`, `gt`, `lt`; none otherwise. */
  readonly values: readonly string[];
}

/**
 * A parsed label selector. `requirements` are sorted by key. `nothing` marks the selector of a
 * nil `LabelSelector`, which matches no object; an empty requirement list matches everything.
 */
export interface Selector {
  readonly requirements: readonly Requirement[];
  readonly nothing?: boolean;
}

export type ParseResult<T> = { ok: true; selector: T } | { ok: false; error: string };

/** The selector that matches every object. */
export const everything = (): Selector => ({ requirements: [] });
/** The selector that matches no object (what a nil `LabelSelector` means). */
export const nothing = (): Selector => ({ requirements: [], nothing: true });

const BINARY_OPERATORS = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];
const ALL_OPERATORS = [...BINARY_OPERATORS, 'exists', '!'];

/** Go's `%#v` of a `[]string`, which Kubernetes prints in requirement errors. */
const goStrings = (vals: readonly string[]): string => `[]string{${vals.map((v) => JSON.stringify(v)).join(', ')}}`;

/** Go's `strconv.ParseInt(s, 10, 64)` succeeds. */
function isInt64(s: string): boolean {
  if (!/^[+-]?[0-9]+$/.test(s)) return false;
  const n = BigInt(s);
  return n >= -(1n << 63n) && n < 1n << 63n;
}

function keyError(key: string, path: string): string | undefined {
  const errs = isQualifiedName(key);
  return errs.length ? `${path}: Invalid value: ${JSON.stringify(key)}: ${errs.join('; ')}` : undefined;
}

/**
 * Builds one requirement with Kubernetes' checks (`NewRequirement`): a valid key, the right
 * number of values for the operator, and valid label values. Errors read like
 * `values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty`.
 */
export function newRequirement(key: string, operator: SelectorOperator, values: readonly string[]): { ok: true; requirement: Requirement } | { ok: false; error: string } {
  const errs: string[] = [];
  const ke = keyError(key, 'key');
  if (ke) errs.push(ke);
  switch (operator) {
    case 'in': case 'notin':
      if (values.length === 0) errs.push(`values: Invalid value: ${goStrings(values)}: for 'in', 'notin' operators, values set can't be empty`);
      break;
    case '=': case '==': case '!=':
      if (values.length !== 1) errs.push(`values: Invalid value: ${goStrings(values)}: exact-match compatibility requires one single value`);
      break;
    case 'exists': case '!':
      if (values.length !== 0) errs.push(`values: Invalid value: ${goStrings(values)}: values set must be empty for exists and does not exist`);
      break;
    case 'gt': case 'lt':
      if (values.length !== 1) errs.push(`values: Invalid value: ${goStrings(values)}: for 'Gt', 'Lt' operators, exactly one value is required`);
      values.forEach((v, i) => {
        if (!isInt64(v)) errs.push(`values[${i}]: Invalid value: ${JSON.stringify(v)}: for 'Gt', 'Lt' operators, the value must be an integer`);
      });
      break;
    default:
      errs.push(`operator: Unsupported value: ${JSON.stringify(operator)}: supported values: ${ALL_OPERATORS.map((o) => `"${o}"`).join(', ')}`);
  }
  values.forEach((v, i) => {
    const ve = isValidLabelValue(v);
    if (ve.length) errs.push(`values[${i}][${key}]: Invalid value: ${JSON.stringify(v)}: ${ve.join('; ')}`);
  });
  if (errs.length) return { ok: false, error: errs.length === 1 ? errs[0] : `[${errs.join(', ')}]` };
  return { ok: true, requirement: { key, operator, values: [...values] } };
}

// ---- lexer ----

type Tok = 'error' | 'eos' | ')' | ',' | '!' | '==' | '=' | '>' | 'id' | 'in' | '<' | '!=' | 'notin' | '(';
interface Item { tok: Tok; lit: string }

const SYMBOLS: Record<string, Tok> = { ')': ')', ',': ',', '!': '!', '==': '==', '=': '=', '>': '>', in: 'in', '<': '<', '!=': '!=', notin: 'notin', '(': '(' };
const isSpecial = (c: string): boolean => '=!(),><'.includes(c);
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

function lex(s: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isSpace(s[pos])) pos++;
    if (pos >= s.length || s[pos] === '\0') { items.push({ tok: 'eos', lit: '' }); return items; }
    if (isSpecial(s[pos])) {
      let buf = '';
      let last: Item | undefined;
      while (pos < s.length && isSpecial(s[pos])) {
        const next = buf + s[pos];
        if (next in SYMBOLS) { last = { tok: SYMBOLS[next], lit: next }; buf = next; pos++; }
        else if (last) break;
        else { buf = next; pos++; }
      }
      items.push(last ?? { tok: 'error', lit: `error expected: keyword found '${buf}'` });
    } else {
      const start = pos;
      while (pos < s.length && s[pos] !== '\0' && !isSpecial(s[pos]) && !isSpace(s[pos])) pos++;
      const word = s.slice(start, pos);
      items.push({ tok: word === 'in' || word === 'notin' ? word : 'id', lit: word });
    }
  }
}

// ---- parser (Kubernetes' grammar: requirement {, requirement}) ----

class Parser {
  private pos = 0;
  constructor(private readonly items: Item[]) {}

  /** In a value position `in` and `notin` are plain words (`x in (in)`). */
  private look(values: boolean): Item {
    const it = this.items[Math.min(this.pos, this.items.length - 1)];
    return values && (it.tok === 'in' || it.tok === 'notin') ? { tok: 'id', lit: it.lit } : it;
  }
  private take(values: boolean): Item {
    const it = this.look(values);
    this.pos++;
    return it;
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    for (;;) {
      const { tok, lit } = this.look(true);
      if (tok === 'eos') return reqs;
      if (tok !== 'id' && tok !== '!') throw new Error(`found '${lit}', expected: !, identifier, or 'end of string'`);
      let r: Requirement;
      try {
        r = this.requirement();
      } catch (e) {
        throw new Error(`unable to parse requirement: ${(e as Error).message}`);
      }
      reqs.push(r);
      const t = this.take(true);
      if (t.tok === 'eos') return reqs;
      if (t.tok !== ',') throw new Error(`found '${t.lit}', expected: ',' or 'end of string'`);
      const t2 = this.look(true);
      if (t2.tok !== 'id' && t2.tok !== '!') throw new Error(`found '${t2.lit}', expected: identifier after ','`);
    }
  }

  private requirement(): Requirement {
    let operator: SelectorOperator | undefined;
    let t = this.take(true);
    if (t.tok === '!') { operator = '!'; t = this.take(true); }
    if (t.tok !== 'id') throw new Error(`found '${t.lit}', expected: identifier`);
    const key = t.lit;
    const ke = keyError(key, '<nil>');
    if (ke) throw new Error(ke);
    const next = this.look(true).tok;
    if (next === 'eos' || next === ',') operator ??= 'exists';
    if (operator === 'exists' || operator === '!') return this.build(key, operator, []);

    const op = this.take(false);
    const ops: Partial<Record<Tok, SelectorOperator>> = { in: 'in', '=': '=', '==': '==', '>': 'gt', '<': 'lt', notin: 'notin', '!=': '!=' };
    const binary = ops[op.tok];
    if (!binary) throw new Error(`found '${op.lit}', expected: ${BINARY_OPERATORS.join(', ')}`);
    const values = binary === 'in' || binary === 'notin' ? this.valueSet() : this.exactValue();
    return this.build(key, binary, [...new Set(values)].sort());
  }

  private build(key: string, op: SelectorOperator, values: string[]): Requirement {
    const r = newRequirement(key, op, values);
    if (!r.ok) throw new Error(r.error);
    return r.requirement;
  }

  private valueSet(): string[] {
    const open = this.take(true);
    if (open.tok !== '(') throw new Error(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.look(true);
    if (tok === ')') { this.take(true); return ['']; }
    if (tok !== 'id' && tok !== ',') throw new Error(`found '${lit}', expected: ',', ')' or identifier`);
    const vals = this.identifiers();
    if (this.take(true).tok !== ')') throw new Error(`found '${lit}', expected: ')'`);
    return vals;
  }

  private identifiers(): string[] {
    const vals: string[] = [];
    for (;;) {
      const t = this.take(true);
      if (t.tok === 'id') {
        vals.push(t.lit);
        const t2 = this.look(true);
        if (t2.tok === ',') continue;
        if (t2.tok === ')') return vals;
        throw new Error(`found '${t2.lit}', expected: ',' or ')'`);
      } else if (t.tok === ',') {
        // `(,a)`, `(a,,b)` and `(a,)` each contribute the empty value.
        if (vals.length === 0) vals.push('');
        const t2 = this.look(true).tok;
        if (t2 === ')') { vals.push(''); return vals; }
        if (t2 === ',') vals.push('');
      } else {
        throw new Error(`found '${t.lit}', expected: ',', or identifier`);
      }
    }
  }

  private exactValue(): string[] {
    const { tok } = this.look(true);
    if (tok === 'eos' || tok === ',') return [''];
    const t = this.take(true);
    if (t.tok === 'id') return [t.lit];
    throw new Error(`found '${t.lit}', expected: identifier`);
  }
}

const byKey = (a: Requirement, b: Requirement): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * Parses the string form used by `kubectl -l` and `?labelSelector=`: `a=b`, `a==b`, `a!=b`,
 * `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, comma-separated. The empty string
 * selects everything. Errors are Kubernetes' own, e.g.
 * `unable to parse requirement: <nil>: Invalid value: "-a": name part must consist of ...`.
 */
export function parseSelector(input: string): ParseResult<Selector> {
  try {
    const reqs = new Parser(lex(input)).parse();
    return { ok: true, selector: { requirements: [...reqs].sort(byKey) } };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/**
 * Converts an API `LabelSelector` (`matchLabels` + `matchExpressions`) as Kubernetes'
 * `LabelSelectorAsSelector` does: undefined matches nothing, `{}` matches everything.
 */
export function fromLabelSelector(ls: LabelSelector | undefined | null): ParseResult<Selector> {
  if (!ls) return { ok: true, selector: nothing() };
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(ls.matchLabels ?? {})) {
    const r = newRequirement(k, '=', [v]);
    if (!r.ok) return r;
    reqs.push(r.requirement);
  }
  const ops: Record<string, SelectorOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };
  for (const expr of ls.matchExpressions ?? []) {
    const op = ops[expr.operator];
    if (!op) return { ok: false, error: `${JSON.stringify(expr.operator)} is not a valid label selector operator` };
    const r = newRequirement(expr.key, op, expr.values ?? []);
    if (!r.ok) return r;
    reqs.push(r.requirement);
  }
  return { ok: true, selector: { requirements: reqs.sort(byKey) } };
}

function requirementMatches(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const val = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case 'in': case '=': case '==':
      return has && r.values.includes(val as string);
    case 'notin': case '!=':
      return !has || !r.values.includes(val as string);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt': case 'lt': {
      if (!has || !isInt64(val as string) || r.values.length !== 1 || !isInt64(r.values[0])) return false;
      const lv = BigInt(val as string);
      const rv = BigInt(r.values[0]);
      return r.operator === 'gt' ? lv > rv : lv < rv;
    }
    default:
      return false;
  }
}

/** Whether the labels satisfy every requirement (a missing label map is an empty one). */
export function matches(selector: Selector, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (selector.nothing) return false;
  return selector.requirements.every((r) => requirementMatches(r, labels ?? {}));
}

function requirementToString(r: Requirement): string {
  const neg = r.operator === '!' ? '!' : '';
  if (r.operator === 'exists' || r.operator === '!') return `${neg}${r.key}`;
  const op = { '=': '=', '==': '==', '!=': '!=', in: ' in ', notin: ' notin ', gt: '>', lt: '<' }[r.operator];
  const vals = r.values.length === 1 ? r.values[0] : [...r.values].sort().join(',');
  return r.operator === 'in' || r.operator === 'notin' ? `${r.key}${op}(${vals})` : `${r.key}${op}${vals}`;
}

/** The canonical string form (`app=web,tier in (be,fe)`), as `kubectl describe` prints it. */
export const selectorToString = (selector: Selector): string => selector.requirements.map(requirementToString).join(',');

// ---- field selectors ----

/** One field selector term: `field=value` (`==` is the same) or `field!=value`. */
export interface FieldRequirement {
  readonly field: string;
  readonly operator: '=' | '!=';
  readonly value: string;
}

/** A field selector: the AND of its terms (none selects everything). */
export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
}

function splitTerms(s: string): string[] {
  if (s.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < s.length; i++) {
    if (escaped) escaped = false;
    else if (s[i] === '\\') escaped = true;
    else if (s[i] === ',') { terms.push(s.slice(start, i)); start = i + 1; }
  }
  terms.push(s.slice(start));
  return terms;
}

function unescapeValue(s: string): { ok: true; value: string } | { ok: false; error: string } {
  let out = '';
  let escaped = false;
  for (const c of s) {
    if (escaped) {
      if (c !== '\\' && c !== ',' && c !== '=') return { ok: false, error: `invalid field selector: invalid escape sequence: \\${c}` };
      out += c;
      escaped = false;
    } else if (c === '\\') {
      escaped = true;
    } else if (c === ',' || c === '=') {
      // Kubernetes prints the rune as a number here.
      return { ok: false, error: `invalid field selector: unescaped character in value: ${c.codePointAt(0)}` };
    } else {
      out += c;
    }
  }
  if (escaped) return { ok: false, error: 'invalid field selector: invalid escape sequence: \\' };
  return { ok: true, value: out };
}

/** Escapes `\`, `,` and `=` in a field selector value. */
export const escapeFieldValue = (v: string): string => v.replace(/[\\,=]/g, (c) => `\\${c}`);

/**
 * Parses `?fieldSelector=` syntax: `spec.nodeName=node-1`, `==`, `!=`, comma-separated, with
 * `\,` `\=` `\\` escapes in values. Errors read like
 * `invalid selector: 'foo'; can't understand 'foo'`.
 */
export function parseFieldSelector(input: string): ParseResult<FieldSelector> {
  const reqs: FieldRequirement[] = [];
  for (const part of splitTerms(input).sort()) {
    if (part === '') continue;
    let found: { lhs: string; op: '=' | '!='; rhs: string } | undefined;
    for (let i = 0; i < part.length && !found; i++) {
      const rest = part.slice(i);
      if (rest.startsWith('!=')) found = { lhs: part.slice(0, i), op: '!=', rhs: part.slice(i + 2) };
      else if (rest.startsWith('==')) found = { lhs: part.slice(0, i), op: '=', rhs: part.slice(i + 2) };
      else if (rest.startsWith('=')) found = { lhs: part.slice(0, i), op: '=', rhs: part.slice(i + 1) };
    }
    if (!found) return { ok: false, error: `invalid selector: '${input}'; can't understand '${part}'` };
    const v = unescapeValue(found.rhs);
    if (!v.ok) return v;
    reqs.push({ field: found.lhs, operator: found.op, value: v.value });
  }
  return { ok: true, selector: { requirements: reqs } };
}

/** Whether the object's selectable fields satisfy every term; a missing field reads as `''`. */
export function fieldsMatch(selector: FieldSelector, fields: Readonly<Record<string, string>>): boolean {
  return selector.requirements.every((r) => {
    const v = Object.prototype.hasOwnProperty.call(fields, r.field) ? fields[r.field] : '';
    return r.operator === '=' ? v === r.value : v !== r.value;
  });
}

/**
 * The first field the selector names that is not in `supported`, as the API server's error
 * `field label not supported: spec.foo`; undefined when all are supported.
 */
export function unsupportedFieldLabel(selector: FieldSelector, supported: readonly string[]): string | undefined {
  const bad = selector.requirements.find((r) => !supported.includes(r.field));
  return bad ? `field label not supported: ${bad.field}` : undefined;
}

/** The string form, values escaped (`metadata.name=a\,b,status.phase!=Running`). */
export const fieldSelectorToString = (selector: FieldSelector): string =>
  selector.requirements.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(',');

/** `k=v,k2=v2` sorted by key, or `<none>` (`labels.FormatLabels`), as kubectl prints label maps. */
export function formatLabels(labels: Readonly<Record<string, string>> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${labels?.[k] ?? ''}`).join(',') : '<none>';
}
