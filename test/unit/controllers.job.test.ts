import { describe, expect, it } from 'vitest';
import type { Job } from 'kubernetes-types/batch/v1.js';
import { applyJobDefaults, generateJobSelector, JOB_COMPLETION_INDEX, JOB_TRACKING_FINALIZER } from '../../src/api/batchdefaults.js';
import { validateJob } from '../../src/api/batchvalidation.js';
import { jobPodFromTemplate, matchPodFailurePolicy, planJob, podFailureBackoffLeft } from '../../src/controllers/jobutil.js';
import type { PodObject } from '../../src/controllers/types.js';
import { formatIndexes, parseIndexes } from '../../src/api/indexset.js';

const NOW = new Date('2026-01-01T00:10:00Z');
const T = (s: number) => new Date(NOW.getTime() + s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function job(spec: Partial<NonNullable<Job['spec']>> = {}, status: Job['status'] = {}): Job {
  const j: Job = {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi', namespace: 'default', uid: 'job-uid' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } }, ...spec },
    status,
  };
  applyJobDefaults(j);
  generateJobSelector(j);
  return j;
}

let seq = 0;
function pod(phase: string, over: { index?: number; finalizer?: boolean; deleting?: boolean; exitCode?: number; finishedAt?: string; ready?: boolean } = {}): PodObject {
  seq++;
  const labels: Record<string, string> = { 'batch.kubernetes.io/controller-uid': 'job-uid' };
  const annotations: Record<string, string> = {};
  if (over.index !== undefined) { labels[JOB_COMPLETION_INDEX] = String(over.index); annotations[JOB_COMPLETION_INDEX] = String(over.index); }
  const terminated = phase === 'Succeeded' || phase === 'Failed'
    ? { state: { terminated: { exitCode: over.exitCode ?? (phase === 'Succeeded' ? 0 : 1), finishedAt: over.finishedAt ?? T(-60) } } } : { state: { running: {} } };
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: `pi-${seq}`, namespace: 'default', uid: `pod-${seq}`, labels, annotations,
      finalizers: over.finalizer === false ? [] : [JOB_TRACKING_FINALIZER],
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'job-uid', controller: true }],
      ...(over.deleting ? { deletionTimestamp: T(-1) } : {}),
    },
    spec: { containers: [{ name: 'main', image: 'busybox' }] },
    status: {
      phase, conditions: over.ready ? [{ type: 'Ready', status: 'True' }] : [],
      containerStatuses: [{ name: 'main', image: 'busybox', imageID: '', ready: !!over.ready, restartCount: 0, ...terminated }],
    },
  };
}

describe('Job defaults and validation', () => {
  it('defaults completions and parallelism to 1, backoffLimit to 6, and generates the selector and labels from the uid', () => {
    const j = job();
    expect(j.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, manualSelector: false, podReplacementPolicy: 'TerminatingOrFailed' });
    expect(j.spec?.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': 'job-uid' } });
    expect(j.spec?.template.metadata?.labels).toEqual({
      'batch.kubernetes.io/controller-uid': 'job-uid', 'controller-uid': 'job-uid', 'batch.kubernetes.io/job-name': 'pi', 'job-name': 'pi',
    });
    expect(validateJob(j)).toEqual([]);
  });

  it.each<[string, Partial<NonNullable<Job['spec']>>, string]>([
    ['refuses restartPolicy Always', { template: { spec: { restartPolicy: 'Always', containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'Always', terminationMessagePolicy: 'File' }] } } },
      'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"'],
    ['requires completions for an Indexed Job', { completionMode: 'Indexed', parallelism: 2 }, 'spec.completions: Required value: when completion mode is Indexed'],
    ['refuses backoffLimitPerIndex without Indexed', { backoffLimitPerIndex: 1 }, 'spec.backoffLimitPerIndex: Forbidden: requires indexed completion mode'],
    ['refuses a negative parallelism', { parallelism: -1 }, 'spec.parallelism: Invalid value: -1: must be greater than or equal to 0'],
    ['refuses exit codes out of order in a pod failure policy', { podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [3, 1] } }] } },
      'spec.podFailurePolicy.rules[0].onExitCodes.values[1]: Invalid value: 1: must be ordered'],
    ['refuses a rule with neither exit codes nor conditions', { podFailurePolicy: { rules: [{ action: 'Ignore' }] } },
      'spec.podFailurePolicy.rules[0]: Invalid value: specifying one of OnExitCodes and OnPodConditions is required'],
  ])('%s', (_n, spec, message) => {
    const errs = validateJob(job(spec)).map((e) => `${e.field}: ${e.message}`);
    expect(errs).toContain(message);
  });

  it('keeps completions and the template immutable', () => {
    const old = job({ completions: 3 });
    const next = structuredClone(old);
    next.spec!.completions = 4;
    next.spec!.template.spec!.containers[0].image = 'nginx';
    const errs = validateJob(next, old).map((e) => `${e.field}: ${e.message}`);
    expect(errs).toContain('spec.completions: Invalid value: 4: field is immutable');
    expect(errs).toContain('spec.template: Invalid value: field is immutable');
  });
});

describe('planJob', () => {
  it('starts parallelism pods of a 6-completion Job, never more', () => {
    const plan = planJob(job({ completions: 6, parallelism: 2 }), [], NOW);
    expect(plan.create).toEqual([{}, {}]);
    expect(plan.status).toMatchObject({ active: 2, startTime: T(0), ready: 0, terminating: 0 });
    const running = [pod('Running'), pod('Running')];
    expect(planJob(job({ completions: 6, parallelism: 2 }, { startTime: T(-5) }), running, NOW).create).toEqual([]);
  });

  it('creates only what is left to complete', () => {
    const j = job({ completions: 6, parallelism: 2 }, { startTime: T(-5), succeeded: 5 });
    expect(planJob(j, [], NOW).create.length).toBe(1);
  });

  it('records a finished pod in uncountedTerminatedPods first, then counts it once its finalizer goes', () => {
    const done = pod('Succeeded');
    const plan = planJob(job({ completions: 2, parallelism: 1 }, { startTime: T(-5) }), [done], NOW);
    expect(plan.interimStatus?.uncountedTerminatedPods).toEqual({ succeeded: [done.metadata?.uid] });
    expect(plan.interimStatus?.succeeded).toBeUndefined();
    expect(plan.removeFinalizers).toEqual([done]);
    expect(plan.status).toMatchObject({ succeeded: 1, uncountedTerminatedPods: {} });
    // The same pod without its finalizer is not counted again.
    const counted = { ...done, metadata: { ...done.metadata, finalizers: [] } };
    const again = planJob(job({ completions: 2, parallelism: 1 }, plan.status), [counted], NOW);
    expect(again.status.succeeded).toBe(1);
    expect(again.interimStatus).toBeUndefined();
  });

  it('moves a recorded uid whose pod lost its finalizer into the counts', () => {
    const j = job({ completions: 3 }, { startTime: T(-5), uncountedTerminatedPods: { failed: ['gone'] } });
    expect(planJob(j, [], NOW).status).toMatchObject({ failed: 1, uncountedTerminatedPods: {} });
  });

  it('marks SuccessCriteriaMet and then Complete with completionTime once completions are reached', () => {
    const j = job({ completions: 1 }, { startTime: T(-5) });
    const plan = planJob(j, [pod('Succeeded')], NOW);
    expect(plan.status.conditions?.map((c) => [c.type, c.reason, c.message])).toEqual([
      ['SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'],
      ['Complete', 'CompletionsReached', 'Reached expected number of succeeded pods'],
    ]);
    expect(plan.status.completionTime).toBe(T(0));
    expect(plan.events).toContainEqual({ type: 'Normal', reason: 'Completed', message: 'Job completed' });
  });

  it('fails with BackoffLimitExceeded once failures exceed backoffLimit, deleting what still runs', () => {
    const j = job({ completions: 3, parallelism: 2, backoffLimit: 1 }, { startTime: T(-5), failed: 1 });
    const running = pod('Running');
    const plan = planJob(j, [pod('Failed'), running], NOW);
    expect(plan.status.conditions?.map((c) => [c.type, c.reason])).toEqual([['FailureTarget', 'BackoffLimitExceeded']]);
    expect(plan.delete).toEqual([running]);
    expect(plan.create).toEqual([]);
    // Once nothing runs any more, the terminal Failed condition follows.
    const after = planJob(job({ completions: 3, parallelism: 2, backoffLimit: 1 }, plan.status), [], NOW);
    expect(after.status.conditions?.map((c) => [c.type, c.reason, c.message])).toContainEqual(['Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit']);
    expect(after.status.completionTime).toBeUndefined();
  });

  it('waits the back-off before replacing a failed pod: 10 s, then 20 s', () => {
    const j = job({ completions: 1, backoffLimit: 6 }, { startTime: T(-60) });
    const failedAt = pod('Failed', { finishedAt: T(-4), finalizer: false });
    expect(podFailureBackoffLeft([failedAt], j, NOW.getTime())).toBe(6000);
    const plan = planJob(j, [failedAt], NOW);
    expect(plan.create).toEqual([]);
    expect(plan.requeueAfterMs).toBe(6000);
    expect(podFailureBackoffLeft([pod('Failed', { finishedAt: T(-30), finalizer: false }), pod('Failed', { finishedAt: T(-4), finalizer: false })], j, NOW.getTime())).toBe(16_000);
  });

  it('fails past activeDeadlineSeconds with DeadlineExceeded', () => {
    const j = job({ completions: 1, activeDeadlineSeconds: 10 }, { startTime: T(-11) });
    const plan = planJob(j, [pod('Running')], NOW);
    expect(plan.status.conditions?.[0]).toMatchObject({ type: 'FailureTarget', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
    expect(plan.delete.length).toBe(1);
  });

  it('asks to be woken when the active deadline will pass', () => {
    expect(planJob(job({ completions: 1, activeDeadlineSeconds: 10 }, { startTime: T(-4) }), [pod('Running')], NOW).requeueAfterMs).toBe(6000);
  });

  it('creates the lowest missing indexes of an Indexed Job and lists completed indexes', () => {
    const j = job({ completions: 5, parallelism: 2, completionMode: 'Indexed' }, { startTime: T(-5), completedIndexes: '0', succeeded: 1 });
    const plan = planJob(j, [pod('Succeeded', { index: 0, finalizer: false }), pod('Running', { index: 1 })], NOW);
    expect(plan.create).toEqual([{ index: 2 }]);
    const done = planJob(j, [pod('Succeeded', { index: 1 }), pod('Running', { index: 2 })], NOW);
    expect(done.status).toMatchObject({ completedIndexes: '0-1', succeeded: 2 });
  });

  it('fails a Job at once when a pod matches a FailJob rule', () => {
    const spec = { completions: 3, podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }] } };
    const failed = pod('Failed', { exitCode: 42 });
    expect(matchPodFailurePolicy(job(spec), failed)?.message).toBe(`Container main for pod default/${failed.metadata?.name} failed with exit code 42 matching FailJob rule at index 0`);
    const plan = planJob(job(spec, { startTime: T(-5) }), [failed], NOW);
    expect(plan.status.conditions?.map((c) => c.reason)).toEqual(['PodFailurePolicy', 'PodFailurePolicy']);
    expect(plan.status.conditions?.map((c) => c.type)).toEqual(['FailureTarget', 'Failed']);
  });

  it('does not count a failure an Ignore rule matches', () => {
    const spec = { completions: 1, backoffLimit: 0, podFailurePolicy: { rules: [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [137] } }] } };
    const plan = planJob(job(spec, { startTime: T(-5) }), [pod('Failed', { exitCode: 137 })], NOW);
    expect(plan.status.failed).toBeUndefined();
    expect(plan.status.conditions).toBeUndefined();
    expect(plan.create).toEqual([{}]);
  });

  it('suspends: deletes active pods without counting them as failed, and resumes with a new startTime', () => {
    const running = pod('Running');
    const plan = planJob(job({ completions: 2, suspend: true }, { startTime: T(-30), active: 1 }), [running], NOW);
    expect(plan.delete).toEqual([running]);
    expect(plan.status.conditions?.[0]).toMatchObject({ type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' });
    const terminating = pod('Running', { deleting: true });
    const still = planJob(job({ completions: 2, suspend: true }, plan.status), [terminating], NOW);
    expect(still.status.failed).toBeUndefined();
    const resumed = planJob(job({ completions: 2, suspend: false }, plan.status), [], new Date(NOW.getTime() + 60_000));
    expect(resumed.status.conditions?.[0]).toMatchObject({ type: 'Suspended', status: 'False', reason: 'JobResumed' });
    expect(resumed.status.startTime).toBe(T(60));
    expect(resumed.create.length).toBe(1);
  });

  it('creates nothing while expectations are unmet', () => {
    expect(planJob(job({ completions: 2 }), [], NOW, { manage: false }).create).toEqual([]);
  });
});

describe('Job pods', () => {
  it('give an Indexed Job pod its index as annotation, label, env and hostname, plus the tracking finalizer', () => {
    const p = jobPodFromTemplate(job({ completions: 3, completionMode: 'Indexed' }), { index: 2 });
    expect(p.metadata?.generateName).toBe('pi-2-');
    expect(p.metadata?.annotations?.[JOB_COMPLETION_INDEX]).toBe('2');
    expect(p.metadata?.labels?.[JOB_COMPLETION_INDEX]).toBe('2');
    expect(p.metadata?.finalizers).toEqual([JOB_TRACKING_FINALIZER]);
    expect(p.spec?.hostname).toBe('pi-2');
    expect(p.spec?.containers[0].env).toContainEqual({ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.labels['${JOB_COMPLETION_INDEX}']` } } });
    expect(p.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Job', name: 'pi', controller: true });
  });
});

describe('index sets', () => {
  it.each<[number[], string]>([[[], ''], [[0], '0'], [[0, 1, 2, 5, 7, 8], '0-2,5,7-8']])('formats %j as "%s" and back', (ix, text) => {
    expect(formatIndexes(ix)).toBe(text);
    expect(parseIndexes(text)).toEqual({ ok: true, indexes: ix });
  });
  it('refuses an index not below completions', () => {
    expect(parseIndexes('1,5', 5)).toEqual({ ok: false, error: 'too large index: "5"' });
  });
});
