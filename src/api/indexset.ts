/**
 * Sets of Job completion indexes in the compressed text Kubernetes uses in
 * `status.completedIndexes`, `status.failedIndexes` and `successPolicy.rules[*].succeededIndexes`:
 * ascending, comma-separated, with runs as ranges (`1,3-5,7`). Pure.
 */

/** Formats indexes (any order, duplicates allowed) as `1,3-5,7`; empty for none. */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * Parses `1,3-5,7` into its indexes. With `limit` (the completions), an index ≥ limit is an
 * error; so are ranges out of order, overlapping or unordered intervals, and anything not a
 * non-negative integer. Errors read as Kubernetes' (`parseIndexesFromString`).
 */
export function parseIndexes(text: string, limit?: number): { ok: true; indexes: number[] } | { ok: false; error: string } {
  if (text === '') return { ok: true, indexes: [] };
  const out: number[] = [];
  let last = -1;
  for (const part of text.split(',')) {
    const bounds = part.split('-');
    if (bounds.length > 2 || bounds.some((b) => !/^\d+$/.test(b))) return { ok: false, error: `cannot convert string to integer for index: "${part}"` };
    const lo = Number(bounds[0]);
    const hi = Number(bounds[bounds.length - 1]);
    if (limit !== undefined && hi >= limit) return { ok: false, error: `too large index: "${part}"` };
    if (hi < lo) return { ok: false, error: `non-increasing order, previous: ${lo}, current: ${hi}` };
    if (lo <= last) return { ok: false, error: `overlapping intervals or non-increasing order, previous: ${last}, current: ${lo}` };
    for (let i = lo; i <= hi; i++) out.push(i);
    last = hi;
  }
  return { ok: true, indexes: out };
}
