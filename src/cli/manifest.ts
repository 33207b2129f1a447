/**
 * Reading manifests for `apply -f` and `delete -f`: files, directories and stdin, multi-document
 * YAML or JSON, `kind: List` expanded, and the client-side check that every document names a
 * kind the server serves. Errors are CliErrors worded as kubectl words them.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResourceDef } from '../api/resource.js';
import { loadYamlDocuments, YamlError } from '../api/yaml.js';
import type { KubeObject } from '../api/types.js';
import { CliError } from './context.js';

/** One object from a manifest, with where it came from (for messages). */
export interface ManifestDoc {
  /** File path as given on the command line, or `STDIN`. */
  source: string;
  object: KubeObject;
}

/** A manifest object together with the resource that serves its kind. */
export interface MappedDoc extends ManifestDoc {
  def: ResourceDef;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Parses the documents of one file. Empty documents are skipped, `List`s (`kind: List`, or any
 * `...List` with `items`) are replaced by their items. Malformed YAML throws
 * `error parsing FILE: yaml: line N: REASON`.
 */
export function parseManifest(text: string, source: string): KubeObject[] {
  let docs: unknown[];
  try {
    docs = loadYamlDocuments(text, source);
  } catch (e) {
    if (e instanceof YamlError) throw new CliError(`error parsing ${source}: ${e.message}`);
    throw e;
  }
  const out: KubeObject[] = [];
  const add = (doc: unknown): void => {
    if (doc === null || doc === undefined) return;
    if (!isObject(doc)) {
      throw new CliError(`unable to decode "${source}": expected an object, got ${Array.isArray(doc) ? 'a list' : typeof doc}`);
    }
    if (typeof doc.kind === 'string' && doc.kind.endsWith('List') && Array.isArray(doc.items)) {
      doc.items.forEach(add);
      return;
    }
    out.push(doc as KubeObject);
  };
  docs.forEach(add);
  return out;
}

const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

/**
 * Reads every `-f` argument in order: `-` is stdin (read once), a directory is its
 * `.yaml`/`.yml`/`.json` files in name order (not recursive), anything else a file.
 */
export async function readManifests(paths: string[], readStdin: () => Promise<string>): Promise<ManifestDoc[]> {
  const docs: ManifestDoc[] = [];
  for (const p of paths) {
    if (p === '-') {
      const text = await readStdin();
      docs.push(...parseManifest(text, 'STDIN').map((object) => ({ source: 'STDIN', object })));
      continue;
    }
    let files: string[];
    try {
      const st = await stat(p);
      files = st.isDirectory()
        ? (await readdir(p)).filter((f) => MANIFEST_EXTENSIONS.some((x) => f.endsWith(x))).sort().map((f) => join(p, f))
        : [p];
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`the path "${p}" does not exist`);
      throw e;
    }
    for (const f of files) {
      const text = await readFile(f, 'utf8');
      docs.push(...parseManifest(text, f).map((object) => ({ source: f, object })));
    }
  }
  return docs;
}

/**
 * Checks every document before anything is sent: apiVersion and kind set, and served by the
 * API (`find`, normally the registry's `findKind`). Throws on the first problem, with kubectl's
 * wording, so a bad document means nothing is applied.
 */
export function mapManifests(docs: ManifestDoc[], find: (apiVersion: string, kind: string) => ResourceDef | undefined): MappedDoc[] {
  return docs.map((d) => {
    const { apiVersion, kind } = d.object;
    const missing = [apiVersion ? '' : 'apiVersion not set', kind ? '' : 'kind not set'].filter(Boolean);
    if (missing.length) {
      const what = missing.length === 1 ? missing[0] : `[${missing.join(', ')}]`;
      throw new CliError(`error validating "${d.source}": error validating data: ${what}; if you choose to ignore these errors, turn validation off with --validate=false`);
    }
    const def = find(String(apiVersion), String(kind));
    if (!def) {
      const m = d.object.metadata ?? {};
      throw new CliError(`resource mapping not found for name: "${m.name ?? ''}" namespace: "${m.namespace ?? ''}" from "${d.source}": ` +
        `no matches for kind "${kind}" in version "${apiVersion}"\nensure CRDs are installed first`);
    }
    return { ...d, def };
  });
}
