/**
 * The controller manager (Kubernetes' `kube-controller-manager`, in miniature): runs the
 * ReplicaSet, Deployment, garbage-collector, node-lifecycle, endpoints, endpointslice,
 * endpointslice-mirroring, service-account, service-account-token, root-CA publisher,
 * PersistentVolume and PVC-protection controllers, the horizontal pod autoscaler and the host-path provisioner in one
 * process over one set of shared informers, talking to the cluster only through the API client.
 */
import type { Tracer } from '../trace/recorder.js';
import type { ApiClient } from '../client/client.js';
import type { Controller, ControllerContext } from './base.js';
import { DeploymentController } from './deployment.js';
import { EndpointsController } from './endpoints.js';
import { EndpointSliceController } from './endpointslice.js';
import { EndpointSliceMirroringController } from './endpointslicemirroring.js';
import { GarbageCollector } from './garbagecollector.js';
import { SharedInformers } from './informers.js';
import { NodeLifecycleController } from './nodelifecycle.js';
import { ReplicaSetController } from './replicaset.js';
import { DisruptionController } from './disruption.js';
import { IngressController, type IngressControllerOptions } from './ingress.js';
import { RootCACertPublisher } from './rootcacert.js';
import { ServiceAccountController } from './serviceaccount.js';
import { NamespaceController } from './namespace.js';
import { ServiceAccountTokenController, type LegacyTokenSigner } from './satokens.js';
import { HostPathProvisioner, type HostDirectories } from './volume/provisioner.js';
import { PVCProtectionController } from './volume/protection.js';
import { PersistentVolumeController } from './volume/pvcontroller.js';
import { JobController } from './job.js';
import { CronJobController } from './cronjob.js';
import { DaemonSetController } from './daemonset.js';
import { StatefulSetController } from './statefulset.js';
import { ReplicationControllerController } from './replicationcontroller.js';
import { ResourceQuotaController } from './resourcequota.js';
import { TTLAfterFinishedController } from './ttlafterfinished.js';
import { HorizontalController } from './horizontal.js';

export interface ControllerManagerOptions {
  client: ApiClient;
  /** Source of "now" for conditions, expectations and node health (default: the real clock). */
  clock?: () => Date;
  /** Where progress and errors go (default: `console.error`). */
  log?: (m: string) => void;
  /** See {@link NodeLifecycleController}: default 40 s. */
  nodeMonitorGracePeriodMs?: number;
  /** See {@link NodeLifecycleController}: default 300 s. */
  podEvictionTimeoutMs?: number;
  /** How often node health is checked (default 1 s). */
  nodeMonitorPeriodMs?: number;
  /** Where controllers trace their pod decisions (default: nowhere; see src/trace). */
  tracer?: Tracer;
  /** Run the ingress controller (see {@link IngressController}). */
  ingress?: Pick<IngressControllerOptions, 'confDir' | 'httpPort' | 'httpsPort' | 'image'>;
  /** The API server's CA (PEM), published in every namespace as `kube-root-ca.crt`; none: not published. */
  rootCA?: string;
  /** Signs the tokens of `kubernetes.io/service-account-token` Secrets (with `rootCA`); none: not filled in. */
  tokenSigner?: LegacyTokenSigner;
  /** Where the host-path provisioner makes volume directories; none: no provisioner runs. */
  volumeDirectories?: HostDirectories;
  /** See {@link HorizontalController}: sync period (default 15 s) and scale-down stabilisation (default 5 min). */
  hpaSyncPeriodMs?: number;
  hpaDownscaleStabilizationMs?: number;
}

export interface ControllerManager {
  /** Stops every controller and the informers; resolves once in-flight syncs have finished. */
  stop(): Promise<void>;
}

/**
 * Starts every controller; resolves once their caches are filled and their workers run.
 * If one fails to start, the ones already started are stopped and the error is thrown.
 */
export async function startControllers(opts: ControllerManagerOptions): Promise<ControllerManager> {
  const log = opts.log ?? ((m: string) => console.error(m));
  const informers = new SharedInformers(opts.client, (ref, e) => log(`controller-manager: watch ${ref.resource} (retrying): ${(e as Error).message}`));
  const common: ControllerContext = { client: opts.client, informers, clock: opts.clock, log, tracer: opts.tracer };
  // One line per controller; each builds on the shared scaffold in ./base.ts.
  const controllers: Controller[] = [
    new ReplicaSetController(common),
    new DeploymentController(common),
    new GarbageCollector(common),
    new EndpointsController(common),
    new EndpointSliceController(common),
    new EndpointSliceMirroringController(common),
    new JobController(common),
    new TTLAfterFinishedController(common),
    new CronJobController(common),
    new DaemonSetController(common),
    new StatefulSetController(common),
    new ReplicationControllerController(common),
    new ResourceQuotaController(common),
    new NodeLifecycleController({
      ...common,
      nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriodMs,
      podEvictionTimeoutMs: opts.podEvictionTimeoutMs,
      nodeMonitorPeriodMs: opts.nodeMonitorPeriodMs,
    }),
    new ServiceAccountController(common),
    new NamespaceController(common),
    ...(opts.rootCA ? [new RootCACertPublisher(common, opts.rootCA)] : []),
    ...(opts.tokenSigner && opts.rootCA ? [new ServiceAccountTokenController(common, opts.tokenSigner, opts.rootCA)] : []),
    new PersistentVolumeController(common),
    new PVCProtectionController(common),
    new DisruptionController(common),
    new HorizontalController({ ...common, syncPeriodMs: opts.hpaSyncPeriodMs, downscaleStabilizationMs: opts.hpaDownscaleStabilizationMs }),
    ...(opts.volumeDirectories ? [new HostPathProvisioner(common, opts.volumeDirectories)] : []),
  ];
  if (opts.ingress) controllers.push(new IngressController({ ...common, ...opts.ingress }));
  const stopAll = async (): Promise<void> => {
    informers.stop();
    await Promise.all(controllers.map((c) => c.stop()));
  };
  try {
    await informers.start();
    for (const c of controllers) await c.start();
  } catch (e) {
    await stopAll();
    throw e;
  }
  return { stop: stopAll };
}
