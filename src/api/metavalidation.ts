/**
 * Validation of `metadata` and of label maps, shared by every kind, in Kubernetes' words
 * (`apimachinery/pkg/api/validation/objectmeta.go`). Pure functions returning `FieldError[]`.
 */
import type { LabelSelector, ObjectMeta } from './types.js';
import type { FieldError } from './errors.js';
import { forbidden, invalidValue, required, requiredWithDetail } from './errors.js';
import { isQualifiedName, isValidLabelValue, nameIsDNSLabel } from './names.js';
import { goStringSlice } from './gofmt.js';

/** Checks a name; `prefix` is true for `generateName`. Returns problem sentences. */
export type NameValidator = (name: string, prefix: boolean) => string[];

/**
 * Label keys and values: `metadata.labels: Invalid value: "bad key!": name part must ...`.
 * Kubernetes reports the map's path, not the key's.
 */
export function validateLabels(labels: Readonly<Record<string, unknown>> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const msg of isQualifiedName(k)) errs.push(invalidValue(path, k, msg));
    const value = typeof v === 'string' ? v : String(v);
    for (const msg of isValidLabelValue(value)) errs.push(invalidValue(path, value, msg));
  }
  return errs;
}

/** Annotation keys are qualified names, compared case-insensitively. */
export function validateAnnotations(annotations: Readonly<Record<string, unknown>> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of Object.keys(annotations ?? {})) {
    for (const msg of isQualifiedName(k.toLowerCase())) errs.push(invalidValue(path, k, msg));
  }
  return errs;
}

/**
 * `metadata` of a new object. The name must be set unless `generateName` is (name generation
 * is the API server's, so a pending `generateName` stands in for the name); namespaced kinds
 * need a valid namespace, cluster-scoped kinds must have none.
 */
export function validateObjectMeta(meta: ObjectMeta | undefined, namespaced: boolean, nameFn: NameValidator, path = 'metadata'): FieldError[] {
  const errs: FieldError[] = [];
  const m = meta ?? {};
  const generateName = m.generateName ?? '';
  const name = m.name ?? '';
  if (generateName) {
    for (const msg of nameFn(generateName, true)) errs.push(invalidValue(`${path}.generateName`, generateName, msg));
  }
  if (!name) {
    if (!generateName) errs.push(requiredWithDetail(`${path}.name`, 'name or generateName is required'));
  } else {
    for (const msg of nameFn(name, false)) errs.push(invalidValue(`${path}.name`, name, msg));
  }
  const ns = m.namespace ?? '';
  if (namespaced) {
    if (!ns) errs.push(required(`${path}.namespace`));
    else for (const msg of nameIsDNSLabel(ns, false)) errs.push(invalidValue(`${path}.namespace`, ns, msg));
  } else if (ns) {
    errs.push(forbidden(`${path}.namespace`, 'not allowed on this type'));
  }
  errs.push(...validateLabels(m.labels, `${path}.labels`));
  errs.push(...validateAnnotations(m.annotations, `${path}.annotations`));
  return errs;
}

/**
 * `metadata` on update: name and namespace may not change, nor the uid when the client sends
 * one (the API server keeps the stored uid when it is omitted). Labels and annotations are
 * checked as on create.
 */
export function validateObjectMetaUpdate(meta: ObjectMeta | undefined, old: ObjectMeta | undefined, path = 'metadata'): FieldError[] {
  const errs: FieldError[] = [];
  const n = meta ?? {};
  const o = old ?? {};
  const immutable = (field: 'name' | 'namespace' | 'uid'): void => {
    if ((n[field] ?? '') !== (o[field] ?? '')) errs.push(invalidValue(`${path}.${field}`, n[field] ?? '', 'field is immutable'));
  };
  immutable('name');
  immutable('namespace');
  if (n.uid) immutable('uid');
  errs.push(...validateLabels(n.labels, `${path}.labels`));
  errs.push(...validateAnnotations(n.annotations, `${path}.annotations`));
  if (o.deletionTimestamp) {
    const before = new Set(o.finalizers ?? []);
    const added = [...new Set((n.finalizers ?? []).filter((f) => !before.has(f)))].sort();
    if (added.length) errs.push(forbidden(`${path}.finalizers`, `no new finalizers can be added if the object is being deleted, found new finalizers ${goStringSlice(added)}`));
  }
  return errs;
}

/**
 * A `LabelSelector` (`unversionedvalidation.ValidateLabelSelector`): `matchLabels` as labels,
 * and each expression's operator, key and values, e.g.
 * `spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'`.
 * An absent selector is not an error here; kinds that need one say so themselves.
 */
export function validateLabelSelector(ls: LabelSelector | undefined | null, path: string): FieldError[] {
  if (!ls) return [];
  const errs = validateLabels(ls.matchLabels, `${path}.matchLabels`);
  (Array.isArray(ls.matchExpressions) ? ls.matchExpressions : []).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values = Array.isArray(e.values) ? e.values : [];
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(requiredWithDetail(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalidValue(`${p}.operator`, e.operator ?? '', 'not a valid selector operator'));
    }
    for (const msg of isQualifiedName(e.key ?? '')) errs.push(invalidValue(`${p}.key`, e.key ?? '', msg));
    values.forEach((v, vi) => {
      for (const msg of isValidLabelValue(v)) errs.push(invalidValue(`${p}.values[${vi}]`, v, msg));
    });
  });
  return errs;
}
