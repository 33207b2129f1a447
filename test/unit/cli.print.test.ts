import { describe, expect, it } from 'vitest';
import { ApiError, invalid, notFound, required } from '../../src/api/errors.js';
import { DESCRIBE_LAYOUT, TABLE_LAYOUT, TabWriter, asList, formatApiError, formatLabels, formatTable, rfc1123z, toCompactJson, toJson, toYaml } from '../../src/cli/print.js';

function render(text: string, opts = DESCRIBE_LAYOUT): string {
  let out = '';
  const w = new TabWriter((s) => { out += s; }, opts);
  w.write(text);
  w.flush();
  return out;
}

describe('TabWriter (Go tabwriter semantics)', () => {
  it('pads every cell of a column to the widest cell plus padding', () => {
    expect(render('Name:\tnginx\nNamespace:\tdefault\n')).toBe('Name:       nginx\nNamespace:  default\n');
  });

  it('never pads the last cell of a line', () => {
    expect(render('a\tb\nccc\tdd\n')).toBe('a    b\nccc  dd\n');
  });

  it('starts a new alignment section after a line without tabs', () => {
    expect(render('Name:\tx\nContainers:\n  c:\n    Image:\tnginx\n    Container ID:\tabc\n'))
      .toBe('Name:  x\nContainers:\n  c:\n    Image:         nginx\n    Container ID:  abc\n');
  });

  it('aligns a column only across adjacent lines that have it', () => {
    // Line 2 has one cell less: columns 2.. of lines 1 and 3 are separate blocks.
    expect(render('a\tbb\tc\nx\ty\nlong\tb\tc\n')).toBe('a     bb  c\nx     y\nlong  b  c\n');
  });

  it('keeps empty cells in the column (continuation lines of Labels:)', () => {
    expect(render('Labels:\tapp=web\n\ttier=db\nAnnotations:\t<none>\n'))
      .toBe('Labels:       app=web\n              tier=db\nAnnotations:  <none>\n');
  });

  it('counts characters, not bytes, for widths', () => {
    expect(render('é\tx\nab\ty\n')).toBe('é   x\nab  y\n');
  });

  it('gives table columns a minimum width of 6 and 3 spaces of padding', () => {
    expect(formatTable([['NAME', 'IP', 'AGE'], ['a', 'b', '5m']])).toBe('NAME   IP    AGE\na      b     5m\n');
  });

  it('keeps remembered widths across flushes so watch rows stay aligned', () => {
    let out = '';
    const w = new TabWriter((s) => { out += s; }, TABLE_LAYOUT);
    w.write('NAME\tREADY\tSTATUS\tRESTARTS\tAGE\nnginx-long-name\t1/1\tRunning\t0\t5m\n');
    w.flush();
    w.write('x\t0/1\tPending\t0\t0s\n');
    w.flush();
    expect(out.split('\n')).toEqual([
      'NAME              READY   STATUS    RESTARTS   AGE',
      'nginx-long-name   1/1     Running   0          5m',
      'x                 0/1     Pending   0          0s',
      '',
    ]);
  });

  it('forgets remembered widths after resetWidths', () => {
    let out = '';
    const w = new TabWriter((s) => { out += s; }, TABLE_LAYOUT);
    w.write('a-very-long-name\tx\n');
    w.flush();
    w.resetWidths();
    w.write('b\ty\n');
    w.flush();
    expect(out).toBe('a-very-long-name   x\nb     y\n');
  });
});

describe('formatApiError', () => {
  it('prints NotFound as kubectl does', () => {
    expect(formatApiError(notFound('pods', 'x'))).toBe('Error from server (NotFound): pods "x" not found');
  });

  it('prints a 422 with one cause as "The Kind "name" is invalid: field: detail"', () => {
    expect(formatApiError(invalid('Pod', 'x', [required('spec.containers[0].image')])))
      .toBe('The Pod "x" is invalid: spec.containers[0].image: Required value');
  });

  it('prints a 422 with several causes one per line, duplicates dropped', () => {
    const e = invalid('Pod', 'x', [required('spec.containers[0].image'), required('spec.containers[0].name'), required('spec.containers[0].image')]);
    expect(formatApiError(e)).toBe('The Pod "x" is invalid: \n* spec.containers[0].image: Required value\n* spec.containers[0].name: Required value');
  });

  it('prints a 422 without causes or details as "The request is invalid"', () => {
    expect(formatApiError(new ApiError(422, 'Invalid', 'bad'))).toBe('The request is invalid');
  });

  it('prints an Invalid error in a list of errors with its message, like other errors', () => {
    const e = new ApiError(422, 'Invalid', 'error when creating "p.yaml": Pod "x" is invalid: spec: Required value', [], { kind: 'Pod', name: 'x' });
    expect(formatApiError(e, { inList: true })).toBe('Error from server (Invalid): error when creating "p.yaml": Pod "x" is invalid: spec: Required value');
  });

  it('prints Unauthorized as a login error', () => {
    expect(formatApiError(new ApiError(401, 'Unauthorized', 'Unauthorized'))).toBe('error: You must be logged in to the server (Unauthorized)');
  });

  it('prints a BadRequest with its reason', () => {
    expect(formatApiError(new ApiError(400, 'BadRequest', 'a container name must be specified for pod web, choose one of: [a b]')))
      .toBe('Error from server (BadRequest): a container name must be specified for pod web, choose one of: [a b]');
  });

  it('prints a connection failure as its message alone', () => {
    const msg = 'The connection to the server 127.0.0.1:6443 was refused - is the cluster up? (ECONNREFUSED)';
    expect(formatApiError(new ApiError(503, 'ServiceUnavailable', msg))).toBe(msg);
  });
});

describe('YAML and JSON output', () => {
  const pod = { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'web', creationTimestamp: '2024-05-01T11:55:00Z', labels: { b: '1', a: 'true' } },
    spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }] }] } };

  it('sorts keys, does not indent lists under their key and double-quotes ambiguous strings', () => {
    expect(toYaml(pod)).toBe([
      'apiVersion: v1',
      'kind: Pod',
      'metadata:',
      '  creationTimestamp: "2024-05-01T11:55:00Z"',
      '  labels:',
      '    a: "true"',
      '    b: "1"',
      '  name: web',
      'spec:',
      '  containers:',
      '  - image: nginx',
      '    name: c',
      '    ports:',
      '    - containerPort: 80',
      '',
    ].join('\n'));
  });

  it('prints JSON with sorted keys, 4-space indent and a final newline', () => {
    expect(toJson({ b: 1, a: { d: [1], c: 'x' } })).toBe('{\n    "a": {\n        "c": "x",\n        "d": [\n            1\n        ]\n    },\n    "b": 1\n}\n');
  });

  it('escapes <, > and & as Go does and sorts keys bytewise, integer-like ones included', () => {
    expect(toJson({ b: 'a && b <c>', 1: 'one', '': 'empty' })).toBe('{\n    "": "empty",\n    "1": "one",\n    "b": "a \\u0026\\u0026 b \\u003cc\\u003e"\n}\n');
    expect(toCompactJson({ z: [1, { y: null }], a: {} })).toBe('{"a":{},"z":[1,{"y":null}]}');
  });

  it('wraps several objects in a v1 List with an empty resourceVersion', () => {
    expect(toYaml(asList([]))).toBe('apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: ""\n');
  });
});

describe('small formatters', () => {
  it('formats labels sorted, or <none>', () => {
    expect(formatLabels({ tier: 'web', app: 'nginx' })).toBe('app=nginx,tier=web');
    expect(formatLabels(undefined)).toBe('<none>');
  });

  it('formats timestamps in Go RFC1123Z layout in local time', () => {
    const prev = process.env.TZ;
    process.env.TZ = 'UTC';
    try {
      expect(rfc1123z('2024-05-01T11:55:01Z')).toBe('Wed, 01 May 2024 11:55:01 +0000');
    } finally {
      process.env.TZ = prev;
    }
  });
});
