/**
 * Values printed the way Go's `%#v` prints them, because that is how Kubernetes shows a map or a
 * struct in a field error (`field.Invalid` falls back to `%#v` for anything that is not a
 * string, a number or a `fmt.Stringer`):
 *
 *     spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: ...
 *     spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable
 *
 * Type names are those of Kubernetes' internal types, which validation runs on. Strings are
 * quoted as JSON quotes them (Go's `%q` differs only for control and non-printable characters).
 * Pure functions.
 */
import type { LabelSelector } from './types.js';

const quote = (s: string): string => JSON.stringify(s);

/** `map[string]string{"a":"1", "b":"2"}` (keys sorted, as fmt sorts them); `map[string]string(nil)` when absent. */
export function goStringMap(m: Readonly<Record<string, unknown>> | undefined | null): string {
  if (m === undefined || m === null) return 'map[string]string(nil)';
  const entries = Object.keys(m).sort().map((k) => `${quote(k)}:${quote(String(m[k]))}`);
  return `map[string]string{${entries.join(', ')}}`;
}

/** `[]string{"a", "b"}`; `[]string(nil)` when absent. */
export function goStringSlice(values: readonly unknown[] | undefined | null): string {
  if (values === undefined || values === null) return '[]string(nil)';
  return `[]string{${values.map((v) => quote(String(v))).join(', ')}}`;
}

/** A `metav1.LabelSelector` as a struct value: `v1.LabelSelector{MatchLabels:..., MatchExpressions:...}`. */
export function goLabelSelector(ls: LabelSelector): string {
  const exprs = ls.matchExpressions;
  const expressions = exprs === undefined || exprs === null
    ? '[]v1.LabelSelectorRequirement(nil)'
    : `[]v1.LabelSelectorRequirement{${exprs.map((e) =>
      `v1.LabelSelectorRequirement{Key:${quote(e.key ?? '')}, Operator:${quote(e.operator ?? '')}, Values:${goStringSlice(e.values)}}`).join(', ')}}`;
  return `v1.LabelSelector{MatchLabels:${goStringMap(ls.matchLabels)}, MatchExpressions:${expressions}}`;
}

/**
 * An `intstr.IntOrString` from its JSON form: `intstr.IntOrString{Type:0, IntVal:1, StrVal:""}` for
 * a number, `intstr.IntOrString{Type:1, IntVal:0, StrVal:"25%"}` for a string.
 */
export function goIntOrString(v: unknown): string {
  if (typeof v === 'number') return `intstr.IntOrString{Type:0, IntVal:${v}, StrVal:""}`;
  return `intstr.IntOrString{Type:1, IntVal:0, StrVal:${quote(typeof v === 'string' ? v : JSON.stringify(v) ?? '')}}`;
}
