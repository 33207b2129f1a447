import { describe, expect, it } from 'vitest';
import {
  everything, fieldSelectorToString, fieldsMatch, fromLabelSelector, matches, newRequirement, nothing, parseFieldSelector,
  parseSelector, selectorToString, unsupportedFieldLabel, type Selector,
} from '../../src/api/labels.js';
import type { LabelSelector } from '../../src/api/types.js';

const KEY_NAME = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

function parsed(s: string): Selector {
  const r = parseSelector(s);
  if (!r.ok) throw new Error(r.error);
  return r.selector;
}

describe('parseSelector', () => {
  it.each([
    ['app=web', 'app=web'],
    ['app==web', 'app==web'],
    ['app!=web', 'app!=web'],
    ['tier in (fe,be)', 'tier in (be,fe)'],
    ['tier notin (fe)', 'tier notin (fe)'],
    ['canary', 'canary'],
    ['!canary', '!canary'],
    ['z=1,a=2', 'a=2,z=1'],
    ['  app = web ,  canary ', 'app=web,canary'],
    ['x in (foo,,baz),y,z notin ()', 'x in (,baz,foo),y,z notin ()'],
    ['app=', 'app='],
    ['replicas>2', 'replicas>2'],
    ['replicas<5', 'replicas<5'],
    ['x in (in)', 'x in (in)'],
    ['app.kubernetes.io/name=web', 'app.kubernetes.io/name=web'],
    ['', ''],
  ])('reads %j and prints it back as %j', (input, out) => {
    expect(selectorToString(parsed(input))).toBe(out);
  });

  it.each([
    ['app web', "unable to parse requirement: found 'web', expected: in, notin, =, ==, !=, gt, lt"],
    ['app=web tier', "found 'tier', expected: ',' or 'end of string'"],
    ['app=web=x', "found '=', expected: ',' or 'end of string'"],
    ['app,', "found '', expected: identifier after ','"],
    [',app', "found ',', expected: !, identifier, or 'end of string'"],
    ['tier in fe', "unable to parse requirement: found 'fe' expected: '('"],
    ['tier in (fe', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['tier in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ['-app=web', `unable to parse requirement: <nil>: Invalid value: "-app": ${KEY_NAME}`],
    ['app=-web', `unable to parse requirement: values[0][app]: Invalid value: "-web": ${VALUE}`],
    ['replicas>two', "unable to parse requirement: values[0]: Invalid value: \"two\": for 'Gt', 'Lt' operators, the value must be an integer"],
    ['!app=web', "found '=', expected: ',' or 'end of string'"],
  ])('refuses %j with %j', (input, error) => {
    expect(parseSelector(input)).toEqual({ ok: false, error });
  });
});

describe('matches', () => {
  it.each([
    ['app=web', { app: 'web' }, true],
    ['app=web', { app: 'db' }, false],
    ['app=web', {}, false],
    ['app!=web', {}, true],
    ['app!=web', { app: 'web' }, false],
    ['tier in (fe,be)', { tier: 'fe' }, true],
    ['tier in (fe,be)', { tier: 'db' }, false],
    ['tier in (fe,be)', {}, false],
    ['tier notin (fe)', {}, true],
    ['tier notin (fe)', { tier: 'fe' }, false],
    ['canary', { canary: '' }, true],
    ['canary', {}, false],
    ['!canary', {}, true],
    ['!canary', { canary: 'yes' }, false],
    ['replicas>2', { replicas: '3' }, true],
    ['replicas>2', { replicas: '2' }, false],
    ['replicas>2', { replicas: 'many' }, false],
    ['replicas<2', { replicas: '1' }, true],
    ['app=web,tier=fe', { app: 'web', tier: 'fe' }, true],
    ['app=web,tier=fe', { app: 'web' }, false],
    ['', { anything: 'goes' }, true],
  ])('%j against %j is %s', (sel, labels, want) => {
    expect(matches(parsed(sel), labels)).toBe(want);
  });

  it('treats missing labels as an empty set', () => {
    expect(matches(parsed('!canary'), undefined)).toBe(true);
  });

  it('never matches with the nothing selector, and always with everything', () => {
    expect(matches(nothing(), {})).toBe(false);
    expect(matches(everything(), {})).toBe(true);
  });
});

describe('fromLabelSelector', () => {
  it.each<[string, LabelSelector, string]>([
    ['matchLabels alone', { matchLabels: { app: 'web' } }, 'app=web'],
    ['matchLabels and expressions, sorted by key', {
      matchLabels: { tier: 'fe' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'dev'] },
        { key: 'track', operator: 'NotIn', values: ['canary'] },
        { key: 'app', operator: 'Exists' },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    }, 'app,env in (dev,prod),!legacy,tier=fe,track notin (canary)'],
    ['an empty selector', {}, ''],
  ])('converts %s', (_, ls, out) => {
    const r = fromLabelSelector(ls);
    expect(r.ok && selectorToString(r.selector)).toBe(out);
  });

  it('matches nothing for an absent selector and everything for an empty one', () => {
    const absent = fromLabelSelector(undefined);
    const empty = fromLabelSelector({});
    expect(absent.ok && matches(absent.selector, { app: 'web' })).toBe(false);
    expect(empty.ok && matches(empty.selector, { app: 'web' })).toBe(true);
  });

  it.each<[string, LabelSelector, string]>([
    ['an unknown operator', { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['b'] }] }, '"Equals" is not a valid label selector operator'],
    ['In without values', { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"],
    ['Exists with values', { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x', 'y'] }] }, 'values: Invalid value: []string{"x", "y"}: values set must be empty for exists and does not exist'],
    ['an invalid key', { matchLabels: { '-a': 'b' } }, `key: Invalid value: "-a": ${KEY_NAME}`],
  ])('refuses %s', (_, ls, error) => {
    expect(fromLabelSelector(ls)).toEqual({ ok: false, error });
  });
});

describe('newRequirement', () => {
  it('lists every problem in brackets when there are several', () => {
    expect(newRequirement('-a', '=', [])).toEqual({
      ok: false,
      error: `[key: Invalid value: "-a": ${KEY_NAME}, values: Invalid value: []string{}: exact-match compatibility requires one single value]`,
    });
  });
});

describe('field selectors', () => {
  const pod = { 'metadata.name': 'web', 'spec.nodeName': 'node-1', 'status.phase': 'Running' };

  it.each([
    ['spec.nodeName=node-1', pod, true],
    ['spec.nodeName==node-1', pod, true],
    ['spec.nodeName=node-2', pod, false],
    ['status.phase!=Running', pod, false],
    ['status.phase!=Pending', pod, true],
    ['spec.nodeName=', { 'spec.nodeName': '' }, true],
    ['spec.nodeName=', {}, true],
    ['spec.nodeName=node-1,status.phase=Running', pod, true],
    ['spec.nodeName=node-1,status.phase=Pending', pod, false],
    ['metadata.name=a\\,b', { 'metadata.name': 'a,b' }, true],
    ['', pod, true],
  ])('%j against %j is %s', (sel, fields, want) => {
    const r = parseFieldSelector(sel);
    expect(r.ok && fieldsMatch(r.selector, fields)).toBe(want);
  });

  it.each([
    ['phase', "invalid selector: 'phase'; can't understand 'phase'"],
    ['a=b=c', 'invalid field selector: unescaped character in value: 61'],
    ['a=b\\x', 'invalid field selector: invalid escape sequence: \\x'],
    ['a=b\\', 'invalid field selector: invalid escape sequence: \\'],
  ])('refuses %j with %j', (sel, error) => {
    expect(parseFieldSelector(sel)).toEqual({ ok: false, error });
  });

  it('prints terms sorted and values escaped', () => {
    const r = parseFieldSelector('status.phase!=Running,metadata.name==a\\=b');
    expect(r.ok && fieldSelectorToString(r.selector)).toBe('metadata.name=a\\=b,status.phase!=Running');
  });

  it('names the first field a kind cannot be selected by', () => {
    const r = parseFieldSelector('metadata.name=web,spec.foo=bar');
    expect(r.ok && unsupportedFieldLabel(r.selector, ['metadata.name'])).toBe('field label not supported: spec.foo');
    expect(r.ok && unsupportedFieldLabel(r.selector, ['metadata.name', 'spec.foo'])).toBeUndefined();
  });
});
