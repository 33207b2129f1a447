/**
 * `stop` and `start` (as `minikube stop/start`, `k3d cluster stop/start`): a cluster's machine
 * switched off and on again. `stop` ends every process and stops every container but keeps the
 * cluster — its store, certificates, token, networks and volumes (emptyDir data), and config.
 * `start` runs the same components again; each kubelet then finds its pods' sandboxes dead and
 * does what a kubelet does after a node reboot: a new sandbox (attempt + 1) per pod, every
 * container started again with its restart count + 1, the emptyDir volumes of the same pod
 * (same uid) kept. `down` still deletes everything.
 */
import type { Pod } from '../api/types.js';
import { LABEL_CLUSTER, LABEL_POD_UID } from '../api/types.js';
import { ApiClient, PODS } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { LABEL_GRACE } from '../kubelet/naming.js';
import { bringUp, componentIds, connectRuntime, prepareCluster, type UpOptions } from './cluster.js';
import { CliError, clusterDir, readClusterConfig, writeClusterConfig, type GlobalOptions } from './context.js';
import { stopClusterProcesses } from './processes.js';

type Out = (line: string) => void;

/** Longest stop signal → SIGKILL wait `stop` gives a container (its pod's grace period, capped). */
export const STOP_GRACE_CAP_SECONDS = 10;

/** `stop`: ends the cluster's processes, then stops (keeps) its containers. */
export async function stopCluster(g: GlobalOptions, out: Out): Promise<void> {
  const started = Date.now();
  const cfg = readClusterConfig(g.home, g.name);
  if (!cfg) throw new CliError(`cluster "${g.name}" does not exist: create it with "minikube-lite up${g.name === 'minikube-lite' ? '' : ' --name ' + g.name}"`);
  const runtime = await connectRuntime(g.name);
  const dir = clusterDir(g.home, g.name);
  out(`* Stopping cluster "${g.name}" ...`);
  // Processes first: a kubelet still running would restart the containers stopped below.
  const processes = await stopClusterProcesses(dir, g.name, g.home, componentIds(cfg));
  const filter = { [LABEL_CLUSTER]: g.name };
  const running = (await runtime.listContainers(filter)).filter((c) => c.state === 'running');
  await Promise.all(running.map((c) => {
    const grace = Number(c.labels[LABEL_GRACE] ?? '30');
    return runtime.stopContainer(c.id, Math.min(STOP_GRACE_CAP_SECONDS, Number.isFinite(grace) ? grace : 30));
  }));
  const sandboxes = (await runtime.listPodSandboxes(filter)).filter((s) => s.state === 'ready');
  await Promise.all(sandboxes.map((s) => runtime.stopPodSandbox(s.id)));
  writeClusterConfig(g.home, { ...cfg, stoppedAt: new Date().toISOString() });
  out(`* Stopped cluster "${g.name}" in ${((Date.now() - started) / 1000).toFixed(1)}s: ${processes} processes ended, ` +
    `${running.length + sandboxes.length} containers stopped; its store, certificates, networks and volumes are kept. ` +
    `"minikube-lite${g.name === 'minikube-lite' ? '' : ' --name ' + g.name} start" brings it back.`);
}

/** Whether a pod is back: Ready with every container started after `since` (a fresh sandbox), or settled otherwise. */
export function podBack(p: Pod, since: Date, needsRestart: boolean): { back: boolean; why: string } {
  const phase = p.status?.phase ?? 'Pending';
  if (phase === 'Succeeded' || phase === 'Failed') return { back: true, why: phase };
  const statuses = p.status?.containerStatuses ?? [];
  const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
  const fresh = statuses.length > 0 && statuses.every((s) => {
    const at = s.state?.running?.startedAt;
    return at !== undefined && new Date(at).getTime() >= since.getTime() - 1000;
  });
  if (ready && (fresh || !needsRestart)) return { back: true, why: 'Ready' };
  // A container the kubelet gave a reason to wait (CrashLoopBackOff, ErrImagePull…) has been
  // dealt with after the restart: report it rather than wait for it forever.
  const stuck = statuses.map((s) => s.state?.waiting?.reason).find((r) => r && r !== 'ContainerCreating' && r !== 'PodInitializing');
  if (stuck) return { back: true, why: stuck };
  return { back: false, why: fresh ? 'not Ready' : 'ContainerCreating' };
}

/**
 * `start`: runs the stopped cluster's components again (adopting any still alive), waits for
 * its nodes, then for every pod bound to a node to come back, printing progress and the time.
 */
export async function startCluster(g: GlobalOptions, o: Pick<UpOptions, 'waitMs'>, out: Out): Promise<void> {
  const started = Date.now();
  const saved = readClusterConfig(g.home, g.name);
  if (!saved) throw new CliError(`cluster "${g.name}" does not exist: create it with "minikube-lite up${g.name === 'minikube-lite' ? '' : ' --name ' + g.name}"`);
  if (!saved.components) throw new CliError(`cluster "${g.name}" was created by an older minikube-lite: bring it back with "minikube-lite up"`);
  const runtime = await connectRuntime(g.name);
  // Which pods lost their sandbox: those must come back in a new one, not merely read Ready.
  const alive = new Set((await runtime.listPodSandboxes({ [LABEL_CLUSTER]: g.name })).filter((s) => s.state === 'ready').map((s) => s.labels[LABEL_POD_UID]));
  out(`* minikube-lite on ${await runtime.version()}: starting cluster "${g.name}"${saved.stoppedAt ? ` (stopped at ${saved.stoppedAt})` : ''}`);
  const { cfg, specs } = await prepareCluster(g, { nodes: saved.nodes.length, nodeLabels: [], waitMs: o.waitMs }, out);
  const deadline = started + o.waitMs;
  await bringUp(g, cfg, specs, deadline, out);
  out(`* Nodes Ready in ${((Date.now() - started) / 1000).toFixed(1)}s; waiting for the pods to come back`);
  const client = new ApiClient({ server: cfg.server, token: cfg.token });
  const since = new Date(started);
  const pods = new Informer<Pod>(client, PODS, { onError: () => undefined });
  try {
    await new Promise<void>((resolve, reject) => {
      let lastLine = '';
      let synced = false;
      const check = () => {
        const bound = pods.list().filter((p) => p.spec?.nodeName && !p.metadata?.deletionTimestamp);
        const verdicts = bound.map((p) => ({ p, ...podBack(p, since, !alive.has(p.metadata?.uid ?? '')) }));
        const back = verdicts.filter((v) => v.back);
        const line = `* Pods back: ${back.length}/${bound.length}`;
        if (synced && line !== lastLine) {
          lastLine = line;
          out(line);
        }
        // Judged on the full list only (not on the first few objects of the initial list).
        if (synced && back.length === bound.length) {
          clearTimeout(timer);
          resolve();
        }
        return verdicts;
      };
      const timer = setTimeout(() => {
        const waiting = check().filter((v) => !v.back).map((v) => `${v.p.metadata?.namespace}/${v.p.metadata?.name} (${v.why})`);
        reject(new CliError(`timed out after ${o.waitMs / 1000}s waiting for pods: ${waiting.join(', ')}; see ${clusterDir(g.home, g.name)}/kubelet-*.log`));
      }, Math.max(0, deadline - Date.now()));
      pods.addHandlers({ onAdd: () => void check(), onUpdate: () => void check(), onDelete: () => void check() });
      pods.start().then(() => {
        synced = true;
        check();
      }, (e: unknown) => {
        clearTimeout(timer);
        reject(e as Error);
      });
    });
  } finally {
    pods.stop();
  }
  const notReady = pods.list().filter((p) => p.spec?.nodeName && !podBack(p, since, false).back).length;
  out(`* Done! Cluster "${g.name}" started in ${((Date.now() - started) / 1000).toFixed(1)}s${notReady ? `, ${notReady} pods not Ready` : ''}`);
}
