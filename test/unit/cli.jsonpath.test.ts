/** JSONPath templates and custom columns, as kubectl evaluates and prints them. */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/api/types.js';
import {
  customColumnCells, executeJsonPath, goSprint, parseCustomColumns, parseJsonPath, relaxedJsonPath,
} from '../../src/cli/commands/jsonpath.js';
import { parseOutput, runGet } from '../../src/cli/commands/get.js';
import { FakeClient, GLOBALS, POD_REF, fakeDeps } from './cli.fakes.js';
import { nginxPod, pendingPod } from './cli.fixtures.js';

const pod = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web', labels: { app: 'web', 'app.kubernetes.io/name': 'x' } },
  spec: { containers: [{ name: 'a', image: 'nginx:2' }, { name: 'b', image: 'busybox' }], terminationGracePeriodSeconds: 30, hostNetwork: true },
  status: { podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'False' }], startTime: null },
};
const list = { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: [pod, { ...pod, metadata: { name: 'db' }, status: {} }] };

const run = (template: string, data: unknown = pod): string => executeJsonPath(parseJsonPath(template), data);

describe('jsonpath templates (outputs checked against kubectl 1.32)', () => {
  const cases: [string, string, unknown, string][] = [
    ['a field', '{.status.podIP}', pod, '10.0.0.1'],
    ['text around actions, kept as is', 'ip={.status.podIP}\\n', pod, 'ip=10.0.0.1\\n'],
    ['every item, space-separated', '{.items[*].metadata.name}', list, 'web db'],
    ['an index, a negative index and a slice', '{.items[0].metadata.name} {.spec.containers[-1].name} {.spec.containers[0:1].name}', { ...pod, items: list.items }, 'web b a'],
    ['maps and lists as JSON, null as null', '{.metadata.labels}|{.status.conditions[0]}|{.status.startTime}', pod,
      '{"app":"web","app.kubernetes.io/name":"x"}|{"status":"True","type":"Ready"}|null'],
    ['numbers and booleans', '{.spec.terminationGracePeriodSeconds} {.spec.hostNetwork}', pod, '30 true'],
    ['missing keys print nothing', '{.metadata.name}{.nope.deeper}{.spec.containers.name}', pod, 'web'],
    ['escaped dots and quoted keys', "{.metadata.labels.app\\.kubernetes\\.io/name}{.metadata.labels['app\\.kubernetes\\.io/name']}{.metadata['labels']['app']}", pod, 'xxweb'],
    ['filters', '{.status.conditions[?(@.type=="Ready")].status} {.spec.containers[?(@.name!="a")].image}', pod, 'True busybox'],
    ['existence filters', "{.status.conditions[?(@.status)].type} {.status.conditions[?(@.type=='Ready')].status}", pod, 'Ready PodScheduled True'],
    ['literals with Go escapes', '{.metadata.name}{"\\t"}{\'x\'}{"\\n"}', pod, 'web\tx\n'],
    ['range over items', '{range .items[*]}{.metadata.name}{"\\t"}{.status.podIP}{"\\n"}{end}', list, 'web\t10.0.0.1\ndb\t\n'],
    ['range with $ and @ meaning the current item', '{range .spec.containers[*]}[{@.name}{$.image}]{end}', pod, '[anginx:2][bbusybox]'],
    ['range over a value that is not a list: once', '{range .metadata.name}[{@}]{end}', pod, '[web]'],
    ['a range without end runs to the end', '{range .spec.containers[*]}{.name}', pod, 'ab'],
    ['the whole object', '{}', { a: 1 }, '{"a":1}'],
    ['spaces inside braces', '{ .metadata.name }', pod, 'web'],
  ];
  for (const [name, template, data, want] of cases) {
    it(name, () => expect(run(template, data)).toBe(want));
  }

  it('reports parse errors as kubectl does', () => {
    expect(() => parseJsonPath('{.a')).toThrow('error parsing jsonpath {.a, unclosed action');
    expect(() => parseJsonPath('{.a[}')).toThrow('error parsing jsonpath {.a[}, unterminated array');
    expect(() => parseJsonPath('{.a[x]}')).toThrow('error parsing jsonpath {.a[x]}, invalid array index x');
    expect(() => parseJsonPath('{.a["b"]}')).toThrow('error parsing jsonpath {.a["b"]}, invalid array index "b"');
    expect(() => parseJsonPath('{.a,.b}')).toThrow("unrecognized character in action: U+002C ','");
  });

  it('reports evaluation errors as kubectl does, with the object in Go syntax', () => {
    expect(() => executeJsonPath(parseJsonPath('{.a[5]}'), { a: ['x', 1, null] })).toThrow(
      'error executing jsonpath "{.a[5]}": Error executing template: array index out of bounds: index 5, length 3. ' +
      'Printing more information for debugging the template:\n\ttemplate was:\n\t\t{.a[5]}\n\tobject given to jsonpath engine was:\n\t\t' +
      'map[string]interface {}{"a":[]interface {}{"x", 1, interface {}(nil)}}\n\n',
    );
    expect(() => run('{.metadata.labels[*]}')).toThrow('map[string]interface {} is not array or slice');
    expect(() => run('{.metadata.name[0]}')).toThrow('string is not array or slice');
    expect(() => run('{.spec.containers[::-1]}')).toThrow('step must be > 0');
    expect(() => run('{end}')).toThrow('not in range, nothing to end');
    expect(() => run('{metadata.name}')).toThrow('unrecognized identifier metadata');
  });
});

describe('custom columns', () => {
  it('relaxes paths the way kubectl does', () => {
    for (const p of ['metadata.name', '.metadata.name', '{metadata.name}', '{.metadata.name}']) expect(relaxedJsonPath(p)).toBe('{.metadata.name}');
    expect(() => relaxedJsonPath('{a}{b}')).toThrow('unexpected path string');
  });

  it('prints values with Go\'s %v, several joined by commas, <none> when there are none', () => {
    const cols = parseCustomColumns('NAME:.metadata.name,C:.spec.containers[*].name,L:.metadata.labels,X:.status.nothing,N:.status.startTime');
    expect(cols.map((c) => c.header)).toEqual(['NAME', 'C', 'L', 'X', 'N']);
    expect(customColumnCells(cols, pod)).toEqual(['web', 'a,b', 'map[app:web app.kubernetes.io/name:x]', '<none>', '<nil>']);
    expect(goSprint([{ a: [1, 'x'] }])).toBe('[map[a:[1 x]]]');
  });

  it('refuses malformed specs in kubectl\'s words', () => {
    expect(() => parseCustomColumns('')).toThrow('custom-columns format specified but no custom columns given');
    expect(() => parseCustomColumns('NAME')).toThrow('unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>');
  });
});

describe('get -o jsonpath / custom-columns', () => {
  function cluster(): FakeClient {
    const c = new FakeClient();
    c.seed(POD_REF, nginxPod() as KubeObject);
    c.seed(POD_REF, pendingPod() as KubeObject);
    return c;
  }
  const get = async (args: string[], output: string, extra: Parameters<typeof runGet>[3] = {}) => {
    const deps = fakeDeps(cluster());
    await runGet(deps, GLOBALS, args, { output, ...extra });
    return deps.io;
  };

  it('applies the template to one object asked for by name, and to a List otherwise', async () => {
    expect((await get(['pod', 'nginx'], 'jsonpath={.status.podIP}')).stdout).toBe('10.244.1.5');
    expect((await get(['pods'], 'jsonpath={.items[*].metadata.name}')).stdout).toBe('nginx nowhere');
    expect((await get(['pods'], 'jsonpath={.kind} {.apiVersion}')).stdout).toBe('List v1');
    expect((await get(['pods'], 'jsonpath={range .items[*]}{.metadata.name}:{.status.phase}{"\\n"}{end}')).stdout).toBe('nginx:Running\nnowhere:Pending\n');
  });

  it('prints custom columns aligned like a table, with --no-headers, and only headers for nothing', async () => {
    expect((await get(['pods'], 'custom-columns=NAME:.metadata.name,IP:.status.podIP,NODE:.spec.nodeName')).stdout).toBe([
      'NAME      IP           NODE',
      'nginx     10.244.1.5   node-1',
      'nowhere   <none>       <none>',
      '',
    ].join('\n'));
    expect((await get(['pods'], 'custom-columns=NAME:.metadata.name', { noHeaders: true })).stdout).toBe('nginx\nnowhere\n');
    const empty = await get(['pods'], 'custom-columns=NAME:.metadata.name', { selector: 'app=none' });
    expect(empty.stdout).toBe('NAME\n');
    expect(empty.stderr).toBe('');
  });

  it('prints nothing but the error for one missing object', async () => {
    const io = await get(['pod', 'nope'], 'jsonpath={.metadata.name}');
    expect(io.stdout).toBe('');
    expect(io.stderr).toBe('Error from server (NotFound): pods "nope" not found\n');
    expect(io.exitCode).toBe(1);
  });

  it('parses -o as kubectl does', () => {
    expect(parseOutput(undefined)).toEqual({ kind: 'table', wide: false });
    expect(parseOutput('wide')).toEqual({ kind: 'table', wide: true });
    expect(parseOutput('jsonpath={.a}').kind).toBe('jsonpath');
    expect(() => parseOutput('jsonpath')).toThrow('template format specified but no template given');
    expect(() => parseOutput('yaml=x')).toThrow('unable to match a printer suitable for the output format "yaml=x"');
    expect(() => parseOutput('go-template={{.a}}')).toThrow('allowed formats are: custom-columns,json,jsonpath,name,wide,yaml');
  });
});
