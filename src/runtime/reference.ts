/**
 * Image reference normalization, shared by the Docker runtime (to coalesce concurrent pulls)
 * and the fake (to key its image store). Mirrors the engine's rules (distribution/reference):
 * `nginx` → `docker.io/library/nginx:latest`, `me/app:1` → `docker.io/me/app:1`,
 * `127.0.0.1:5000/x` keeps its registry, a digest reference keeps its digest and gets no tag.
 */

const DEFAULT_REGISTRY = 'docker.io';

/** The parts of a reference; `tag` is `latest` when neither a tag nor a digest was given. */
export interface ImageReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** Splits a reference. Pure; does not validate characters (the engine does). */
export function parseImageReference(ref: string): ImageReference {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  let registry = DEFAULT_REGISTRY;
  const firstSlash = rest.indexOf('/');
  if (firstSlash >= 0) {
    const first = rest.slice(0, firstSlash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first;
      rest = rest.slice(firstSlash + 1);
    }
  }
  if (registry === 'index.docker.io') registry = DEFAULT_REGISTRY;
  const repository = registry === DEFAULT_REGISTRY && !rest.includes('/') ? `library/${rest}` : rest;
  if (!tag && !digest) tag = 'latest';
  return { registry, repository, tag, digest };
}

/** The fully qualified form, e.g. `docker.io/library/nginx:latest`; equal for equal images. */
export function normalizeImageReference(ref: string): string {
  const r = parseImageReference(ref);
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The short form the engine shows, e.g. `nginx:latest` or `127.0.0.1:5000/app:1`. */
export function familiarImageReference(ref: string): string {
  const r = parseImageReference(ref);
  let repo = r.repository;
  if (r.registry === DEFAULT_REGISTRY) {
    if (repo.startsWith('library/')) repo = repo.slice('library/'.length);
  } else {
    repo = `${r.registry}/${repo}`;
  }
  return `${repo}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}
