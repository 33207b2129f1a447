/**
 * The kubelet's view of ConfigMaps and Secrets (its `configMapManager`/`secretManager` in watch
 * mode): list+watch informers over the API, so that reads are local and a change (or the
 * creation of an object a pod waits for) re-syncs the pods that reference it at once, instead
 * of polling. Also: which objects a pod references, and its environment's resolvers with the
 * kubelet's error messages.
 */
import type { ConfigMap, Container, EnvFromSource, EnvVar, EnvVarSource, Pod, Secret } from '../api/types.js';
import type { EnvContext } from '../api/expansion.js';
import { isEnvVarName } from '../api/names.js';
import { CONFIGMAPS, SECRETS, type ApiClient } from '../client/client.js';
import { Informer } from '../client/informer.js';

/** A referenced ConfigMap, Secret or key that is missing: the container cannot be configured. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The ConfigMaps and Secrets (names, in the pod's namespace) a pod's spec refers to. */
export function referencedObjects(pod: Pod): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  const containers: Container[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  for (const c of containers) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
    }
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef?.name) configMaps.add(f.configMapRef.name);
      if (f.secretRef?.name) secrets.add(f.secretRef.name);
    }
  }
  for (const v of pod.spec?.volumes ?? []) {
    if (v.configMap?.name) configMaps.add(v.configMap.name);
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap?.name) configMaps.add(s.configMap.name);
      if (s.secret?.name) secrets.add(s.secret.name);
    }
  }
  return { configMaps, secrets };
}

/** What the env resolvers report besides values: keys skipped by envFrom (for an event). */
export type SkippedKeysReporter = (kind: 'configMap' | 'secret', name: string, keys: string[]) => void;

/** Local reads of ConfigMaps and Secrets; `configsource.ts`'s informers implement it. */
export interface ConfigReader {
  configMap(namespace: string, name: string): ConfigMap | undefined;
  secret(namespace: string, name: string): Secret | undefined;
}

/**
 * The `resolve`/`resolveEnvFrom` callbacks of {@link EnvContext} for a pod, with the kubelet's
 * semantics and messages: a missing object is `configmap "x" not found`, a missing key
 * `couldn't find key k in ConfigMap ns/x`; `optional` references that are missing are left
 * out; envFrom keys that are not valid variable names (after the prefix) are skipped and
 * reported. Throws {@link ConfigError}.
 */
export function envResolvers(pod: Pod, reader: ConfigReader, skipped: SkippedKeysReporter): Pick<EnvContext, 'resolve' | 'resolveEnvFrom'> {
  const ns = pod.metadata?.namespace ?? 'default';
  /** The (decoded) values of a ConfigMap's `data` or a Secret's `data`; undefined when the object is missing. */
  const values = (kind: 'configMap' | 'secret', name: string): Readonly<Record<string, string>> | undefined => {
    if (kind === 'configMap') {
      const cm = reader.configMap(ns, name);
      return cm && { ...(cm.data ?? {}) };
    }
    const s = reader.secret(ns, name);
    return s && Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  };
  const words = { configMap: ['configmap', 'ConfigMap'], secret: ['secret', 'Secret'] } as const;
  const resolve = (source: EnvVarSource, _ev: EnvVar): string | undefined => {
    const kind = source.configMapKeyRef ? 'configMap' : source.secretKeyRef ? 'secret' : undefined;
    const sel = source.configMapKeyRef ?? source.secretKeyRef;
    if (!kind || !sel) return undefined;
    const { name = '', key, optional } = sel;
    const data = values(kind, name);
    if (!data) {
      if (optional) return undefined;
      throw new ConfigError(`${words[kind][0]} "${name}" not found`);
    }
    if (!Object.prototype.hasOwnProperty.call(data, key)) {
      if (optional) return undefined;
      throw new ConfigError(`couldn't find key ${key} in ${words[kind][1]} ${ns}/${name}`);
    }
    return data[key];
  };
  const resolveEnvFrom = (source: EnvFromSource): Readonly<Record<string, string>> | undefined => {
    const kind = source.configMapRef ? 'configMap' : 'secret';
    const ref = source.configMapRef ?? source.secretRef;
    const name = ref?.name ?? '';
    const found = values(kind, name);
    if (!found) {
      if (ref?.optional) return undefined;
      throw new ConfigError(`${words[kind][0]} "${name}" not found`);
    }
    const data = { ...found };
    const bad = Object.keys(data).filter((k) => isEnvVarName(`${source.prefix ?? ''}${k}`).length > 0);
    for (const k of bad) delete data[k];
    if (bad.length) skipped(kind, name, bad.map((k) => `${source.prefix ?? ''}${k}`).sort());
    return data;
  };
  return { resolve, resolveEnvFrom };
}

/**
 * Informers over every namespace's ConfigMaps and Secrets. `onChange(kind, namespace, name)`
 * is called for each add, update and delete (handlers only; the kubelet maps it to pods and
 * enqueues them). Start before the pod informer, so the first sync of a pod already sees them.
 */
export class ConfigSource implements ConfigReader {
  private readonly configMaps: Informer<ConfigMap>;
  private readonly secrets: Informer<Secret>;

  constructor(client: ApiClient, onChange: (kind: 'configMap' | 'secret', namespace: string, name: string) => void, onError: (e: unknown) => void) {
    this.configMaps = new Informer<ConfigMap>(client, CONFIGMAPS, { onError });
    this.secrets = new Informer<Secret>(client, SECRETS, { onError });
    const handlers = (kind: 'configMap' | 'secret') => {
      const fire = (o: ConfigMap | Secret) => onChange(kind, o.metadata?.namespace ?? '', o.metadata?.name ?? '');
      return { onAdd: fire, onUpdate: (_old: ConfigMap | Secret, o: ConfigMap | Secret) => fire(o), onDelete: fire };
    };
    this.configMaps.addHandlers(handlers('configMap'));
    this.secrets.addHandlers(handlers('secret'));
  }

  /** Lists and starts watching both kinds; resolves once both caches are filled. */
  async start(): Promise<void> {
    await Promise.all([this.configMaps.start(), this.secrets.start()]);
  }

  stop(): void {
    this.configMaps.stop();
    this.secrets.stop();
  }

  configMap(namespace: string, name: string): ConfigMap | undefined {
    return this.configMaps.get(`${namespace}/${name}`);
  }

  secret(namespace: string, name: string): Secret | undefined {
    return this.secrets.get(`${namespace}/${name}`);
  }
}
