/** The prober's pure parts: timings and defaults, the threshold state machine, when to probe, readiness. */
import { describe, expect, it } from 'vitest';
import type { Container } from '../../src/api/types.js';
import {
  containerReadiness, initialProbeState, nextProbeState, probeTimings, resolvePort, shouldProbe,
  type ProbeKind, type ProbeOutcome, type ProbeState,
} from '../../src/kubelet/probes.js';

/** Runs outcomes through the state machine; returns the verdict after each. */
function verdicts(kind: ProbeKind, outcomes: ProbeOutcome[], t = { successThreshold: 1, failureThreshold: 3 }): string[] {
  let s: ProbeState = initialProbeState(kind);
  return outcomes.map((o) => {
    s = nextProbeState(kind, s, o, t);
    return s.result;
  });
}

const S: ProbeOutcome = 'success';
const F: ProbeOutcome = 'failure';

describe('probe timings', () => {
  it('default to 0s delay, 10s period, 1s timeout, 1 success, 3 failures', () => {
    expect(probeTimings({})).toEqual({ initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1000, successThreshold: 1, failureThreshold: 3 });
  });

  it('take the probe\'s own values, and treat zeros as unset', () => {
    expect(probeTimings({ initialDelaySeconds: 5, periodSeconds: 2, timeoutSeconds: 3, successThreshold: 2, failureThreshold: 1 }))
      .toEqual({ initialDelayMs: 5000, periodMs: 2000, timeoutMs: 3000, successThreshold: 2, failureThreshold: 1 });
    expect(probeTimings({ periodSeconds: 0, timeoutSeconds: 0, failureThreshold: 0 })).toMatchObject({ periodMs: 10_000, timeoutMs: 1000, failureThreshold: 3 });
  });
});

describe('the probe state machine', () => {
  it('starts alive, not ready, and with the start undecided', () => {
    expect(initialProbeState('liveness').result).toBe('success');
    expect(initialProbeState('readiness').result).toBe('failure');
    expect(initialProbeState('startup').result).toBe('unknown');
  });

  it.each<[string, ProbeKind, ProbeOutcome[], { successThreshold: number; failureThreshold: number }, string[]]>([
    ['a liveness probe fails only after failureThreshold failures in a row', 'liveness', [F, F, F], { successThreshold: 1, failureThreshold: 3 },
      ['success', 'success', 'failure']],
    ['a success in between starts the failure count over', 'liveness', [F, F, S, F, F, F], { successThreshold: 1, failureThreshold: 3 },
      ['success', 'success', 'success', 'success', 'success', 'failure']],
    ['a readiness probe turns ready after one success', 'readiness', [S], { successThreshold: 1, failureThreshold: 3 }, ['success']],
    ['a readiness probe with successThreshold 2 needs two successes in a row', 'readiness', [S, F, S, S], { successThreshold: 2, failureThreshold: 3 },
      ['failure', 'failure', 'failure', 'success']],
    ['a ready container turns unready after failureThreshold failures, and ready again', 'readiness', [S, F, F, S], { successThreshold: 1, failureThreshold: 2 },
      ['success', 'success', 'failure', 'success']],
    ['a startup probe stays undecided until it succeeds', 'startup', [F, F, S], { successThreshold: 1, failureThreshold: 30 },
      ['unknown', 'unknown', 'success']],
    ['a startup probe fails after failureThreshold failures', 'startup', [F, F], { successThreshold: 1, failureThreshold: 2 }, ['unknown', 'failure']],
  ])('%s', (_name, kind, outcomes, t, expected) => {
    expect(verdicts(kind, outcomes, t)).toEqual(expected);
  });

  it('puts a failed liveness or startup worker on hold, but never a readiness one', () => {
    const t = { successThreshold: 1, failureThreshold: 1 };
    expect(nextProbeState('liveness', initialProbeState('liveness'), F, t)).toMatchObject({ result: 'failure', onHold: true, run: 0 });
    expect(nextProbeState('startup', initialProbeState('startup'), F, t)).toMatchObject({ result: 'failure', onHold: true });
    expect(nextProbeState('readiness', initialProbeState('readiness'), F, t)).toMatchObject({ result: 'failure', onHold: false });
  });
});

describe('shouldProbe', () => {
  const ctx = { now: 10_000, startedAt: 0, initialDelayMs: 0, started: true };
  it.each<[string, ProbeKind, Partial<ProbeState>, Partial<typeof ctx>, boolean]>([
    ['probes a started container', 'liveness', {}, {}, true],
    ['waits out initialDelaySeconds', 'readiness', {}, { initialDelayMs: 15_000 }, false],
    ['probes once initialDelaySeconds have passed', 'readiness', {}, { initialDelayMs: 10_000 }, true],
    ['holds liveness until the startup probe succeeded', 'liveness', {}, { started: false }, false],
    ['holds readiness until the startup probe succeeded', 'readiness', {}, { started: false }, false],
    ['runs the startup probe before the start', 'startup', {}, { started: false }, true],
    ['stops the startup probe once it succeeded', 'startup', { result: 'success' }, {}, false],
    ['does not probe while on hold', 'liveness', { result: 'failure', onHold: true }, {}, false],
  ])('%s', (_name, kind, state, c, expected) => {
    expect(shouldProbe(kind, { ...initialProbeState(kind), ...state }, { ...ctx, ...c })).toBe(expected);
  });
});

describe('containerReadiness', () => {
  const plain: Container = { name: 'c' };
  const probed: Container = { name: 'c', startupProbe: { exec: { command: ['true'] } }, readinessProbe: { exec: { command: ['true'] } } };
  it.each<[string, Container, boolean, Parameters<typeof containerReadiness>[2], { started: boolean; ready: boolean }]>([
    ['a running container without probes is started and ready', plain, true, undefined, { started: true, ready: true }],
    ['a container that does not run is neither', plain, false, undefined, { started: false, ready: false }],
    ['a container with probes and no verdicts yet is neither', probed, true, undefined, { started: false, ready: false }],
    ['a passed startup probe starts it; readiness still decides', probed, true, { startup: 'success', readiness: 'failure' }, { started: true, ready: false }],
    ['ready needs the start, whatever readiness says', probed, true, { startup: 'unknown', readiness: 'success' }, { started: false, ready: false }],
    ['both passed: started and ready', probed, true, { startup: 'success', readiness: 'success' }, { started: true, ready: true }],
  ])('%s', (_name, c, running, results, expected) => {
    expect(containerReadiness(c, running, results)).toEqual(expected);
  });
});

describe('resolvePort', () => {
  const c: Container = { name: 'web', ports: [{ name: 'http', containerPort: 8080 }] };
  it('takes a number, a port name, or a number written as a string', () => {
    expect(resolvePort(80, c)).toBe(80);
    expect(resolvePort('http', c)).toBe(8080);
    expect(resolvePort('9090', c)).toBe(9090);
  });

  it('explains an unknown name or a bad number', () => {
    expect(() => resolvePort('metrics', c)).toThrow("couldn't find port: metrics in container web");
    expect(() => resolvePort(0, c)).toThrow('invalid port number: 0');
  });
});
