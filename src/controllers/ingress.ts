/**
 * The ingress controller (ingress-nginx's role, split the way this cluster runs things): this
 * controller, in the controller manager, watches Ingresses, IngressClasses, Services,
 * EndpointSlices, Secrets and its own nginx pods through the API; nginx itself runs as pods of
 * the Deployment `ingress-nginx/ingress-nginx-controller` (our `nginx` image), exposed on this
 * host by the LoadBalancer Service of the same name (the service proxy listens on
 * 127.0.0.1:`httpPort`/`httpsPort` and writes its `status.loadBalancer`).
 *
 * Every change enqueues one key; a sync renders the whole nginx configuration
 * (src/ingress/render.ts), writes it (with the TLS certificates) into `confDir` atomically —
 * the directory the nginx pods mount as a hostPath volume — and, when it changed, runs
 * `nginx -s reload` in each ready nginx pod through the API's exec subresource. nginx reloads
 * gracefully: new workers take new connections, old ones finish theirs, nothing is dropped.
 * It then publishes the Service's load-balancer address on every Ingress it serves
 * (`--publish-service`, as ingress-nginx does) and reports broken backends as Warning events.
 *
 * On its first sync it creates what it needs if missing (namespace, the default IngressClass
 * `nginx`, the Deployment and the Service), as an addon manager's EnsureExists mode would.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../api/errors.js';
import type { Deployment, EndpointSlice, KubeObject, Namespace, Pod, Service } from '../api/types.js';
import type { Secret } from '../api/types.js';
import {
  DEFAULT_CLASS_ANNOTATION, ingressClassOf, isDefaultClass, type Ingress, type IngressClass,
} from '../api/ingressvalidation.js';
import { ENDPOINTSLICES, NAMESPACES, PODS, SECRETS, SERVICES, type ResourceRef } from '../client/client.js';
import { renderNginx, type TLSPair } from '../ingress/render.js';
import { selfSignedCertificate } from '../apiserver/tls.js';
import { Controller, type ControllerContext } from './base.js';
import { DEPLOYMENTS } from './types.js';
import { INGRESSES, INGRESSCLASSES } from '../client/client.js';
export { INGRESSES, INGRESSCLASSES } from '../client/client.js';


export const INGRESS_NAMESPACE = 'ingress-nginx';
export const INGRESS_CONTROLLER_NAME = 'ingress-nginx-controller';
export const INGRESS_CLASS = 'nginx';
export const INGRESS_CONTROLLER = 'k8s.io/ingress-nginx';
/** Where the nginx pods mount `confDir`. */
export const NGINX_CONF_DIR = '/etc/ingress-nginx';
export const NGINX_HEALTH_PORT = 10254;
const POD_LABELS = { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' };
const SYNC_KEY = 'nginx';

export interface IngressControllerOptions extends ControllerContext {
  /** Host directory holding nginx.conf and certificates, mounted by the nginx pods. */
  confDir: string;
  /** Ports of the LoadBalancer Service on this host (HTTP, HTTPS). */
  httpPort: number;
  httpsPort: number;
  /** nginx image (default `nginx`). */
  image?: string;
}

/** The objects the controller keeps in place: namespace, class, Deployment, Service. */
export function addonObjects(o: Pick<IngressControllerOptions, 'confDir' | 'httpPort' | 'httpsPort' | 'image'>): {
  namespace: Namespace; ingressClass: IngressClass; deployment: Deployment; service: Service;
} {
  const meta = { name: INGRESS_CONTROLLER_NAME, namespace: INGRESS_NAMESPACE, labels: { ...POD_LABELS } };
  return {
    namespace: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: INGRESS_NAMESPACE, labels: { 'app.kubernetes.io/name': 'ingress-nginx' } } },
    ingressClass: {
      apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass',
      metadata: { name: INGRESS_CLASS, labels: { ...POD_LABELS }, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
      spec: { controller: INGRESS_CONTROLLER },
    },
    deployment: {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta,
      spec: {
        replicas: 1,
        selector: { matchLabels: { ...POD_LABELS } },
        template: {
          metadata: { labels: { ...POD_LABELS } },
          spec: {
            terminationGracePeriodSeconds: 10,
            containers: [{
              name: 'controller', image: o.image ?? 'nginx', imagePullPolicy: 'IfNotPresent',
              command: ['nginx', '-c', `${NGINX_CONF_DIR}/nginx.conf`, '-g', 'daemon off;'],
              ports: [{ name: 'http', containerPort: 80 }, { name: 'https', containerPort: 443 }, { name: 'health', containerPort: NGINX_HEALTH_PORT }],
              readinessProbe: { httpGet: { path: '/healthz', port: NGINX_HEALTH_PORT }, periodSeconds: 2, failureThreshold: 3 },
              livenessProbe: { httpGet: { path: '/healthz', port: NGINX_HEALTH_PORT }, periodSeconds: 10, failureThreshold: 5 },
              volumeMounts: [{ name: 'config', mountPath: NGINX_CONF_DIR, readOnly: true }],
            }],
            volumes: [{ name: 'config', hostPath: { path: o.confDir, type: 'Directory' } }],
          },
        },
      },
    },
    service: {
      apiVersion: 'v1', kind: 'Service', metadata: meta,
      spec: {
        type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, selector: { ...POD_LABELS },
        ports: [
          { name: 'http', port: o.httpPort, targetPort: 'http', protocol: 'TCP' },
          { name: 'https', port: o.httpsPort, targetPort: 'https', protocol: 'TCP' },
        ],
      },
    },
  };
}

/** A `kubernetes.io/tls` Secret's pair, if it is one and the key matches the certificate. */
export function tlsPairOf(secret: Secret | undefined): TLSPair | undefined {
  if (!secret || secret.type !== 'kubernetes.io/tls') return undefined;
  const cert = Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64').toString('utf8');
  const key = Buffer.from(secret.data?.['tls.key'] ?? '', 'base64').toString('utf8');
  try {
    if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) return undefined;
  } catch {
    // Not PEM, or not a certificate/key: not usable, the caller reports it.
    return undefined;
  }
  return { cert, key };
}

const isReady = (p: Pod): boolean => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running'
  && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export class IngressController extends Controller {
  private readonly ingresses;
  private readonly classes;
  private readonly services;
  private readonly slices;
  private readonly secrets;
  private readonly pods;
  private ensured = false;
  private written = '';
  /** Pod uid → config hash nginx in it was last told to load. */
  private readonly loaded = new Map<string, string>();
  /** Ingress key → the problems last reported as events. */
  private readonly reported = new Map<string, string>();

  constructor(private readonly opts: IngressControllerOptions) {
    super('ingress-nginx-controller', opts, { workers: 1, quiet: (e) => e instanceof ApiError && e.code === 409 });
    const all = { onAdd: () => this.enqueue(SYNC_KEY), onUpdate: () => this.enqueue(SYNC_KEY), onDelete: () => this.enqueue(SYNC_KEY) };
    this.ingresses = this.informer<Ingress & KubeObject>(INGRESSES);
    this.classes = this.informer<IngressClass & KubeObject>(INGRESSCLASSES);
    this.services = this.informer<Service & KubeObject>(SERVICES);
    this.slices = this.informer<EndpointSlice & KubeObject>(ENDPOINTSLICES);
    this.secrets = this.informer<Secret & KubeObject>(SECRETS);
    this.pods = this.informer<Pod & KubeObject>(PODS);
    for (const inf of [this.ingresses, this.classes, this.services, this.slices, this.secrets]) inf.addHandlers(all);
    this.pods.addHandlers({
      onAdd: (p) => this.onPod(p), onUpdate: (_o, p) => this.onPod(p),
      onDelete: (p) => {
        this.loaded.delete(p.metadata?.uid ?? '');
        this.onPod(p);
      },
    });
  }

  private onPod(p: Pod): void {
    if (p.metadata?.namespace === INGRESS_NAMESPACE) this.enqueue(SYNC_KEY);
  }

  protected override onStart(): void {
    this.enqueue(SYNC_KEY);
  }

  /** The Ingresses whose class is one of this controller's (or none, when its class is the default). */
  served(): Ingress[] {
    const ours = this.classes.list().filter((c) => c.spec?.controller === INGRESS_CONTROLLER);
    const names = new Set(ours.map((c) => c.metadata?.name ?? ''));
    const defaultOurs = ours.some(isDefaultClass);
    return this.ingresses.list().filter((i) => {
      const cls = ingressClassOf(i);
      return cls ? names.has(cls) : defaultOurs;
    });
  }

  protected async sync(): Promise<void> {
    if (!this.ensured) await this.ensureAddon();
    const served = this.served();
    const tls = new Map<string, TLSPair>();
    for (const ing of served) {
      for (const t of ing.spec?.tls ?? []) {
        const key = `${ing.metadata?.namespace}/${t.secretName ?? ''}`;
        const pair = t.secretName ? tlsPairOf(this.secrets.get(key)) : undefined;
        if (pair) tls.set(key, pair);
      }
    }
    const rendered = renderNginx({
      ingresses: served, services: this.services.list(), slices: this.slices.list(), tls, confDir: NGINX_CONF_DIR, healthPort: NGINX_HEALTH_PORT,
    });
    if (rendered.hash !== this.written) {
      this.writeFiles(rendered.config, rendered.files);
      this.written = rendered.hash;
      this.log(`${this.name}: configuration ${rendered.hash.slice(0, 12)} written (${served.length} ingresses)`);
    }
    await this.reloadPods(rendered.hash);
    await this.publishStatus(served);
    for (const ing of served) {
      const key = `${ing.metadata?.namespace}/${ing.metadata?.name}`;
      const msgs = rendered.problems.get(key) ?? [];
      const text = msgs.join('; ');
      if (this.reported.get(key) === text) continue;
      this.reported.set(key, text);
      for (const m of msgs) void this.recorder.event({ ...ing, kind: 'Ingress', apiVersion: 'networking.k8s.io/v1' }, 'Warning', 'BackendProblem', m);
      if (!msgs.length) void this.recorder.event({ ...ing, kind: 'Ingress', apiVersion: 'networking.k8s.io/v1' }, 'Normal', 'Sync', 'Scheduled for sync');
    }
  }

  /** Writes nginx.conf and the certificates by rename (nginx never reads a half-written file); removes stale certificates. */
  private writeFiles(config: string, files: Record<string, string>): void {
    const dir = this.opts.confDir;
    mkdirSync(dir, { recursive: true });
    const put = (name: string, content: string, mode: number): void => {
      const tmp = join(dir, `.${name}.tmp`);
      writeFileSync(tmp, content, { mode });
      renameSync(tmp, join(dir, name));
    };
    for (const [name, content] of Object.entries(files)) put(name, content, 0o600);
    for (const f of readdirSync(dir)) if (f.startsWith('tls-') && !(f in files)) rmSync(join(dir, f), { force: true });
    put('nginx.conf', config, 0o644);
  }

  /** Tells every ready nginx pod to load `hash` (graceful reload), once per pod and hash. */
  private async reloadPods(hash: string): Promise<void> {
    const pods = this.pods.list().filter((p) => p.metadata?.namespace === INGRESS_NAMESPACE
      && Object.entries(POD_LABELS).every(([k, v]) => p.metadata?.labels?.[k] === v) && isReady(p));
    for (const p of pods) {
      const uid = p.metadata?.uid ?? '';
      if (this.loaded.get(uid) === hash) continue;
      let stderr = '';
      const code = await this.client.exec(INGRESS_NAMESPACE, p.metadata?.name ?? '', {
        container: 'controller', command: ['nginx', '-c', `${NGINX_CONF_DIR}/nginx.conf`, '-s', 'reload'],
      }, { stdout: () => undefined, stderr: (b) => { stderr += b.toString(); } });
      if (code !== 0) throw new Error(`nginx -s reload in pod ${p.metadata?.name}: exit ${code}: ${stderr.trim()}`);
      this.loaded.set(uid, hash);
    }
  }

  /** Copies the Service's load-balancer address to every served Ingress (and clears it from Ingresses no longer served). */
  private async publishStatus(served: Ingress[]): Promise<void> {
    const svc = this.services.get(`${INGRESS_NAMESPACE}/${INGRESS_CONTROLLER_NAME}`);
    const want = (svc?.status?.loadBalancer?.ingress ?? []).filter((i) => i.ip || i.hostname).map((i) => (i.ip ? { ip: i.ip } : { hostname: i.hostname ?? '' }));
    const servedKeys = new Set(served.map((i) => `${i.metadata?.namespace}/${i.metadata?.name}`));
    for (const ing of this.ingresses.list()) {
      const key = `${ing.metadata?.namespace}/${ing.metadata?.name}`;
      const have = (ing.status?.loadBalancer?.ingress ?? []).map((i) => (i.ip ? { ip: i.ip } : { hostname: i.hostname ?? '' }));
      const target = servedKeys.has(key) ? want : (JSON.stringify(have) === JSON.stringify(want) ? [] : have);
      if (JSON.stringify(have) === JSON.stringify(target)) continue;
      try {
        await this.client.patch({ ...INGRESSES, namespace: ing.metadata?.namespace }, ing.metadata?.name ?? '',
          { status: { loadBalancer: { ingress: target.length ? target : null } } }, 'status');
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
  }

  /** Creates the namespace, default class, Deployment and Service when missing; fixes the Service's ports. */
  private async ensureAddon(): Promise<void> {
    const dir = this.opts.confDir;
    mkdirSync(dir, { recursive: true });
    const fake = join(dir, 'default-fake-certificate.pem');
    if (!existsSync(fake)) {
      const { cert, key } = await selfSignedCertificate({ hosts: ['ingress.local'], commonName: 'Kubernetes Ingress Controller Fake Certificate' });
      writeFileSync(fake, `${cert.trim()}\n${key.trim()}\n`, { mode: 0o600 });
    }
    // nginx must find a configuration when its first pod starts.
    if (!existsSync(join(dir, 'nginx.conf'))) {
      const r = renderNginx({ ingresses: [], services: [], slices: [], tls: new Map(), confDir: NGINX_CONF_DIR, healthPort: NGINX_HEALTH_PORT });
      this.writeFiles(r.config, r.files);
    }
    const objs = addonObjects(this.opts);
    const ensure = async (ref: ResourceRef, obj: KubeObject): Promise<KubeObject> => {
      try {
        return await this.client.create(ref, obj);
      } catch (e) {
        if (e instanceof ApiError && e.reason === 'AlreadyExists') return this.client.get(ref, obj.metadata?.name ?? '');
        throw e;
      }
    };
    await ensure(NAMESPACES, objs.namespace);
    await ensure(INGRESSCLASSES, objs.ingressClass);
    await ensure({ ...DEPLOYMENTS, namespace: INGRESS_NAMESPACE }, objs.deployment);
    const svc = (await ensure({ ...SERVICES, namespace: INGRESS_NAMESPACE }, objs.service)) as Service;
    const ports = (svc.spec?.ports ?? []).map((p) => `${p.name}:${p.port}`).join(',');
    if (ports !== `http:${this.opts.httpPort},https:${this.opts.httpsPort}`) {
      await this.client.patch({ ...SERVICES, namespace: INGRESS_NAMESPACE }, INGRESS_CONTROLLER_NAME, { spec: { ports: objs.service.spec?.ports } });
    }
    this.ensured = true;
  }
}
