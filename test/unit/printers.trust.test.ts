/**
 * Issue 12 review items: one pod printer (kubectl's `get pods`, through the server's Table,
 * and `minikube-lite get pods` print the same READY, STATUS and RESTARTS), the TLS certificate
 * through the `selfsigned` library, and the kubeconfig through js-yaml.
 */
import { X509Certificate } from 'node:crypto';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { podRow } from '../../src/api/podstatus.js';
import { RESOURCES } from '../../src/api/registry.js';
import type { Pod } from '../../src/api/types.js';
import { toTable } from '../../src/apiserver/table.js';
import { selfSignedCertificate } from '../../src/apiserver/tls.js';
import { kubeconfigYaml } from '../../src/cli/cluster.js';
import { tableRow } from '../../src/cli/commands/tables.js';

const now = new Date('2025-06-01T12:00:00Z');
const podsDef = RESOURCES.find((d) => d.resource === 'pods' && d.group === '')!;

const pods: [string, Pod][] = [
  ['a ready sidecar counted in READY', {
    metadata: { name: 'sidecar', creationTimestamp: '2025-06-01T11:00:00Z' },
    spec: { initContainers: [{ name: 'log', image: 'busybox', restartPolicy: 'Always' }], containers: [{ name: 'web', image: 'nginx' }] },
    status: { phase: 'Running', conditions: [{ type: 'Initialized', status: 'True' }],
      initContainerStatuses: [{ name: 'log', ready: true, started: true, restartCount: 0, image: 'busybox', imageID: '', state: { running: {} } }],
      containerStatuses: [{ name: 'web', ready: true, restartCount: 0, image: 'nginx', imageID: '', state: { running: {} } }] },
  }],
  ['restarts with the time of the last one', {
    metadata: { name: 'crashy', creationTimestamp: '2025-06-01T11:00:00Z' },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'c', ready: false, restartCount: 3, image: 'busybox', imageID: '',
      state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: '2025-06-01T11:55:00Z' } } }] },
  }],
  ['a gated pod', {
    metadata: { name: 'gated', creationTimestamp: '2025-06-01T11:59:00Z' },
    spec: { containers: [{ name: 'c', image: 'nginx' }], readinessGates: [{ conditionType: 'x/ready' }] },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] },
  }],
];

describe('one pod printer', () => {
  it.each(pods)('the server Table and minikube-lite agree on %s', (_what, pod) => {
    const table = toTable(podsDef, [pod as never], '1', now) as { rows: { cells: unknown[] }[] };
    const cli = tableRow(podsDef, pod as never, { wide: true, now: now.getTime() });
    expect(table.rows[0].cells).toEqual(cli);
  });

  it('counts the sidecar and dates the restart as kubectl does', () => {
    expect(podRow(pods[0][1], now).ready).toBe('2/2');
    expect(podRow(pods[1][1], now).restarts).toBe('3 (5m ago)');
  });
});

describe('serving certificate (selfsigned)', () => {
  it('is a CA and a server certificate for the given IPs and names, RSA 2048 (BusyBox wget can talk to it), valid for the given days', async () => {
    const { cert, key } = await selfSignedCertificate({ hosts: ['127.0.0.1', 'localhost'], days: 10, now });
    const x = new X509Certificate(cert);
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(x.ca).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.publicKey.asymmetricKeyType).toBe('rsa');
    expect(x.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(new Date(x.validTo).getTime()).toBe(now.getTime() + 10 * 86400_000);
    expect(key).toContain('BEGIN PRIVATE KEY');
  });
});

describe('kubeconfig (js-yaml)', () => {
  it('round-trips names and tokens that string concatenation would break', () => {
    const text = kubeconfigYaml({ name: 'odd: name #1', server: 'https://127.0.0.1:6443', caPem: 'PEM', token: "t'o\"k: en" });
    expect(yaml.load(text)).toEqual({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'odd: name #1', preferences: {},
      clusters: [{ name: 'odd: name #1', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': Buffer.from('PEM').toString('base64') } }],
      users: [{ name: 'odd: name #1', user: { token: "t'o\"k: en" } }],
      contexts: [{ name: 'odd: name #1', context: { cluster: 'odd: name #1', user: 'odd: name #1', namespace: 'default' } }],
    });
  });
});

describe('Warning headers reach the CLI', () => {
  it('parses one or several 299 warnings with escaped quotes', async () => {
    const { parseWarnings } = await import('../../src/client/client.js');
    expect(parseWarnings('299 - "unknown field \\"spec.foo\\""')).toEqual(['unknown field "spec.foo"']);
    expect(parseWarnings('299 - "a", 299 - "b, c"')).toEqual(['a', 'b, c']);
    expect(parseWarnings(null)).toEqual([]);
  });
});

describe('apply --validate', () => {
  it.each([['strict', 'Strict'], ['true', 'Strict'], ['warn', 'Warn'], ['ignore', 'Ignore'], ['false', 'Ignore']])('maps %s to fieldValidation=%s, as kubectl does', async (flag, mode) => {
    const { fieldValidationFlag } = await import('../../src/cli/commands/apply.js');
    expect(fieldValidationFlag(flag)).toBe(mode);
  });
  it('refuses anything else', async () => {
    const { fieldValidationFlag } = await import('../../src/cli/commands/apply.js');
    expect(() => fieldValidationFlag('loud')).toThrow('invalid - validate option "loud"; must be one of: strict (or true), warn, ignore (or false)');
  });
});
