import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/types.js';
import { logRequest, waitingToStartMessage } from '../../src/kubelet/server.js';

const NOW = new Date('2026-01-01T12:00:00Z');

describe('the kubelet log query', () => {
  it.each<[string, string, ReturnType<typeof logRequest>]>([
    ['nothing asks for all lines', '', { follow: false, timestamps: false }],
    ['follow, timestamps and tailLines pass through', 'follow=true&timestamps=true&tailLines=5', { follow: true, timestamps: true, tail: 5 }],
    ['sinceSeconds counts back from now', 'sinceSeconds=60', { follow: false, timestamps: false, since: new Date('2026-01-01T11:59:00Z') }],
    ['sinceTime is an RFC 3339 time', 'sinceTime=2026-01-01T10:00:00Z', { follow: false, timestamps: false, since: new Date('2026-01-01T10:00:00Z') }],
    ['limitBytes caps the output', 'limitBytes=3', { follow: false, timestamps: false, limitBytes: 3 }],
  ])('%s', (_name, query, want) => {
    expect(logRequest(new URLSearchParams(query), NOW)).toEqual(want);
  });
});

describe('the answer for a container that has not started', () => {
  const pod = (reason?: string): Pod => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' },
    spec: { containers: [{ name: 'app', image: 'x' }] },
    status: { containerStatuses: reason ? [{ name: 'app', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason } } }] : [] },
  });
  it.each<[string | undefined, string]>([
    ['ImagePullBackOff', 'trying and failing to pull image'],
    ['ErrImagePull', "image can't be pulled"],
    ['CreateContainerConfigError', 'CreateContainerConfigError'],
    [undefined, 'ContainerCreating'],
  ])('waiting reason %s reads "%s", as the kubelet words it', (reason, why) => {
    expect(waitingToStartMessage(pod(reason), 'app')).toBe(`container "app" in pod "web" is waiting to start: ${why}`);
  });
});
