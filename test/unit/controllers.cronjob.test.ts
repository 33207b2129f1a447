import { describe, expect, it } from 'vitest';
import type { CronJob } from 'kubernetes-types/batch/v1.js';
import { applyCronJobDefaults } from '../../src/api/batchdefaults.js';
import { validateCronJob } from '../../src/api/batchvalidation.js';
import { parseSchedule } from '../../src/api/cron.js';
import { jobNameFor, mostRecentScheduleTime, planCronJob } from '../../src/controllers/cronjobutil.js';
import type { JobObject } from '../../src/controllers/types.js';

const at = (iso: string) => new Date(iso);

function cronJob(spec: Partial<NonNullable<CronJob['spec']>> = {}, status: CronJob['status'] = {}, created = '2026-01-01T00:00:30Z'): CronJob {
  const cj: CronJob = {
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'hello', namespace: 'default', uid: 'cj-uid', creationTimestamp: created },
    spec: {
      schedule: '*/1 * * * *',
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'hello', image: 'busybox' }] } } } },
      ...spec,
    },
    status,
  };
  applyCronJobDefaults(cj);
  return cj;
}

function job(name: string, cond?: 'Complete' | 'Failed', start = '2026-01-01T00:01:00Z'): JobObject {
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'hello', uid: 'cj-uid', controller: true }] },
    spec: { template: {} },
    status: { startTime: start, ...(cond ? { conditions: [{ type: cond, status: 'True' }], ...(cond === 'Complete' ? { completionTime: start } : {}) } : {}) },
  };
}
const ref = (j: JobObject) => ({ kind: 'Job', name: j.metadata?.name, uid: j.metadata?.uid, namespace: 'default', apiVersion: 'batch/v1' });

describe('cron schedules', () => {
  it.each<[string, string, string, string?]>([
    ['*/1 * * * *', '2026-01-01T00:00:30Z', '2026-01-01T00:01:00Z'],
    ['*/1 * * * *', '2026-01-01T00:01:00Z', '2026-01-01T00:02:00Z'],
    ['@hourly', '2026-01-01T00:00:30Z', '2026-01-01T01:00:00Z'],
    ['@daily', '2026-01-01T10:00:00Z', '2026-01-02T00:00:00Z'],
    ['0 9 * * *', '2026-01-01T00:00:00Z', '2026-01-01T08:00:00Z', 'Europe/Berlin'],
    ['@every 90s', '2026-01-01T00:00:00Z', '2026-01-01T00:01:30Z'],
  ])('%s after %s is %s (time zone %s)', (spec, after, next, tz) => {
    const s = parseSchedule(spec, tz);
    expect(s.ok && s.schedule.next(at(after)).toISOString()).toBe(at(next).toISOString());
  });

  it.each<[string, string]>([
    ['* * * *', 'expected exactly 5 fields, found 4: [* * * *]'],
    ['@fortnightly', 'unrecognized descriptor: @fortnightly'],
  ])('refuses %s: %s', (spec, error) => {
    expect(parseSchedule(spec)).toEqual({ ok: false, error });
  });

  it('validates the schedule, the time zone and the concurrency policy with field paths', () => {
    const errs = validateCronJob(cronJob({ schedule: '61 * * * *', timeZone: 'Mars/Olympus', concurrencyPolicy: 'Sometimes' })).map((e) => `${e.field}: ${e.message}`);
    expect(errs).toContain('spec.schedule: Invalid value: "61 * * * *": Constraint error, got value 61 expected range 0-59');
    expect(errs).toContain('spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus');
    expect(errs).toContain('spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"');
    expect(validateCronJob(cronJob({ schedule: 'TZ=UTC 0 * * * *' })).map((e) => e.message)).toContain('Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead');
    expect(validateCronJob(cronJob())).toEqual([]);
  });

  it('defaults Allow, not suspended, and history limits 3 and 1', () => {
    expect(cronJob().spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
  });
});

describe('planCronJob', () => {
  it('creates nothing before the first schedule time, and asks to look again then', () => {
    const plan = planCronJob(cronJob(), [], at('2026-01-01T00:00:45Z'));
    expect(plan.create).toBeUndefined();
    expect(plan.requeueAfterMs).toBe(15_100);
  });

  it('creates the Job <name>-<minutes since epoch> at the schedule time, with the scheduled-timestamp annotation', () => {
    const plan = planCronJob(cronJob(), [], at('2026-01-01T00:01:02Z'));
    const name = jobNameFor(cronJob(), at('2026-01-01T00:01:00Z'));
    expect(name).toBe(`hello-${Date.parse('2026-01-01T00:01:00Z') / 60_000}`);
    expect(plan.create?.metadata).toMatchObject({ name, annotations: { 'batch.kubernetes.io/cronjob-scheduled-timestamp': '2026-01-01T00:01:00Z' } });
    expect(plan.create?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'hello', controller: true });
    expect(plan.status.lastScheduleTime).toBe('2026-01-01T00:01:00Z');
  });

  it('does not start the same schedule time twice', () => {
    const plan = planCronJob(cronJob({}, { lastScheduleTime: '2026-01-01T00:01:00Z' }), [], at('2026-01-01T00:01:30Z'));
    expect(plan.create).toBeUndefined();
  });

  it('skips a run while one is active under Forbid', () => {
    const running = job('hello-1');
    const cj = cronJob({ concurrencyPolicy: 'Forbid' }, { lastScheduleTime: '2026-01-01T00:01:00Z', active: [ref(running)] });
    const plan = planCronJob(cj, [running], at('2026-01-01T00:02:01Z'));
    expect(plan.create).toBeUndefined();
    expect(plan.events).toContainEqual({ type: 'Normal', reason: 'JobAlreadyActive', message: 'Not starting job because prior execution is running and concurrency policy is Forbid' });
  });

  it('starts another run beside an active one under Allow', () => {
    const running = job('hello-1');
    const cj = cronJob({}, { lastScheduleTime: '2026-01-01T00:01:00Z', active: [ref(running)] });
    expect(planCronJob(cj, [running], at('2026-01-01T00:02:01Z')).create).toBeDefined();
  });

  it('deletes the active run and starts a new one under Replace', () => {
    const running = job('hello-1');
    const cj = cronJob({ concurrencyPolicy: 'Replace' }, { lastScheduleTime: '2026-01-01T00:01:00Z', active: [ref(running)] });
    const plan = planCronJob(cj, [running], at('2026-01-01T00:02:01Z'));
    expect(plan.delete).toEqual([{ job: running, reason: 'replace' }]);
    expect(plan.create).toBeDefined();
  });

  it('after a long outage warns of too many missed start times and starts only the latest', () => {
    const cj = cronJob({}, { lastScheduleTime: '2026-01-01T00:01:00Z' });
    const now = at('2026-01-01T03:00:10Z');
    const due = mostRecentScheduleTime(cj, (parseSchedule('*/1 * * * *') as { ok: true; schedule: never }).schedule, now);
    expect(due).toEqual({ time: at('2026-01-01T03:00:00Z'), missed: 179 });
    const plan = planCronJob(cj, [], now);
    expect(plan.events).toContainEqual({ type: 'Warning', reason: 'TooManyMissedTimes', message: 'too many missed start times: 179. Set or decrease .spec.startingDeadlineSeconds or check clock skew' });
    expect(plan.create?.metadata?.name).toBe(jobNameFor(cj, at('2026-01-01T03:00:00Z')));
  });

  it('counts missed times only within startingDeadlineSeconds', () => {
    const plan = planCronJob(cronJob({ startingDeadlineSeconds: 200 }, { lastScheduleTime: '2026-01-01T00:01:00Z' }), [], at('2026-01-01T03:00:10Z'));
    expect(plan.events.map((e) => e.reason)).not.toContain('TooManyMissedTimes');
    expect(plan.create).toBeDefined();
  });

  it('reports a schedule time missed by more than startingDeadlineSeconds and starts nothing', () => {
    const plan = planCronJob(cronJob({ schedule: '0 * * * *', startingDeadlineSeconds: 10 }), [], at('2026-01-01T01:00:30Z'));
    // The deadline window starts 10 s ago, after 01:00:00: nothing is due.
    expect(plan.create).toBeUndefined();
    const late = planCronJob(cronJob({ schedule: '0 * * * *', startingDeadlineSeconds: 60 }), [], at('2026-01-01T01:01:30Z'));
    expect(late.create).toBeUndefined();
  });

  it('starts nothing while suspended', () => {
    expect(planCronJob(cronJob({ suspend: true }), [], at('2026-01-01T00:05:00Z')).create).toBeUndefined();
  });

  it('drops finished Jobs from the active list, records the last success, and keeps only the history limits', () => {
    const olds = ['a', 'b', 'c', 'd'].map((n, i) => job(n, 'Complete', `2026-01-01T00:0${i + 1}:00Z`));
    const failedJobs = ['e', 'f'].map((n, i) => job(n, 'Failed', `2026-01-01T00:0${i + 5}:00Z`));
    const cj = cronJob({}, { lastScheduleTime: '2026-01-01T00:06:00Z', active: [ref(olds[3])] });
    const plan = planCronJob(cj, [...olds, ...failedJobs], at('2026-01-01T00:06:30Z'));
    expect(plan.status.active).toBeUndefined();
    expect(plan.status.lastSuccessfulTime).toBe('2026-01-01T00:04:00Z');
    expect(plan.events).toContainEqual({ type: 'Normal', reason: 'SawCompletedJob', message: 'Saw completed job: d, condition: Complete' });
    expect(plan.delete.map((d) => d.job.metadata?.name).sort()).toEqual(['a', 'e']);
  });
});
