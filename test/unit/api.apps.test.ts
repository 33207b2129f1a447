/**
 * apps/v1 on the API side: Deployment and ReplicaSet defaults and validation (Kubernetes' paths
 * and messages), the `kubectl get` rows, the Scale of the scale subresource, and the registry
 * strategies (status on create, generation, status updates, field selectors).
 */
import { describe, expect, it } from 'vitest';
import { applyDeploymentDefaults, applyPodTemplateDefaults, applyReplicaSetDefaults } from '../../src/api/defaults.js';
import { deploymentRow, formatLabelSelector, labelSelectorString, replicaSetRow } from '../../src/api/appsstatus.js';
import { invalid, type FieldError } from '../../src/api/errors.js';
import { goIntOrString, goLabelSelector, goStringMap, goStringSlice } from '../../src/api/gofmt.js';
import { findResource } from '../../src/api/registry.js';
import { scaleOf, validateScale } from '../../src/api/scale.js';
import type { Deployment, PodTemplateSpec, ReplicaSet, ReplicaSetStatus } from '../../src/api/types.js';
import { validateDeployment, validateReplicaSet } from '../../src/api/validation.js';

const KEY_NAME = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const SUBDOMAIN = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const PERCENT = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";
const MISMATCH = '`selector` does not match template `labels`';

const lines = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${e.message}`);

const template = (): PodTemplateSpec => ({
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] },
});

/** A valid Deployment `web` (2 replicas of nginx, selector app=web); `edit` changes it before defaulting. */
function makeDeployment(edit: (d: Deployment) => void = () => undefined): Deployment {
  const d: Deployment = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template() },
  };
  edit(d);
  applyDeploymentDefaults(d);
  return d;
}

/** A valid ReplicaSet `web-1` like {@link makeDeployment}'s. */
function makeReplicaSet(edit: (rs: ReplicaSet) => void = () => undefined): ReplicaSet {
  const rs: ReplicaSet = {
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-1', namespace: 'default' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template() },
  };
  edit(rs);
  applyReplicaSetDefaults(rs);
  return rs;
}

const spec = (d: Deployment) => d.spec!;
const writableStatus = (rs: ReplicaSet) => rs as { status?: Partial<ReplicaSetStatus> };

describe('applyDeploymentDefaults', () => {
  it('fills what apps/v1 fills for a minimal deployment, pod defaults included in the template', () => {
    const d: Deployment = { metadata: { name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } };
    applyDeploymentDefaults(d);
    expect(d.spec).toEqual({
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [{ name: 'web', image: 'nginx:1.25', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }],
          restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', securityContext: {}, schedulerName: 'default-scheduler',
        },
      },
    });
  });

  it.each<[string, (d: Deployment) => void, (d: Deployment) => unknown, unknown]>([
    ['keeps zero replicas', (d) => { spec(d).replicas = 0; }, (d) => spec(d).replicas, 0],
    ['replaces null replicas with 1', (d) => { (spec(d) as { replicas?: number | null }).replicas = null; }, (d) => spec(d).replicas, 1],
    ['keeps a Recreate strategy without rollingUpdate', (d) => { spec(d).strategy = { type: 'Recreate' }; }, (d) => spec(d).strategy, { type: 'Recreate' }],
    ['completes a partial rollingUpdate', (d) => { spec(d).strategy = { rollingUpdate: { maxSurge: 1 } }; }, (d) => spec(d).strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' } }],
    ['keeps a revisionHistoryLimit of 0', (d) => { spec(d).revisionHistoryLimit = 0; }, (d) => spec(d).revisionHistoryLimit, 0],
    ['keeps a given progressDeadlineSeconds', (d) => { spec(d).progressDeadlineSeconds = 120; }, (d) => spec(d).progressDeadlineSeconds, 120],
    ['leaves minReadySeconds unset (0)', () => undefined, (d) => spec(d).minReadySeconds, undefined],
    ['keeps the template restartPolicy given', (d) => { spec(d).template.spec!.restartPolicy = 'Never'; }, (d) => spec(d).template.spec?.restartPolicy, 'Never'],
    ['defaults the pull policy of a latest image to Always', (d) => { spec(d).template.spec!.containers[0].image = 'nginx'; }, (d) => spec(d).template.spec?.containers[0].imagePullPolicy, 'Always'],
    ['does not copy limits to requests in the template (pods only)', (d) => { spec(d).template.spec!.containers[0].resources = { limits: { cpu: '1' } }; }, (d) => spec(d).template.spec?.containers[0].resources, { limits: { cpu: '1' } }],
  ])('%s', (_name, edit, get, want) => {
    expect(get(makeDeployment(edit))).toEqual(want);
  });

  it('is idempotent', () => {
    const d = makeDeployment();
    const again = structuredClone(d);
    applyDeploymentDefaults(again);
    expect(again).toEqual(d);
  });

  it('leaves a spec that is not an object for validation to report', () => {
    const d = { metadata: { name: 'web' }, spec: 'nonsense' } as unknown as Deployment;
    applyDeploymentDefaults(d);
    expect(d.spec).toBe('nonsense');
  });
});

describe('applyReplicaSetDefaults', () => {
  it('sets replicas 1 and gives the template pod defaults', () => {
    const rs: ReplicaSet = { metadata: { name: 'web-1' }, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } };
    applyReplicaSetDefaults(rs);
    expect(rs.spec?.replicas).toBe(1);
    expect(rs.spec?.template?.spec).toMatchObject({ restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst' });
  });

  it('gives a template without spec an empty pod spec with defaults', () => {
    const t: PodTemplateSpec = { metadata: { labels: { app: 'web' } } };
    applyPodTemplateDefaults(t);
    expect(t.spec).toMatchObject({ containers: [], restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' });
  });
});

describe('Go value formatting for field errors', () => {
  it.each([
    ['a map, keys sorted', goStringMap({ tier: 'fe', app: 'web' }), 'map[string]string{"app":"web", "tier":"fe"}'],
    ['an absent map as nil', goStringMap(undefined), 'map[string]string(nil)'],
    ['an empty map', goStringMap({}), 'map[string]string{}'],
    ['a string slice', goStringSlice(['a', 'b']), '[]string{"a", "b"}'],
    ['a selector with labels only', goLabelSelector({ matchLabels: { app: 'web' } }), 'v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}'],
    ['a selector with an expression', goLabelSelector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe'] }] }),
      'v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"tier", Operator:"In", Values:[]string{"fe"}}}}'],
    ['an int', goIntOrString(3), 'intstr.IntOrString{Type:0, IntVal:3, StrVal:""}'],
    ['a percent', goIntOrString('25%'), 'intstr.IntOrString{Type:1, IntVal:0, StrVal:"25%"}'],
  ])('prints %s as %%#v does', (_what, got, want) => {
    expect(got).toBe(want);
  });
});

const deploymentErrors = (edit: (d: Deployment) => void): string[] => lines(validateDeployment(makeDeployment(edit)));

describe('validateDeployment on create', () => {
  it('accepts a well-formed deployment', () => {
    expect(deploymentErrors(() => undefined)).toEqual([]);
  });

  it.each<[string, (d: Deployment) => void, string[]]>([
    ['a name that is not a DNS subdomain', (d) => { d.metadata!.name = 'Web'; }, [`metadata.name: Invalid value: "Web": ${SUBDOMAIN}`]],
    ['a missing namespace', (d) => { delete d.metadata!.namespace; }, ['metadata.namespace: Required value']],
    ['negative replicas', (d) => { spec(d).replicas = -1; }, ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']],
    ['no selector (so the template labels cannot match it)', (d) => { delete (spec(d) as { selector?: unknown }).selector; },
      ['spec.selector: Required value', `spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: ${MISMATCH}`]],
    ['an empty selector', (d) => { spec(d).selector = {}; },
      ['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment']],
    ['an empty matchLabels', (d) => { spec(d).selector = { matchLabels: {} }; },
      ['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment']],
    ['a selector the template labels do not match', (d) => { spec(d).selector = { matchLabels: { app: 'api' } }; },
      [`spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: ${MISMATCH}`]],
    ['a template without labels', (d) => { delete spec(d).template.metadata; },
      [`spec.template.metadata.labels: Invalid value: map[string]string(nil): ${MISMATCH}`]],
    ['a matchExpressions selector the labels satisfy', (d) => { spec(d).selector = { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] }; }, []],
    ['an In expression without values', (d) => { spec(d).selector.matchExpressions = [{ key: 'tier', operator: 'In' }]; }, [
      "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"tier", Operator:"In", Values:[]string(nil)}}}: invalid label selector',
    ]],
    ['an unknown selector operator', (d) => { spec(d).selector.matchExpressions = [{ key: 'tier', operator: 'Matches', values: ['x'] }]; }, [
      'spec.selector.matchExpressions[0].operator: Invalid value: "Matches": not a valid selector operator',
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"tier", Operator:"Matches", Values:[]string{"x"}}}}: invalid label selector',
    ]],
    ['a bad selector label key', (d) => { spec(d).selector = { matchLabels: { 'bad key': 'x' } }; }, [
      `spec.selector.matchLabels: Invalid value: "bad key": ${KEY_NAME}`,
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"bad key":"x"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: invalid label selector',
    ]],
    ['a bad template label key (reported without `metadata`)', (d) => { spec(d).template.metadata!.labels!['bad key'] = 'x'; }, [`spec.template.labels: Invalid value: "bad key": ${KEY_NAME}`]],
    ['a container without image', (d) => { delete spec(d).template.spec!.containers[0].image; }, ['spec.template.spec.containers[0].image: Required value']],
    ['no containers', (d) => { spec(d).template.spec!.containers = []; }, ['spec.template.spec.containers: Required value']],
    ['restartPolicy Never', (d) => { spec(d).template.spec!.restartPolicy = 'Never'; }, ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']],
    ['an unknown restartPolicy, reported by the pod rules too', (d) => { spec(d).template.spec!.restartPolicy = 'Sometimes'; }, [
      'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
      'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always"',
    ]],
    ['activeDeadlineSeconds in the template', (d) => { spec(d).template.spec!.activeDeadlineSeconds = 30; }, ['spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported']],
    ['a Recreate strategy with rollingUpdate', (d) => { spec(d).strategy = { type: 'Recreate', rollingUpdate: { maxSurge: 1 } }; }, ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]],
    ['a Recreate strategy', (d) => { spec(d).strategy = { type: 'Recreate' }; }, []],
    ['an unknown strategy type', (d) => { spec(d).strategy = { type: 'BlueGreen' }; }, ['spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:"BlueGreen", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: "Recreate", "RollingUpdate"']],
    ['maxSurge and maxUnavailable both 0', (d) => { spec(d).strategy = { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } }; }, ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0']],
    ['maxSurge and maxUnavailable both 0%', (d) => { spec(d).strategy = { rollingUpdate: { maxSurge: '0%', maxUnavailable: '0%' } }; }, ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"0%"}: may not be 0 when `maxSurge` is 0']],
    ['maxUnavailable 0 with maxSurge 1', (d) => { spec(d).strategy = { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }; }, []],
    ['maxUnavailable over 100%', (d) => { spec(d).strategy = { rollingUpdate: { maxUnavailable: '150%' } }; }, ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%']],
    ['maxSurge over 100% (allowed)', (d) => { spec(d).strategy = { rollingUpdate: { maxSurge: '200%' } }; }, []],
    ['a maxSurge that is no percent', (d) => { spec(d).strategy = { rollingUpdate: { maxSurge: 'lots' } }; }, [`spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"lots"}: ${PERCENT}`]],
    ['a negative maxSurge', (d) => { spec(d).strategy = { rollingUpdate: { maxSurge: -1 } }; }, ['spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0']],
    ['a negative minReadySeconds', (d) => { spec(d).minReadySeconds = -1; }, ['spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0']],
    ['a negative revisionHistoryLimit', (d) => { spec(d).revisionHistoryLimit = -1; }, ['spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0']],
    ['a progress deadline not above minReadySeconds', (d) => { spec(d).minReadySeconds = 30; spec(d).progressDeadlineSeconds = 30; }, ['spec.progressDeadlineSeconds: Invalid value: 30: must be greater than minReadySeconds']],
    ['a progress deadline of 0', (d) => { spec(d).progressDeadlineSeconds = 0; }, ['spec.progressDeadlineSeconds: Invalid value: 0: must be greater than minReadySeconds']],
    ['replicas that are not a number', (d) => { (spec(d) as { replicas?: unknown }).replicas = '3'; }, ['spec.replicas: Invalid value: "3": must be an integer']],
    ['more ready than current replicas in status', (d) => { d.status = { replicas: 1, readyReplicas: 2 }; }, ['status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas']],
    ['more available than ready replicas in status', (d) => { d.status = { replicas: 2, readyReplicas: 1, availableReplicas: 2 }; }, ['status.availableReplicas: Invalid value: 2: cannot be greater than readyReplicas']],
    ['a negative observedGeneration', (d) => { d.status = { observedGeneration: -1 }; }, ['status.observedGeneration: Invalid value: -1: must be greater than or equal to 0']],
  ])('reports %s', (_name, edit, want) => {
    expect(deploymentErrors(edit)).toEqual(want);
  });

  it('words the 422 as Kubernetes does, with the group', () => {
    expect(invalid('Deployment', 'web', validateDeployment(makeDeployment((d) => { spec(d).replicas = -1; })), 'apps').message)
      .toBe('Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
  });
});

describe('validateDeployment on update', () => {
  const old = makeDeployment();
  const update = (edit: (d: Deployment) => void): string[] => {
    const d = structuredClone(old);
    edit(d);
    return lines(validateDeployment(d, old));
  };

  it.each<[string, (d: Deployment) => void, string[]]>([
    ['a new image', (d) => { spec(d).template.spec!.containers[0].image = 'nginx:1.27'; }, []],
    ['new replicas', (d) => { spec(d).replicas = 5; }, []],
    ['a new strategy', (d) => { spec(d).strategy = { type: 'Recreate' }; }, []],
    ['the same selector written differently', (d) => { spec(d).selector = { matchLabels: { app: 'web' }, matchExpressions: [] }; }, []],
    ['a changed selector', (d) => { spec(d).selector = { matchLabels: { app: 'api' } }; spec(d).template.metadata!.labels = { app: 'api' }; },
      ['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"api"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable']],
    ['an added selector requirement', (d) => { spec(d).selector.matchLabels!.tier = 'fe'; spec(d).template.metadata!.labels!.tier = 'fe'; },
      ['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"fe"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable']],
    ['a new name', (d) => { d.metadata!.name = 'other'; }, ['metadata.name: Invalid value: "other": field is immutable']],
  ])('allows or refuses %s', (_name, edit, want) => {
    expect(update(edit)).toEqual(want);
  });

  it('refuses a decremented collisionCount', () => {
    const before = makeDeployment((d) => { d.status = { collisionCount: 2 }; });
    const after = structuredClone(before);
    after.status = { collisionCount: 1 };
    expect(lines(validateDeployment(after, before))).toEqual(['status.collisionCount: Invalid value: 1: cannot be decremented']);
  });

  it('refuses new finalizers on a deployment being deleted, but lets them go', () => {
    const deleting = makeDeployment((d) => { d.metadata = { ...d.metadata, deletionTimestamp: '2025-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] }; });
    const added = structuredClone(deleting);
    added.metadata!.finalizers = ['foregroundDeletion', 'example.com/b', 'example.com/a'];
    expect(lines(validateDeployment(added, deleting))).toEqual([
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/a", "example.com/b"}',
    ]);
    const removed = structuredClone(deleting);
    removed.metadata!.finalizers = [];
    expect(validateDeployment(removed, deleting)).toEqual([]);
  });
});

describe('validateReplicaSet', () => {
  const rsErrors = (edit: (rs: ReplicaSet) => void): string[] => lines(validateReplicaSet(makeReplicaSet(edit)));

  it.each<[string, (rs: ReplicaSet) => void, string[]]>([
    ['nothing for a well-formed replicaset', () => undefined, []],
    ['negative replicas', (rs) => { rs.spec!.replicas = -2; }, ['spec.replicas: Invalid value: -2: must be greater than or equal to 0']],
    ['negative minReadySeconds', (rs) => { rs.spec!.minReadySeconds = -1; }, ['spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0']],
    ['no selector', (rs) => { delete (rs.spec as { selector?: unknown }).selector; },
      ['spec.selector: Required value', `spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: ${MISMATCH}`]],
    ['an empty selector, in the words Kubernetes uses for deployments', (rs) => { rs.spec!.selector = {}; },
      ['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment']],
    ['restartPolicy OnFailure', (rs) => { rs.spec!.template!.spec!.restartPolicy = 'OnFailure'; }, ['spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"']],
    ['a container without image', (rs) => { delete rs.spec!.template!.spec!.containers[0].image; }, ['spec.template.spec.containers[0].image: Required value']],
    ['more fully labeled than current replicas', (rs) => { writableStatus(rs).status = { replicas: 1, fullyLabeledReplicas: 2 }; }, ['status.fullyLabeledReplicas: Invalid value: 2: cannot be greater than status.replicas']],
  ])('reports %s', (_name, edit, want) => {
    expect(rsErrors(edit)).toEqual(want);
  });

  it('refuses a changed selector on update', () => {
    const old = makeReplicaSet();
    const next = structuredClone(old);
    next.spec!.selector = { matchLabels: { app: 'web', 'pod-template-hash': 'abc' } };
    next.spec!.template!.metadata!.labels = { app: 'web', 'pod-template-hash': 'abc' };
    expect(lines(validateReplicaSet(next, old))).toEqual([
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "pod-template-hash":"abc"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
  });
});

const NOW = new Date('2025-03-01T12:00:00Z');

describe('deploymentRow', () => {
  it('prints READY ready/desired, UP-TO-DATE, AVAILABLE, AGE and the wide columns', () => {
    const d = makeDeployment((x) => {
      x.metadata!.creationTimestamp = '2025-03-01T11:55:00Z';
      spec(x).template.spec!.containers.push({ name: 'log', image: 'busybox' });
      x.status = { replicas: 3, readyReplicas: 1, updatedReplicas: 2, availableReplicas: 1 };
    });
    expect(deploymentRow(d, NOW)).toEqual({
      name: 'web', ready: '1/2', upToDate: 2, available: 1, age: '5m', containers: 'web,log', images: 'nginx:1.25,busybox', selector: 'app=web',
    });
  });

  it('counts missing status as 0 and prints expression selectors canonically', () => {
    const d: Deployment = {
      metadata: { name: 'x' },
      spec: { selector: { matchLabels: { app: 'x' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['fe', 'be'] }, { key: 'canary', operator: 'DoesNotExist' }] }, template: {} },
    };
    expect(deploymentRow(d, NOW)).toMatchObject({ ready: '0/0', upToDate: 0, available: 0, age: '<unknown>', containers: '', images: '', selector: 'app=x,!canary,tier notin (be,fe)' });
  });

  it.each([
    ['an empty selector', {}, ''],
    ['an unparsable selector', { matchExpressions: [{ key: 'a', operator: 'Near' }] }, '<invalid>'],
  ])('prints %s as %j', (_what, selector, want) => {
    expect(deploymentRow({ metadata: { name: 'x' }, spec: { selector, template: {} } }, NOW).selector).toBe(want);
  });
});

describe('replicaSetRow', () => {
  it('prints DESIRED, CURRENT, READY, AGE and the wide columns', () => {
    const rs = makeReplicaSet((x) => {
      x.metadata!.creationTimestamp = '2025-02-27T12:00:00Z';
      writableStatus(x).status = { replicas: 2, readyReplicas: 1 };
    });
    expect(replicaSetRow(rs, NOW)).toEqual({ name: 'web-1', desired: 2, current: 2, ready: 1, age: '2d', containers: 'web', images: 'nginx:1.25', selector: 'app=web' });
  });

  it('prints an empty selector as <none> and an unparsable one as <error>', () => {
    expect(formatLabelSelector({})).toBe('<none>');
    expect(formatLabelSelector(undefined)).toBe('<none>');
    expect(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In' }] })).toBe('<error>');
    expect(labelSelectorString({ matchLabels: { b: '2', a: '1' } })).toBe('a=1,b=2');
  });
});

describe('scaleOf and validateScale', () => {
  const d = makeDeployment((x) => {
    x.metadata = { ...x.metadata, uid: 'u-1', resourceVersion: '42', creationTimestamp: '2025-03-01T11:00:00Z', labels: { team: 'a' }, generation: 3 };
    x.status = { replicas: 1 };
  });

  it('gives the identity, desired and current replicas and the selector string of the parent', () => {
    expect(scaleOf(d)).toEqual({
      kind: 'Scale', apiVersion: 'autoscaling/v1',
      metadata: { name: 'web', namespace: 'default', uid: 'u-1', resourceVersion: '42', creationTimestamp: '2025-03-01T11:00:00Z' },
      spec: { replicas: 2 },
      status: { replicas: 1, selector: 'app=web' },
    });
  });

  it('omits zero desired replicas and an empty selector, as autoscaling/v1 does', () => {
    expect(scaleOf({ metadata: { name: 'x' }, spec: { replicas: 0, selector: {} } })).toEqual({
      kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'x' }, spec: {}, status: { replicas: 0 },
    });
  });

  it('refuses negative replicas in Kubernetes\' words', () => {
    const scale = { ...scaleOf(d), spec: { replicas: -1 } };
    expect(invalid('Scale', 'web', validateScale(scale), 'autoscaling').message)
      .toBe('Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    expect(validateScale({ ...scale, spec: { replicas: 0 } })).toEqual([]);
  });
});

describe('the apps/v1 strategies in the registry', () => {
  const deployments = findResource('apps', 'v1', 'deployments')!;
  const replicasets = findResource('apps', 'v1', 'replicasets')!;

  it('start a new deployment with an empty status and a new replicaset with status.replicas 0', () => {
    const d = makeDeployment((x) => { x.status = { replicas: 9 }; });
    deployments.prepareForCreate?.(d);
    expect(d.status).toEqual({});
    const rs = makeReplicaSet((x) => { writableStatus(x).status = { replicas: 9 }; });
    replicasets.prepareForCreate?.(rs);
    expect(rs.status).toEqual({ replicas: 0 });
  });

  it('bump a deployment\'s generation when only its annotations change, once', () => {
    const old = makeDeployment((x) => { x.metadata!.generation = 4; });
    const next = structuredClone(old);
    next.metadata!.annotations = { 'kubernetes.io/change-cause': 'v2' };
    deployments.prepareForUpdate?.(next, old, next, '');
    expect(next.metadata?.generation).toBe(5);
    const specChanged = structuredClone(next);
    (specChanged.metadata as { generation?: number }).generation = 5; // already bumped for the spec by the server
    deployments.prepareForUpdate?.(specChanged, old, specChanged, '');
    expect(specChanged.metadata?.generation).toBe(5);
    const same = structuredClone(old);
    same.metadata!.annotations = {};
    deployments.prepareForUpdate?.(same, old, same, '');
    expect(same.metadata?.generation).toBe(4);
  });

  it('let a deployment status update record annotations (the revision) but not labels', () => {
    const old = makeDeployment((x) => { x.metadata!.labels = { team: 'a' }; });
    const stored = structuredClone(old);
    const requested = structuredClone(old);
    requested.metadata!.annotations = { 'deployment.kubernetes.io/revision': '1' };
    requested.metadata!.labels = { team: 'b' };
    deployments.prepareForUpdate?.(stored, old, requested, 'status');
    expect(stored.metadata?.annotations).toEqual({ 'deployment.kubernetes.io/revision': '1' });
    expect(stored.metadata?.labels).toEqual({ team: 'a' });
  });

  it('select replicasets by status.replicas', () => {
    const rs = makeReplicaSet((x) => { writableStatus(x).status = { replicas: 3 }; });
    expect(replicasets.fieldLabels?.(rs)).toEqual({ 'status.replicas': '3' });
  });
});
