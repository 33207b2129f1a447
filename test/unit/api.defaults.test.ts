import { describe, expect, it } from 'vitest';
import {
  applyNamespaceDefaults, applyNodeDefaults, applyPodDefaults, applyServiceDefaults, defaultPullPolicy, parseImageReference,
  podQOSClass,
} from '../../src/api/defaults.js';
import type { Container, Namespace, Node, Pod, Service } from '../../src/api/types.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('defaultPullPolicy', () => {
  it.each([
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.25', 'IfNotPresent'],
    ['docker.io/library/nginx:1.25-alpine', 'IfNotPresent'],
    ['localhost:5000/web', 'Always'],
    ['localhost:5000/web:v2', 'IfNotPresent'],
    [`nginx@${DIGEST}`, 'IfNotPresent'],
    [`nginx:latest@${DIGEST}`, 'Always'],
    ['Nginx', 'IfNotPresent'],
    ['', 'IfNotPresent'],
  ])('pulls %j with %s', (image, policy) => {
    expect(defaultPullPolicy(image)).toBe(policy);
  });
});

describe('parseImageReference', () => {
  it('splits repository, tag and digest', () => {
    expect(parseImageReference(`registry.local:5000/team/web:v1@${DIGEST}`)).toEqual({ repository: 'registry.local:5000/team/web', tag: 'v1', digest: DIGEST });
  });

  it('implies the latest tag when none is given', () => {
    expect(parseImageReference('busybox')).toEqual({ repository: 'busybox', tag: 'latest', digest: '' });
  });

  it('refuses a bare image id', () => {
    expect(parseImageReference('f'.repeat(64))).toBeUndefined();
  });
});

const pod = (containers: Container[], extra: Partial<Pod> = {}): Pod =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers }, ...extra });

describe('applyPodDefaults', () => {
  it('fills what Kubernetes fills for a minimal pod', () => {
    const p = pod([{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }]);
    applyPodDefaults(p);
    expect(p).toEqual({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' },
      spec: {
        containers: [{
          name: 'web', image: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }], imagePullPolicy: 'Always',
          terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
        }],
        dnsPolicy: 'ClusterFirst', restartPolicy: 'Always', securityContext: {}, terminationGracePeriodSeconds: 30,
        schedulerName: 'default-scheduler',
      },
      status: { phase: 'Pending', qosClass: 'BestEffort' },
    });
  });

  it('keeps what the manifest set', () => {
    const p = pod([{ name: 'web', image: 'nginx', imagePullPolicy: 'Never' }]);
    p.spec!.restartPolicy = 'OnFailure';
    p.spec!.terminationGracePeriodSeconds = 0;
    applyPodDefaults(p);
    expect(p.spec).toMatchObject({ restartPolicy: 'OnFailure', terminationGracePeriodSeconds: 0, containers: [{ imagePullPolicy: 'Never' }] });
  });

  it('is idempotent', () => {
    const once = pod([{ name: 'web', image: 'nginx:1.25', resources: { limits: { cpu: '1', memory: '1Gi' } } }]);
    applyPodDefaults(once);
    const twice = structuredClone(once);
    applyPodDefaults(twice);
    expect(twice).toEqual(once);
  });

  it('defaults requests to limits for resources without a request', () => {
    const p = pod([{ name: 'web', image: 'nginx', resources: { limits: { cpu: '1', memory: '128Mi' }, requests: { cpu: '500m' } } }]);
    applyPodDefaults(p);
    expect(p.spec!.containers[0].resources).toEqual({ limits: { cpu: '1', memory: '128Mi' }, requests: { cpu: '500m', memory: '128Mi' } });
  });

  it('fills probe timings and the HTTP path and scheme', () => {
    const p = pod([{ name: 'web', image: 'nginx', livenessProbe: { httpGet: { port: 80 } }, readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 5 } }]);
    applyPodDefaults(p);
    expect(p.spec!.containers[0].livenessProbe).toEqual({
      httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3,
    });
    expect(p.spec!.containers[0].readinessProbe).toMatchObject({ periodSeconds: 5, timeoutSeconds: 1 });
  });

  it('turns a volume without a source into an emptyDir and gives hostPath an empty type', () => {
    const p = pod([{ name: 'web', image: 'nginx' }], {});
    p.spec!.volumes = [{ name: 'scratch' }, { name: 'logs', hostPath: { path: '/var/log' } }];
    applyPodDefaults(p);
    expect(p.spec!.volumes).toEqual([{ name: 'scratch', emptyDir: {} }, { name: 'logs', hostPath: { path: '/var/log', type: '' } }]);
  });

  it('gives fieldRef the v1 apiVersion', () => {
    const p = pod([{ name: 'web', image: 'nginx', env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] }]);
    applyPodDefaults(p);
    expect(p.spec!.containers[0].env![0].valueFrom!.fieldRef!.apiVersion).toBe('v1');
  });

  it('sets hostPort to containerPort on the host network', () => {
    const p = pod([{ name: 'web', image: 'nginx', ports: [{ containerPort: 8080 }] }]);
    p.spec!.hostNetwork = true;
    applyPodDefaults(p);
    expect(p.spec!.containers[0].ports).toEqual([{ containerPort: 8080, hostPort: 8080, protocol: 'TCP' }]);
  });

  it('does not overwrite an existing status', () => {
    const p = pod([{ name: 'web', image: 'nginx' }], { status: { phase: 'Running', qosClass: 'Burstable' } });
    applyPodDefaults(p);
    expect(p.status).toEqual({ phase: 'Running', qosClass: 'Burstable' });
  });
});

describe('podQOSClass', () => {
  const res = (requests?: Record<string, string>, limits?: Record<string, string>): Container =>
    ({ name: 'c', image: 'nginx', resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } });

  it.each<[string, Container[], string]>([
    ['no resources at all', [{ name: 'c', image: 'nginx' }], 'BestEffort'],
    ['only zero requests', [res({ cpu: '0' })], 'BestEffort'],
    ['only other resources', [res({ 'ephemeral-storage': '1Gi' })], 'BestEffort'],
    ['a cpu request', [res({ cpu: '100m' })], 'Burstable'],
    ['limits only (requests default to them)', [res(undefined, { cpu: '1', memory: '1Gi' })], 'Guaranteed'],
    ['requests equal to limits, spelled differently', [res({ cpu: '1000m', memory: '1024Mi' }, { cpu: '1', memory: '1Gi' })], 'Guaranteed'],
    ['requests below limits', [res({ cpu: '500m', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })], 'Burstable'],
    ['a cpu limit but no memory limit', [res(undefined, { cpu: '1' })], 'Burstable'],
    ['one guaranteed and one best-effort container', [res(undefined, { cpu: '1', memory: '1Gi' }), { name: 'd', image: 'nginx' }], 'Burstable'],
  ])('is right for %s', (_, containers, qos) => {
    const p = pod(containers);
    applyPodDefaults(p);
    expect(podQOSClass(p)).toBe(qos);
    expect(p.status?.qosClass).toBe(qos);
  });
});

describe('other kinds', () => {
  it('labels a namespace with its name and makes it Active', () => {
    const ns: Namespace = { metadata: { name: 'dev', labels: { team: 'a' } } };
    applyNamespaceDefaults(ns);
    expect(ns).toEqual({ spec: { finalizers: ['kubernetes'] }, metadata: { name: 'dev', labels: { team: 'a', 'kubernetes.io/metadata.name': 'dev' } }, status: { phase: 'Active' } });
  });

  it('copies node capacity into allocatable when unset', () => {
    const node: Node = { metadata: { name: 'n1' }, status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' } } };
    applyNodeDefaults(node);
    expect(node.status?.allocatable).toEqual({ cpu: '4', memory: '8Gi', pods: '110' });
  });

  it('gives a service its type, affinity, protocol and target port', () => {
    const svc: Service = { metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }, { port: 443, targetPort: 'https' }] } };
    applyServiceDefaults(svc);
    expect(svc.spec).toEqual({
      selector: { app: 'web' }, type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster',
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }, { port: 443, protocol: 'TCP', targetPort: 'https' }],
    });
  });

  it('gives a NodePort service the Cluster external traffic policy', () => {
    const svc: Service = { metadata: { name: 'web' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } };
    applyServiceDefaults(svc);
    expect(svc.spec?.externalTrafficPolicy).toBe('Cluster');
  });
});
