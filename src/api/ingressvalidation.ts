/**
 * networking.k8s.io/v1 Ingress and IngressClass: defaults, validation and the table rows
 * kubectl prints, in Kubernetes' words (`pkg/apis/networking/validation/validation.go`,
 * `pkg/printers/internalversion/printers.go`). Pure functions returning `FieldError[]`.
 *
 * One deviation, refused rather than ignored: `resource` backends (a typed reference to some
 * other kind) are not supported by minikube-lite's ingress controller, so they are refused
 * with 422 at the field that names them.
 */
import type { Ingress, IngressBackend, IngressClass, IngressClassParametersReference, IngressSpec, IngressLoadBalancerIngress } from 'kubernetes-types/networking/v1.js';
import type { FieldError } from './errors.js';
import { forbidden, invalidFormatted, invalidValue, notSupported, required, requiredWithDetail } from './errors.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './metavalidation.js';
import {
  isDNS1123Subdomain, isValidPortName, isValidPortNum, maxLenError, nameIsDNS1035Label, nameIsDNSSubdomain, regexError,
} from './names.js';
import { ipFamilyOf, isValidIP } from './ip.js';
import { age } from './podstatus.js';

export type { Ingress, IngressClass, IngressBackend, IngressSpec, IngressRule, HTTPIngressPath, IngressTLS } from 'kubernetes-types/networking/v1.js';

/** The annotation that marks the IngressClass used for Ingresses that name none. */
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
/** The deprecated annotation naming an Ingress's class (before `spec.ingressClassName`). */
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
export const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];

const WILDCARD_FMT = '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const wildcard = new RegExp(`^${WILDCARD_FMT}$`);
const HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const httpPath = new RegExp(`^${HTTP_PATH_FMT}$`);
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];

/** `IsWildcardDNS1123Subdomain`: `*.` followed by a DNS subdomain. */
export function isWildcardDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(maxLenError(253));
  if (!wildcard.test(value)) {
    errs.push(regexError("a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character", WILDCARD_FMT, '*.example.com'));
  }
  return errs;
}

/** Host names of rules and TLS entries: a DNS subdomain, or a wildcard one. */
function hostErrors(host: string, path: string): FieldError[] {
  const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
  return msgs.map((m) => invalidValue(path, host, m));
}

function validateBackend(b: IngressBackend, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (b.resource && b.service) return [invalidValue(path, '', 'cannot set both resource and service backends')];
  if (b.resource) return [forbidden(`${path}.resource`, 'resource backends are not supported by minikube-lite; use a service backend (service.name and service.port)')];
  const svc = b.service;
  if (!svc) return [invalidValue(path, '', 'resource or service backend is required')];
  if (!svc.name) errs.push(required(`${path}.service.name`));
  else for (const m of nameIsDNS1035Label(svc.name, false)) errs.push(invalidValue(`${path}.service.name`, svc.name, m));
  const name = svc.port?.name ?? '';
  const number = svc.port?.number ?? 0;
  if (name && number) errs.push(invalidValue(path, '', 'cannot set both port name & port number'));
  else if (name) for (const m of isValidPortName(name)) errs.push(invalidValue(`${path}.service.port.name`, name, m));
  else if (number) for (const m of isValidPortNum(number)) errs.push(invalidValue(`${path}.service.port.number`, number, m));
  else errs.push(requiredWithDetail(path, 'port name or number is required'));
  return errs;
}

/** `ValidateIngressSpec`. */
export function validateIngressSpec(spec: IngressSpec | undefined, path = 'spec'): FieldError[] {
  const s = spec ?? {};
  const errs: FieldError[] = [];
  const rules = s.rules ?? [];
  if (rules.length === 0 && !s.defaultBackend) {
    errs.push(invalidFormatted(path, '[]networking.IngressRule(nil)', 'either `defaultBackend` or `rules` must be specified'));
  }
  if (s.defaultBackend) errs.push(...validateBackend(s.defaultBackend, `${path}.defaultBackend`));
  rules.forEach((rule, i) => {
    const rp = `${path}.rules[${i}]`;
    const host = rule.host ?? '';
    if (host) {
      if (ipFamilyOf(host)) errs.push(invalidValue(`${rp}.host`, host, 'must be a DNS name, not an IP address'));
      errs.push(...hostErrors(host, `${rp}.host`));
    }
    if (!rule.http) return;
    const paths = rule.http.paths ?? [];
    if (paths.length === 0) errs.push(required(`${rp}.http.paths`));
    paths.forEach((p, j) => {
      const pp = `${rp}.http.paths[${j}]`;
      const value = p.path ?? '';
      if (!p.pathType) {
        errs.push(requiredWithDetail(`${pp}.pathType`, 'pathType must be specified'));
        return;
      }
      if (p.pathType === 'Exact' || p.pathType === 'Prefix') {
        if (!value.startsWith('/')) errs.push(invalidValue(`${pp}.path`, value, 'must be an absolute path'));
        if (value) {
          for (const seq of INVALID_PATH_SEQUENCES) if (value.includes(seq)) errs.push(invalidValue(`${pp}.path`, value, `must not contain '${seq}'`));
          for (const suf of INVALID_PATH_SUFFIXES) if (value.endsWith(suf)) errs.push(invalidValue(`${pp}.path`, value, `cannot end with '${suf}'`));
        }
      } else if (p.pathType === 'ImplementationSpecific') {
        if (value && !value.startsWith('/')) errs.push(invalidValue(`${pp}.path`, value, 'must be an absolute path'));
      } else {
        errs.push(notSupported(`${pp}.pathType`, p.pathType, PATH_TYPES));
      }
      errs.push(...validateBackend(p.backend ?? {}, `${pp}.backend`));
    });
  });
  (s.tls ?? []).forEach((t, i) => {
    (t.hosts ?? []).forEach((h, j) => errs.push(...hostErrors(h, `${path}.tls[${i}].hosts[${j}]`)));
    if (t.secretName) for (const m of isDNS1123Subdomain(t.secretName)) errs.push(invalidValue(`${path}.tls[${i}].secretName`, t.secretName, m));
  });
  if (s.ingressClassName !== undefined && s.ingressClassName !== null) {
    for (const m of isDNS1123Subdomain(s.ingressClassName)) errs.push(invalidValue(`${path}.ingressClassName`, s.ingressClassName, m));
  }
  return errs;
}

function validateLoadBalancerIngress(list: readonly IngressLoadBalancerIngress[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (list ?? []).forEach((lb, i) => {
    if (lb.ip) for (const m of isValidIP(lb.ip)) errs.push(invalidValue(`${path}[${i}].ip`, lb.ip, m));
    if (lb.hostname) {
      for (const m of isDNS1123Subdomain(lb.hostname)) errs.push(invalidValue(`${path}[${i}].hostname`, lb.hostname, m));
      if (ipFamilyOf(lb.hostname)) errs.push(invalidValue(`${path}[${i}].hostname`, lb.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

/** An Ingress on create, or on update when `old` is given. */
export function validateIngress(ing: Ingress, old?: Ingress): FieldError[] {
  const errs = validateObjectMeta(ing.metadata, true, nameIsDNSSubdomain);
  if (old) errs.push(...validateObjectMetaUpdate(ing.metadata, old.metadata));
  errs.push(...validateIngressSpec(ing.spec));
  const legacy = ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
  const cls = ing.spec?.ingressClassName;
  if (!old && legacy !== undefined && cls !== undefined && cls !== null && legacy !== cls) {
    errs.push(invalidValue(`annotations.${LEGACY_CLASS_ANNOTATION}`, legacy, 'must match `ingressClassName` when both are specified'));
  }
  errs.push(...validateLoadBalancerIngress(ing.status?.loadBalancer?.ingress, 'status.loadBalancer.ingress'));
  return errs;
}

function validateParameters(p: IngressClassParametersReference | undefined, path: string): FieldError[] {
  if (!p) return [];
  const errs: FieldError[] = [];
  if (!p.kind) errs.push(requiredWithDetail(`${path}.kind`, 'kind is required'));
  if (!p.name) errs.push(requiredWithDetail(`${path}.name`, 'name is required'));
  if (p.apiGroup) for (const m of isDNS1123Subdomain(p.apiGroup)) errs.push(invalidValue(`${path}.apiGroup`, p.apiGroup, m));
  const scope = p.scope;
  if (scope === undefined || scope === null) errs.push(requiredWithDetail(`${path}.scope`, ''));
  else if (scope !== 'Cluster' && scope !== 'Namespace') errs.push(notSupported(`${path}.scope`, scope, ['Cluster', 'Namespace']));
  else if (scope === 'Namespace' && !p.namespace) errs.push(requiredWithDetail(`${path}.namespace`, '`parameters.scope` is set to "Namespace"'));
  else if (scope === 'Cluster' && p.namespace) errs.push(forbidden(`${path}.namespace`, '`parameters.scope` is set to "Cluster"'));
  return errs;
}

/** An IngressClass on create, or on update when `old` is given (the controller is immutable). */
export function validateIngressClass(ic: IngressClass, old?: IngressClass): FieldError[] {
  const errs = validateObjectMeta(ic.metadata, false, nameIsDNSSubdomain);
  if (old) errs.push(...validateObjectMetaUpdate(ic.metadata, old.metadata));
  const controller = ic.spec?.controller ?? '';
  const cp = 'spec.controller';
  if (controller.length > 250) errs.push({ field: cp, type: 'FieldValueInvalid', message: `Too long: may not be more than 250 bytes` });
  if (!controller) {
    errs.push(required(cp));
  } else {
    const slash = controller.indexOf('/');
    const host = slash > 0 ? controller.slice(0, slash) : '';
    const rest = slash > 0 ? controller.slice(slash + 1) : '';
    if (!host) {
      errs.push(invalidValue(cp, controller, 'must be a domain-prefixed path (such as "acme.io/foo")'));
    } else {
      for (const m of isDNS1123Subdomain(host)) errs.push(invalidValue(cp, host, m));
      if (!httpPath.test(rest)) errs.push(invalidValue(cp, rest, regexError('Invalid path', HTTP_PATH_FMT)));
    }
  }
  if (old && (old.spec?.controller ?? '') !== controller) errs.push(invalidValue(cp, controller, 'field is immutable'));
  errs.push(...validateParameters(ic.spec?.parameters, 'spec.parameters'));
  return errs;
}

/** `SetDefaults_IngressClass`: parameters without a scope are cluster-scoped. */
export function applyIngressClassDefaults(ic: IngressClass): void {
  const p = ic.spec?.parameters;
  if (p && (p.scope === undefined || p.scope === null)) (p as { scope?: string }).scope = 'Cluster';
}

/** The class an Ingress asks for: `spec.ingressClassName`, else the deprecated annotation. */
export function ingressClassOf(ing: Ingress): string | undefined {
  return ing.spec?.ingressClassName ?? ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
}

/** Whether the IngressClass carries the default-class annotation with the value "true". */
export const isDefaultClass = (ic: IngressClass): boolean => ic.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true';

/**
 * The default class among `classes` (Kubernetes' DefaultIngressClass admission): the one marked
 * default, the most recently created when several are.
 */
export function defaultIngressClass(classes: readonly IngressClass[]): IngressClass | undefined {
  const defaults = classes.filter(isDefaultClass);
  return defaults.sort((a, b) => Date.parse(b.metadata?.creationTimestamp ?? '') - Date.parse(a.metadata?.creationTimestamp ?? '')
    || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))[0];
}

/** `formatHosts`: the first three hosts, `*` when none, `+ N more...` past three. */
export function ingressHosts(ing: Ingress): string {
  const rules = ing.spec?.rules ?? [];
  const shown: string[] = [];
  let more = false;
  for (const r of rules) {
    if (shown.length === 3) more = true;
    if (!more && r.host) shown.push(r.host);
  }
  if (shown.length === 0) return '*';
  return more ? `${shown.join(',')} + ${rules.length - 3} more...` : shown.join(',');
}

/** One `kubectl get ingress` row. */
export interface IngressRow { name: string; class: string; hosts: string; address: string; ports: string; age: string }

export function ingressRow(ing: Ingress, now: Date, wide = false): IngressRow {
  const lb = (ing.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter(Boolean).join(',');
  return {
    name: ing.metadata?.name ?? '',
    class: ingressClassOf(ing) ?? '<none>',
    hosts: ingressHosts(ing),
    address: !wide && lb.length > 16 ? `${lb.slice(0, 13)}...` : lb,
    ports: (ing.spec?.tls ?? []).length ? '80, 443' : '80',
    age: age(ing.metadata?.creationTimestamp, now),
  };
}

/** One `kubectl get ingressclass` row. */
export function ingressClassRow(ic: IngressClass, now: Date): { name: string; controller: string; parameters: string; age: string } {
  const p = ic.spec?.parameters;
  const parameters = p ? `${p.kind}${p.apiGroup ? `.${p.apiGroup}` : ''}/${p.name}` : '<none>';
  return { name: ic.metadata?.name ?? '', controller: ic.spec?.controller ?? '', parameters, age: age(ic.metadata?.creationTimestamp, now) };
}
