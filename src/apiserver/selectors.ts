/**
 * `labelSelector` and `fieldSelector` of LIST and WATCH, turned into one predicate per request.
 * Parsing is `src/api/labels.ts`'s; this file knows which fields each kind can be selected by:
 * `metadata.name`, `metadata.namespace` (namespaced kinds), plus the kind's `fieldLabels`.
 */
import { ApiError } from '../api/errors.js';
import {
  fieldsMatch, matches, parseFieldSelector, parseSelector, unsupportedFieldLabel, type FieldSelector, type Selector,
} from '../api/labels.js';
import type { ResourceDef } from '../api/resource.js';
import type { KubeObject } from '../api/types.js';

export interface ObjectFilter {
  matches(obj: KubeObject): boolean;
  /** False when both selectors are empty (every object matches). */
  readonly selective: boolean;
}

/** The selectable fields of one object and their values. */
export function objectFields(def: ResourceDef, obj: KubeObject): Record<string, string> {
  const fields: Record<string, string> = { 'metadata.name': obj.metadata?.name ?? '' };
  if (def.namespaced) fields['metadata.namespace'] = obj.metadata?.namespace ?? '';
  return { ...def.fieldLabels?.(obj), ...fields };
}

/** The field names a kind supports in field selectors. */
export function supportedFields(def: ResourceDef): Set<string> {
  // fieldLabels returns every label it knows for any object, with '' for absent values.
  return new Set(Object.keys(objectFields(def, { metadata: {} })));
}

/**
 * Builds the filter for a request's `labelSelector` and `fieldSelector`; 400 BadRequest for bad
 * syntax or a field the kind does not support (`field label not supported: spec.foo`).
 */
export function buildFilter(def: ResourceDef, labelSelector: string | null, fieldSelector: string | null): ObjectFilter {
  let labels: Selector | undefined;
  if (labelSelector?.trim()) {
    const parsed = parseSelector(labelSelector);
    if (!parsed.ok) throw new ApiError(400, 'BadRequest', parsed.error);
    labels = parsed.selector;
  }
  let fields: FieldSelector | undefined;
  if (fieldSelector?.trim()) {
    const parsed = parseFieldSelector(fieldSelector);
    if (!parsed.ok) throw new ApiError(400, 'BadRequest', parsed.error);
    const unsupported = unsupportedFieldLabel(parsed.selector, [...supportedFields(def)]);
    if (unsupported) throw new ApiError(400, 'BadRequest', unsupported);
    fields = parsed.selector;
  }
  const l = labels;
  const f = fields;
  return {
    selective: l !== undefined || f !== undefined,
    matches: (obj) =>
      (l === undefined || matches(l, obj.metadata?.labels)) &&
      (f === undefined || fieldsMatch(f, objectFields(def, obj))),
  };
}
