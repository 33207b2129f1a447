/**
 * Environment variables and `$(VAR)` expansion, with the kubelet's semantics
 * (`third_party/forked/golang/expansion` and `kubelet_pods.go makeEnvironmentVariables`):
 *
 * - `$(NAME)` is replaced by NAME's value; an undefined NAME stays verbatim `$(NAME)`;
 * - `$$` is an escaped `$`, so `$$(NAME)` gives the literal `$(NAME)`;
 * - any other `$` (`$NAME`, `${NAME}`, a trailing `$`, an unclosed `$(`) is left as written;
 * - an env entry's value expands against the entries before it (and service variables);
 *   `command` and `args` expand against the container's whole environment.
 *
 * All functions are pure; the I/O the kubelet needs (ConfigMaps, Secrets) comes in through
 * {@link EnvContext} callbacks.
 */
import type { Container, EnvFromSource, EnvVar, EnvVarSource, Pod } from './types.js';
import { parseQuantity, type Quantity } from './quantity.js';

/** One resolved variable, in the order the container will see it. */
export interface EnvVarValue {
  name: string;
  value: string;
}

/**
 * What resolving a container's environment needs besides the container itself. Downward-API
 * values (`fieldRef`) come from the flat fields when given, else from `pod`.
 */
export interface EnvContext {
  /** The pod, for `fieldRef` (`metadata.name`, `metadata.namespace`, `metadata.uid`, `spec.nodeName`, ...). */
  pod?: Pod;
  podName?: string;
  namespace?: string;
  uid?: string;
  nodeName?: string;
  serviceAccountName?: string;
  labels?: Readonly<Record<string, string>>;
  annotations?: Readonly<Record<string, string>>;
  /** The pod's IP(s); default to `pod.status.podIP(s)`. */
  podIP?: string;
  podIPs?: string[];
  /** The node's IP(s); default to `pod.status.hostIP(s)`. */
  hostIP?: string;
  hostIPs?: string[];
  /** Service link variables (`WEB_SERVICE_HOST`...): lowest precedence, appended when not declared. */
  serviceEnv?: Readonly<Record<string, string>>;
  /** Node allocatable, used for `resourceFieldRef` limits the container does not set. */
  nodeAllocatable?: Readonly<Record<string, string>>;
  /**
   * Resolves `configMapKeyRef` / `secretKeyRef`. Return undefined to leave the variable out (an
   * optional reference whose object or key is missing); throw for a required one that is missing.
   */
  resolve?: (source: EnvVarSource, envVar: EnvVar) => string | undefined;
  /** The data of an `envFrom` ConfigMap or Secret (undefined when optional and missing). */
  resolveEnvFrom?: (source: EnvFromSource) => Readonly<Record<string, string>> | undefined;
}

/**
 * Expands `$(NAME)` references in `input`. `mapping` returns a variable's value, or undefined
 * when the variable is not defined (the reference is then kept as written).
 */
export function expand(input: string, mapping: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let advance = 1;
    if (next === '$') {
      out += '$';
    } else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close === -1) {
        out += '$(';
      } else {
        const name = input.slice(cursor + 2, close);
        out += mapping(name) ?? `$(${name})`;
        advance = close - cursor;
      }
    } else {
      out += `$${next}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** Kubernetes' `FormatMap`: sorted `key="value"` lines, as a labels/annotations downward API value. */
function formatMap(m: Readonly<Record<string, string>> | undefined): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}=${JSON.stringify((m ?? {})[k])}`).join('\n');
}

/**
 * The value of a downward-API `fieldRef` path for the pod, as the kubelet computes it.
 * Throws for a path Kubernetes does not support (validation rejects those earlier).
 */
export function fieldRefValue(fieldPath: string, ctx: EnvContext): string {
  const pod = ctx.pod;
  const meta = pod?.metadata ?? {};
  const podIPs = ctx.podIPs ?? (pod?.status?.podIPs ?? []).map((p) => p.ip ?? '').filter((ip) => ip !== '');
  const podIP = ctx.podIP ?? podIPs[0] ?? pod?.status?.podIP ?? '';
  const hostIPs = ctx.hostIPs ?? (pod?.status?.hostIPs ?? []).map((h) => h.ip ?? '').filter((ip) => ip !== '');
  const hostIP = ctx.hostIP ?? hostIPs[0] ?? pod?.status?.hostIP ?? '';
  const labels = ctx.labels ?? meta.labels;
  const annotations = ctx.annotations ?? meta.annotations;
  const sub = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  if (sub) return (sub[1] === 'labels' ? labels : annotations)?.[sub[2]] ?? '';
  switch (fieldPath) {
    case 'metadata.name': return ctx.podName ?? meta.name ?? '';
    case 'metadata.namespace': return ctx.namespace ?? meta.namespace ?? '';
    case 'metadata.uid': return ctx.uid ?? meta.uid ?? '';
    case 'metadata.labels': return formatMap(labels);
    case 'metadata.annotations': return formatMap(annotations);
    case 'spec.nodeName': return ctx.nodeName ?? pod?.spec?.nodeName ?? '';
    case 'spec.serviceAccountName': return ctx.serviceAccountName ?? pod?.spec?.serviceAccountName ?? '';
    case 'status.podIP': return podIP;
    case 'status.podIPs': return (podIPs.length ? podIPs : podIP ? [podIP] : []).join(',');
    case 'status.hostIP': return hostIP;
    case 'status.hostIPs': return (hostIPs.length ? hostIPs : hostIP ? [hostIP] : []).join(',');
    default: throw new Error(`unsupported fieldPath: ${fieldPath}`);
  }
}

/** `resourceFieldRef`: the container's limit or request divided by the divisor, rounded up (limits default to node allocatable). */
export function resourceFieldValue(ref: NonNullable<EnvVarSource['resourceFieldRef']>, container: Container | undefined, ctx: EnvContext): string {
  const target = ref.containerName ? ctx.pod?.spec?.containers.find((c) => c.name === ref.containerName) ?? container : container;
  const [kind, name] = ref.resource.split(/\.(.*)/s) as [string, string];
  const list = kind === 'limits' ? target?.resources?.limits : target?.resources?.requests;
  const raw = list?.[name] ?? (kind === 'limits' ? ctx.nodeAllocatable?.[name] : undefined) ?? '0';
  const parse = (q: string | number): Quantity => {
    const r = parseQuantity(q);
    if (!r.ok) throw new Error(`${ref.resource}: ${r.error}`);
    return r.quantity;
  };
  const value = parse(raw);
  const divisorRaw = ref.divisor === undefined || ref.divisor === '' ? '1' : ref.divisor;
  const divisor = parse(divisorRaw).nanos === 0n ? parse('1') : parse(divisorRaw);
  const ratio = Number(value.nanos) / Number(divisor.nanos);
  return String(Math.ceil(ratio));
}

function resolveSource(ev: EnvVar, container: Container | undefined, ctx: EnvContext): string | undefined {
  const from = ev.valueFrom;
  if (!from) return ev.value ?? '';
  if (from.fieldRef) return fieldRefValue(from.fieldRef.fieldPath, ctx);
  if (from.resourceFieldRef) return resourceFieldValue(from.resourceFieldRef, container, ctx);
  if (!ctx.resolve) throw new Error(`env ${ev.name}: resolving configMapKeyRef or secretKeyRef needs a resolver`);
  return ctx.resolve(from, ev);
}

/**
 * Resolves env entries in order: a `value` expands against the entries resolved before it (and
 * `initial`, then service variables); a `valueFrom` is resolved, not expanded. A later entry
 * with the same name replaces the earlier value in place.
 */
export function expandEnv(env: readonly EnvVar[], ctx: EnvContext = {}, initial: readonly EnvVarValue[] = [], container?: Container): EnvVarValue[] {
  const values = new Map<string, string>(initial.map((e) => [e.name, e.value]));
  const service = ctx.serviceEnv ?? {};
  const mapping = (name: string): string | undefined =>
    values.has(name) ? values.get(name) : Object.prototype.hasOwnProperty.call(service, name) ? service[name] : undefined;
  for (const ev of env) {
    const value = ev.value ? expand(ev.value, mapping) : resolveSource(ev, container, ctx);
    if (value !== undefined) values.set(ev.name, value);
  }
  return [...values].map(([name, value]) => ({ name, value }));
}

/**
 * The environment the kubelet gives a container: `envFrom` sources first (prefixed names),
 * then `env` entries in order (expanded, or resolved from `valueFrom`), then service variables
 * not already declared.
 */
export function containerEnv(container: Container, ctx: EnvContext = {}): EnvVarValue[] {
  const fromSources: EnvVarValue[] = [];
  for (const source of container.envFrom ?? []) {
    if (!ctx.resolveEnvFrom) throw new Error(`container ${container.name}: resolving envFrom needs a resolver`);
    const data = ctx.resolveEnvFrom(source) ?? {};
    for (const [k, v] of Object.entries(data)) fromSources.push({ name: `${source.prefix ?? ''}${k}`, value: v });
  }
  const env = expandEnv(container.env ?? [], ctx, fromSources, container);
  const declared = new Set(env.map((e) => e.name));
  for (const [name, value] of Object.entries(ctx.serviceEnv ?? {})) {
    if (!declared.has(name)) env.push({ name, value });
  }
  return env;
}

/**
 * Expands `$(VAR)` in a container's `command` or `args` against its full environment
 * (undefined references stay as written).
 */
export function expandCommand(cmd: readonly string[] | undefined, env: readonly EnvVarValue[] | Readonly<Record<string, string>>): string[] {
  const values: Record<string, string> = Array.isArray(env)
    ? Object.fromEntries((env as readonly EnvVarValue[]).map((e) => [e.name, e.value]))
    : { ...(env as Readonly<Record<string, string>>) };
  const mapping = (name: string): string | undefined => (Object.prototype.hasOwnProperty.call(values, name) ? values[name] : undefined);
  return (cmd ?? []).map((c) => expand(c, mapping));
}
