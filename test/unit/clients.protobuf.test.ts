/**
 * Protobuf bodies as stock kubectl sends them: each `kubectl create …` body is captured from the
 * real kubectl by a tiny HTTP server, decoded by the table-driven codec and compared with what
 * `kubectl create … --dry-run=client -o json` prints; then the same commands run against the API
 * server itself (protobuf request and, since kubectl's Accept puts protobuf first, protobuf
 * response), with `--dry-run=server` too. Skipped (with the reason printed) without kubectl.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/errors.js';
import { RESOURCES } from '../../src/api/registry.js';
import { acceptsProtobufFirst, decodeProtobuf, encodeProtobuf, goDuration } from '../../src/apiserver/protobuf.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { selfSignedCertificate } from '../../src/apiserver/tls.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { TOKEN } from './apiserver.fixtures.js';

const KUBECTL = '/usr/bin/kubectl';
const haveKubectl = existsSync(KUBECTL);
if (!haveKubectl) console.log(`clients.protobuf: ${KUBECTL} is absent, the kubectl capture tests are skipped`);

const dir = mkdtempSync(join(tmpdir(), 'cla-pb-'));
const kubeconfig = (name: string, server: string, token?: string): string => {
  const path = join(dir, name);
  writeFileSync(path, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]\n`
    + `contexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]\nusers: [{name: u, user: {${token ? `token: ${token}` : ''}}}]\ncurrent-context: c\n`);
  return path;
};
const kubectl = (kc: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(KUBECTL, ['--kubeconfig', kc, ...args], { timeout: 30_000 }, (e, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
    });
  });

/** JSON with nulls removed (Go prints `creationTimestamp: null` for zero times). */
const withoutNulls = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]));
  return v;
};

const COMMANDS: string[][] = [
  ['create', 'namespace', 'pb-ns'],
  ['create', 'deployment', 'pb-deploy', '--image=nginx', '--replicas=0', '--port=8080'],
  ['create', 'service', 'clusterip', 'pb-svc', '--tcp=80', '--tcp=8443:443'],
  ['create', 'configmap', 'pb-cm', '--from-literal=a=b', '--from-literal=empty='],
  ['create', 'secret', 'generic', 'pb-secret', '--from-literal=user=admin', '--from-literal=pw=s3cr=t'],
  ['create', 'job', 'pb-job', '--image=busybox', '--', 'sh', '-c', 'echo hi'],
];

let capture: http.Server;
let captureKc = '';
const captured: { url: string; contentType?: string; body: Buffer }[] = [];
let api: ApiServer;
let apiKc = '';

beforeAll(async () => {
  capture = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST') {
        captured.push({ url: req.url ?? '', contentType: req.headers['content-type'], body: Buffer.concat(chunks) });
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end('{}');
        return;
      }
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"kind":"Status","apiVersion":"v1","status":"Failure","code":404,"reason":"NotFound"}');
    });
  });
  await new Promise<void>((r) => capture.listen(0, '127.0.0.1', r));
  captureKc = kubeconfig('capture', `http://127.0.0.1:${(capture.address() as AddressInfo).port}`);
  // kubectl sends a kubeconfig's token only over https
  const tls = await selfSignedCertificate({ hosts: ['127.0.0.1'] });
  api = await startApiServer({ store: new SqliteStore(':memory:'), resources: RESOURCES, port: 0, token: TOKEN, tls, securePort: 0 });
  apiKc = kubeconfig('api', api.secureUrl as string, TOKEN);
});
afterAll(async () => {
  await new Promise((r) => capture.close(r));
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveKubectl)('bodies kubectl sends as protobuf', () => {
  it.each(COMMANDS.map((c) => [c.slice(1, 3).join(' '), c] as const))('%s: decoded as kubectl --dry-run=client -o json prints it', async (_, cmd) => {
    const before = captured.length;
    const r = await kubectl(captureKc, cmd);
    expect(r.code, r.stderr).toBe(0);
    expect(captured.length).toBe(before + 1);
    const { body, contentType } = captured[before];
    expect(contentType).toBe('application/vnd.kubernetes.protobuf');
    expect(body.subarray(0, 4).toString('latin1')).toBe('k8s\0');
    const dry = await kubectl(captureKc, [...cmd.slice(0, cmd.indexOf('--') < 0 ? cmd.length : cmd.indexOf('--')), '--dry-run=client', '-o', 'json',
      ...(cmd.includes('--') ? cmd.slice(cmd.indexOf('--')) : [])]);
    expect(dry.code, dry.stderr).toBe(0);
    const decoded = decodeProtobuf(body);
    expect(decoded).toEqual(withoutNulls(JSON.parse(dry.stdout)));
    // and back: the encoder writes what the decoder reads
    expect(decodeProtobuf(encodeProtobuf(decoded) as Buffer)).toEqual(decoded);
  });
});

/** Kinds this server serves (Jobs are not served yet: decoding them is covered above). */
const SERVED = COMMANDS.filter((c) => c[1] !== 'job');

describe.skipIf(!haveKubectl)('kubectl create against the API server (protobuf both ways)', () => {
  it.each(SERVED.map((c) => [c.slice(1, 3).join(' '), c] as const))('%s', async (_, cmd) => {
    const server = await kubectl(apiKc, [...cmd.slice(0, 1), '--dry-run=server', ...cmd.slice(1)]);
    expect(server.code, server.stderr).toBe(0);
    expect(server.stdout).toMatch(/created \(server dry run\)/);
    const real = await kubectl(apiKc, cmd);
    expect(real.code, real.stderr).toBe(0);
    const name = cmd[1] === 'service' || cmd[1] === 'secret' ? cmd[3] : cmd[2];
    expect(real.stdout.trim()).toMatch(new RegExp(`/${name} created$`));
  });
  it('stores what the protobuf bodies said', async () => {
    const d = JSON.parse((await kubectl(apiKc, ['get', 'deployment', 'pb-deploy', '-o', 'json'])).stdout) as { spec: { replicas: number; template: { spec: { containers: { ports: unknown }[] } } } };
    expect(d.spec.replicas).toBe(0);
    expect(d.spec.template.spec.containers[0].ports).toEqual([{ containerPort: 8080, protocol: 'TCP' }]);
    const s = JSON.parse((await kubectl(apiKc, ['get', 'service', 'pb-svc', '-o', 'json'])).stdout) as { spec: { ports: unknown[] } };
    expect(s.spec.ports).toEqual([
      { name: '80', port: 80, protocol: 'TCP', targetPort: 80 },
      { name: '8443-443', port: 8443, protocol: 'TCP', targetPort: 443 },
    ]);
    const cm = JSON.parse((await kubectl(apiKc, ['get', 'configmap', 'pb-cm', '-o', 'json'])).stdout) as { data: unknown };
    expect(cm.data).toEqual({ a: 'b', empty: '' });
    const sec = JSON.parse((await kubectl(apiKc, ['get', 'secret', 'pb-secret', '-o', 'json'])).stdout) as { data: Record<string, string> };
    expect(Buffer.from(sec.data.pw, 'base64').toString()).toBe('s3cr=t');
  });
  it('answers protobuf when asked first, JSON otherwise', async () => {
    const get = (accept: string): Promise<Response> => fetch(`${api.url}/api/v1/namespaces/pb-ns`, { headers: { Authorization: `Bearer ${TOKEN}`, Accept: accept } });
    const pb = await get('application/vnd.kubernetes.protobuf,application/json');
    expect(pb.headers.get('content-type')).toBe('application/vnd.kubernetes.protobuf');
    const ns = decodeProtobuf(Buffer.from(await pb.arrayBuffer()));
    expect(ns).toMatchObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'pb-ns' }, status: { phase: 'Active' } });
    expect(String((ns.metadata as Record<string, unknown>).creationTimestamp)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const json = await get('application/json, application/vnd.kubernetes.protobuf');
    expect(json.headers.get('content-type')).toBe('application/json');
    const missing = await get('application/vnd.kubernetes.protobuf');
    expect(missing.status).toBe(200);
    const nf = await fetch(`${api.url}/api/v1/namespaces/nope`, { headers: { Authorization: `Bearer ${TOKEN}`, Accept: 'application/vnd.kubernetes.protobuf' } });
    expect(nf.status).toBe(404);
    expect(decodeProtobuf(Buffer.from(await nf.arrayBuffer()))).toMatchObject({ kind: 'Status', code: 404, reason: 'NotFound' });
  });
});

describe('DELETE with a protobuf DeleteOptions body (client-go typed clients: kubectl drain without eviction)', () => {
  const del = (path: string, body: Buffer): Promise<Response> => fetch(`${api.url}${path}`, {
    method: 'DELETE', body, headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/vnd.kubernetes.protobuf', Accept: 'application/json' },
  });
  const post = (path: string, obj: unknown): Promise<Response> => fetch(`${api.url}${path}`, {
    method: 'POST', body: JSON.stringify(obj), headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
  });
  it.each([['v1', '/api/v1/namespaces/default/configmaps'], ['apps/v1', '/apis/apps/v1/namespaces/default/controllerrevisions']])('reads %s DeleteOptions: dryRun keeps the object, then it is deleted', async (apiVersion, path) => {
    const kind = path.endsWith('configmaps') ? 'ConfigMap' : 'ControllerRevision';
    const name = `pb-del-${kind.toLowerCase()}`;
    expect((await post(path, { apiVersion, kind, metadata: { name }, ...(kind === 'ControllerRevision' ? { revision: 1, data: {} } : {}) })).status).toBe(201);
    const dry = await del(`${path}/${name}`, encodeProtobuf({ apiVersion, kind: 'DeleteOptions', dryRun: ['All'], propagationPolicy: 'Background' }) as Buffer);
    expect(dry.status).toBe(200);
    expect((await fetch(`${api.url}${path}/${name}`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    const real = await del(`${path}/${name}`, encodeProtobuf({ apiVersion, kind: 'DeleteOptions', gracePeriodSeconds: 0 }) as Buffer);
    expect(real.status).toBe(200);
    expect((await fetch(`${api.url}${path}/${name}`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
  });
});

describe('the codec', () => {
  it('reads the well-known types as Kubernetes prints them', () => {
    const obj = {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
      metadata: { name: 'n', creationTimestamp: '2024-05-06T07:08:09Z', labels: { a: '' } },
      spec: { holderIdentity: 'n', leaseDurationSeconds: 40, renewTime: '2024-05-06T07:08:09.123456Z' },
    };
    expect(decodeProtobuf(encodeProtobuf(obj) as Buffer)).toEqual(obj);
    const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'p' }, spec: { minAvailable: '50%', maxUnavailable: 0 } };
    expect(decodeProtobuf(encodeProtobuf(pdb) as Buffer)).toEqual(pdb);
    expect([goDuration(0n), goDuration(1_500_000_000n), goDuration(3_723_000_000_000n), goDuration(2_000_000n)]).toEqual(['0s', '1.5s', '1h2m3s', '2ms']);
  });
  it('answers 415 for kinds it has no message for, 400 for malformed bodies', () => {
    const envelope = encodeProtobuf({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }) as Buffer;
    const widget = Buffer.from(envelope.toString('latin1').replace('v1', 'zz').replace('Namespace', 'Namespacx'), 'latin1');
    let err: unknown;
    try { decodeProtobuf(widget); } catch (e) { err = e; }
    expect((err as ApiError).code).toBe(415);
    expect(() => decodeProtobuf(Buffer.from('{}'))).toThrow(/no k8s magic prefix/);
    expect(() => decodeProtobuf(envelope.subarray(0, envelope.length - 10))).toThrow(ApiError);
  });
  it('negotiates protobuf responses only when protobuf comes first and no other shape is asked for', () => {
    expect(acceptsProtobufFirst('application/vnd.kubernetes.protobuf,application/json')).toBe(true);
    expect(acceptsProtobufFirst('application/json,application/vnd.kubernetes.protobuf')).toBe(false);
    expect(acceptsProtobufFirst('application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io')).toBe(false);
    expect(acceptsProtobufFirst(undefined)).toBe(false);
  });
});
