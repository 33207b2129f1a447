/**
 * Issue 12 finding 6: a YAML alias bomb must not hang `apply`. The CLI's manifest loader (and
 * the API server's application/yaml reader, which shares it) refuses excessive aliasing as
 * kubectl's go-yaml does. Unbounded, the loader spends minutes on these documents; the tests'
 * 10 s timeout catches that (speed itself is for benchmarks, not for tests on a shared machine).
 */
import { describe, expect, it } from 'vitest';
import { checkAliasing, loadYamlDocuments } from '../../src/api/yaml.js';
import { parseManifest } from '../../src/cli/manifest.js';
import { BILLION_LAUGHS } from './hostile.cases.js';

describe('YAML aliases are bounded', () => {
  it('refuses the billion-laughs document in apply -f with kubectl\'s words', () => {
    expect(() => parseManifest(BILLION_LAUGHS, 'bomb.yaml')).toThrow('error parsing bomb.yaml: yaml: document contains excessive aliasing');
  }, 10_000);

  it('refuses a deeper, narrower bomb (two aliases per level, 40 levels) too', () => {
    const lines = ['a0: &a0 [x, x]', ...Array.from({ length: 40 }, (_, i) => `a${i + 1}: &a${i + 1} [*a${i}, *a${i}]`)];
    expect(() => loadYamlDocuments(lines.join('\n'))).toThrow('yaml: document contains excessive aliasing');
  }, 10_000);

  it('still loads ordinary anchors', () => {
    const docs = loadYamlDocuments('base: &b {image: nginx, name: web}\ncontainers: [*b, *b]\n');
    expect(docs).toEqual([{ base: { image: 'nginx', name: 'web' }, containers: [{ image: 'nginx', name: 'web' }, { image: 'nginx', name: 'web' }] }]);
  });

  it('refuses nesting past the depth bound instead of overflowing the stack', () => {
    expect(() => loadYamlDocuments(`a: ${'['.repeat(20_000)}${']'.repeat(20_000)}`)).toThrow(/^yaml: .*(maxDepth|max depth)/);
    const deep: unknown[] = [];
    let cur = deep;
    for (let i = 0; i < 1500; i++) cur.push((cur = []));
    expect(() => checkAliasing(deep)).toThrow('yaml: exceeded max depth of 1000');
  });
});
