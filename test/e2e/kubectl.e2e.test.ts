/**
 * Stock kubectl 1.32 against a real cluster on the real Docker engine, as a user types it: one
 * table of commands run in order on one cluster, each asserting on kubectl's real output (table
 * columns and values, messages, exit codes). Covers what streams.e2e (exec, cp, port-forward,
 * attach, run) and clients.e2e (protobuf creates, auth, leases, namespace deletion) do not:
 * `create` of services, configmaps from files, TLS and registry secrets, jobs, cronjobs and
 * `job --from=cronjob`; `logs` windows (`--since`, `--since-time`, `--limit-bytes`) and the
 * answer for a container that never started; `get` columns of every workload kind,
 * `--chunk-size` paging, field and label selectors; `describe`; `events`; `wait`; `diff`;
 * `label`/`annotate`/`patch`; `rollout` for Deployments, DaemonSets and StatefulSets
 * (ControllerRevisions: history, undo, restart); `delete` with
 * `--cascade=orphan|foreground|background`. Skipped with a printed reason where
 * kubectl or Docker is absent.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster, dockerAvailable, sh, type RunResult } from './helpers.js';

const KUBECTL = '/usr/bin/kubectl';
const hasDocker = await dockerAvailable();
const hasKubectl = (await sh(KUBECTL, ['version', '--client']).catch(() => ({ code: 1 }))).code === 0;
if (!hasDocker || !hasKubectl) console.log(`kubectl e2e skipped: ${!hasDocker ? 'no Docker engine' : `no kubectl at ${KUBECTL}`}`);
const PYTHON = '/usr/bin/python3'; // Debian's, where python3-kubernetes installs
const hasPython = (await sh(PYTHON, ['-c', 'import kubernetes']).catch(() => ({ code: 1 }))).code === 0;
if (!hasPython) console.log('kubectl e2e: python3-kubernetes is absent (scripts/setup.sh installs it), the Python client case is skipped');

const NS = 'kc';
const work = mkdtempSync(join(tmpdir(), 'mkl-kubectl-'));
const file = (name: string, text: string): string => {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
};

/** One kubectl command and what a real 1.32 cluster answers to it. */
interface Step {
  args: string[];
  /** Exit code (default 0). */
  code?: number;
  /** The whole of stdout, trimmed. */
  out?: string;
  /** Patterns stdout must match (multiline). */
  match?: RegExp[];
  /** Pattern stderr must match. */
  err?: RegExp;
  /** The header row of a table, split on runs of spaces. */
  header?: string[];
  /** Patterns the data rows must match, in order. */
  rows?: RegExp[];
  /** Parsed `-o json` / `jsonpath` output must equal this. */
  json?: unknown;
  check?: (r: RunResult) => void;
}

const words = (line: string | undefined): string[] => (line ?? '').trim().split(/\s+/);
const lines = (s: string): string[] => s.split('\n').filter((l) => l.trim() !== '');

const tmpl = (app: string, image = 'busybox') => ({
  metadata: { labels: { app } },
  spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image, command: ['sleep', '3600'] }] },
});
/** Three documents in one YAML stream. */
const workloads = () => file('workloads.yaml', [
  { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'ds', namespace: NS }, spec: { selector: { matchLabels: { app: 'ds' } }, template: tmpl('ds') } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: NS }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 80 }] } },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: NS }, spec: { replicas: 2, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: tmpl('db') } },
].map((d) => yaml.dump(d)).join('---\n'));
const configMap = (data: Record<string, string>) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'conf', namespace: NS }, data });

/** The paths beforeAll fills in (files written, a TLS pair made). */
const paths = { txt: '', crt: '', key: '', workloads: '', diffed: '' };

const steps: Step[] = [
  // ---- create ----------------------------------------------------------------------------
  { args: ['create', 'namespace', NS], out: `namespace/${NS} created` },
  { args: ['create', 'deployment', 'web', '--image=nginx', '--replicas=2', '--port=80'], out: 'deployment.apps/web created' },
  { args: ['create', 'service', 'nodeport', 'web', '--tcp=80:80'], out: 'service/web created' },
  { args: ['get', 'service', 'web', '-o', 'wide'], header: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR'],
    rows: [/^web\s+NodePort\s+10\.105\.\d+\.\d+\s+<none>\s+80:3\d{4}\/TCP\s+\S+\s+app=web$/] },
  { args: ['create', 'configmap', 'conf', '--from-literal=a=b', '--from-file=PATH:txt'], out: 'configmap/conf created' },
  { args: ['get', 'configmap', 'conf', '-o', 'jsonpath={.data}'], json: { a: 'b', 'f.txt': 'hello\n' } },
  // Only kinds whose controllers observe it have a generation.
  { args: ['get', 'configmap/conf', 'service/web', 'deployment/web', '-o', 'jsonpath={range .items[*]}{.kind}={.metadata.generation};{end}'], out: 'ConfigMap=;Service=;Deployment=1;' },
  { args: ['create', 'secret', 'tls', 'tls1', '--cert=PATH:crt', '--key=PATH:key'], out: 'secret/tls1 created' },
  { args: ['create', 'secret', 'docker-registry', 'reg', '--docker-server=registry.example', '--docker-username=u', '--docker-password=p'], out: 'secret/reg created' },
  { args: ['get', 'secrets', 'tls1', 'reg'], header: ['NAME', 'TYPE', 'DATA', 'AGE'],
    rows: [/^tls1\s+kubernetes\.io\/tls\s+2\s+\S+$/, /^reg\s+kubernetes\.io\/dockerconfigjson\s+1\s+\S+$/] },
  { args: ['get', 'secrets', '--field-selector=type=kubernetes.io/tls', '-o', 'name'], out: 'secret/tls1' },
  { args: ['create', 'job', 'once', '--image=busybox', '--', 'echo', 'job-out'], out: 'job.batch/once created' },
  { args: ['create', 'cronjob', 'nightly', '--image=busybox', '--schedule=0 3 * * *', '--', 'echo', 'cron-out'], out: 'cronjob.batch/nightly created' },
  { args: ['create', 'job', 'manual', '--from=cronjob/nightly'], out: 'job.batch/manual created' },
  {
    args: ['get', 'job', 'manual', '-o', 'json'],
    check: (r) => {
      const job = JSON.parse(r.stdout) as { metadata: { annotations?: Record<string, string>; ownerReferences?: { kind: string; name: string; controller?: boolean }[] } };
      expect(job.metadata.annotations?.['cronjob.kubernetes.io/instantiate']).toBe('manual');
      expect(job.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.controller])).toEqual([['CronJob', 'nightly', true]]);
    },
  },
  { args: ['wait', '--for=condition=complete', 'job/once', 'job/manual', '--timeout=90s'], out: 'job.batch/once condition met\njob.batch/manual condition met' },
  { args: ['logs', 'job/once'], out: 'job-out' },
  { args: ['logs', 'job/manual'], out: 'cron-out' },
  { args: ['logs', 'job/once', '--limit-bytes=3'], out: 'job' },
  { args: ['logs', 'job/once', '--since=1h'], out: 'job-out' },
  { args: ['logs', 'job/once', '--since-time=2099-01-01T00:00:00Z'], out: '' },
  { args: ['logs', 'job/once', '--since-time=2020-01-01T00:00:00Z', '--timestamps'], match: [/^\d{4}-\d\d-\d\dT[\d:.]+Z job-out$/] },
  { args: ['run', 'nopull', '--image=nosuch.invalid/app:1', '--restart=Never'], out: 'pod/nopull created' },
  { args: ['wait', '--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=ImagePullBackOff', 'pod/nopull', '--timeout=60s'], out: 'pod/nopull condition met' },
  { args: ['logs', 'nopull'], code: 1,
    err: /^Error from server \(BadRequest\): container "nopull" in pod "nopull" is waiting to start: (trying and failing to pull image|image can't be pulled)$/m },
  { args: ['delete', 'pod', 'nopull'], out: 'pod "nopull" deleted' },
  { args: ['get', 'jobs', 'once', '-o', 'wide'], header: ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
    rows: [/^once\s+Complete\s+1\/1\s+\d+s\s+\S+\s+once\s+busybox\s+batch\.kubernetes\.io\/controller-uid=[0-9a-f-]{36}$/] },
  { args: ['get', 'cronjobs', '-o', 'wide'], header: ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST', 'SCHEDULE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
    rows: [/^nightly\s+0 3 \* \* \*\s+<none>\s+False\s+0\s+<none>\s+\S+\s+nightly\s+busybox\s+<none>$/] },
  { args: ['describe', 'job', 'once'], match: [/^Pods Statuses:\s+0 Active \(0 Ready\) \/ 1 Succeeded \/ 0 Failed$/m, /^Completions:\s+1$/m, /Normal\s+Completed\s+\S+\s+job-controller\s+Job completed/] },
  { args: ['describe', 'cronjob', 'nightly'], match: [/^Schedule:\s+0 3 \* \* \*$/m, /^Concurrency Policy:\s+Allow$/m, /^Successful Job History Limit:\s+3$/m] },
  { args: ['get', 'pods', '--field-selector=status.phase=Succeeded', '-o', 'custom-columns=JOB:.metadata.labels.job-name,PHASE:.status.phase', '--sort-by=.metadata.labels.job-name'],
    header: ['JOB', 'PHASE'], rows: [/^manual\s+Succeeded$/, /^once\s+Succeeded$/] },

  // ---- a Deployment: get, paging, events, wait, describe -----------------------------------
  { args: ['rollout', 'status', 'deployment/web', '--timeout=120s'], match: [/deployment "web" successfully rolled out$/] },
  { args: ['get', 'deployment', 'web', '-o', 'wide'], header: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
    rows: [/^web\s+2\/2\s+2\s+2\s+\S+\s+nginx\s+nginx\s+app=web$/] },
  { args: ['get', 'replicasets', '-l', 'app=web'], header: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'], rows: [/^web-[a-z0-9]+\s+2\s+2\s+2\s+\S+$/] },
  {
    args: ['get', 'pods', '--chunk-size=2', '-v=6'],
    check: (r) => {
      // kubectl asked for pages of 2, and followed the server's continue token for the rest.
      expect(r.stderr).toMatch(/GET https:\/\/\S+\/api\/v1\/namespaces\/kc\/pods\?limit=2 200 OK/);
      expect(r.stderr).toMatch(/GET https:\/\/\S+\/api\/v1\/namespaces\/kc\/pods\?continue=[A-Za-z0-9_-]+&limit=2 200 OK/);
      expect(words(lines(r.stdout)[0])).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
      expect(lines(r.stdout).slice(1).map((l) => words(l)[0]).sort()).toEqual([
        expect.stringMatching(/^manual-/), expect.stringMatching(/^once-/), expect.stringMatching(/^web-/), expect.stringMatching(/^web-/),
      ]);
    },
  },
  { args: ['get', 'pods', '-l', 'app=web', '--field-selector=status.phase=Running', '-o', 'wide'],
    header: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED', 'NODE', 'READINESS', 'GATES'],
    rows: [/^web-\S+\s+1\/1\s+Running\s+0\s+\S+\s+10\.205\.\d+\.\d+\s+node-\d\s+<none>\s+<none>$/, /^web-\S+\s+1\/1\s+Running\s+0\s+\S+\s+10\.205\.\d+\.\d+\s+node-\d\s+<none>\s+<none>$/] },
  { args: ['wait', '--for=jsonpath={.status.readyReplicas}=2', 'deployment/web', '--timeout=30s'], out: 'deployment.apps/web condition met' },
  { args: ['wait', '--for=condition=Available', 'deployment/web', '--timeout=30s'], out: 'deployment.apps/web condition met' },
  { args: ['wait', '--for=condition=Ready', 'pod', '-l', 'app=web', '--timeout=30s'], match: [/^pod\/web-\S+ condition met\npod\/web-\S+ condition met$/] },
  { args: ['wait', '--for=condition=complete', 'job/nope', '--timeout=2s'], code: 1, err: /Error from server \(NotFound\): jobs\.batch "nope" not found/ },
  { args: ['events', '--for', 'deployment/web'], header: ['LAST', 'SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
    rows: [/^\S+\s+Normal\s+ScalingReplicaSet\s+Deployment\/web\s+Scaled up replica set web-[a-z0-9]+ from 0 to 2$/] },
  // As on Kubernetes, a Job made by hand from a CronJob is one its controller did not create.
  { args: ['events', '--types=Warning', '--for', 'cronjob/nightly'], match: [/^\S.*?\s+Warning\s+UnexpectedJob\s+CronJob\/nightly\s+Saw a job that the controller did not create or forgot: manual$/m] },
  { args: ['events', '--types=Warning', '--for', 'deployment/web'], out: '', err: /^No events found in kc namespace\.$/m },
  { args: ['get', 'events', '--field-selector=involvedObject.kind=Job,reason=Completed', '-o', 'custom-columns=OBJ:.involvedObject.name', '--sort-by=.involvedObject.name'],
    header: ['OBJ'], rows: [/^manual$/, /^once$/] },
  { args: ['describe', 'deployment', 'web'], match: [/^Replicas:\s+2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable$/m, /^NewReplicaSet:\s+web-[a-z0-9]+ \(2\/2 replicas created\)$/m] },

  // ---- label, annotate, patch, diff ---------------------------------------------------------
  { args: ['label', 'deployment', 'web', 'tier=front'], out: 'deployment.apps/web labeled' },
  { args: ['label', 'deployment', 'web', 'tier=back'], code: 1, err: /^error: 'tier' already has a value \(front\), and --overwrite is false$/m },
  { args: ['label', 'deployment', 'web', 'tier=back', '--overwrite'], out: 'deployment.apps/web labeled' },
  { args: ['get', 'deployments', '-l', 'tier=back', '-L', 'tier'], header: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'TIER'], rows: [/^web\s+2\/2\s+2\s+2\s+\S+\s+back$/] },
  { args: ['label', 'deployment', 'web', 'tier-'], out: 'deployment.apps/web unlabeled' },
  { args: ['label', 'deployment', 'web', 'bad_key!=x'], code: 1, err: /The Deployment "web" is invalid: metadata\.labels: Invalid value: "bad_key!"/ },
  { args: ['annotate', 'deployment', 'web', 'note=hi'], out: 'deployment.apps/web annotated' },
  { args: ['get', 'deployment', 'web', '-o', 'jsonpath={.metadata.annotations.note}'], out: 'hi' },
  { args: ['annotate', 'deployment', 'web', 'note-'], out: 'deployment.apps/web annotated' },
  { args: ['patch', 'configmap', 'conf', '-p', '{"data":{"s":"1"}}'], out: 'configmap/conf patched' },
  { args: ['patch', 'configmap', 'conf', '--type=merge', '-p', '{"data":{"a":null}}'], out: 'configmap/conf patched' },
  { args: ['patch', 'configmap', 'conf', '--type=json', '-p', '[{"op":"add","path":"/data/j","value":"2"}]'], out: 'configmap/conf patched' },
  { args: ['get', 'configmap', 'conf', '-o', 'jsonpath={.data}'], json: { 'f.txt': 'hello\n', s: '1', j: '2' } },
  { args: ['patch', 'configmap', 'conf', '--type=json', '-p', '[{"op":"test","path":"/data/j","value":"9"}]'], code: 1, err: /test failed/ },
  { args: ['diff', '-f', 'PATH:diffed'], code: 1, match: [/^-  s: "1"$/m, /^\+  s: "2"$/m] },
  { args: ['apply', '-f', 'PATH:diffed'], out: 'configmap/conf configured' },
  { args: ['diff', '-f', 'PATH:diffed'], out: '' },

  // ---- DaemonSet and StatefulSet rollouts through ControllerRevisions -----------------------
  { args: ['apply', '-f', 'PATH:workloads'], out: 'daemonset.apps/ds created\nservice/db created\nstatefulset.apps/db created' },
  { args: ['rollout', 'status', 'daemonset/ds', '--timeout=120s'], match: [/daemon set "ds" successfully rolled out$/] },
  { args: ['rollout', 'status', 'statefulset/db', '--timeout=120s'], match: [/partitioned roll out complete: 2 new pods have been updated\.\.\.$/] },
  { args: ['get', 'daemonset', 'ds', '-o', 'wide'], header: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE', 'SELECTOR', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
    rows: [/^ds\s+2\s+2\s+2\s+2\s+2\s+<none>\s+\S+\s+c\s+busybox\s+app=ds$/] },
  { args: ['get', 'statefulset', 'db', '-o', 'wide'], header: ['NAME', 'READY', 'AGE', 'CONTAINERS', 'IMAGES'], rows: [/^db\s+2\/2\s+\S+\s+c\s+busybox$/] },
  { args: ['get', 'pods', '-l', 'app=db', '-o', 'name'], out: 'pod/db-0\npod/db-1' },
  { args: ['describe', 'daemonset', 'ds'], match: [/^Desired Number of Nodes Scheduled: 2$/m, /^Pods Status:\s+2 Running \/ 0 Waiting \/ 0 Succeeded \/ 0 Failed$/m] },
  { args: ['describe', 'statefulset', 'db'], match: [/^Replicas:\s+2 desired \| 2 total$/m, /^Update Strategy:\s+RollingUpdate$/m] },
  { args: ['set', 'image', 'daemonset/ds', 'c=busybox:latest'], out: 'daemonset.apps/ds image updated' },
  { args: ['rollout', 'status', 'daemonset/ds', '--timeout=120s'], match: [/daemon set "ds" successfully rolled out$/] },
  { args: ['rollout', 'history', 'daemonset/ds'], match: [/^daemonset\.apps\/ds \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>$/] },
  { args: ['rollout', 'history', 'daemonset/ds', '--revision=2'], match: [/^daemonset\.apps\/ds with revision #2$/m, /^\s+Image:\s+busybox:latest$/m] },
  { args: ['get', 'controllerrevisions', '-l', 'app=ds', '--sort-by=.revision'], header: ['NAME', 'CONTROLLER', 'REVISION', 'AGE'],
    rows: [/^ds-[a-z0-9]+\s+daemonset\.apps\/ds\s+1\s+\S+$/, /^ds-[a-z0-9]+\s+daemonset\.apps\/ds\s+2\s+\S+$/] },
  { args: ['rollout', 'undo', 'daemonset/ds'], out: 'daemonset.apps/ds rolled back' },
  { args: ['rollout', 'status', 'daemonset/ds', '--timeout=120s'], match: [/daemon set "ds" successfully rolled out$/] },
  { args: ['get', 'daemonset', 'ds', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'], out: 'busybox' },
  // Undo re-uses revision 1's ControllerRevision as revision 3, as Kubernetes does.
  { args: ['rollout', 'history', 'daemonset/ds'], match: [/^REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>$/m] },
  { args: ['rollout', 'pause', 'daemonset/ds'], code: 1, err: /^error: daemonsets\.apps "ds" pausing is not supported$/m },
  // A DaemonSet may switch to OnDelete by its type alone (the defaulted rollingUpdate stays).
  { args: ['patch', 'daemonset', 'ds', '-p', '{"spec":{"updateStrategy":{"type":"OnDelete"}}}'], out: 'daemonset.apps/ds patched' },
  { args: ['rollout', 'status', 'daemonset/ds'], code: 1, err: /^error: rollout status is only available for RollingUpdate strategy type$/m },
  { args: ['annotate', 'statefulset', 'db', 'kubernetes.io/change-cause=mode two'], out: 'statefulset.apps/db annotated' },
  { args: ['set', 'env', 'statefulset/db', 'MODE=two'], out: 'statefulset.apps/db env updated' },
  { args: ['rollout', 'status', 'statefulset/db', '--timeout=120s'], match: [/partitioned roll out complete: 2 new pods have been updated\.\.\.$/] },
  { args: ['exec', 'db-0', '--', 'sh', '-c', 'echo $MODE'], out: 'two' },
  // The revision carries the set's annotations: CHANGE-CAUSE.
  { args: ['rollout', 'history', 'statefulset/db'], match: [/^REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+mode two$/m] },
  { args: ['rollout', 'history', 'statefulset/db', '--revision=2'], match: [/^statefulset\.apps\/db with revision #2$/m, /^\s+MODE:\s+two$/m] },
  { args: ['rollout', 'undo', 'statefulset/db', '--to-revision=1'], out: 'statefulset.apps/db rolled back' },
  { args: ['rollout', 'status', 'statefulset/db', '--timeout=120s'], match: [/partitioned roll out complete: 2 new pods have been updated\.\.\.$/] },
  { args: ['exec', 'db-1', '--', 'sh', '-c', 'echo "[$MODE]"'], out: '[]' },
  { args: ['rollout', 'undo', 'statefulset/db', '--to-revision=9'], code: 1, err: /^error: unable to find specified revision 9 in history$/m },
  { args: ['rollout', 'restart', 'statefulset/db'], out: 'statefulset.apps/db restarted' },
  { args: ['rollout', 'status', 'statefulset/db', '--timeout=120s'], match: [/partitioned roll out complete: 2 new pods have been updated\.\.\.$/] },
  { args: ['get', 'statefulset', 'db', '-o', 'jsonpath={.spec.template.metadata.annotations}'], match: [/^\{"kubectl\.kubernetes\.io\/restartedAt":"\d{4}-\d\d-\d\dT[^"]+"\}$/] },

  // ---- delete: orphan, foreground, background ----------------------------------------------
  { args: ['delete', 'deployment', 'web', '--cascade=orphan'], out: 'deployment.apps "web" deleted' },
  { args: ['get', 'replicasets', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.metadata.name}:{.metadata.ownerReferences}{end}'], match: [/^web-[a-z0-9]+:$/] },
  { args: ['get', 'pods', '-l', 'app=web', '--field-selector=status.phase=Running', '-o', 'name'], match: [/^pod\/web-\S+\npod\/web-\S+$/] },
  { args: ['delete', 'replicasets', '-l', 'app=web', '--cascade=foreground'], match: [/^replicaset\.apps "web-[a-z0-9]+" deleted$/] },
  { args: ['get', 'pods', '-l', 'app=web', '-o', 'name'], out: '' },
  { args: ['delete', 'daemonset', 'ds'], out: 'daemonset.apps "ds" deleted' },
  { args: ['delete', 'statefulset', 'db'], out: 'statefulset.apps "db" deleted' },
  { args: ['delete', 'cronjob', 'nightly'], out: 'cronjob.batch "nightly" deleted' },
  { args: ['wait', '--for=delete', 'pod', '-l', 'app in (ds,db)', '--timeout=60s'], code: 0 },
  { args: ['wait', '--for=delete', 'job/manual', '--timeout=60s'], code: 0 },
  { args: ['wait', '--for=delete', 'controllerrevisions', '--all', '--timeout=60s'], code: 0 },
  { args: ['get', 'controllerrevisions,jobs', '-o', 'name'], out: 'job.batch/once' },
  { args: ['delete', 'jobs', '--all'], out: 'job.batch "once" deleted' },
  { args: ['delete', 'secret', 'nope'], code: 1, err: /^Error from server \(NotFound\): secrets "nope" not found$/m },
  { args: ['delete', 'secret', 'nope', '--ignore-not-found'], out: '' },

  // ---- discovery and what is not served ------------------------------------------------------
  { args: ['api-resources', '--api-group=apps', '-o', 'wide'], header: ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND', 'VERBS', 'CATEGORIES'],
    rows: [/^controllerrevisions\s+apps\/v1\s+true\s+ControllerRevision\s/, /^daemonsets\s+ds\s+apps\/v1\s+true\s+DaemonSet\s+create,delete,deletecollection,get,list,patch,update,watch\s+all$/,
      /^deployments\s+deploy\s+apps\/v1/, /^replicasets\s+rs\s+apps\/v1/, /^statefulsets\s+sts\s+apps\/v1\s+true\s+StatefulSet\s/] },
  { args: ['get', 'csr'], code: 1, err: /^error: the server doesn't have a resource type "csr"$/m },
];

describe.skipIf(!hasDocker || !hasKubectl)('stock kubectl on a real cluster', () => {
  const cluster = new TestCluster(`e2e-kcs-${process.pid}`, '10.205.0.0/16');
  const kubeconfig = () => join(cluster.home, 'clusters', cluster.name, 'kubeconfig');

  beforeAll(async () => {
    paths.txt = file('f.txt', 'hello\n');
    paths.crt = join(work, 'tls.crt');
    paths.key = join(work, 'tls.key');
    paths.workloads = workloads();
    paths.diffed = file('conf.json', configMap({ 'f.txt': 'hello\n', s: '2', j: '2' }));
    const [tls, up] = await Promise.all([
      sh('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', paths.key, '-out', paths.crt, '-subj', '/CN=kc.example', '-days', '1']),
      cluster.cli(['up', '--nodes', '2', '--pod-cidr', cluster.podCIDR]),
    ]);
    expect(tls.code, tls.stderr).toBe(0);
    expect(up.code, up.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await cluster.destroy();
    rmSync(work, { recursive: true, force: true });
    expect(await cluster.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 180_000);

  /** `PATH:name` in an argument stands for a file beforeAll wrote. */
  const expand = (a: string): string => a.replace(/PATH:(\w+)/, (_m, k: keyof typeof paths) => paths[k]);

  /** Debian's Python client (python3-kubernetes) on the same cluster: the everyday calls, and log windows. */
  it.skipIf(!hasPython)('the Python client: create, patch (strategic, JSON), paged and selected lists, log windows, delete', async () => {
    const script = [
      'import sys',
      'from kubernetes import client, config',
      'config.load_kube_config(config_file=sys.argv[1])',
      'v1 = client.CoreV1Api()',
      "v1.create_namespaced_config_map('py', {'metadata': {'name': 'c1', 'labels': {'k': 'v'}}, 'data': {'a': '1'}})",
      "v1.patch_namespaced_config_map('c1', 'py', {'data': {'b': '2'}})",
      "print('DATA', sorted(v1.patch_namespaced_config_map('c1', 'py', [{'op': 'add', 'path': '/data/c', 'value': '3'}]).data.items()))",
      "v1.create_namespaced_config_map('py', {'metadata': {'name': 'c2'}})",
      "page = v1.list_namespaced_config_map('py', limit=1)",
      "print('PAGE', len(page.items), bool(page.metadata._continue))",
      "print('LABEL', [c.metadata.name for c in v1.list_namespaced_config_map('py', label_selector='k=v').items])",
      "pod = v1.list_namespaced_pod('py', label_selector='job-name=pyjob').items[0].metadata.name",
      "print('LOG', repr(v1.read_namespaced_pod_log(pod, 'py')))",
      "print('LIMIT', repr(v1.read_namespaced_pod_log(pod, 'py', limit_bytes=2)))",
      "print('SINCE', repr(v1.read_namespaced_pod_log(pod, 'py', since_seconds=3600)))",
      "print('DELETED', v1.delete_namespaced_config_map('c1', 'py', propagation_policy='Background').status)",
    ].join('\n');
    const kc = kubeconfig();
    for (const args of [['create', 'namespace', 'py'], ['-n', 'py', 'create', 'job', 'pyjob', '--image=busybox', '--', 'echo', 'py-log'],
      ['-n', 'py', 'wait', '--for=condition=complete', 'job/pyjob', '--timeout=60s']]) {
      const r = await sh(KUBECTL, ['--kubeconfig', kc, ...args]);
      expect(r.code, r.stderr).toBe(0);
    }
    const r = await sh(PYTHON, ['-c', script, kc], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual([
      "DATA [('a', '1'), ('b', '2'), ('c', '3')]",
      'PAGE 1 True',
      "LABEL ['c1']",
      "LOG 'py-log\\n'",
      "LIMIT 'py'",
      "SINCE 'py-log\\n'",
      'DELETED Success',
    ]);
  }, 120_000);

  for (const step of steps) {
    it(`kubectl ${step.args.join(' ')}${step.code ? ` fails (exit ${step.code})` : ''}`, async () => {
      const r = await sh(KUBECTL, ['--kubeconfig', kubeconfig(), '-n', NS, ...step.args.map(expand)], { timeoutMs: 150_000 });
      const why = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
      expect(r.code, why).toBe(step.code ?? 0);
      if (step.out !== undefined) expect(r.stdout.trim(), why).toBe(step.out);
      for (const m of step.match ?? []) expect(r.stdout.trim(), why).toMatch(m);
      if (step.err) expect(r.stderr, why).toMatch(step.err);
      if (step.header) expect(words(lines(r.stdout)[0]), why).toEqual(step.header);
      if (step.rows) {
        const rows = lines(r.stdout).slice(step.header ? 1 : 0);
        expect(rows.length, why).toBe(step.rows.length);
        step.rows.forEach((re, i) => expect(rows[i], why).toMatch(re));
      }
      if (step.json !== undefined) expect(JSON.parse(r.stdout), why).toEqual(step.json);
      step.check?.(r);
    }, 160_000);
  }
});
