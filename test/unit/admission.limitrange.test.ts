import { describe, expect, it } from 'vitest';
import type { LimitRange } from 'kubernetes-types/core/v1.js';
import { applyLimitRangeDefaults, validateLimitRange } from '../../src/api/admissionvalidation.js';
import { findResource } from '../../src/api/registry.js';
import type { KubeObject, Pod } from '../../src/api/types.js';
import { ApiError } from '../../src/api/errors.js';
import type { ObjectReader } from '../../src/apiserver/admission.js';
import {
  LIMIT_RANGER_ANNOTATION, aggregateMessage, limitRangerAdmission, mergeLimitRangeDefaults, podLimitViolations,
} from '../../src/apiserver/admission/limitranger.js';

const lr = (limits: NonNullable<LimitRange['spec']>['limits']): LimitRange => {
  const obj: LimitRange = { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr', namespace: 'default' }, spec: { limits } };
  applyLimitRangeDefaults(obj);
  return obj;
};
const pod = (...resources: Array<{ requests?: Record<string, string>; limits?: Record<string, string> } | undefined>): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: 'default' },
  spec: { containers: resources.map((r, i) => ({ name: `c${i}`, image: 'nginx', ...(r ? { resources: r } : {}) })) },
});

describe('LimitRange defaulting', () => {
  it.each([
    ['a max alone becomes the default limit and default request', { type: 'Container', max: { cpu: '1' } }, { cpu: '1' }, { cpu: '1' }],
    ['a default limit becomes the default request', { type: 'Container', default: { memory: '512Mi' } }, { memory: '512Mi' }, { memory: '512Mi' }],
    ['a min becomes the default request when no default names it', { type: 'Container', min: { cpu: '100m' } }, {}, { cpu: '100m' }],
  ])('%s', (_name, item, def, defReq) => {
    const r = lr([item as never]);
    expect(r.spec?.limits[0].default).toEqual(def);
    expect(r.spec?.limits[0].defaultRequest).toEqual(defReq);
  });
  it('leaves Pod items without defaults', () => {
    expect(lr([{ type: 'Pod', max: { cpu: '2' } }]).spec?.limits[0].default).toBeUndefined();
  });
});

describe('LimitRange validation', () => {
  it.each([
    ['min above max', [{ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } }], 'spec.limits[0].min[cpu]', 'min value 2 is greater than max value 1'],
    ['default request above default', [{ type: 'Container', default: { cpu: '500m' }, defaultRequest: { cpu: '1' } }], 'spec.limits[0].defaultRequest[cpu]', 'default request value 1 is greater than default limit value 500m'],
    ['default above max', [{ type: 'Container', default: { cpu: '2' }, max: { cpu: '1' } }], 'spec.limits[0].default[cpu]', 'default value 2 is greater than max value 1'],
    ['a ratio below 1', [{ type: 'Container', maxLimitRequestRatio: { cpu: '500m' } }], 'spec.limits[0].maxLimitRequestRatio[cpu]', 'ratio 500m is less than 1'],
    ['a default on a Pod item', [{ type: 'Pod', default: { cpu: '1' } }], 'spec.limits[0].default', "may not be specified when `type` is 'Pod'"],
    ['a type twice', [{ type: 'Container' }, { type: 'Container' }], 'spec.limits[1].type', 'Duplicate value'],
    ['an unknown type', [{ type: 'Node' }], 'spec.limits[0].type', 'Unsupported value'],
    ['a malformed quantity', [{ type: 'Container', max: { cpu: 'lots' } }], 'spec.limits[0].max[cpu]', 'quantities must match'],
  ])('refuses %s', (_name, limits, field, message) => {
    const r = lr(limits as never);
    const errs = validateLimitRange(r);
    expect(errs.map((e) => e.field)).toContain(field);
    expect(errs.find((e) => e.field === field)?.message).toContain(message);
  });
  it('accepts min ≤ default request ≤ default ≤ max', () => {
    expect(validateLimitRange(lr([{ type: 'Container', min: { cpu: '100m' }, defaultRequest: { cpu: '200m' }, default: { cpu: '500m' }, max: { cpu: '1' }, maxLimitRequestRatio: { cpu: '4' } }]))).toEqual([]);
  });
});

describe('LimitRanger defaults on a pod', () => {
  it('sets the missing requests and limits and records them in the annotation', () => {
    const p = pod(undefined, { limits: { cpu: '300m' }, requests: { cpu: '300m' } });
    const note = mergeLimitRangeDefaults(p, lr([{ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '250m', memory: '128Mi' } }]));
    expect(p.spec?.containers[0].resources).toEqual({ limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '250m', memory: '128Mi' } });
    expect(p.spec?.containers[1].resources).toEqual({ limits: { cpu: '300m', memory: '256Mi' }, requests: { cpu: '300m', memory: '128Mi' } });
    expect(note).toBe('LimitRanger plugin set: cpu, memory request for container c0; cpu, memory limit for container c0; memory request for container c1; memory limit for container c1');
  });
  it('sets nothing and returns no note when the containers say everything', () => {
    const p = pod({ limits: { cpu: '1' }, requests: { cpu: '1' } });
    expect(mergeLimitRangeDefaults(p, lr([{ type: 'Container', default: { cpu: '500m' } }]))).toBeUndefined();
  });
});

describe('LimitRanger constraints', () => {
  it.each([
    ['a limit over the container max', pod({ limits: { cpu: '2' }, requests: { cpu: '2' } }), [{ type: 'Container', max: { cpu: '1' } }], ['maximum cpu usage per Container is 1, but limit is 2']],
    ['no limit under a max', pod({ requests: { cpu: '500m' } }), [{ type: 'Pod', max: { cpu: '1' } }], ['maximum cpu usage per Pod is 1.  No limit is specified']],
    ['a request under the min', pod({ requests: { memory: '10Mi' } }), [{ type: 'Container', min: { memory: '64Mi' }, default: {}, defaultRequest: {} }], ['minimum memory usage per Container is 64Mi, but request is 10Mi']],
    ['no request under a min', pod({}), [{ type: 'Pod', min: { cpu: '100m' } }], ['minimum cpu usage per Pod is 100m.  No request is specified']],
    ['a ratio over the max', pod({ requests: { cpu: '100m' }, limits: { cpu: '1' } }), [{ type: 'Container', maxLimitRequestRatio: { cpu: '2' } }], ['cpu max limit to request ratio per Container is 2, but provided ratio is 10.000000']],
    ['pod sums over the pod max', pod({ limits: { cpu: '600m' }, requests: { cpu: '600m' } }, { limits: { cpu: '600m' }, requests: { cpu: '600m' } }), [{ type: 'Pod', max: { cpu: '1' } }], ['maximum cpu usage per Pod is 1, but limit is 1200m']],
    ['a pod within every bound', pod({ limits: { cpu: '500m' }, requests: { cpu: '250m' } }), [{ type: 'Container', min: { cpu: '100m' }, max: { cpu: '1' }, maxLimitRequestRatio: { cpu: '2' } }], []],
  ])('%s', (_name, p, limits, expected) => {
    expect(podLimitViolations(p, { spec: { limits: limits as never } })).toEqual(expected);
  });
  it('aggregates several messages as Kubernetes does', () => {
    expect(aggregateMessage(['a'])).toBe('a');
    expect(aggregateMessage(['a', 'b', 'a'])).toBe('[a, b]');
  });
});

describe('LimitRanger admission plugin', () => {
  const reader = (ranges: LimitRange[]): ObjectReader => ({
    get: async () => undefined,
    list: async (group, resource) => (group === '' && resource === 'limitranges' ? ranges as KubeObject[] : []),
  });
  const def = findResource('', 'v1', 'pods');
  it('defaults a pod then refuses it with a 403 naming the pod', async () => {
    const p = pod(undefined);
    await limitRangerAdmission.admit({ operation: 'CREATE', def: def!, object: p as KubeObject, namespace: 'default', name: 'x' },
      reader([lr([{ type: 'Container', default: { cpu: '200m' } }])]));
    expect(p.spec?.containers[0].resources?.limits).toEqual({ cpu: '200m' });
    expect(p.metadata?.annotations?.[LIMIT_RANGER_ANNOTATION]).toBe('LimitRanger plugin set: cpu request for container c0; cpu limit for container c0');

    const big = pod({ limits: { cpu: '2' }, requests: { cpu: '2' } });
    const err = await limitRangerAdmission.admit({ operation: 'CREATE', def: def!, object: big as KubeObject, namespace: 'default', name: 'x' },
      reader([lr([{ type: 'Container', max: { cpu: '1' } }])])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(403);
    expect((err as ApiError).message).toBe('pods "x" is forbidden: maximum cpu usage per Container is 1, but limit is 2');
  });
});
