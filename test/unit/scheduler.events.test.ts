/** EventRecorder (used by the scheduler): aggregation of repeats, and best-effort failures. */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/errors.js';
import type { KubeObject } from '../../src/api/types.js';
import { ApiClient, type ResourceRef } from '../../src/client/client.js';
import { EventRecorder } from '../../src/client/events.js';

interface Call {
  verb: 'create' | 'patch';
  namespace?: string;
  name?: string;
  body: unknown;
}

/** An ApiClient that records calls instead of sending them; `fail` makes the next call throw. */
class RecordingClient extends ApiClient {
  readonly calls: Call[] = [];
  fail: ApiError[] = [];

  constructor() {
    super({ server: 'http://127.0.0.1:1', token: '' });
  }

  override async create<T extends KubeObject>(ref: ResourceRef, obj: T): Promise<T> {
    this.calls.push({ verb: 'create', namespace: ref.namespace, name: obj.metadata?.name, body: obj });
    const err = this.fail.shift();
    if (err) throw err;
    return obj;
  }

  override async patch<T extends KubeObject>(ref: ResourceRef, name: string, patch: unknown): Promise<T> {
    this.calls.push({ verb: 'patch', namespace: ref.namespace, name, body: patch });
    const err = this.fail.shift();
    if (err) throw err;
    return {} as T;
  }
}

const pod = { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'web', namespace: 'default', uid: 'u1' } };
const at = (s: number) => () => new Date(Date.UTC(2024, 0, 1, 0, 0, s));

describe('EventRecorder', () => {
  it('creates a v1 Event with the involved object, source and timestamps', async () => {
    const client = new RecordingClient();
    await new EventRecorder(client, 'default-scheduler', undefined, { clock: at(5) }).event(pod, 'Normal', 'Scheduled', 'Successfully assigned default/web to n1');
    expect(client.calls).toHaveLength(1);
    const { namespace, name, body } = client.calls[0];
    expect(namespace).toBe('default');
    expect(name).toMatch(/^web\.[0-9a-f]+$/);
    expect(body).toMatchObject({
      apiVersion: 'v1', kind: 'Event', metadata: { namespace: 'default' },
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'u1', apiVersion: 'v1' },
      reason: 'Scheduled', message: 'Successfully assigned default/web to n1', type: 'Normal',
      source: { component: 'default-scheduler' }, reportingComponent: 'default-scheduler',
      firstTimestamp: '2024-01-01T00:00:05Z', lastTimestamp: '2024-01-01T00:00:05Z', count: 1,
    });
  });

  it('turns a repeat of the same event into a count and lastTimestamp patch', async () => {
    const client = new RecordingClient();
    let s = 0;
    const rec = new EventRecorder(client, 'default-scheduler', undefined, { clock: () => at(s++)() });
    await Promise.all([1, 2, 3].map(() => rec.event(pod, 'Warning', 'FailedScheduling', 'm')));
    expect(client.calls.map((c) => c.verb)).toEqual(['create', 'patch', 'patch']);
    const name = client.calls[0].name;
    expect(client.calls.slice(1).map((c) => [c.name, c.body])).toEqual([
      [name, { count: 2, lastTimestamp: expect.any(String) }],
      [name, { count: 3, lastTimestamp: expect.any(String) }],
    ]);
  });

  it('creates a separate event for a different message', async () => {
    const client = new RecordingClient();
    const rec = new EventRecorder(client, 'default-scheduler');
    await rec.event(pod, 'Warning', 'FailedScheduling', 'm1');
    await rec.event(pod, 'Warning', 'FailedScheduling', 'm2');
    expect(client.calls.map((c) => c.verb)).toEqual(['create', 'create']);
  });

  it('starts a new event when the aggregated one is gone', async () => {
    const client = new RecordingClient();
    const rec = new EventRecorder(client, 'kubelet', 'node-1');
    await rec.event(pod, 'Normal', 'Pulled', 'ok');
    client.fail = [new ApiError(404, 'NotFound', 'events "x" not found')];
    await rec.event(pod, 'Normal', 'Pulled', 'ok');
    expect(client.calls.map((c) => c.verb)).toEqual(['create', 'patch', 'create']);
    expect(client.calls[2].body).toMatchObject({ count: 1, source: { component: 'kubelet', host: 'node-1' }, reportingInstance: 'node-1' });
  });

  it('logs a failure instead of throwing it', async () => {
    const client = new RecordingClient();
    const logs: string[] = [];
    client.fail = [new ApiError(500, 'InternalError', 'disk full')];
    await expect(new EventRecorder(client, 'default-scheduler', undefined, { log: (m) => logs.push(m) })
      .event(pod, 'Normal', 'Scheduled', 'x')).resolves.toBeUndefined();
    expect(logs).toEqual(['event Scheduled for Pod default/web: not recorded: disk full']);
  });

  it('puts events of cluster-scoped objects in the default namespace', async () => {
    const client = new RecordingClient();
    await new EventRecorder(client, 'kubelet', 'node-1').event({ kind: 'Node', apiVersion: 'v1', metadata: { name: 'node-1', uid: 'n' } }, 'Normal', 'NodeReady', 'ready');
    expect(client.calls[0].namespace).toBe('default');
  });
});
