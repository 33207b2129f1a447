/**
 * The contract every `Store` implementation passes. Call `describeStoreContract` from an
 * implementation's test file with a factory; cases that need a restart run only when the
 * factory can reopen the same data (and say so when skipped).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/errors.js';
import type { KubeObject } from '../../src/api/types.js';
import { collectionKey, objectKey, type Store, type StoreWatch, type StoreWatchEvent } from '../../src/store/types.js';

export interface StoreFactory {
  /** A fresh, empty store. `historySize` bounds the change log kept for watch resume. */
  open(opts?: { historySize?: number }): Promise<Store>;
  /**
   * Closes `store` and opens the same data again (a process restart), with the same options it
   * was opened with. Absent for stores that cannot outlive their process.
   */
  reopen?(store: Store): Promise<Store>;
}

const PODS = { group: '', resource: 'pods' };
const NODES = { group: '', resource: 'nodes' };
const DEPLOYMENTS = { group: 'apps', resource: 'deployments' };

const pod = (name: string, ns = 'default', extra: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { containers: [{ name: 'c', image: 'busybox' }] }, ...extra }) as KubeObject;

/** The object with one top-level field (`status`, `spec`) replaced. */
const withField = (o: KubeObject, name: 'status' | 'spec', value: unknown): KubeObject => ({ ...o, [name]: value }) as KubeObject;
/** One top-level field of a stored object. */
const field = (o: KubeObject | undefined, name: 'status' | 'spec'): unknown => (o as Record<string, unknown> | undefined)?.[name];

const rvOf = (o: KubeObject): number => Number(o.metadata?.resourceVersion);

/** Rejection of `p` as an ApiError (fails the test if `p` resolves or rejects with something else). */
async function apiError(p: Promise<unknown>): Promise<ApiError> {
  const e: unknown = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(ApiError);
  return e as ApiError;
}

/** Collects watch events; `take(n)` waits for the next n (without polling). */
class Collector {
  readonly events: StoreWatchEvent[] = [];
  private taken = 0;
  private waiter?: () => void;
  readonly handler = (e: StoreWatchEvent): void => {
    this.events.push(e);
    this.waiter?.();
  };

  async take(n: number): Promise<StoreWatchEvent[]> {
    while (this.events.length - this.taken < n) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${n} events, have ${this.events.length - this.taken}`)), 2000);
        this.waiter = () => { clearTimeout(t); resolve(); };
      });
    }
    const out = this.events.slice(this.taken, this.taken + n);
    this.taken += n;
    return out;
  }

  /** Lets every queued delivery run, then returns how many events were not taken yet. */
  async pending(): Promise<number> {
    await new Promise((r) => setImmediate(r));
    return this.events.length - this.taken;
  }
}

const summary = (events: StoreWatchEvent[]): string[] =>
  events.map((e) => ('key' in e ? `${e.type} ${e.object.metadata?.name} ${e.resourceVersion}` : e.type));

export function describeStoreContract(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    const watches: StoreWatch[] = [];
    const open = async (opts?: { historySize?: number }): Promise<Store> => (store = await factory.open(opts));
    const watch = async (prefix: string, from: number | undefined, c: Collector): Promise<StoreWatch> => {
      const w = await store.watch(prefix, { fromResourceVersion: from }, c.handler);
      watches.push(w);
      return w;
    };

    afterEach(async () => {
      watches.splice(0).forEach((w) => w.cancel());
      await store.close();
    });

    describe('objects and resourceVersions', () => {
      it('stamps a created object with a numeric resourceVersion and returns it on get', async () => {
        await open();
        const created = await store.create(objectKey(PODS, 'default', 'web'), pod('web'));
        expect(created.metadata?.resourceVersion).toMatch(/^[1-9]\d*$/);
        expect(await store.get(objectKey(PODS, 'default', 'web'))).toEqual(created);
      });

      it('increases one resourceVersion across all keys, kinds and operations', async () => {
        await open();
        const rvs = [
          rvOf(await store.create(objectKey(PODS, 'default', 'a'), pod('a'))),
          rvOf(await store.create(objectKey(NODES, undefined, 'node-1'), { kind: 'Node', metadata: { name: 'node-1' } })),
          rvOf(await store.update(objectKey(PODS, 'default', 'a'), pod('a', 'default', { status: { phase: 'Running' } }))),
          rvOf(await store.create(objectKey(DEPLOYMENTS, 'default', 'd'), { kind: 'Deployment', metadata: { name: 'd' } })),
        ];
        await store.delete(objectKey(PODS, 'default', 'a'));
        const { resourceVersion } = await store.list(collectionKey(NODES));
        rvs.push(resourceVersion);
        for (let i = 1; i < rvs.length; i++) expect(rvs[i]).toBeGreaterThan(rvs[i - 1]);
      });

      it('ignores a resourceVersion sent by the caller and never changes the caller\'s object', async () => {
        await open();
        const mine = pod('web');
        mine.metadata = { ...mine.metadata, resourceVersion: '999' };
        const created = await store.create(objectKey(PODS, 'default', 'web'), mine);
        expect(mine.metadata?.resourceVersion).toBe('999');
        expect(created.metadata?.resourceVersion).not.toBe('999');
        created.metadata!.labels = { changed: 'yes' };
        expect((await store.get(objectKey(PODS, 'default', 'web')))?.metadata?.labels).toBeUndefined();
      });

      it('returns undefined from get for a missing key', async () => {
        await open();
        expect(await store.get(objectKey(PODS, 'default', 'nope'))).toBeUndefined();
      });

      it('refuses to create a key twice with 409 AlreadyExists, without using a resourceVersion', async () => {
        await open();
        const first = await store.create(objectKey(PODS, 'default', 'web'), pod('web'));
        const e = await apiError(store.create(objectKey(PODS, 'default', 'web'), pod('web')));
        expect([e.code, e.reason, e.message]).toEqual([409, 'AlreadyExists', 'pods "web" already exists']);
        expect((await store.list(collectionKey(PODS))).resourceVersion).toBe(rvOf(first));
      });

      it('words errors for grouped kinds with the qualified resource', async () => {
        await open();
        const e = await apiError(store.update(objectKey(DEPLOYMENTS, 'default', 'd'), { metadata: { name: 'd' } }));
        expect([e.code, e.message]).toEqual([404, 'deployments.apps "d" not found']);
      });
    });

    describe('update', () => {
      it('replaces the object and gives it a new resourceVersion', async () => {
        await open();
        const key = objectKey(PODS, 'default', 'web');
        const v1 = await store.create(key, pod('web'));
        const v2 = await store.update(key, withField(v1, 'status', { phase: 'Running' }));
        expect(rvOf(v2)).toBeGreaterThan(rvOf(v1));
        expect(await store.get(key)).toEqual(v2);
      });

      it('rejects a stale expected resourceVersion with 409 Conflict as Kubernetes words it', async () => {
        await open();
        const key = objectKey(PODS, 'default', 'web');
        const v1 = await store.create(key, pod('web'));
        await store.update(key, withField(v1, 'status', { phase: 'Running' }), { expectedResourceVersion: rvOf(v1) });
        const e = await apiError(store.update(key, withField(v1, 'status', { phase: 'Failed' }), { expectedResourceVersion: rvOf(v1) }));
        expect([e.code, e.reason, e.message]).toEqual([409, 'Conflict',
          'Operation cannot be fulfilled on pods "web": the object has been modified; please apply your changes to the latest version and try again']);
        expect(field(await store.get(key), 'status')).toEqual({ phase: 'Running' });
      });

      it('updates unconditionally when no resourceVersion is expected', async () => {
        await open();
        const key = objectKey(PODS, 'default', 'web');
        const v1 = await store.create(key, pod('web'));
        await store.update(key, withField(v1, 'status', { phase: 'Running' }));
        const v3 = await store.update(key, withField(v1, 'status', { phase: 'Succeeded' }));
        expect(field(v3, 'status')).toEqual({ phase: 'Succeeded' });
      });

      it('answers 404 NotFound for a missing key', async () => {
        await open();
        const e = await apiError(store.update(objectKey(PODS, 'default', 'ghost'), pod('ghost')));
        expect([e.code, e.reason, e.message]).toEqual([404, 'NotFound', 'pods "ghost" not found']);
      });
    });

    describe('delete', () => {
      it('removes the object and returns its last stored state', async () => {
        await open();
        const key = objectKey(PODS, 'default', 'web');
        const v1 = await store.create(key, pod('web'));
        expect(await store.delete(key)).toEqual(v1);
        expect(await store.get(key)).toBeUndefined();
      });

      it('keeps the object when the resourceVersion precondition is stale (409)', async () => {
        await open();
        const key = objectKey(PODS, 'default', 'web');
        const v1 = await store.create(key, pod('web'));
        const v2 = await store.update(key, withField(v1, 'status', { phase: 'Running' }));
        const e = await apiError(store.delete(key, { expectedResourceVersion: rvOf(v1) }));
        expect([e.code, e.reason]).toEqual([409, 'Conflict']);
        expect(e.message).toBe(`Operation cannot be fulfilled on pods "web": Precondition failed: ResourceVersion in precondition: ${rvOf(v1)}, ResourceVersion in object meta: ${rvOf(v2)}`);
        expect(await store.get(key)).toEqual(v2);
        await store.delete(key, { expectedResourceVersion: rvOf(v2) });
        expect(await store.get(key)).toBeUndefined();
      });

      it('answers 404 NotFound for a missing key', async () => {
        await open();
        const e = await apiError(store.delete(objectKey(NODES, undefined, 'node-9')));
        expect([e.code, e.message]).toEqual([404, 'nodes "node-9" not found']);
      });
    });

    describe('list', () => {
      it('returns the objects under a prefix ordered by key, and no others', async () => {
        await open();
        await store.create(objectKey(PODS, 'default2', 'x'), pod('x', 'default2'));
        await store.create(objectKey(PODS, 'default', 'b'), pod('b'));
        await store.create(objectKey(PODS, 'default', 'a'), pod('a'));
        await store.create(objectKey(NODES, undefined, 'n'), { kind: 'Node', metadata: { name: 'n' } });
        const names = async (prefix: string) => (await store.list(prefix)).items.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`);
        expect(await names(collectionKey(PODS, 'default'))).toEqual(['default/a', 'default/b']);
        expect(await names(collectionKey(PODS))).toEqual(['default/a', 'default/b', 'default2/x']);
        expect(await names(collectionKey(PODS, 'kube-system'))).toEqual([]);
      });

      it('reports the store resourceVersion at the read, even when the last write was elsewhere', async () => {
        await open();
        await store.create(objectKey(PODS, 'default', 'a'), pod('a'));
        const node = await store.create(objectKey(NODES, undefined, 'n'), { kind: 'Node', metadata: { name: 'n' } });
        const list = await store.list(collectionKey(PODS));
        expect(list.resourceVersion).toBe(rvOf(node));
        expect(list.items.map(rvOf)).toEqual([rvOf(node) - 1]);
      });
    });

    describe('guaranteedUpdate', () => {
      it('stores what the function returns, from the current object', async () => {
        await open();
        const key = objectKey(PODS, 'default', 'web');
        await store.create(key, pod('web'));
        const out = await store.guaranteedUpdate(key, (cur) => (withField(cur, 'status', { phase: 'Running' })));
        expect(field(out, 'status')).toEqual({ phase: 'Running' });
        expect(await store.get(key)).toEqual(out);
      });

      it('writes nothing when the function returns the object unchanged', async () => {
        await open();
        const key = objectKey(PODS, 'default', 'web');
        const v1 = await store.create(key, pod('web'));
        const c = new Collector();
        await watch(collectionKey(PODS), rvOf(v1), c);
        const out = await store.guaranteedUpdate(key, (cur) => cur);
        expect(out).toEqual(v1);
        expect((await store.list(collectionKey(PODS))).resourceVersion).toBe(rvOf(v1));
        expect(await c.pending()).toBe(0);
      });

      it('writes nothing when the function returns the same object with its keys in another order', async () => {
        await open();
        const key = objectKey(PODS, 'default', 'web');
        const v1 = await store.create(key, pod('web'));
        const reordered = Object.fromEntries(Object.entries(v1).reverse()) as KubeObject;
        const out = await store.guaranteedUpdate(key, () => reordered);
        expect(out.metadata?.resourceVersion).toBe(v1.metadata?.resourceVersion);
        expect((await store.list(collectionKey(PODS))).resourceVersion).toBe(rvOf(v1));
      });

      it('retries with a fresh read when another write lands while the function runs', async () => {
        await open();
        const key = objectKey(PODS, 'default', 'web');
        await store.create(key, pod('web'));
        let calls = 0;
        const out = await store.guaranteedUpdate(key, async (cur) => {
          calls++;
          if (calls === 1) await store.update(key, { ...cur, metadata: { ...cur.metadata, labels: { app: 'web' } } });
          return withField(cur, 'status', { phase: 'Running' });
        });
        expect(calls).toBe(2);
        expect(out.metadata?.labels).toEqual({ app: 'web' });
        expect(field(out, 'status')).toEqual({ phase: 'Running' });
      });

      it('passes the function\'s error through and answers 404 for a missing key', async () => {
        await open();
        const key = objectKey(PODS, 'default', 'web');
        expect((await apiError(store.guaranteedUpdate(key, (c) => c))).code).toBe(404);
        await store.create(key, pod('web'));
        const e = await apiError(store.guaranteedUpdate(key, () => { throw new ApiError(422, 'Invalid', 'no'); }));
        expect(e.code).toBe(422);
      });
    });

    describe('watch', () => {
      it('delivers only live changes when no resourceVersion is given', async () => {
        await open();
        await store.create(objectKey(PODS, 'default', 'before'), pod('before'));
        const c = new Collector();
        await watch(collectionKey(PODS), undefined, c);
        const after = await store.create(objectKey(PODS, 'default', 'after'), pod('after'));
        expect(summary(await c.take(1))).toEqual([`ADDED after ${rvOf(after)}`]);
        expect(await c.pending()).toBe(0);
      });

      it('replays every change after the given resourceVersion in order, then streams live ones, each once', async () => {
        await open();
        const a = await store.create(objectKey(PODS, 'default', 'a'), pod('a'));
        const b = await store.create(objectKey(PODS, 'default', 'b'), pod('b'));
        const a2 = await store.update(objectKey(PODS, 'default', 'a'), withField(a, 'status', { phase: 'Running' }));
        const c = new Collector();
        await watch(collectionKey(PODS), rvOf(a), c);
        await store.delete(objectKey(PODS, 'default', 'b'));
        const bGone = rvOf(a2) + 1;
        const d = await store.create(objectKey(PODS, 'default', 'd'), pod('d'));
        expect(summary(await c.take(4))).toEqual([
          `ADDED b ${rvOf(b)}`, `MODIFIED a ${rvOf(a2)}`, `DELETED b ${bGone}`, `ADDED d ${rvOf(d)}`,
        ]);
        expect(await c.pending()).toBe(0);
      });

      it('delivers nothing more, even while live changes arrive, to a watch started at the current resourceVersion', async () => {
        await open();
        const a = await store.create(objectKey(PODS, 'default', 'a'), pod('a'));
        const c = new Collector();
        await watch(collectionKey(PODS), rvOf(a), c);
        const b = await store.create(objectKey(PODS, 'default', 'b'), pod('b'));
        expect(summary(await c.take(1))).toEqual([`ADDED b ${rvOf(b)}`]);
      });

      it('gives MODIFIED the previous object and DELETED the last state stamped with the deletion resourceVersion', async () => {
        await open();
        const key = objectKey(PODS, 'default', 'a');
        const a = await store.create(key, pod('a'));
        const c = new Collector();
        await watch(collectionKey(PODS), rvOf(a), c);
        const a2 = await store.update(key, withField(a, 'spec', { nodeName: 'node-1' }));
        await store.delete(key);
        const [mod, del] = await c.take(2);
        if (mod.type !== 'MODIFIED' || del.type !== 'DELETED') throw new Error(`unexpected ${summary([mod, del])}`);
        expect(mod.object).toEqual(a2);
        expect(mod.prevObject).toEqual(a);
        expect(field(del.object, 'spec')).toEqual({ nodeName: 'node-1' });
        expect(rvOf(del.object)).toBe(del.resourceVersion);
        expect(del.resourceVersion).toBe(rvOf(a2) + 1);
      });

      it('replays prevObject too when resuming from history', async () => {
        await open();
        const key = objectKey(PODS, 'default', 'a');
        const a = await store.create(key, pod('a'));
        await store.update(key, withField(a, 'spec', { nodeName: 'node-1' }));
        const c = new Collector();
        await watch(collectionKey(PODS), rvOf(a), c);
        const [mod] = await c.take(1);
        expect(mod.type === 'MODIFIED' && mod.prevObject).toEqual(a);
      });

      it('filters by key prefix: one namespace, one kind', async () => {
        await open();
        const c = new Collector();
        await watch(collectionKey(PODS, 'default'), undefined, c);
        await store.create(objectKey(PODS, 'default2', 'x'), pod('x', 'default2'));
        await store.create(objectKey(NODES, undefined, 'n'), { kind: 'Node', metadata: { name: 'n' } });
        await store.create(objectKey(PODS, 'default', 'y'), pod('y'));
        expect(summary(await c.take(1))).toEqual([expect.stringMatching(/^ADDED y /)]);
        expect(await c.pending()).toBe(0);
      });

      it('does not deliver failed writes', async () => {
        await open();
        const a = await store.create(objectKey(PODS, 'default', 'a'), pod('a'));
        const c = new Collector();
        await watch(collectionKey(PODS), undefined, c);
        await apiError(store.create(objectKey(PODS, 'default', 'a'), pod('a')));
        await apiError(store.update(objectKey(PODS, 'default', 'a'), pod('a'), { expectedResourceVersion: rvOf(a) + 100 }));
        await apiError(store.delete(objectKey(PODS, 'default', 'zzz')));
        expect(await c.pending()).toBe(0);
      });

      it('fans one change out to every matching watcher, and stops at cancel', async () => {
        await open();
        const cs = Array.from({ length: 5 }, () => new Collector());
        const ws = await Promise.all(cs.map((c) => watch(collectionKey(PODS), undefined, c)));
        await store.create(objectKey(PODS, 'default', 'a'), pod('a'));
        for (const c of cs) expect(summary(await c.take(1))).toEqual([expect.stringMatching(/^ADDED a /)]);
        ws[0].cancel();
        await store.create(objectKey(PODS, 'default', 'b'), pod('b'));
        expect(await cs[0].pending()).toBe(0);
        expect(summary(await cs[1].take(1))).toEqual([expect.stringMatching(/^ADDED b /)]);
      });

      it('answers requestProgress with the current resourceVersion after every pending change', async () => {
        await open();
        const c = new Collector();
        const w = await watch(collectionKey(PODS, 'default'), undefined, c);
        await store.create(objectKey(PODS, 'default', 'a'), pod('a'));
        const other = await store.create(objectKey(PODS, 'other', 'b'), pod('b', 'other'));
        w.requestProgress();
        const events = await c.take(2);
        expect(events[0].type).toBe('ADDED');
        expect(events[1]).toEqual({ type: 'PROGRESS', resourceVersion: rvOf(other) });
      });

      it('fails with 410 Expired when the resourceVersion is older than the history kept', async () => {
        await open({ historySize: 5 });
        const first = await store.create(objectKey(PODS, 'default', 'p0'), pod('p0'));
        for (let i = 1; i < 30; i++) await store.create(objectKey(PODS, 'default', `p${i}`), pod(`p${i}`));
        const e = await apiError(store.watch(collectionKey(PODS), { fromResourceVersion: rvOf(first) }, () => undefined));
        expect([e.code, e.reason]).toEqual([410, 'Expired']);
        expect(e.message).toMatch(new RegExp(`^too old resource version: ${rvOf(first)} \\(\\d+\\)$`));
      });

      it('still resumes from anywhere inside the history kept', async () => {
        await open({ historySize: 5 });
        let last = 0;
        for (let i = 0; i < 30; i++) last = rvOf(await store.create(objectKey(PODS, 'default', `p${i}`), pod(`p${i}`)));
        const c = new Collector();
        await watch(collectionKey(PODS), last - 5, c);
        expect((await c.take(5)).map((e) => ('resourceVersion' in e ? e.resourceVersion : 0))).toEqual([last - 4, last - 3, last - 2, last - 1, last]);
      });

      it('fails with 504 when the resourceVersion is ahead of the store', async () => {
        await open();
        const a = await store.create(objectKey(PODS, 'default', 'a'), pod('a'));
        const e = await apiError(store.watch(collectionKey(PODS), { fromResourceVersion: rvOf(a) + 10 }, () => undefined));
        expect([e.code, e.reason, e.message]).toEqual([504, 'Timeout', `Too large resource version: ${rvOf(a) + 10}, current: ${rvOf(a)}`]);
      });

      it('tells watchers CLOSED when the store closes', async () => {
        await open();
        const c = new Collector();
        await watch(collectionKey(PODS), undefined, c);
        await store.close();
        expect(await c.take(1)).toEqual([{ type: 'CLOSED' }]);
        store = await factory.open(); // for afterEach
      });
    });

    describe('restart', () => {
      const needsReopen = factory.reopen ? it : it.skip;
      if (!factory.reopen) it.skip('cases need a store that outlives its process (this one is in-memory)', () => undefined);

      needsReopen('keeps objects and keeps the resourceVersion increasing', async () => {
        await open();
        const a = await store.create(objectKey(PODS, 'default', 'a'), pod('a'));
        const n = await store.create(objectKey(NODES, undefined, 'n'), { kind: 'Node', metadata: { name: 'n' } });
        store = await factory.reopen!(store);
        expect(await store.get(objectKey(PODS, 'default', 'a'))).toEqual(a);
        expect((await store.list(collectionKey(NODES))).items).toEqual([n]);
        expect((await store.list(collectionKey(NODES))).resourceVersion).toBe(rvOf(n));
        const b = await store.create(objectKey(PODS, 'default', 'b'), pod('b'));
        expect(rvOf(b)).toBe(rvOf(n) + 1);
      });

      needsReopen('keeps the resourceVersion increasing even when the last change was a delete', async () => {
        await open();
        await store.create(objectKey(PODS, 'default', 'a'), pod('a'));
        await store.delete(objectKey(PODS, 'default', 'a'));
        const { resourceVersion } = await store.list(collectionKey(PODS));
        store = await factory.reopen!(store);
        expect((await store.list(collectionKey(PODS))).resourceVersion).toBe(resourceVersion);
        expect(rvOf(await store.create(objectKey(PODS, 'default', 'a'), pod('a')))).toBe(resourceVersion + 1);
      });

      needsReopen('resumes a watch from a resourceVersion seen before the restart', async () => {
        await open();
        const a = await store.create(objectKey(PODS, 'default', 'a'), pod('a'));
        const b = await store.create(objectKey(PODS, 'default', 'b'), pod('b'));
        store = await factory.reopen!(store);
        const c = new Collector();
        await watch(collectionKey(PODS), rvOf(a), c);
        const d = await store.create(objectKey(PODS, 'default', 'd'), pod('d'));
        expect(summary(await c.take(2))).toEqual([`ADDED b ${rvOf(b)}`, `ADDED d ${rvOf(d)}`]);
      });

      needsReopen('remembers compaction: a compacted resourceVersion is still 410 after restart', async () => {
        await open({ historySize: 5 });
        const first = await store.create(objectKey(PODS, 'default', 'p0'), pod('p0'));
        for (let i = 1; i < 30; i++) await store.create(objectKey(PODS, 'default', `p${i}`), pod(`p${i}`));
        store = await factory.reopen!(store);
        const e = await apiError(store.watch(collectionKey(PODS), { fromResourceVersion: rvOf(first) }, () => undefined));
        expect(e.code).toBe(410);
      });
    });
  });
}
