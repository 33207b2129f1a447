/**
 * LIST pages come from one snapshot, as Kubernetes serves them from etcd's revision of the
 * first page: objects created, changed or deleted between pages do not show in later pages;
 * a token older than the store's retained history gets Kubernetes' 410 with a token that goes
 * on from the current state; `resourceVersionMatch=Exact` lists at a past resourceVersion.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject, Status } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { call, NAMESPACES_DEF, PODS_DEF, TOKEN } from './apiserver.fixtures.js';

type Page = { metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number }; items: KubeObject[] };

let server: ApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(historySize?: number): Promise<string> {
  server = await startApiServer({
    store: new SqliteStore(':memory:', historySize ? { historySize } : {}), resources: [PODS_DEF, NAMESPACES_DEF], port: 0, token: TOKEN,
    logger: { info: () => undefined, error: () => undefined },
  });
  return server.url;
}

const pod = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] },
});
const PODS = '/api/v1/namespaces/default/pods';
const names = (p: Page) => p.items.map((o) => `${o.metadata?.name}${o.metadata?.labels?.v ? `:${o.metadata.labels.v}` : ''}`);

describe('paged lists', () => {
  it('serve every page from the first page\'s snapshot', async () => {
    const base = await start();
    for (const n of ['a', 'b', 'c', 'd', 'e']) await call(base, 'POST', PODS, { body: pod(n) });
    const first = (await call<Page>(base, 'GET', `${PODS}?limit=2`)).body;
    expect(names(first)).toEqual(['a', 'b']);
    // Between the pages: one deleted, one changed, one created after the cursor.
    await call(base, 'DELETE', `${PODS}/c`);
    await call(base, 'PATCH', `${PODS}/d`, { body: { metadata: { labels: { v: 'new' } } }, contentType: 'application/merge-patch+json' });
    await call(base, 'POST', PODS, { body: pod('cc') });
    const second = (await call<Page>(base, 'GET', `${PODS}?limit=2&continue=${first.metadata.continue}`)).body;
    expect(names(second)).toEqual(['c', 'd']);
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    expect(second.items[0].metadata?.resourceVersion).not.toBe(undefined);
    const third = (await call<Page>(base, 'GET', `${PODS}?limit=2&continue=${second.metadata.continue}`)).body;
    expect(names(third)).toEqual(['e']);
    expect(third.metadata.continue).toBeUndefined();
    // A fresh list sees the changes.
    expect(names((await call<Page>(base, 'GET', PODS)).body)).toEqual(['a', 'b', 'cc', 'd:new', 'e']);
  });

  it('answer a token older than the retained history with 410 Expired and a token that goes on', async () => {
    const base = await start(5);
    for (const n of ['a', 'b', 'c', 'd']) await call(base, 'POST', PODS, { body: pod(n) });
    const first = (await call<Page>(base, 'GET', `${PODS}?limit=2`)).body;
    for (let i = 0; i < 30; i++) await call(base, 'POST', PODS, { body: pod(`z-${i}`) });
    const expired = await call<Status>(base, 'GET', `${PODS}?limit=2&continue=${first.metadata.continue}`);
    expect(expired.status).toBe(410);
    expect(expired.body).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
    expect(expired.body.message).toMatch(/^The provided continue parameter is too old to display a consistent list result\./);
    const next = (expired.body.metadata as { continue?: string }).continue;
    expect(next).toBeTruthy();
    const rest = (await call<Page>(base, 'GET', `${PODS}?limit=2&continue=${next}`)).body;
    expect(names(rest)).toEqual(['c', 'd']);
  });

  it('list at an exact past resourceVersion, and refuse a resourceVersion with continue', async () => {
    const base = await start();
    await call(base, 'POST', PODS, { body: pod('a') });
    const at = (await call<Page>(base, 'GET', PODS)).body.metadata.resourceVersion;
    await call(base, 'POST', PODS, { body: pod('b') });
    await call(base, 'DELETE', `${PODS}/a`);
    const exact = (await call<Page>(base, 'GET', `${PODS}?resourceVersion=${at}&resourceVersionMatch=Exact`)).body;
    expect([names(exact), exact.metadata.resourceVersion]).toEqual([['a'], at]);
    expect(names((await call<Page>(base, 'GET', `${PODS}?resourceVersion=${at}`)).body)).toEqual(['b']);
    const first = (await call<Page>(base, 'GET', `${PODS}?limit=1`)).body;
    await call(base, 'POST', PODS, { body: pod('c') });
    const bad = await call<Status>(base, 'GET', `${PODS}?limit=1&resourceVersion=${at}&continue=${first.metadata.continue}`);
    expect([bad.status, bad.body.message]).toEqual([400, 'specifying resource version is not allowed when using continue']);
    const ahead = await call<Status>(base, 'GET', `${PODS}?resourceVersion=999999&resourceVersionMatch=Exact`);
    expect(ahead.status).toBe(504);
  });
});
