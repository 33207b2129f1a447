/**
 * Generated malformed and hostile requests for the API server, shared by the in-process suite
 * (test/unit/apiserver.hostile.test.ts) and the one against a real cluster
 * (test/e2e/hostile.e2e.test.ts). Every case must be answered with a 4xx `Status`: never a 500,
 * never a reset connection, and never a write (the callers compare the store before and after).
 *
 * Families: a wrong type at every path of valid Pod, Deployment and Service manifests; integer
 * overflow; names with unicode, NUL, path traversal; unknown and duplicate fields under
 * `fieldValidation=Strict`; huge bodies; deep nesting (JSON and YAML); YAML alias bombs; bad
 * content types; bad query parameters; malformed JSON; wrong-typed updates and patches of
 * existing objects.
 */

/** One request and what it must get. */
export interface HostileCase {
  family: string;
  name: string;
  method: string;
  path: string;
  body?: string | Buffer;
  contentType?: string;
  /** The exact status expected, or any 4xx when absent. */
  status?: number;
  /** Must appear in the Status message when given. */
  message?: string | RegExp;
}

/** Objects the cases update and patch; create them before taking the "before" dump. */
export const SEED_NAMESPACE = 'hostile';
export const SEED = {
  pod: 'seed-pod',
  deployment: 'seed-deploy',
};

export const validPod = (name: string): Record<string, unknown> => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, labels: { app: 'web', tier: 'front' }, annotations: { note: 'x' } },
  spec: {
    containers: [{
      name: 'web', image: 'nginx', command: ['nginx'], args: ['-g', 'daemon off;'],
      ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: 'b' }],
      resources: { limits: { cpu: '100m', memory: '64Mi' } },
      readinessProbe: { httpGet: { path: '/', port: 80 }, periodSeconds: 5 },
    }],
    volumes: [{ name: 'data', emptyDir: {} }],
    terminationGracePeriodSeconds: 5, restartPolicy: 'Always', nodeSelector: { disk: 'ssd' },
  },
});

export const validDeployment = (name: string): Record<string, unknown> => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name, labels: { app: name } },
  spec: {
    replicas: 2, revisionHistoryLimit: 3,
    selector: { matchLabels: { app: name } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
  },
});

export const validService = (name: string): Record<string, unknown> => ({
  apiVersion: 'v1', kind: 'Service',
  metadata: { name },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
});

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Every path (as key lists) of a JSON value, interior nodes included, root excluded. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push([...prefix, i], ...paths(x, [...prefix, i])));
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) out.push([...prefix, k], ...paths(x, [...prefix, k]));
  }
  return out;
}

function setAt(obj: unknown, path: (string | number)[], value: unknown): void {
  let cur = obj as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  cur[path[path.length - 1]] = value;
}

function getAt(obj: unknown, path: (string | number)[]): unknown {
  let cur = obj as Record<string | number, unknown> | undefined;
  for (const k of path) cur = cur?.[k] as Record<string | number, unknown> | undefined;
  return cur;
}

/** Values that are never of `sample`'s type (nor of a type a field holding it could also take). */
function wrongValues(sample: unknown): unknown[] {
  if (typeof sample === 'string') return [[], {}, true, ['a']];
  if (typeof sample === 'number') return [[], {}, true, 1.5, 2 ** 64, -(2 ** 64)];
  if (typeof sample === 'boolean') return ['yes', 1, [], {}];
  if (Array.isArray(sample)) return ['str', 5, {}, true];
  return ['str', 5, [], true];
}

const nsPath = (resource: string, group = '') => `${group ? `/apis/${group}/v1` : '/api/v1'}/namespaces/${SEED_NAMESPACE}/${resource}`;

function json(family: string, name: string, method: string, path: string, body: unknown, extra: Partial<HostileCase> = {}): HostileCase {
  return { family, name, method, path, body: JSON.stringify(body), contentType: 'application/json', ...extra };
}

/** A document of `depth` nested arrays. */
const deepJson = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** A billion-laughs YAML document (9^9 expansions if loaded as a tree). */
export const BILLION_LAUGHS = [
  'apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: lol}', 'data:',
  '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((l, i) => `  ${l}: &${l} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
  '',
].join('\n');

/** Builds every hostile case (deterministic; well over 500). */
export function hostileCases(): HostileCase[] {
  const cases: HostileCase[] = [];
  const pods = nsPath('pods');
  const deploys = nsPath('deployments', 'apps');
  const services = nsPath('services');

  // 1. A wrong type at every path of three valid manifests.
  const manifests: [string, string, Record<string, unknown>][] = [
    ['pod', pods, validPod('typed')], ['deployment', deploys, validDeployment('typed')], ['service', services, validService('typed')],
  ];
  for (const [kind, path, manifest] of manifests) {
    for (const p of paths(manifest)) {
      if (p[0] === 'apiVersion' || p[0] === 'kind') continue;
      for (const wrong of wrongValues(getAt(manifest, p))) {
        const doc = clone(manifest);
        setAt(doc, p, wrong);
        cases.push(json('wrong type', `${kind} ${p.join('.')} = ${JSON.stringify(wrong)}`, 'POST', path, doc));
      }
    }
    for (const top of ['str', 5, [], true, null]) {
      cases.push(json('wrong type', `${kind} body ${JSON.stringify(top)}`, 'POST', path, top, { status: 400 }));
    }
  }

  // 2. Integer overflow and out-of-range numbers.
  for (const n of [2 ** 31, 2 ** 53, 1e300, 2 ** 63, -(2 ** 31) - 1, 1e9 + 0.5]) {
    const d = validDeployment('big');
    (d.spec as Record<string, unknown>).replicas = n;
    cases.push(json('int overflow', `deployment replicas ${n}`, 'POST', deploys, d, { status: 400, message: 'spec.replicas of type int32' }));
    const p = validPod('big');
    (p.spec as Record<string, unknown>).terminationGracePeriodSeconds = n >= 2 ** 63 || !Number.isInteger(n) ? n : n * 2 ** 33;
    cases.push(json('int overflow', `pod terminationGracePeriodSeconds ${n}`, 'POST', pods, p, { status: 400 }));
    cases.push(json('int overflow', `scale replicas ${n}`, 'PUT', `${deploys}/${SEED.deployment}/scale`,
      { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: SEED.deployment }, spec: { replicas: n } }, { status: 400 }));
  }
  for (const n of [-1, 70000, 0]) {
    const p = validPod('port');
    ((p.spec as { containers: { ports: { containerPort: number }[] }[] }).containers[0].ports[0]).containerPort = n;
    cases.push(json('int overflow', `containerPort ${n}`, 'POST', pods, p, { status: 422 }));
  }
  const neg = validDeployment('neg');
  (neg.spec as Record<string, unknown>).replicas = -1;
  cases.push(json('int overflow', 'deployment replicas -1', 'POST', deploys, neg, { status: 422 }));

  // 3. Names: unicode, NUL, path traversal, too long, empty.
  const names = ['../etc', '..', '.', 'a/b', 'a%2Fb', 'a\u0000b', '\u0000', 'é', 'nginx\u202e', 'A', '-a', 'a-', 'a_b',
    'x'.repeat(254), '', ' ', 'a b', 'a\nb', '日本', '\ud83d\ude00', 'con', '..%2f..%2fetc%2fpasswd', 'a..b/../c', '*', 'a;rm -rf /'];
  for (const n of names) {
    if (n === 'con') continue; // a valid name on Linux
    for (const [kind, path, make] of [['pod', pods, validPod], ['deployment', deploys, validDeployment]] as const) {
      cases.push(json('names', `${kind} name ${JSON.stringify(n)}`, 'POST', path, make(n)));
    }
    if (n === '') continue; // an empty namespace means the request's
    const ns = validPod('ok');
    (ns.metadata as Record<string, unknown>).namespace = n;
    cases.push(json('names', `pod namespace ${JSON.stringify(n)}`, 'POST', pods, ns));
    const lbl = validPod('ok');
    (lbl.metadata as Record<string, unknown>).labels = { [n || 'k']: n };
    if (n !== '' && n !== 'A' && n !== 'a_b' && n !== '-a' && n !== 'a-') cases.push(json('names', `label ${JSON.stringify(n)}`, 'POST', pods, lbl));
  }
  for (const raw of ['..%2F..%2Fetc', '%00', '..', '.', '%2e%2e', 'a%2Fb', '%ff%fe', 'x'.repeat(300)]) {
    cases.push({ family: 'names', name: `GET pod path ${raw}`, method: 'GET', path: `${pods}/${raw}` });
    cases.push({ family: 'names', name: `DELETE pod path ${raw}`, method: 'DELETE', path: `${pods}/${raw}` });
    cases.push(json('names', `PUT pod path ${raw}`, 'PUT', `${pods}/${raw}`, validPod('seed-pod')));
  }
  for (const raw of ['/api/v1/namespaces/../../etc/pods', '/api/v1/namespaces/%2e%2e/pods', '/apis/../api/v1/pods', '/api/v1/namespaces/a%00b/pods',
    '/api/v1/../../../etc/passwd', '/api/v1/namespaces/hostile/pods/seed-pod/../../secrets', '/api/v2/pods', '/apis/apps/v9/deployments', '/api/v1/bogus']) {
    cases.push(json('names', `POST path ${raw}`, 'POST', raw, validPod('p')));
  }

  // 4. Unknown and duplicate fields with fieldValidation=Strict.
  for (const where of ['', 'metadata', 'spec', 'spec.containers.0', 'spec.containers.0.ports.0', 'spec.volumes.0.emptyDir']) {
    const p = validPod('strict');
    const target = where ? getAt(p, where.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k))) as Record<string, unknown> : p;
    target.bogusField = 1;
    cases.push(json('strict', `unknown field at ${where || 'top'}`, 'POST', `${pods}?fieldValidation=Strict`, p, { status: 400, message: 'strict decoding error: unknown field' }));
  }
  const dupBody = JSON.stringify(validDeployment('dup')).replace('"replicas":2', '"replicas":2,"replicas":3');
  cases.push({ family: 'strict', name: 'duplicate replicas', method: 'POST', path: `${deploys}?fieldValidation=Strict`, body: dupBody, contentType: 'application/json', status: 400, message: 'duplicate field "spec.replicas"' });
  for (const mode of ['strict', 'STRICT', 'Bogus', 'true', '1']) {
    cases.push(json('strict', `fieldValidation=${mode}`, 'POST', `${pods}?fieldValidation=${mode}`, validPod('fv'), { status: 400 }));
  }
  cases.push(json('strict', 'strict patch unknown field', 'PATCH', `${deploys}/${SEED.deployment}?fieldValidation=Strict`, { spec: { bogus: 1 } },
    { contentType: 'application/merge-patch+json', status: 400 }));

  // 5. Huge bodies.
  for (const mb of [3.1, 4, 10, 20]) {
    const filler = 'x'.repeat(Math.ceil(mb * 1024 * 1024));
    const p = validPod('huge');
    (p.metadata as Record<string, unknown>).annotations = { big: filler };
    cases.push(json('huge body', `${mb} MiB pod`, 'POST', pods, p, { status: 413, message: 'Request entity too large: limit is 3145728' }));
  }
  cases.push({ family: 'huge body', name: '5 MiB PATCH', method: 'PATCH', path: `${deploys}/${SEED.deployment}`, body: `{"a":"${'y'.repeat(5 * 1024 * 1024)}"}`, contentType: 'application/merge-patch+json', status: 413 });
  cases.push({ family: 'huge body', name: '4 MiB DELETE options', method: 'DELETE', path: `${pods}/${SEED.pod}`, body: `{"x":"${'z'.repeat(4 * 1024 * 1024)}"}`, contentType: 'application/json', status: 413 });

  // 6. Deep nesting.
  for (const depth of [1001, 5000, 10_001, 100_000]) {
    const deep = deepJson(depth);
    cases.push({ family: 'deep nesting', name: `POST ${depth} deep`, method: 'POST', path: pods, body: deep, contentType: 'application/json', status: 400, message: 'max depth' });
    cases.push({ family: 'deep nesting', name: `POST ${depth} deep in a field`, method: 'POST', path: pods, body: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"deep"},"spec":{"x":${deep}}}`, contentType: 'application/json', status: 400 });
    cases.push({ family: 'deep nesting', name: `PATCH ${depth} deep`, method: 'PATCH', path: `${deploys}/${SEED.deployment}`, body: `{"metadata":{"annotations":${deep}}}`, contentType: 'application/merge-patch+json', status: 400 });
    cases.push({ family: 'deep nesting', name: `YAML ${depth} deep`, method: 'POST', path: pods, body: `a: ${deep}`, contentType: 'application/yaml', status: 400 });
  }

  // 7. YAML bombs and bad YAML.
  cases.push({ family: 'yaml', name: 'billion laughs', method: 'POST', path: nsPath('configmaps'), body: BILLION_LAUGHS, contentType: 'application/yaml' });
  cases.push({ family: 'yaml', name: 'billion laughs as a pod', method: 'POST', path: pods, body: BILLION_LAUGHS.replace('kind: ConfigMap', 'kind: Pod'), contentType: 'application/yaml', status: 400, message: 'excessive aliasing' });
  for (const bad of ['a: [', ': :', 'a: *nope', '- a\n- b', '{a: 1, a: 2}', 'apiVersion: v1\n---\napiVersion: v1\n', '"unterminated', '\t- x']) {
    cases.push({ family: 'yaml', name: `bad yaml ${JSON.stringify(bad)}`, method: 'POST', path: pods, body: bad, contentType: 'application/yaml' });
  }

  // 8. Content types.
  for (const ct of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream',
    'image/png', 'application/json-patch+json']) {
    cases.push({ family: 'content type', name: `POST ${ct}`, method: 'POST', path: pods, body: JSON.stringify(validPod('ct')), contentType: ct, status: 415, message: 'accepted media types include' });
    cases.push({ family: 'content type', name: `PUT ${ct}`, method: 'PUT', path: `${pods}/${SEED.pod}`, body: JSON.stringify(validPod(SEED.pod)), contentType: ct, status: 415 });
  }
  // JSON sent as protobuf: read as protobuf, refused for the missing magic.
  cases.push({ family: 'content type', name: 'POST JSON as protobuf', method: 'POST', path: pods, body: JSON.stringify(validPod('ct')), contentType: 'application/vnd.kubernetes.protobuf', status: 400, message: 'no k8s magic prefix' });
  cases.push({ family: 'content type', name: 'PUT JSON as protobuf', method: 'PUT', path: `${pods}/${SEED.pod}`, body: JSON.stringify(validPod(SEED.pod)), contentType: 'application/vnd.kubernetes.protobuf', status: 400 });
  for (const ct of ['text/plain', 'application/json', 'application/yaml', 'application/apply-patch+cbor', '']) {
    cases.push({ family: 'content type', name: `PATCH ${ct || 'none'}`, method: 'PATCH', path: `${deploys}/${SEED.deployment}`, body: '{"spec":{"replicas":9}}', contentType: ct || undefined, status: 415 });
  }
  // Server-side apply: a field manager is required, the body is one YAML document, managedFields may not be sent.
  const apply = 'application/apply-patch+yaml';
  const applyDeploy = (extra: Record<string, unknown>): string => JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: SEED.deployment, ...extra }, spec: { replicas: 9 } });
  cases.push({ family: 'apply', name: 'apply without fieldManager', method: 'PATCH', path: `${deploys}/${SEED.deployment}`, body: applyDeploy({}), contentType: apply, status: 422, message: 'fieldManager: Required value' });
  cases.push({ family: 'apply', name: 'apply with managedFields', method: 'PATCH', path: `${deploys}/${SEED.deployment}?fieldManager=h`, body: applyDeploy({ managedFields: [] }), contentType: apply, status: 400, message: 'managedFields must be nil' });
  cases.push({ family: 'apply', name: 'apply of two YAML documents', method: 'PATCH', path: `${deploys}/${SEED.deployment}?fieldManager=h`, body: 'a: 1\n---\nb: 2\n', contentType: apply, status: 400 });
  cases.push({ family: 'apply', name: 'apply of a YAML list', method: 'PATCH', path: `${deploys}/${SEED.deployment}?fieldManager=h`, body: '- 1\n- 2\n', contentType: apply, status: 400 });
  cases.push({ family: 'apply', name: 'apply with another name', method: 'PATCH', path: `${deploys}/${SEED.deployment}?fieldManager=h`, body: applyDeploy({ name: 'other' }), contentType: apply, status: 400 });
  cases.push({ family: 'apply', name: 'apply with a 129-character manager', method: 'PATCH', path: `${deploys}/${SEED.deployment}?fieldManager=${'m'.repeat(129)}`, body: applyDeploy({}), contentType: apply, status: 422 });
  cases.push({ family: 'apply', name: 'force on a merge patch', method: 'PATCH', path: `${deploys}/${SEED.deployment}?force=true`, body: '{}', contentType: 'application/merge-patch+json', status: 422 });
  cases.push({ family: 'apply', name: 'apply billion laughs', method: 'PATCH', path: `${deploys}/${SEED.deployment}?fieldManager=h`, body: BILLION_LAUGHS, contentType: apply, status: 400 });
  cases.push({ family: 'apply', name: 'apply of a wrong type', method: 'PATCH', path: `${deploys}/${SEED.deployment}?fieldManager=h`, body: '{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":"x"}}', contentType: apply, status: 400 });

  // 9. Query parameters.
  const queries = ['resourceVersion=abc', 'resourceVersion=-1', 'resourceVersion=1e3', 'resourceVersion=1.5', 'resourceVersion=99999999999999999999999',
    'limit=-1', 'limit=abc', 'limit=1.5', 'limit=99999999999999999999', 'timeoutSeconds=-5', 'timeoutSeconds=x', 'timeoutSeconds=1e9x',
    'resourceVersionMatch=Bogus&resourceVersion=1', 'resourceVersionMatch=Exact', 'labelSelector=a%3D(', 'labelSelector=%21%21', 'fieldSelector=spec.bogus%3Dx',
    'fieldSelector=%3D%3D', 'watch=true&resourceVersion=abc', 'watch=true&timeoutSeconds=-1'];
  for (const q of queries) cases.push({ family: 'query', name: `list ?${q}`, method: 'GET', path: `${pods}?${q}`, status: q.includes('Match') ? 422 : 400 });
  for (const q of ['gracePeriodSeconds=abc', 'gracePeriodSeconds=1.5', 'gracePeriodSeconds=99999999999999999999', 'propagationPolicy=Bogus',
    'dryRun=Some', 'orphanDependents=maybe', 'propagationPolicy=Orphan&orphanDependents=true']) {
    cases.push({ family: 'query', name: `delete ?${q}`, method: 'DELETE', path: `${pods}/${SEED.pod}?${q}` });
    cases.push({ family: 'query', name: `deletecollection ?${q}`, method: 'DELETE', path: `${pods}?${q}` });
  }
  for (const q of ['dryRun=Some', 'fieldValidation=Loud']) cases.push(json('query', `create ?${q}`, 'POST', `${pods}?${q}`, validPod('q'), { status: 400 }));
  for (const bad of [{ gracePeriodSeconds: 'abc' }, { gracePeriodSeconds: 1.5 }, { propagationPolicy: 5 }, { kind: 'Pod' }, { orphanDependents: 'yes' }, [], 'x']) {
    cases.push(json('query', `delete body ${JSON.stringify(bad)}`, 'DELETE', `${pods}/${SEED.pod}`, bad));
  }

  // 10. Malformed JSON.
  for (const bad of ['', '{', '{"a":}', '{"apiVersion":"v1",}', 'NaN', '{"a":NaN}', '[1,2', '{"a":1}garbage', '\u0000', '{"a":"\\x"}', 'nul', '{"a" 1}', '\ufeff{}', '{\'a\':1}']) {
    cases.push({ family: 'malformed json', name: `POST ${JSON.stringify(bad)}`, method: 'POST', path: pods, body: bad, contentType: 'application/json', status: 400 });
    cases.push({ family: 'malformed json', name: `PATCH ${JSON.stringify(bad)}`, method: 'PATCH', path: `${deploys}/${SEED.deployment}`, body: bad, contentType: 'application/merge-patch+json' });
  }

  // 11. Wrong-typed updates and patches of existing objects.
  const seedDeploy = validDeployment(SEED.deployment);
  for (const p of paths(seedDeploy)) {
    if (p[0] === 'apiVersion' || p[0] === 'kind' || p[0] === 'metadata') continue;
    const wrong = wrongValues(getAt(seedDeploy, p))[0];
    const doc = clone(seedDeploy);
    setAt(doc, p, wrong);
    cases.push(json('wrong-typed update', `PUT deployment ${p.join('.')}`, 'PUT', `${deploys}/${SEED.deployment}`, doc, { status: 400 }));
    if (!p.some((k) => typeof k === 'number')) {
      const mp = p.reduceRight<unknown>((acc, k) => ({ [k]: acc }), wrong);
      cases.push(json('wrong-typed update', `merge-patch deployment ${p.join('.')}`, 'PATCH', `${deploys}/${SEED.deployment}`, mp, { contentType: 'application/merge-patch+json', status: 400 }));
    }
    cases.push(json('wrong-typed update', `json-patch deployment ${p.join('.')}`, 'PATCH', `${deploys}/${SEED.deployment}`,
      [{ op: 'replace', path: `/${p.join('/')}`, value: wrong }], { contentType: 'application/json-patch+json' }));
  }
  for (const v of ['x', 2 ** 31, -1, 1.5, [], { a: 1 }]) {
    cases.push(json('wrong-typed update', `scale patch replicas ${JSON.stringify(v)}`, 'PATCH', `${deploys}/${SEED.deployment}/scale`, { spec: { replicas: v } },
      { contentType: 'application/merge-patch+json' }));
  }
  for (const b of [{ target: 'node-1' }, { target: { name: 5 } }, { metadata: 'x' }, 'str']) {
    cases.push(json('wrong-typed update', `binding ${JSON.stringify(b)}`, 'POST', `${pods}/${SEED.pod}/binding`, b));
  }
  return cases;
}
