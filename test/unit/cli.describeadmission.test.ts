/** `describe replicationcontroller|limitrange|quota`: the text stock kubectl 1.32 prints for the same objects. */
import { describe, expect, it } from 'vitest';
import { describeLimitRange, describeResourceQuota } from '../../src/cli/commands/admissiondescribers.js';
import { describeReplicationController } from '../../src/cli/commands/describeworkloads.js';

describe('kubectl describers of the admission and legacy kinds', () => {
  it('describe limitrange: one row per type and resource, - where unset', () => {
    expect(describeLimitRange({
      metadata: { name: 'lr1', namespace: 'sw' },
      spec: { limits: [
        { type: 'Container', default: { memory: '256Mi' }, defaultRequest: { memory: '64Mi' }, max: { memory: '1Gi' } },
        { type: 'Pod', max: { cpu: '2', memory: '2Gi' }, maxLimitRequestRatio: { cpu: '4' } },
      ] },
    })).toBe([
      'Name:       lr1',
      'Namespace:  sw',
      'Type        Resource  Min  Max  Default Request  Default Limit  Max Limit/Request Ratio',
      '----        --------  ---  ---  ---------------  -------------  -----------------------',
      'Container   memory    -    1Gi  64Mi             256Mi          -',
      'Pod         cpu       -    2    -                -              4',
      'Pod         memory    -    2Gi  -                -              -',
      '',
    ].join('\n'));
  });

  it('describe quota: used and hard per resource of status.hard, scopes explained', () => {
    expect(describeResourceQuota({
      metadata: { name: 'q', namespace: 'sw' },
      spec: { hard: { pods: '10', 'requests.memory': '1Gi' }, scopes: ['NotBestEffort'] },
      status: { hard: { pods: '10', 'requests.memory': '1Gi' }, used: { pods: '4', 'requests.memory': '128Mi' } },
    })).toBe([
      'Name:       q',
      'Namespace:  sw',
      'Scopes:     NotBestEffort',
      '* Matches all pods that have at least one resource requirement set. These pods have a burstable or guaranteed quality of service.',
      'Resource         Used   Hard',
      '--------         ----   ----',
      'pods             4      10',
      'requests.memory  128Mi  1Gi',
      '',
    ].join('\n'));
  });

  it('describe replicationcontroller: selector map, replica and pod counts, template, events', () => {
    const text = describeReplicationController({
      metadata: { name: 'rc1', namespace: 'sw', labels: { app: 'rc1' } },
      spec: { replicas: 2, selector: { app: 'rc1' }, template: { metadata: { labels: { app: 'rc1' } }, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } } },
      status: { replicas: 2 },
    }, { running: 1, waiting: 1, succeeded: 0, failed: 0 }, [], Date.parse('2026-01-01T00:00:00Z'));
    expect(text.split('\n').slice(0, 9)).toEqual([
      'Name:         rc1',
      'Namespace:    sw',
      'Selector:     app=rc1',
      'Labels:       app=rc1',
      'Annotations:  <none>',
      'Replicas:     2 current / 2 desired',
      'Pods Status:  1 Running / 1 Waiting / 0 Succeeded / 0 Failed',
      'Pod Template:',
      '  Labels:  app=rc1',
    ]);
    expect(text).toMatch(/\nEvents:\s+<none>\n$/);
  });
});
