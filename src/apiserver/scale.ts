/**
 * The HTTP side of the `scale` subresource (Deployments, ReplicaSets): checking that a body sent
 * to it is an `autoscaling/v1` Scale for the addressed object. Building and validating the
 * Scale itself is `src/api/scale.ts`'s; applying it to the parent is `RestStorage.updateScale`.
 */
import { badRequest } from '../api/errors.js';
import { decodeObject } from '../api/schema.js';
import type { Scale } from '../api/types.js';

const SCALE_API_VERSION = 'autoscaling/v1';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The Scale in `body` (a PUT body or a patched Scale), with kind, apiVersion, name and namespace
 * filled in from the request when absent. 400 BadRequest when it is not a JSON object, names
 * another kind, version, object or namespace, or `spec.replicas` is not an integer (Kubernetes
 * fails to decode such a body).
 */
export function checkScaleBody(body: unknown, namespace: string, name: string): Scale {
  if (!isObject(body)) throw badRequest(`couldn't get version/kind; json parse error: expected a JSON object, got ${JSON.stringify(body)}`);
  const kind = body.kind;
  const apiVersion = body.apiVersion;
  if (kind !== undefined && kind !== '' && kind !== 'Scale') {
    throw badRequest(`${String(kind)} in version ${JSON.stringify(apiVersion ?? '')} cannot be handled as a Scale: the kind of the object does not match the endpoint`);
  }
  if (apiVersion !== undefined && apiVersion !== '' && apiVersion !== SCALE_API_VERSION) {
    throw badRequest(`the API version in the data (${String(apiVersion)}) does not match the expected API version (${SCALE_API_VERSION})`);
  }
  // Types (and int32 bounds) as Kubernetes' decoder checks them; unknown fields are dropped.
  decodeObject(SCALE_API_VERSION, 'Scale', body);
  const metadata = isObject(body.metadata) ? { ...body.metadata } : {};
  if (metadata.name !== undefined && metadata.name !== '' && metadata.name !== name) {
    throw badRequest(`the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`);
  }
  if (metadata.namespace !== undefined && metadata.namespace !== '' && metadata.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  metadata.name = name;
  metadata.namespace = namespace;
  const spec = isObject(body.spec) ? body.spec : {};
  const replicas = spec.replicas;
  if (replicas !== undefined && replicas !== null && (typeof replicas !== 'number' || !Number.isInteger(replicas))) {
    throw badRequest(`Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal ${typeof replicas === 'number' ? `number ${replicas}` : typeof replicas} into Go struct field ScaleSpec.spec.replicas of type int32`);
  }
  return { ...body, kind: 'Scale', apiVersion: SCALE_API_VERSION, metadata, spec: { ...spec } } as Scale;
}
