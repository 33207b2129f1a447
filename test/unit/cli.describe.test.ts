import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/api/types.js';
import { runDescribe } from '../../src/cli/commands/describe.js';
import { describeGeneric, describeNode, describePod, describeProbe, qosClass, smartLabel } from '../../src/cli/commands/describers.js';
import { EVENT_REF, FakeClient, GLOBALS, NODE_REF, NOW, POD_REF, fakeDeps } from './cli.fakes.js';
import { nginxPod, pendingPod, podEvent, readyNode } from './cli.fixtures.js';

let tz: string | undefined;
beforeAll(() => {
  tz = process.env.TZ;
  process.env.TZ = 'UTC';
});
afterAll(() => {
  process.env.TZ = tz;
});

const EVENTS = [
  podEvent('e3', 'BackOff', 'Back-off pulling image "nginx:latest"', { type: 'Warning', first: '2024-05-01T11:50:00Z', last: '2024-05-01T11:59:00Z', count: 4 }),
  podEvent('e1', 'Scheduled', 'Successfully assigned default/nginx to node-1', { first: '2024-05-01T11:55:00Z', component: 'default-scheduler' }),
];

describe('describe pod', () => {
  it('renders every section of a running pod like kubectl', () => {
    expect(describePod(nginxPod(), EVENTS, NOW)).toBe(`Name:             nginx
Namespace:        default
Priority:         0
Service Account:  default
Node:             node-1/172.18.0.2
Start Time:       Wed, 01 May 2024 11:55:01 +0000
Labels:           app=nginx
                  tier=web
Annotations:      example.com/owner: team-a
Status:           Running
IP:               10.244.1.5
IPs:
  IP:  10.244.1.5
Containers:
  nginx:
    Container ID:   docker://abc123
    Image:          nginx:latest
    Image ID:       docker-pullable://nginx@sha256:0123
    Port:           80/TCP
    Host Port:      0/TCP
    State:          Running
      Started:      Wed, 01 May 2024 11:55:03 +0000
    Ready:          True
    Restart Count:  0
    Limits:
      cpu:     500m
      memory:  128Mi
    Requests:
      cpu:      100m
      memory:   64Mi
    Liveness:   http-get http://:80/ delay=0s timeout=1s period=10s #success=1 #failure=3
    Readiness:  exec [cat /tmp/ready] delay=5s timeout=1s period=5s #success=1 #failure=3
    Environment:
      MODE:      demo
      POD_NAME:  nginx (v1:metadata.name)
    Mounts:
      /data from data (rw,path="nginx")
      /usr/share/nginx/html from html (ro)
Conditions:
  Type              Status
  Initialized       True 
  Ready             True 
  ContainersReady   True 
  PodScheduled      True 
Volumes:
  html:
    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)
    Medium:     
    SizeLimit:  <unset>
  data:
    Type:          HostPath (bare host directory volume)
    Path:          /tmp/data
    HostPathType:  DirectoryOrCreate
QoS Class:         Burstable
Node-Selectors:    kubernetes.io/os=linux
Tolerations:       node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                   node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
Events:
  Type     Reason     Age                From               Message
  ----     ------     ----               ----               -------
  Normal   Scheduled  5m                 default-scheduler  Successfully assigned default/nginx to node-1
  Warning  BackOff    60s (x4 over 10m)  kubelet            Back-off pulling image "nginx:latest"
`);
  });

  it('renders a pending pod with <none> where nothing is known yet', () => {
    expect(describePod(pendingPod(), [], NOW)).toBe(`Name:         nowhere
Namespace:    default
Node:         <none>
Labels:       <none>
Annotations:  <none>
Status:       Pending
IP:           
IPs:          <none>
Containers:
  c:
    Image:        nginx:latest
    Port:         <none>
    Host Port:    <none>
    Environment:  <none>
    Mounts:       <none>
Conditions:
  Type           Status
  PodScheduled   False 
Volumes:         <none>
QoS Class:       BestEffort
Node-Selectors:  disktype=ssd
Tolerations:     <none>
Events:          <none>
`);
  });

  it('shows a terminated container with its reason, exit code and times, and the last state', () => {
    const pod = nginxPod();
    pod.status!.containerStatuses![0] = {
      ...pod.status!.containerStatuses![0], ready: false, restartCount: 2,
      state: { terminated: { exitCode: 1, reason: 'Error', startedAt: '2024-05-01T11:58:00Z', finishedAt: '2024-05-01T11:59:00Z' } },
      lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', signal: 9, startedAt: '2024-05-01T11:56:00Z', finishedAt: '2024-05-01T11:57:00Z' } },
    };
    const text = describePod(pod, undefined, NOW);
    expect(text).toContain([
      '    State:          Terminated',
      '      Reason:       Error',
      '      Exit Code:    1',
      '      Started:      Wed, 01 May 2024 11:58:00 +0000',
      '      Finished:     Wed, 01 May 2024 11:59:00 +0000',
      '    Last State:     Terminated',
      '      Reason:       OOMKilled',
      '      Exit Code:    137',
      '      Signal:       9',
    ].join('\n'));
    expect(text).toContain('    Ready:          False\n    Restart Count:  2\n');
    expect(text).not.toContain('Events:');
  });

  it('shows a waiting container\'s reason and a terminating pod\'s grace period', () => {
    const pod = nginxPod();
    pod.metadata!.deletionTimestamp = '2024-05-01T11:59:30Z';
    pod.metadata!.deletionGracePeriodSeconds = 30;
    pod.status!.containerStatuses![0].state = { waiting: { reason: 'ErrImagePull', message: 'pull failed' } };
    const text = describePod(pod, [], NOW);
    expect(text).toMatch(/\nStatus: +Terminating \(lasts 30s\)\nTermination Grace Period: +30s\n/);
    expect(text).toMatch(/\n    State: +Waiting\n      Reason: +ErrImagePull\n/);
  });
});

describe('describe helpers', () => {
  it('prints probes in kubectl\'s one-line form', () => {
    expect(describeProbe({ httpGet: { path: '/healthz', port: 8080 } })).toBe('http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3');
    expect(describeProbe({ tcpSocket: { port: 'http' }, initialDelaySeconds: 3 })).toBe('tcp-socket :http delay=3s timeout=1s period=10s #success=1 #failure=3');
    expect(describeProbe({ httpGet: { host: '10.0.0.1', port: 443, scheme: 'HTTPS', path: '/' } })).toBe('http-get https://10.0.0.1:443/ delay=0s timeout=1s period=10s #success=1 #failure=3');
  });

  it('derives the QoS class from requests and limits', () => {
    const pod = pendingPod();
    expect(qosClass(pod)).toBe('BestEffort');
    pod.spec!.containers[0].resources = { limits: { cpu: '1', memory: '1Gi' } };
    expect(qosClass(pod)).toBe('Guaranteed');
    pod.spec!.containers[0].resources = { requests: { cpu: '500m' }, limits: { cpu: '1', memory: '1Gi' } };
    expect(qosClass(pod)).toBe('Burstable');
  });

  it('labels fields as kubectl\'s generic describer does', () => {
    expect(smartLabel('podCIDR')).toBe('Pod CIDR');
    expect(smartLabel('resourceVersion')).toBe('Resource Version');
    expect(smartLabel('uid')).toBe('UID');
    expect(smartLabel('kubernetes.io/os')).toBe('kubernetes.io/os');
  });

  it('describes other kinds field by field', () => {
    const text = describeGeneric({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default', uid: 'u' },
      spec: { clusterIP: '10.96.0.10', ports: [{ port: 80, protocol: 'TCP' }] } } as KubeObject, [], NOW);
    expect(text).toBe(`Name:         s
Namespace:    default
Labels:       <none>
Annotations:  <none>
API Version:  v1
Kind:         Service
Metadata:
  UID:  u
Spec:
  Cluster IP:  10.96.0.10
  Ports:
    Port:      80
    Protocol:  TCP
Events:        <none>
`);
  });
});

describe('describe node', () => {
  it('renders conditions, capacity, system info, pods on the node and allocated resources', () => {
    const text = describeNode(readyNode('node-1', '172.18.0.2'), [nginxPod()], [], NOW);
    expect(text).toContain(`Conditions:
  Type    Status  LastHeartbeatTime                 LastTransitionTime                Reason         Message
  ----    ------  -----------------                 ------------------                ------         -------
  Ready   True    Wed, 01 May 2024 11:59:50 +0000   Wed, 01 May 2024 10:00:05 +0000   KubeletReady   kubelet is posting ready status
Addresses:
  InternalIP:  172.18.0.2
  Hostname:    node-1
Capacity:
  cpu:     2
  memory:  4Gi
  pods:    110
`);
    expect(text).toContain(`PodCIDR:                      10.244.1.0/24
PodCIDRs:                     10.244.1.0/24
Non-terminated Pods:          (1 in total)
  Namespace                   Name     CPU Requests  CPU Limits  Memory Requests  Memory Limits  Age
  ---------                   ----     ------------  ----------  ---------------  -------------  ---
  default                     nginx    100m (5%)     500m (25%)  64Mi (1%)        128Mi (3%)     5m
Allocated resources:
  (Total limits may be over 100 percent, i.e., overcommitted.)
  Resource           Requests   Limits
  --------           --------   ------
  cpu                100m (5%)  500m (25%)
  memory             64Mi (1%)  128Mi (3%)
  ephemeral-storage  0 (0%)     0 (0%)
Events:              <none>
`);
    expect(text.startsWith('Name:               node-1\nRoles:              <none>\n')).toBe(true);
  });
});

describe('runDescribe', () => {
  function cluster(): FakeClient {
    const c = new FakeClient();
    c.seed(POD_REF, nginxPod() as KubeObject);
    c.seed(POD_REF, { ...nginxPod(), metadata: { ...nginxPod().metadata, name: 'nginx-2', uid: 'uid-nginx-2' } } as KubeObject);
    c.seed(NODE_REF, readyNode('node-1', '172.18.0.2') as KubeObject);
    for (const e of EVENTS) c.seed(EVENT_REF, e as KubeObject);
    c.seed(EVENT_REF, podEvent('other', 'Pulled', 'about another pod', { first: '2024-05-01T11:55:00Z', pod: 'nginx-2' }) as KubeObject);
    return c;
  }

  it('asks for the pod\'s events by field selector and shows only those', async () => {
    const c = cluster();
    const deps = fakeDeps(c);
    await runDescribe(deps, GLOBALS, ['pod', 'nginx'], { showEvents: true });
    expect(c.calls).toContain('LIST events f=involvedObject.name=nginx,involvedObject.namespace=default');
    expect(deps.io.stdout).toContain('Normal   Scheduled');
    expect(deps.io.stdout).not.toContain('about another pod');
  });

  it('filters events client-side when the server refuses the field selector', async () => {
    const c = cluster();
    c.refuseFieldSelectors = true;
    const deps = fakeDeps(c);
    await runDescribe(deps, GLOBALS, ['pods/nginx'], { showEvents: true });
    expect(deps.io.stdout).toContain('Warning  BackOff');
    expect(deps.io.stdout).not.toContain('about another pod');
  });

  it('describes every object whose name starts with a prefix that matches nothing exactly', async () => {
    const deps = fakeDeps(cluster());
    await runDescribe(deps, GLOBALS, ['po', 'ngi'], { showEvents: false });
    expect(deps.io.stdout.match(/^Name: +nginx(-2)?$/gm)).toEqual(['Name:             nginx', 'Name:             nginx-2']);
    expect(deps.io.stdout).not.toContain('Events:');
    expect(deps.io.stdout).toContain('\n\n\nName:             nginx-2\n');
  });

  it('describes a node with the pods scheduled on it', async () => {
    const c = cluster();
    const deps = fakeDeps(c);
    await runDescribe(deps, GLOBALS, ['node', 'node-1'], { showEvents: true });
    expect(c.calls).toContain('LIST pods f=spec.nodeName=node-1,status.phase!=Succeeded,status.phase!=Failed');
    expect(deps.io.stdout).toContain('Non-terminated Pods:          (2 in total)');
  });

  it('reports a missing pod as NotFound, exit 1', async () => {
    const deps = fakeDeps(cluster());
    await runDescribe(deps, GLOBALS, ['pod', 'ghost'], { showEvents: true });
    expect(deps.io.stderr).toBe('Error from server (NotFound): pods "ghost" not found\n');
    expect(deps.io.exitCode).toBe(1);
  });
});
