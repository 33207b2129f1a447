import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findKind } from '../../src/api/registry.js';
import { CliError } from '../../src/cli/context.js';
import { mapManifests, parseManifest, readManifests } from '../../src/cli/manifest.js';

const POD = (name: string) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n  - name: c\n    image: nginx\n`;

function errorOf(f: () => unknown): CliError {
  try {
    f();
  } catch (e) {
    if (e instanceof CliError) return e;
    throw e;
  }
  throw new Error('expected a CliError');
}

describe('parseManifest', () => {
  it('reads every document of a multi-document file, skipping empty ones', () => {
    const docs = parseManifest(`---\n${POD('a')}---\n---\n# only a comment\n---\n${POD('b')}`, 'pods.yaml');
    expect(docs.map((d) => d.metadata?.name)).toEqual(['a', 'b']);
  });

  it('replaces a kind: List by its items', () => {
    const text = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: ns1}\n';
    expect(parseManifest(text, 'list.yaml').map((d) => `${d.kind}/${d.metadata?.name}`)).toEqual(['Pod/a', 'Namespace/ns1']);
  });

  it('reads JSON files', () => {
    expect(parseManifest('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"}}', 'p.json')[0].metadata?.name).toBe('j');
  });

  it('keeps values such as timestamps and "true" as the strings the API expects', () => {
    const [doc] = parseManifest('apiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  annotations:\n    when: 2024-01-01T00:00:00Z\n', 't.yaml');
    expect(doc.metadata?.annotations?.when).toBe('2024-01-01T00:00:00Z');
  });

  it('reports malformed YAML as "error parsing FILE" with the line', () => {
    const e = errorOf(() => parseManifest('apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels: [a\n', 'bad.yaml'));
    expect(e.message).toMatch(/^error parsing bad\.yaml: yaml: line \d+: /);
    expect(e.message).toContain('unexpected end of the stream within a flow collection');
  });

  it('reports a tab indentation error with its line number', () => {
    const e = errorOf(() => parseManifest('apiVersion: v1\nkind: Pod\nspec:\n\tfoo: 1\n', 'tabs.yaml'));
    expect(e.message).toMatch(/^error parsing tabs\.yaml: yaml: line 4: /);
  });

  it('refuses a document that is not an object', () => {
    expect(errorOf(() => parseManifest('just a string\n', 's.yaml')).message).toBe('unable to decode "s.yaml": expected an object, got string');
  });
});

describe('mapManifests', () => {
  it('maps each document to the resource serving its kind', () => {
    const mapped = mapManifests([{ source: 'a.yaml', object: parseManifest(POD('a'), 'a.yaml')[0] }], findKind);
    expect(mapped[0].def.resource).toBe('pods');
  });

  it('refuses an unknown kind with kubectl\'s resource mapping message', () => {
    const docs = [
      { source: 'a.yaml', object: parseManifest(POD('a'), 'a.yaml')[0] },
      { source: 'foo.yaml', object: { apiVersion: 'v1', kind: 'Foo', metadata: { name: 'x' } } },
    ];
    expect(errorOf(() => mapManifests(docs, findKind)).message).toBe(
      'resource mapping not found for name: "x" namespace: "" from "foo.yaml": no matches for kind "Foo" in version "v1"\nensure CRDs are installed first');
  });

  it('refuses a known kind under the wrong apiVersion', () => {
    const docs = [{ source: 'p.yaml', object: { apiVersion: 'apps/v1', kind: 'Pod', metadata: { name: 'p', namespace: 'dev' } } }];
    expect(errorOf(() => mapManifests(docs, findKind)).message).toContain('name: "p" namespace: "dev" from "p.yaml": no matches for kind "Pod" in version "apps/v1"');
  });

  it('refuses documents without apiVersion or kind', () => {
    const docs = [{ source: 'n.yaml', object: { metadata: { name: 'n' } } }];
    expect(errorOf(() => mapManifests(docs, findKind)).message).toBe(
      'error validating "n.yaml": error validating data: [apiVersion not set, kind not set]; if you choose to ignore these errors, turn validation off with --validate=false');
  });
});

describe('readManifests', () => {
  it('reads a directory\'s .yaml, .yml and .json files in name order, then stdin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mkl-manifests-'));
    writeFileSync(join(dir, 'b.yml'), POD('b'));
    writeFileSync(join(dir, 'a.yaml'), POD('a'));
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'c' } }));
    writeFileSync(join(dir, 'notes.txt'), 'not a manifest');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'd.yaml'), POD('d'));
    const docs = await readManifests([dir, '-'], async () => POD('from-stdin'));
    expect(docs.map((d) => d.object.metadata?.name)).toEqual(['a', 'b', 'c', 'from-stdin']);
    expect(docs[3].source).toBe('STDIN');
    expect(docs[0].source).toBe(join(dir, 'a.yaml'));
  });

  it('says which path does not exist', async () => {
    await expect(readManifests(['/nonexistent/x.yaml'], async () => '')).rejects.toThrow('the path "/nonexistent/x.yaml" does not exist');
  });
});
