import { it } from 'vitest';
import { RestStorage } from '../../src/apiserver/rest.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { RESOURCES } from '../../src/api/registry.js';
import { NAMESPACES_DEF, PODS_DEF } from './apiserver.fixtures.js';

it('probe', async () => {
  for (const [label, defs] of [['test defs', [PODS_DEF, NAMESPACES_DEF]], ['RESOURCES', RESOURCES]] as const) {
    const store = new SqliteStore(':memory:');
    const rest = new RestStorage(store, () => new Date(), [...defs]);
    const nsDef = defs.find((d) => d.resource === 'namespaces')!;
    const podDef = defs.find((d) => d.resource === 'pods')!;
    await rest.ensure(nsDef, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    const n = 5000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      await rest.create(podDef, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}` }, spec: { containers: [{ name: 'app', image: 'busybox' }] } } as never);
    }
    console.log(`${label}: RestStorage.create ${Math.round(n / ((performance.now() - t0) / 1000))}/s`);
    await store.close();
  }
}, 60000);
