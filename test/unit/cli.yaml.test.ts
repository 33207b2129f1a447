/** `-o yaml` output checked against kubectl 1.32's own (`kubectl label --local -o yaml` of the same object). */
import { describe, expect, it } from 'vitest';
import { toKubectlYaml, yamlKeyLess } from '../../src/cli/commands/yaml.js';

/** Tricky strings and keys; EXPECTED is what kubectl printed for this object. */
const OBJECT = {
  "apiVersion": "v1",
  "kind": "ConfigMap",
  "metadata": {
    "name": "cm",
    "annotations": {
      "1": "num",
      "a_b": "1",
      "aB": "2",
      "node10": "x",
      "node9": "y",
      "a.b": "z",
      "a-b": "w",
      "true": "k",
      "": "empty",
      "x y": "s",
      "a:b": "c",
      "kubernetes.io/os": "linux"
    }
  },
  "data": {
    "k000": "",
    "k001": " lead",
    "k002": "trail ",
    "k003": "a: b",
    "k004": "a:b",
    "k005": ":x",
    "k006": "- x",
    "k007": "-x",
    "k008": "-",
    "k009": "?",
    "k010": "? x",
    "k011": "#c",
    "k012": "a #c",
    "k013": "a#c",
    "k014": "true",
    "k015": "True",
    "k016": "yes",
    "k017": "no",
    "k018": "on",
    "k019": "off",
    "k020": "y",
    "k021": "n",
    "k022": "~",
    "k023": "null",
    "k024": "Null",
    "k025": "1",
    "k026": "-1",
    "k027": "+1",
    "k028": "0x1F",
    "k029": "0o17",
    "k030": "017",
    "k031": "08",
    "k032": "1.5",
    "k033": ".5",
    "k034": "1e3",
    "k035": "1e",
    "k036": "1_000",
    "k037": "1:20",
    "k038": "12:30:45",
    "k039": "2024-01-01",
    "k040": "2024-01-01T10:00:00Z",
    "k041": "2024-1-1 10:00:00",
    "k042": "2024-01-01T10:00:00",
    "k043": ".inf",
    "k044": ".nan",
    "k045": "<<",
    "k046": "*a",
    "k047": "&a",
    "k048": "!a",
    "k049": "|a",
    "k050": ">a",
    "k051": "'a",
    "k052": "\"a",
    "k053": "%a",
    "k054": "@a",
    "k055": "`a",
    "k056": "{a",
    "k057": "[a",
    "k058": "]a",
    "k059": ",a",
    "k060": "a,b",
    "k061": "a[b]",
    "k062": "it's",
    "k063": "say \"hi\"",
    "k064": "tab\there",
    "k065": "multi\nline",
    "k066": "multi\nline\n",
    "k067": "trailing\n\n",
    "k068": "\nleading",
    "k069": " spaced\nx",
    "k070": "space \nbreak",
    "k071": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "k072": "word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word",
    "k073": "a: long long long long long long long long long long long long long long long long long long long long long long long long long end",
    "k074": "it's long long long long long long long long long long long long long long long long long long long long long long long long long ",
    "k075": "é ü 中文",
    "k076": "😀",
    "k077": "---",
    "k078": "...",
    "k079": "--- x",
    "k080": "a\\b",
    "k081": "back\\slash",
    "k083": "nbsp x",
    "k084": "ctl\u0001x",
    "k085": "0",
    "k086": "00",
    "k087": "-0",
    "k088": "0b101",
    "k089": "+.5",
    "k090": "1.",
    "k091": "1e+5",
    "k092": "=",
    "k093": "?x",
    "k094": "x?",
    "k095": "key: \"q\"",
    "k096": "a\tb c"
  }
};

const EXPECTED = "apiVersion: v1\ndata:\n  k000: \"\"\n  k001: ' lead'\n  k002: 'trail '\n  k003: 'a: b'\n  k004: a:b\n  k005: :x\n  k006: '- x'\n  k007: -x\n  k008: '-'\n  k009: '?'\n  k010: '? x'\n  k011: '#c'\n  k012: 'a #c'\n  k013: a#c\n  k014: \"true\"\n  k015: \"True\"\n  k016: \"yes\"\n  k017: \"no\"\n  k018: \"on\"\n  k019: \"off\"\n  k020: \"y\"\n  k021: \"n\"\n  k022: \"~\"\n  k023: \"null\"\n  k024: \"Null\"\n  k025: \"1\"\n  k026: \"-1\"\n  k027: \"+1\"\n  k028: \"0x1F\"\n  k029: \"0o17\"\n  k030: \"017\"\n  k031: \"08\"\n  k032: \"1.5\"\n  k033: \".5\"\n  k034: \"1e3\"\n  k035: 1e\n  k036: \"1_000\"\n  k037: \"1:20\"\n  k038: \"12:30:45\"\n  k039: \"2024-01-01\"\n  k040: \"2024-01-01T10:00:00Z\"\n  k041: \"2024-1-1 10:00:00\"\n  k042: 2024-01-01T10:00:00\n  k043: \".inf\"\n  k044: \".nan\"\n  k045: <<\n  k046: '*a'\n  k047: '&a'\n  k048: '!a'\n  k049: '|a'\n  k050: '>a'\n  k051: '''a'\n  k052: '\"a'\n  k053: '%a'\n  k054: '@a'\n  k055: '`a'\n  k056: '{a'\n  k057: '[a'\n  k058: ']a'\n  k059: ',a'\n  k060: a,b\n  k061: a[b]\n  k062: it's\n  k063: say \"hi\"\n  k064: \"tab\\there\"\n  k065: |-\n    multi\n    line\n  k066: |\n    multi\n    line\n  k067: |+\n    trailing\n\n  k068: |2-\n\n    leading\n  k069: |2-\n     spaced\n    x\n  k070: \"space \\nbreak\"\n  k071: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n  k072: word word word word word word word word word word word word word word word\n    word word word word word word word word word word word word word word word\n  k073: 'a: long long long long long long long long long long long long long long\n    long long long long long long long long long long long end'\n  k074: 'it''s long long long long long long long long long long long long long long\n    long long long long long long long long long long long '\n  k075: é ü 中文\n  k076: \"\\U0001F600\"\n  k077: '---'\n  k078: '...'\n  k079: '--- x'\n  k080: a\\b\n  k081: back\\slash\n  k083: nbsp x\n  k084: \"ctl\\x01x\"\n  k085: \"0\"\n  k086: \"00\"\n  k087: \"-0\"\n  k088: \"0b101\"\n  k089: \"+.5\"\n  k090: \"1.\"\n  k091: \"1e+5\"\n  k092: =\n  k093: ?x\n  k094: x?\n  k095: 'key: \"q\"'\n  k096: \"a\\tb c\"\nkind: ConfigMap\nmetadata:\n  annotations:\n    \"\": empty\n    \"1\": num\n    a-b: w\n    a.b: z\n    a:b: c\n    a_b: \"1\"\n    aB: \"2\"\n    kubernetes.io/os: linux\n    node9: \"y\"\n    node10: x\n    \"true\": k\n    x y: s\n  name: cm\n";

describe('kubectl-style YAML', () => {
  it('quotes, folds and orders exactly as kubectl does', () => {
    expect(toKubectlYaml(OBJECT)).toBe(EXPECTED);
  });

  it('orders keys as go-yaml does: numbers by value, non-letters before letters', () => {
    const sorted = ['node10', 'aB', 'a_b', 'node9', 'a', ''].sort((a, b) => (yamlKeyLess(a, b) ? -1 : yamlKeyLess(b, a) ? 1 : 0));
    expect(sorted).toEqual(['', 'a', 'a_b', 'aB', 'node9', 'node10']);
  });

  it('writes lists unindented under their key, maps in lists inline after the dash, empty collections in flow style', () => {
    expect(toKubectlYaml({ spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }], args: [] }], nested: [[1, 2], []], empty: {} } })).toBe([
      'spec:',
      '  containers:',
      '  - args: []',
      '    name: c',
      '    ports:',
      '    - containerPort: 80',
      '  empty: {}',
      '  nested:',
      '  - - 1',
      '    - 2',
      '  - []',
      '',
    ].join('\n'));
  });

  it('writes numbers, booleans and null plainly', () => {
    expect(toKubectlYaml({ a: 1, b: 0.5, c: true, d: null, e: -3 })).toBe('a: 1\nb: 0.5\nc: true\nd: null\ne: -3\n');
  });

  it('folds a long scalar at the first space past column 80, continuing two spaces in', () => {
    const cmd = 'while true; do wget -qO- http://localhost/ >/dev/null && echo reached nginx on localhost; sleep 2; done';
    expect(toKubectlYaml({ command: ['sh', '-c', cmd] })).toBe(
      'command:\n- sh\n- -c\n- while true; do wget -qO- http://localhost/ >/dev/null && echo reached nginx on localhost;\n  sleep 2; done\n');
    // As a map value the line starts further right, so it breaks one word earlier (kubectl's output).
    expect(toKubectlYaml({ a: cmd })).toBe('a: while true; do wget -qO- http://localhost/ >/dev/null && echo reached nginx on\n  localhost; sleep 2; done\n');
  });
});
