/** Deployments and ReplicaSets in the CLI: kubectl's helpers, `get` tables and `describe`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment, Event, KubeObject, ReplicaSet } from '../../src/api/types.js';
import {
  applyRollback, equalIgnoreHash, historyTable, revisions, rollbackTarget, rolloutStatus, selectorString, splitReplicaSets,
} from '../../src/cli/commands/apps.js';
import { runDescribe } from '../../src/cli/commands/describe.js';
import { describeDeployment, describePodTemplate, describeReplicaSet } from '../../src/cli/commands/describers.js';
import { runGet } from '../../src/cli/commands/get.js';
import { DEPLOY_REF, EVENT_REF, FakeClient, GLOBALS, NOW, POD_REF, RS_REF, fakeDeps } from './cli.fakes.js';
import { myappDeployment, myappPod, myappReplicaSet, myappTemplate } from './cli.fixtures.js';

let tz: string | undefined;
beforeAll(() => {
  tz = process.env.TZ;
  process.env.TZ = 'UTC';
});
afterAll(() => {
  process.env.TZ = tz;
});

const oldRS = (): ReplicaSet => myappReplicaSet('5f7b8c9d6', 'nginx:latest', 1, 0, '2024-05-01T11:55:00Z');
const newRS = (): ReplicaSet => myappReplicaSet('7d9c6b5f4', 'nginx:1.22', 2, 3, '2024-05-01T11:58:00Z', 'kubectl set image deployment/myapp web=nginx:1.22');

/** myapp with its two ReplicaSets and three pods (one of another controller), and events. */
function cluster(): FakeClient {
  const c = new FakeClient();
  c.seed(DEPLOY_REF, myappDeployment() as KubeObject);
  c.seed(RS_REF, oldRS() as KubeObject);
  c.seed(RS_REF, newRS() as KubeObject);
  c.seed(POD_REF, myappPod('myapp-7d9c6b5f4-abcde', '7d9c6b5f4') as KubeObject);
  c.seed(POD_REF, myappPod('myapp-7d9c6b5f4-fghij', '7d9c6b5f4') as KubeObject);
  c.seed(POD_REF, myappPod('myapp-7d9c6b5f4-klmno', '7d9c6b5f4', 'Pending') as KubeObject);
  const stray = myappPod('myapp-7d9c6b5f4-stray', '7d9c6b5f4');
  stray.metadata!.ownerReferences = [];
  c.seed(POD_REF, stray as KubeObject);
  return c;
}

function event(name: string, kind: string, object: string, reason: string, message: string, component: string): Event {
  return {
    apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default' },
    involvedObject: { kind, namespace: 'default', name: object, uid: `uid-${object}`, apiVersion: 'apps/v1' },
    reason, message, type: 'Normal', source: { component },
    firstTimestamp: '2024-05-01T11:58:00Z', lastTimestamp: '2024-05-01T11:58:00Z', count: 1,
  };
}

describe('rolloutStatus (kubectl\'s DeploymentStatusViewer)', () => {
  const at = (spec: { replicas?: number; generation?: number }, status: NonNullable<Deployment['status']>): Deployment => {
    const d = myappDeployment();
    d.spec!.replicas = spec.replicas ?? 3;
    d.metadata = { ...d.metadata, generation: spec.generation ?? 2 };
    d.status = { observedGeneration: 2, ...status, conditions: status.conditions ?? [] };
    return d;
  };
  const cases: [string, Deployment, string, boolean][] = [
    ['waits for the controller to observe a new generation', at({ generation: 3 }, {}), 'Waiting for deployment spec update to be observed...', false],
    ['counts new replicas not yet updated', at({}, { replicas: 4, updatedReplicas: 1, availableReplicas: 3 }),
      'Waiting for deployment "myapp" rollout to finish: 1 out of 3 new replicas have been updated...', false],
    ['counts old replicas pending termination', at({}, { replicas: 4, updatedReplicas: 3, availableReplicas: 3 }),
      'Waiting for deployment "myapp" rollout to finish: 1 old replicas are pending termination...', false],
    ['counts updated replicas not yet available', at({}, { replicas: 3, updatedReplicas: 3, availableReplicas: 2 }),
      'Waiting for deployment "myapp" rollout to finish: 2 of 3 updated replicas are available...', false],
    ['is done when every replica is updated and available', at({}, { replicas: 3, updatedReplicas: 3, availableReplicas: 3 }),
      'deployment "myapp" successfully rolled out', true],
    ['is done for a deployment scaled to zero', at({ replicas: 0 }, {}), 'deployment "myapp" successfully rolled out', true],
  ];
  for (const [name, d, message, done] of cases) {
    it(name, () => expect(rolloutStatus(d)).toEqual({ message, done }));
  }

  it('fails once the Progressing condition says the deadline passed', () => {
    const d = at({}, { replicas: 4, updatedReplicas: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] });
    expect(() => rolloutStatus(d)).toThrow('deployment "myapp" exceeded its progress deadline');
  });

  it('fails when pinned to a revision that is not the current one', () => {
    expect(() => rolloutStatus(myappDeployment(), 1)).toThrow('desired revision (1) is different from the running revision (2)');
    expect(rolloutStatus(myappDeployment(), 2).done).toBe(true);
  });
});

describe('replica sets of a deployment', () => {
  it('turns a LabelSelector into a LIST selector', () => {
    expect(selectorString({ matchLabels: { tier: 'web', app: 'x' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['b', 'a'] }] }))
      .toBe('app=x,env in (a,b),tier=web');
  });

  it('compares templates ignoring the pod-template-hash label and unset-versus-empty fields', () => {
    expect(equalIgnoreHash(myappTemplate('nginx:1.22', 'abc'), myappTemplate('nginx:1.22'))).toBe(true);
    const withEmpty = myappTemplate('nginx:1.22');
    withEmpty.metadata!.annotations = {};
    expect(equalIgnoreHash(withEmpty, myappTemplate('nginx:1.22', 'x'))).toBe(true);
    expect(equalIgnoreHash(myappTemplate('nginx:1.22'), myappTemplate('nginx:latest'))).toBe(false);
  });

  it('finds the new ReplicaSet by template, the old ones with and without replicas', () => {
    const empty = myappReplicaSet('0000000000', 'nginx:1.20', 0, 0, '2024-05-01T11:50:00Z');
    const r = splitReplicaSets(myappDeployment(), [newRS(), oldRS(), empty]);
    expect(r.newRS?.metadata?.name).toBe('myapp-7d9c6b5f4');
    expect(r.allOld.map((x) => x.metadata?.name)).toEqual(['myapp-0000000000', 'myapp-5f7b8c9d6']);
    expect(r.old).toEqual([]);
  });

  it('lists revisions oldest first with their change causes, as rollout history prints them', () => {
    const revs = revisions([newRS(), oldRS()]);
    expect(revs.map((r) => r.revision)).toEqual([1, 2]);
    expect(historyTable(revs)).toBe([
      'REVISION  CHANGE-CAUSE',
      '1         <none>',
      '2         kubectl set image deployment/myapp web=nginx:1.22',
      '',
    ].join('\n'));
    expect(revs[1].template.metadata?.annotations).toEqual({ 'kubernetes.io/change-cause': 'kubectl set image deployment/myapp web=nginx:1.22' });
  });

  it('picks the revision before the newest to roll back to, or the one asked for', () => {
    const d = myappDeployment();
    expect(rollbackTarget(d, [newRS(), oldRS()], 0).metadata?.name).toBe('myapp-5f7b8c9d6');
    expect(rollbackTarget(d, [newRS(), oldRS()], 2).metadata?.name).toBe('myapp-7d9c6b5f4');
    expect(() => rollbackTarget(d, [newRS()], 0)).toThrow('no rollout history found for deployment "myapp"');
    expect(() => rollbackTarget(d, [newRS(), oldRS()], 7)).toThrow('unable to find specified revision 7 in history');
  });

  it('rolls back by copying the template without its hash label and the annotations kubectl copies', () => {
    const d = myappDeployment();
    d.metadata!.annotations = { ...d.metadata!.annotations, 'kubectl.kubernetes.io/last-applied-configuration': '{}', team: 'a' };
    applyRollback(d, oldRS());
    expect(d.spec?.template).toEqual(myappTemplate('nginx:latest'));
    // The revision and last-applied stay the Deployment's; the ReplicaSet's desired/max replicas are not copied.
    expect(d.metadata?.annotations).toEqual({ 'deployment.kubernetes.io/revision': '2', 'kubectl.kubernetes.io/last-applied-configuration': '{}' });
  });
});

describe('get deployments and replica sets', () => {
  async function get(args: string[], flags: Parameters<typeof runGet>[3] = {}) {
    const deps = fakeDeps(cluster());
    await runGet(deps, GLOBALS, args, flags);
    return deps.io;
  }

  it('prints deployments with READY UP-TO-DATE AVAILABLE, and the wide columns', async () => {
    expect((await get(['deploy'])).stdout).toBe([
      'NAME    READY   UP-TO-DATE   AVAILABLE   AGE',
      'myapp   3/3     3            3           5m',
      '',
    ].join('\n'));
    expect((await get(['deployments.apps', 'myapp'], { output: 'wide' })).stdout).toBe([
      'NAME    READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES       SELECTOR',
      'myapp   3/3     3            3           5m    web          nginx:1.22   app=myapp',
      '',
    ].join('\n'));
  });

  it('prints replica sets with DESIRED CURRENT READY', async () => {
    expect((await get(['rs'], { output: 'wide' })).stdout).toBe([
      'NAME              DESIRED   CURRENT   READY   AGE   CONTAINERS   IMAGES         SELECTOR',
      'myapp-5f7b8c9d6   0         0         0       5m    web          nginx:latest   app=myapp,pod-template-hash=5f7b8c9d6',
      'myapp-7d9c6b5f4   3         3         3       2m    web          nginx:1.22     app=myapp,pod-template-hash=7d9c6b5f4',
      '',
    ].join('\n'));
  });

  it('prints deploy,rs,pods as kind/name sections separated by blank lines', async () => {
    const io = await get(['deploy,rs,pods']);
    expect(io.stdout).toBe([
      'NAME                    READY   UP-TO-DATE   AVAILABLE   AGE',
      'deployment.apps/myapp   3/3     3            3           5m',
      '',
      'NAME                              DESIRED   CURRENT   READY   AGE',
      'replicaset.apps/myapp-5f7b8c9d6   0         0         0       5m',
      'replicaset.apps/myapp-7d9c6b5f4   3         3         3       2m',
      '',
      'NAME                        READY   STATUS    RESTARTS   AGE',
      'pod/myapp-7d9c6b5f4-abcde   1/1     Running   0          2m',
      'pod/myapp-7d9c6b5f4-fghij   1/1     Running   0          2m',
      'pod/myapp-7d9c6b5f4-klmno   1/1     Pending   0          2m',
      'pod/myapp-7d9c6b5f4-stray   1/1     Running   0          2m',
      '',
    ].join('\n'));
  });

  it('names objects kind/name whenever several kinds were listed, even if one came back empty', async () => {
    const io = await get(['deploy,services']);
    expect(io.stdout.split('\n')[1]).toMatch(/^deployment\.apps\/myapp\s/);
    expect((await get(['deploy/myapp', 'deployment/myapp'])).stdout.split('\n')[1]).toMatch(/^myapp\s/);
  });
});

describe('describe deployment and replica set', () => {
  const DEPLOYMENT = `Name:                   myapp
Namespace:              default
CreationTimestamp:      Wed, 01 May 2024 11:55:00 +0000
Labels:                 app=myapp
Annotations:            deployment.kubernetes.io/revision: 2
Selector:               app=myapp
Replicas:               3 desired | 3 updated | 3 total | 3 available | 0 unavailable
StrategyType:           RollingUpdate
MinReadySeconds:        0
RollingUpdateStrategy:  25% max unavailable, 25% max surge
Pod Template:
  Labels:  app=myapp
  Containers:
   web:
    Image:         nginx:1.22
    Port:          80/TCP
    Host Port:     0/TCP
    Environment:   <none>
    Mounts:        <none>
  Volumes:         <none>
  Node-Selectors:  <none>
  Tolerations:     <none>
Conditions:
  Type           Status  Reason
  ----           ------  ------
  Available      True    MinimumReplicasAvailable
  Progressing    True    NewReplicaSetAvailable
OldReplicaSets:  myapp-5f7b8c9d6 (0/0 replicas created)
NewReplicaSet:   myapp-7d9c6b5f4 (3/3 replicas created)
Events:
  Type    Reason             Age   From                   Message
  ----    ------             ----  ----                   -------
  Normal  ScalingReplicaSet  2m    deployment-controller  Scaled up replica set myapp-7d9c6b5f4 from 0 to 3
`;

  it('renders every section like kubectl', () => {
    const events = [event('e1', 'Deployment', 'myapp', 'ScalingReplicaSet', 'Scaled up replica set myapp-7d9c6b5f4 from 0 to 3', 'deployment-controller')];
    expect(describeDeployment(myappDeployment(), { old: [oldRS()], newRS: newRS() }, events, NOW)).toBe(DEPLOYMENT);
  });

  it('leaves out the replica set lines when there are none, and shows other strategies', () => {
    const d = myappDeployment();
    d.spec!.strategy = { type: 'Recreate' };
    d.spec!.minReadySeconds = 5;
    d.status = {};
    const text = describeDeployment(d, { old: [] }, undefined, NOW);
    expect(text).toContain('Replicas:           3 desired | 0 updated | 0 total | 0 available | 0 unavailable\nStrategyType:       Recreate\nMinReadySeconds:    5\nPod Template:\n');
    expect(text).not.toContain('RollingUpdateStrategy');
    expect(text).not.toContain('ReplicaSet');
    expect(text).not.toContain('Conditions');
    expect(text).not.toContain('Events');
  });

  it('renders a replica set with its controller and the pods it controls by phase', () => {
    const events = [event('e2', 'ReplicaSet', 'myapp-7d9c6b5f4', 'SuccessfulCreate', 'Created pod: myapp-7d9c6b5f4-abcde', 'replicaset-controller')];
    expect(describeReplicaSet(newRS(), { running: 2, waiting: 1, succeeded: 0, failed: 0 }, events, NOW)).toBe(`Name:           myapp-7d9c6b5f4
Namespace:      default
Selector:       app=myapp,pod-template-hash=7d9c6b5f4
Labels:         app=myapp
                pod-template-hash=7d9c6b5f4
Annotations:    deployment.kubernetes.io/desired-replicas: 3
                deployment.kubernetes.io/max-replicas: 4
                deployment.kubernetes.io/revision: 2
                kubernetes.io/change-cause: kubectl set image deployment/myapp web=nginx:1.22
Controlled By:  Deployment/myapp
Replicas:       3 current / 3 desired
Pods Status:    2 Running / 1 Waiting / 0 Succeeded / 0 Failed
Pod Template:
  Labels:  app=myapp
           pod-template-hash=7d9c6b5f4
  Containers:
   web:
    Image:         nginx:1.22
    Port:          80/TCP
    Host Port:     0/TCP
    Environment:   <none>
    Mounts:        <none>
  Volumes:         <none>
  Node-Selectors:  <none>
  Tolerations:     <none>
Events:
  Type    Reason            Age   From                   Message
  ----    ------            ----  ----                   -------
  Normal  SuccessfulCreate  2m    replicaset-controller  Created pod: myapp-7d9c6b5f4-abcde
`);
  });

  it('describes a pod template raw (tabs kept) for rollout history, with what a template may have', () => {
    const t = myappTemplate('nginx:1.22', 'abc');
    t.metadata!.annotations = { 'kubernetes.io/change-cause': 'x' };
    t.spec!.serviceAccountName = 'sa';
    t.spec!.containers[0].env = [{ name: 'POD', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } }];
    t.spec!.volumes = [{ name: 'data', emptyDir: {} }];
    t.spec!.tolerations = [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }];
    t.spec!.topologySpreadConstraints = [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'myapp' } } }];
    expect(describePodTemplate(t, true)).toBe([
      'Pod Template:',
      '  Labels:\tapp=myapp',
      '\tpod-template-hash=abc',
      '  Annotations:\tkubernetes.io/change-cause: x',
      '  Service Account:\tsa',
      '  Containers:',
      '   web:',
      '    Image:\tnginx:1.22',
      '    Port:\t80/TCP',
      '    Host Port:\t0/TCP',
      '    Environment:',
      '      POD:\t (v1:metadata.name)',
      '    Mounts:\t<none>',
      '  Volumes:',
      '   data:',
      '    Type:\tEmptyDir (a temporary directory that shares a pod\'s lifetime)',
      '    Medium:\t',
      '    SizeLimit:\t<unset>',
      '  Topology Spread Constraints:\tzone:DoNotSchedule when max skew 1 is exceeded for selector app=myapp',
      '  Node-Selectors:\t<none>',
      '  Tolerations:\tk:NoSchedule op=Exists',
      '',
    ].join('\n'));
  });

  it('describe deploy fetches the replica sets it controls and its events', async () => {
    const c = cluster();
    c.seed(EVENT_REF, event('e1', 'Deployment', 'myapp', 'ScalingReplicaSet', 'Scaled up replica set myapp-7d9c6b5f4 from 0 to 3', 'deployment-controller') as KubeObject);
    const foreign = myappReplicaSet('9999999999', 'nginx:1.22', 5, 1, '2024-05-01T11:59:00Z');
    foreign.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'other', uid: 'uid-other', controller: true }];
    c.seed(RS_REF, foreign as KubeObject);
    const deps = fakeDeps(c);
    await runDescribe(deps, GLOBALS, ['deploy', 'myapp'], { showEvents: true });
    expect(deps.io.stdout).toBe(DEPLOYMENT);
    expect(c.calls).toContain('LIST replicasets l=app=myapp');
  });

  it('describe rs counts only the pods the replica set controls', async () => {
    const deps = fakeDeps(cluster());
    await runDescribe(deps, GLOBALS, ['rs/myapp-7d9c6b5f4'], { showEvents: false });
    expect(deps.io.stdout).toContain('Pods Status:    2 Running / 1 Waiting / 0 Succeeded / 0 Failed\n');
    expect(deps.io.stdout).not.toContain('Events');
  });
});
