import { describe, expect, it } from 'vitest';
import { applyNamespaceDefaults, applyPodDefaults, applyServiceDefaults } from '../../src/api/defaults.js';
import { invalid, type FieldError } from '../../src/api/errors.js';
import {
  POD_UPDATE_FORBIDDEN_MESSAGE, validateEvent, validateNamespace, validateNode, validatePod, validateService,
} from '../../src/api/validation.js';
import type { Container, Event, Namespace, Node, Pod, Service } from '../../src/api/types.js';

const LABEL = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const KEY_NAME = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const ENV = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";
const QUANTITY = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

const lines = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${e.message}`);

/** A valid pod with one nginx container and an html volume; `edit` breaks it. */
function makePod(edit: (p: Pod) => void = () => undefined): Pod {
  const p: Pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      containers: [{
        name: 'web', image: 'nginx:1.25', ports: [{ name: 'http', containerPort: 80 }],
        volumeMounts: [{ name: 'html', mountPath: '/usr/share/nginx/html' }],
        env: [{ name: 'PROFILE', value: 'production' }],
      }],
      volumes: [{ name: 'html', emptyDir: {} }],
    },
  };
  edit(p);
  applyPodDefaults(p);
  return p;
}

const c0 = (p: Pod): Container => p.spec!.containers[0];
const second = (over: Partial<Container> = {}): Container => ({ name: 'sidecar', image: 'busybox', ...over });
const errorsOf = (edit: (p: Pod) => void): string[] => lines(validatePod(makePod(edit)));

describe('validatePod on create', () => {
  it('accepts a well-formed pod', () => {
    expect(errorsOf(() => undefined)).toEqual([]);
  });

  it.each<[string, (p: Pod) => void, string[]]>([
    ['a missing name', (p) => { delete p.metadata!.name; }, ['metadata.name: Required value: name or generateName is required']],
    ['a generateName instead of a name', (p) => { delete p.metadata!.name; p.metadata!.generateName = 'web-'; }, []],
    ['a name that is not a DNS subdomain', (p) => { p.metadata!.name = 'Web_1'; }, [`metadata.name: Invalid value: "Web_1": ${SUBDOMAIN}`]],
    ['a missing namespace', (p) => { delete p.metadata!.namespace; }, ['metadata.namespace: Required value']],
    ['a bad label key', (p) => { p.metadata!.labels = { 'bad key': 'v' }; }, [`metadata.labels: Invalid value: "bad key": ${KEY_NAME}`]],
    ['no containers', (p) => { p.spec!.containers = []; }, ['spec.containers: Required value']],
    ['two containers with one name', (p) => { p.spec!.containers.push(second({ name: 'web' })); }, ['spec.containers[1].name: Duplicate value: "web"']],
    ['a container name that is not a DNS label', (p) => { c0(p).name = 'Web'; }, [`spec.containers[0].name: Invalid value: "Web": ${LABEL}`]],
    ['a container without image', (p) => { delete c0(p).image; }, ['spec.containers[0].image: Required value']],
    ['an image with surrounding spaces', (p) => { c0(p).image = ' nginx'; }, ['spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace']],
    ['an unknown pull policy', (p) => { c0(p).imagePullPolicy = 'Sometimes'; }, ['spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"']],
    ['an unknown restart policy', (p) => { p.spec!.restartPolicy = 'Sometimes'; }, ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']],
    ['an unknown DNS policy', (p) => { p.spec!.dnsPolicy = 'Google'; }, ['spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"']],
    ['a negative grace period', (p) => { p.spec!.terminationGracePeriodSeconds = -1; }, ['spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0']],
    ['an invalid nodeSelector key', (p) => { p.spec!.nodeSelector = { 'disk type': 'ssd' }; }, [`spec.nodeSelector: Invalid value: "disk type": ${KEY_NAME}`]],
    ['an invalid nodeName', (p) => { p.spec!.nodeName = 'Node_1'; }, [`spec.nodeName: Invalid value: "Node_1": ${SUBDOMAIN}`]],
    ['a zero activeDeadlineSeconds', (p) => { p.spec!.activeDeadlineSeconds = 0; }, ['spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive']],
    ['ephemeral containers on create', (p) => { p.spec!.ephemeralContainers = [{ name: 'debug', image: 'busybox' }]; }, ['spec.ephemeralContainers: Forbidden: cannot be set on create']],
  ])('reports %s', (_, edit, want) => {
    expect(errorsOf(edit)).toEqual(want);
  });
});

describe('container ports', () => {
  it.each<[string, (p: Pod) => void, string[]]>([
    ['a missing containerPort', (p) => { c0(p).ports = [{ containerPort: 0 }]; }, ['spec.containers[0].ports[0].containerPort: Required value']],
    ['a containerPort out of range', (p) => { c0(p).ports = [{ containerPort: 70000 }]; }, ['spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive']],
    ['a hostPort out of range', (p) => { c0(p).ports = [{ containerPort: 80, hostPort: 70000 }]; }, ['spec.containers[0].ports[0].hostPort: Invalid value: 70000: must be between 1 and 65535, inclusive']],
    ['an unknown protocol', (p) => { c0(p).ports = [{ containerPort: 80, protocol: 'HTTP' }]; }, ['spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"']],
    ['a repeated port name', (p) => { c0(p).ports = [{ name: 'http', containerPort: 80 }, { name: 'http', containerPort: 81 }]; }, ['spec.containers[0].ports[1].name: Duplicate value: "http"']],
    ['an invalid port name', (p) => { c0(p).ports = [{ name: 'HTTP', containerPort: 80 }]; }, [
      'spec.containers[0].ports[0].name: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      'spec.containers[0].ports[0].name: Invalid value: "HTTP": must contain at least one letter (a-z)',
    ]],
    ['two containers declaring the same containerPort', (p) => { p.spec!.containers.push(second({ ports: [{ containerPort: 80 }] })); }, ['spec.containers[1].ports[0].containerPort: Duplicate value: 80']],
    ['one container declaring a containerPort twice', (p) => { c0(p).ports = [{ containerPort: 80 }, { name: 'web', containerPort: 80 }]; }, ['spec.containers[0].ports[1].containerPort: Duplicate value: 80']],
    ['two containers sharing a hostPort', (p) => {
      c0(p).ports = [{ containerPort: 80, hostPort: 8080 }];
      p.spec!.containers.push(second({ ports: [{ containerPort: 81, hostPort: 8080 }] }));
    }, ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"']],
    ['a hostPort that differs from containerPort on the host network', (p) => { p.spec!.hostNetwork = true; c0(p).ports = [{ containerPort: 80, hostPort: 8080 }]; }, ['spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true']],
  ])('reports %s', (_, edit, want) => {
    expect(errorsOf(edit)).toEqual(want);
  });

  it('allows one port number over two protocols', () => {
    expect(errorsOf((p) => { p.spec!.containers.push(second({ ports: [{ containerPort: 80, protocol: 'UDP' }] })); })).toEqual([]);
  });
});

describe('environment variables', () => {
  it.each<[string, (p: Pod) => void, string[]]>([
    ['a name that starts with a digit', (p) => { c0(p).env = [{ name: '1BAD', value: 'x' }]; }, [`spec.containers[0].env[0].name: Invalid value: "1BAD": ${ENV}`]],
    ['a missing name', (p) => { c0(p).env = [{ name: '', value: 'x' }]; }, ['spec.containers[0].env[0].name: Required value']],
    ['a fieldRef Kubernetes cannot convert', (p) => { c0(p).env = [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.foo' } } }]; }, ['spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Invalid value: "spec.foo": error converting fieldPath: field label not supported: spec.foo']],
    ['a fieldRef env vars may not use', (p) => { c0(p).env = [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'status.phase' } } }]; }, ['spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "status.phase": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"']],
    ['both value and valueFrom', (p) => { c0(p).env = [{ name: 'X', value: 'a', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }]; }, ['spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty']],
    ['an empty valueFrom', (p) => { c0(p).env = [{ name: 'X', valueFrom: {} }]; }, ['spec.containers[0].env[0].valueFrom: Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`']],
    ['a configMapKeyRef without key', (p) => { c0(p).env = [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: '' } } }]; }, ['spec.containers[0].env[0].valueFrom.configMapKeyRef.key: Required value']],
  ])('reports %s', (_, edit, want) => {
    expect(errorsOf(edit)).toEqual(want);
  });

  it('accepts the downward API paths env vars may use', () => {
    const paths = ['metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'status.podIP', "metadata.labels['app']"];
    expect(errorsOf((p) => { c0(p).env = paths.map((fieldPath, i) => ({ name: `V${i}`, valueFrom: { fieldRef: { fieldPath } } })); })).toEqual([]);
  });
});

describe('volumes and mounts', () => {
  it.each<[string, (p: Pod) => void, string[]]>([
    ['a volume name that is not a DNS label', (p) => { p.spec!.volumes!.push({ name: 'My_Vol', emptyDir: {} }); }, [`spec.volumes[1].name: Invalid value: "My_Vol": ${LABEL}`]],
    ['two volumes with one name', (p) => { p.spec!.volumes!.push({ name: 'html', emptyDir: {} }); }, ['spec.volumes[1].name: Duplicate value: "html"']],
    ['a volume with two sources', (p) => { p.spec!.volumes!.push({ name: 'data', emptyDir: {}, hostPath: { path: '/srv' } }); }, ['spec.volumes[1].hostPath: Forbidden: may not specify more than 1 volume type']],
    ['a hostPath without path', (p) => { p.spec!.volumes!.push({ name: 'data', hostPath: { path: '' } }); }, ['spec.volumes[1].hostPath.path: Required value']],
    ['an unknown hostPath type', (p) => { p.spec!.volumes!.push({ name: 'data', hostPath: { path: '/srv', type: 'Dir' } }); }, ['spec.volumes[1].hostPath.type: Unsupported value: "Dir": supported values: "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"']],
    ['a hostPath that steps up', (p) => { p.spec!.volumes!.push({ name: 'data', hostPath: { path: '/srv/../etc' } }); }, ['spec.volumes[1].hostPath.path: Invalid value: "/srv/../etc": must not contain \'..\'']],
    ['an unknown emptyDir medium', (p) => { p.spec!.volumes!.push({ name: 'data', emptyDir: { medium: 'Disk' } }); }, ['spec.volumes[1].emptyDir.medium: Unsupported value: "Disk": supported values: "", "Memory"']],
    ['a negative emptyDir size limit', (p) => { p.spec!.volumes!.push({ name: 'data', emptyDir: { sizeLimit: '-1Gi' } }); }, ['spec.volumes[1].emptyDir.sizeLimit: Forbidden: SizeLimit field must be a valid resource quantity']],
    ['a malformed emptyDir size limit', (p) => { p.spec!.volumes!.push({ name: 'data', emptyDir: { sizeLimit: 'big' } }); }, [`spec.volumes[1].emptyDir.sizeLimit: Invalid value: "big": ${QUANTITY}`]],
    ['a mount of an undeclared volume', (p) => { p.spec!.volumes = []; }, ['spec.containers[0].volumeMounts[0].name: Not found: "html"']],
    ['a mount without mountPath', (p) => { c0(p).volumeMounts = [{ name: 'html', mountPath: '' }]; }, ['spec.containers[0].volumeMounts[0].mountPath: Required value']],
    ['two mounts at one path', (p) => { c0(p).volumeMounts!.push({ name: 'html', mountPath: '/usr/share/nginx/html' }); }, ['spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/usr/share/nginx/html": must be unique']],
    ['an absolute subPath', (p) => { c0(p).volumeMounts![0].subPath = '/abs'; }, ['spec.containers[0].volumeMounts[0].subPath: Invalid value: "/abs": must be a relative path']],
    ['a subPath that steps up', (p) => { c0(p).volumeMounts![0].subPath = 'a/../../etc'; }, ['spec.containers[0].volumeMounts[0].subPath: Invalid value: "a/../../etc": must not contain \'..\'']],
    ['a mount of an invalid volume, which counts as undeclared', (p) => { p.spec!.volumes = [{ name: 'html', hostPath: { path: '' } }]; }, ['spec.volumes[0].hostPath.path: Required value', 'spec.containers[0].volumeMounts[0].name: Not found: "html"']],
  ])('reports %s', (_, edit, want) => {
    expect(errorsOf(edit)).toEqual(want);
  });

  it('accepts hostPath volumes of every supported type', () => {
    const types = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];
    expect(errorsOf((p) => { p.spec!.volumes = [{ name: 'html', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } }, ...types.map((type, i) => ({ name: `h${i}`, hostPath: { path: `/srv/${i}`, type } }))]; })).toEqual([]);
  });
});

describe('resources', () => {
  it.each<[string, (p: Pod) => void, string[]]>([
    ['a cpu request above its limit', (p) => { c0(p).resources = { requests: { cpu: '2' }, limits: { cpu: '1' } }; }, ['spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1']],
    ['a memory request above its limit', (p) => { c0(p).resources = { requests: { memory: '256Mi' }, limits: { memory: '128Mi' } }; }, ['spec.containers[0].resources.requests: Invalid value: "256Mi": must be less than or equal to memory limit of 128Mi']],
    ['a request printed canonically', (p) => { c0(p).resources = { requests: { cpu: '1500m' }, limits: { cpu: '1000m' } }; }, ['spec.containers[0].resources.requests: Invalid value: "1500m": must be less than or equal to cpu limit of 1']],
    ['a malformed limit (copied to requests by defaulting)', (p) => { c0(p).resources = { limits: { cpu: 'abc' } }; }, [
      `spec.containers[0].resources.limits[cpu]: Invalid value: "abc": ${QUANTITY}`,
      `spec.containers[0].resources.requests[cpu]: Invalid value: "abc": ${QUANTITY}`,
    ]],
    ['a negative request', (p) => { c0(p).resources = { requests: { memory: '-1' } }; }, ['spec.containers[0].resources.requests[memory]: Invalid value: "-1": must be greater than or equal to 0']],
    ['an unknown resource', (p) => { c0(p).resources = { requests: { gpu: '1' } }; }, [
      'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified',
      'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers',
    ]],
    ['an extended resource request without limit', (p) => { c0(p).resources = { requests: { 'example.com/gpu': '1' } }; }, ['spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources']],
    ['a fractional extended resource', (p) => { c0(p).resources = { limits: { 'example.com/gpu': '500m' } }; }, [
      'spec.containers[0].resources.limits[example.com/gpu]: Invalid value: "500m": must be an integer',
      'spec.containers[0].resources.requests[example.com/gpu]: Invalid value: "500m": must be an integer',
    ]],
  ])('reports %s', (_, edit, want) => {
    expect(errorsOf(edit)).toEqual(want);
  });

  it('accepts requests equal to limits written differently', () => {
    expect(errorsOf((p) => { c0(p).resources = { requests: { cpu: '1000m', memory: '1Gi' }, limits: { cpu: '1', memory: '1024Mi' } }; })).toEqual([]);
  });
});

describe('probes and lifecycle hooks', () => {
  it.each<[string, (p: Pod) => void, string[]]>([
    ['a probe without handler', (p) => { c0(p).livenessProbe = { initialDelaySeconds: 5 }; }, ['spec.containers[0].livenessProbe: Required value: must specify a handler type']],
    ['a probe with two handlers', (p) => { c0(p).livenessProbe = { exec: { command: ['true'] }, tcpSocket: { port: 80 } }; }, ['spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type']],
    ['a negative initial delay', (p) => { c0(p).readinessProbe = { tcpSocket: { port: 80 }, initialDelaySeconds: -1 }; }, ['spec.containers[0].readinessProbe.initialDelaySeconds: Invalid value: -1: must be greater than or equal to 0']],
    ['a liveness success threshold above 1', (p) => { c0(p).livenessProbe = { tcpSocket: { port: 80 }, successThreshold: 2 }; }, ['spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1']],
    ['an httpGet port of 0', (p) => { c0(p).livenessProbe = { httpGet: { port: 0 } }; }, ['spec.containers[0].livenessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive']],
    ['an httpGet port name that is not one', (p) => { c0(p).startupProbe = { httpGet: { port: 'Web' } }; }, ['spec.containers[0].startupProbe.httpGet.port: Invalid value: "Web": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)']],
    ['an exec probe without command', (p) => { c0(p).livenessProbe = { exec: {} }; }, ['spec.containers[0].livenessProbe.exec.command: Required value']],
    ['a readiness probe with a grace period', (p) => { c0(p).readinessProbe = { tcpSocket: { port: 80 }, terminationGracePeriodSeconds: 5 }; }, ['spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not be set for readinessProbes']],
    ['a preStop sleep longer than the grace period', (p) => { c0(p).lifecycle = { preStop: { sleep: { seconds: 60 } } }; }, ['spec.containers[0].lifecycle.preStop.sleep: Invalid value: 60: must be greater than 0 and less than terminationGracePeriodSeconds (30)']],
    ['a probe on an init container', (p) => { p.spec!.initContainers = [{ name: 'init', image: 'busybox', livenessProbe: { exec: { command: ['true'] } } }]; }, ['spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always']],
    ['an init container named like a container', (p) => { p.spec!.initContainers = [{ name: 'web', image: 'busybox' }]; }, ['spec.initContainers[0].name: Duplicate value: "web"']],
    ['restartPolicy on a regular container', (p) => { c0(p).restartPolicy = 'Always'; }, ['spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers']],
  ])('reports %s', (_, edit, want) => {
    expect(errorsOf(edit)).toEqual(want);
  });

  it('accepts every probe kind with one handler each', () => {
    expect(errorsOf((p) => {
      c0(p).livenessProbe = { httpGet: { port: 'http', path: '/healthz' } };
      c0(p).readinessProbe = { tcpSocket: { port: 80 }, successThreshold: 3 };
      c0(p).startupProbe = { exec: { command: ['cat', '/tmp/ready'] }, failureThreshold: 30 };
    })).toEqual([]);
  });
});

describe('tolerations', () => {
  it.each<[string, (p: Pod) => void, string[]]>([
    ['an unknown effect', (p) => { p.spec!.tolerations = [{ operator: 'Exists', effect: 'Bad' }]; }, ['spec.tolerations[0].effect: Unsupported value: "Bad": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"']],
    ['an empty key with Equal', (p) => { p.spec!.tolerations = [{ operator: 'Equal', value: 'x' }]; }, ['spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"']],
    ['a value with Exists', (p) => { p.spec!.tolerations = [{ key: 'k', operator: 'Exists', value: 'v' }]; }, ["spec.tolerations[0].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'"]],
  ])('reports %s', (_, edit, want) => {
    expect(errorsOf(edit)).toEqual(want);
  });
});

describe('the Invalid error built from the problems', () => {
  it('names one problem plainly', () => {
    const p = makePod((x) => { x.spec!.containers.push(second({ name: 'web' })); });
    expect(invalid('Pod', 'web', validatePod(p)).message).toBe('Pod "web" is invalid: spec.containers[1].name: Duplicate value: "web"');
  });

  it('lists several problems in brackets', () => {
    const p = makePod((x) => { delete c0(x).image; x.spec!.volumes = []; });
    expect(invalid('Pod', 'web', validatePod(p)).message).toBe('Pod "web" is invalid: [spec.containers[0].image: Required value, spec.containers[0].volumeMounts[0].name: Not found: "html"]');
  });
});

describe('validatePod on update', () => {
  const update = (edit: (p: Pod) => void, editOld: (p: Pod) => void = () => undefined): string[] => {
    const old = makePod(editOld);
    const next = structuredClone(old);
    edit(next);
    applyPodDefaults(next);
    return lines(validatePod(next, old));
  };

  it('allows the same cpu written differently', () => {
    expect(update((p) => { c0(p).resources = { requests: { cpu: '0.5' } }; }, (p) => { c0(p).resources = { requests: { cpu: '500m' } }; })).toEqual([]);
  });

  it.each<[string, (p: Pod) => void, string[]]>([
    ['a new container image', (p) => { c0(p).image = 'nginx:1.26'; }, []],
    ['new labels', (p) => { p.metadata!.labels = { app: 'web', tier: 'fe' }; }, []],
    ['an added activeDeadlineSeconds', (p) => { p.spec!.activeDeadlineSeconds = 60; }, []],
    ['an added toleration', (p) => { p.spec!.tolerations = [{ key: 'k', operator: 'Exists' }]; }, []],
    ['hostNetwork written out as false', (p) => { p.spec!.hostNetwork = false; }, []],
    ['a changed port', (p) => { c0(p).ports![0].containerPort = 8080; }, [`spec: Forbidden: ${POD_UPDATE_FORBIDDEN_MESSAGE}`]],
    ['a changed env var', (p) => { c0(p).env![0].value = 'staging'; }, [`spec: Forbidden: ${POD_UPDATE_FORBIDDEN_MESSAGE}`]],
    ['a moved pod', (p) => { p.spec!.nodeName = 'node-2'; }, [`spec: Forbidden: ${POD_UPDATE_FORBIDDEN_MESSAGE}`]],
    ['an added container', (p) => { p.spec!.containers.push(second()); }, ['spec.containers: Forbidden: pod updates may not add or remove containers']],
    ['a removed image', (p) => { c0(p).image = ''; }, ['spec.containers[0].image: Required value']],
    ['a renamed pod', (p) => { p.metadata!.name = 'web2'; }, ['metadata.name: Invalid value: "web2": field is immutable']],
  ])('allows or rejects %s', (_, edit, want) => {
    expect(update(edit)).toEqual(want);
  });

  it('words the forbidden-update message as Kubernetes does', () => {
    expect(POD_UPDATE_FORBIDDEN_MESSAGE).toBe('pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)');
  });

  it('lets activeDeadlineSeconds only shrink', () => {
    const withDeadline = (p: Pod): void => { p.spec!.activeDeadlineSeconds = 60; };
    expect(update((p) => { p.spec!.activeDeadlineSeconds = 30; }, withDeadline)).toEqual([]);
    expect(update((p) => { p.spec!.activeDeadlineSeconds = 120; }, withDeadline)).toEqual(['spec.activeDeadlineSeconds: Invalid value: 120: must be less than or equal to previous value']);
    expect(update((p) => { delete p.spec!.activeDeadlineSeconds; }, withDeadline)).toEqual(['spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value']);
  });

  it('forbids changing an existing toleration except its seconds', () => {
    const tolerate = (p: Pod): void => { p.spec!.tolerations = [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]; };
    expect(update((p) => { p.spec!.tolerations![0].tolerationSeconds = 10; }, tolerate)).toEqual([]);
    expect(update((p) => { p.spec!.tolerations![0].key = 'other'; }, tolerate)).toEqual(['spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds']);
  });

  it('lets a negative grace period become 1', () => {
    const old = makePod();
    old.spec!.terminationGracePeriodSeconds = -5;
    const next = structuredClone(old);
    next.spec!.terminationGracePeriodSeconds = 1;
    expect(lines(validatePod(next, old))).toEqual([]);
  });
});

describe('other kinds', () => {
  it.each<[string, Node, string[]]>([
    ['a valid node', { metadata: { name: 'node-1' } }, []],
    ['a node name that is not a DNS subdomain', { metadata: { name: 'Node_1' } }, [`metadata.name: Invalid value: "Node_1": ${SUBDOMAIN}`]],
    ['a node without name', { metadata: {} }, ['metadata.name: Required value: name or generateName is required']],
  ])('validateNode: %s', (_, node, want) => {
    expect(lines(validateNode(node))).toEqual(want);
  });

  it.each<[string, Namespace, string[]]>([
    ['a valid namespace', { metadata: { name: 'dev' } }, []],
    ['a dotted name', { metadata: { name: 'my.ns' } }, ['metadata.name: Invalid value: "my.ns": must not contain dots']],
    ['an upper-case name', { metadata: { name: 'Dev' } }, [`metadata.name: Invalid value: "Dev": ${LABEL}`]],
    // The defaulted kubernetes.io/metadata.name label carries the name, so Kubernetes reports it twice.
    ['a name over 63 characters', { metadata: { name: 'n'.repeat(64) } }, [
      `metadata.name: Invalid value: "${'n'.repeat(64)}": must be no more than 63 characters`,
      `metadata.labels: Invalid value: "${'n'.repeat(64)}": must be no more than 63 characters`,
    ]],
  ])('validateNamespace: %s', (_, ns, want) => {
    applyNamespaceDefaults(ns);
    expect(lines(validateNamespace(ns))).toEqual(want);
  });

  it('validateNamespace: forbids renaming', () => {
    expect(lines(validateNamespace({ metadata: { name: 'prod' } }, { metadata: { name: 'dev' } }))).toEqual(['metadata.name: Invalid value: "prod": field is immutable']);
  });

  const event = (over: Partial<Event>): Event => ({
    metadata: { name: 'web.17a', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
    reason: 'Scheduled', message: 'Successfully assigned default/web to node-1', type: 'Normal', ...over,
  });

  it.each<[string, Event, string[]]>([
    ['a pod event', event({}), []],
    ['a node event in default', event({ involvedObject: { kind: 'Node', name: 'node-1' } }), []],
    ['an event without involvedObject', event({ involvedObject: undefined as unknown as Event['involvedObject'] }), ['involvedObject: Required value']],
    ['an event in another namespace than its object', event({ involvedObject: { kind: 'Pod', name: 'web', namespace: 'other' } }), ['involvedObject.namespace: Invalid value: "other": does not match event.namespace']],
    ['a new-style event without reporting fields', event({ eventTime: '2024-01-01T00:00:00.000000Z' }), ['reportingComponent: Required value', 'reportingInstance: Required value', 'action: Required value']],
  ])('validateEvent: %s', (_, ev, want) => {
    expect(lines(validateEvent(ev))).toEqual(want);
  });

  const service = (over: Partial<Service['spec']> = {}, name = 'web'): Service => {
    const svc: Service = { metadata: { name, namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }], ...over } };
    applyServiceDefaults(svc);
    return svc;
  };

  it.each<[string, Service, string[]]>([
    ['a valid service', service(), []],
    ['a name starting with a digit', service({}, '1web'), ["metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"]],
    ['no ports', service({ ports: [] }), ['spec.ports: Required value']],
    ['a headless service without ports', service({ ports: [], clusterIP: 'None' }), []],
    ['two unnamed ports', service({ ports: [{ port: 80 }, { port: 443 }] }), ['spec.ports[0].name: Required value', 'spec.ports[1].name: Required value']],
    ['a port out of range', service({ ports: [{ port: 70000 }] }), ['spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive', 'spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive']],
    ['an unknown type', service({ type: 'Internal' }), ['spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']],
  ])('validateService: %s', (_, svc, want) => {
    expect(lines(validateService(svc))).toEqual(want);
  });
});

describe('malformed manifests', () => {
  it.each<[string, unknown, string[]]>([
    ['containers given as a string', { containers: 'web' }, ['spec.containers: Required value']],
    ['a null container', { containers: [null] }, ['spec.containers: Required value']],
    ['ports given as bare numbers', { containers: [{ name: 'web', image: 'nginx', ports: [80] }] }, []],
  ])('survive %s, reporting what they can', (_, spec, want) => {
    const p = { metadata: { name: 'web', namespace: 'default' }, spec } as unknown as Pod;
    expect(() => applyPodDefaults(p)).not.toThrow();
    expect(lines(validatePod(p))).toEqual(want);
  });
});
