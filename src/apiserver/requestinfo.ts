/**
 * Splits a resource URL into what it addresses, like Kubernetes' RequestInfoFactory:
 * `/api/v1/namespaces/default/pods/web/status` → group '', version v1, namespace default,
 * resource pods, name web, subresource status. Pure; no knowledge of which resources exist.
 */

export interface ResourceRequest {
  group: string;
  version: string;
  /** Empty for cluster-scoped paths and for all-namespace lists such as `/api/v1/pods`. */
  namespace: string;
  resource: string;
  /** Empty for collection paths. */
  name: string;
  subresource: string;
}

/** Subresources of a namespace object: `/api/v1/namespaces/x/status` is the namespace's status, not a kind. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/**
 * The resource a path addresses, or undefined for paths that are not resource paths (discovery
 * documents, unknown prefixes, too many segments).
 */
export function parseResourcePath(pathname: string): ResourceRequest | undefined {
  let parts: string[];
  try {
    parts = pathname.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
  } catch {
    return undefined; // malformed percent-encoding: not a path we serve
  }
  let group: string;
  let version: string;
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1];
    parts = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1];
    version = parts[2];
    parts = parts.slice(3);
  } else {
    return undefined;
  }
  let namespace = '';
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1];
    // `namespaces/x/pods...` is a namespaced resource; `namespaces/x` and `namespaces/x/status`
    // address the namespace object itself.
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2])) parts = parts.slice(2);
  }
  if (parts.length === 0 || parts.length > 3) return undefined;
  const [resource, name = '', subresource = ''] = parts;
  if (resource === 'namespaces') {
    // The namespace object is cluster-scoped: its name is the "namespace" segment.
    return { group, version, namespace: '', resource, name: parts[1] ?? '', subresource: parts[2] ?? '' };
  }
  return { group, version, namespace, resource, name, subresource };
}
