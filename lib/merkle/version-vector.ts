/**
 * Version vectors as arrays of `{ id, n }` sorted by replica id, one entry
 * per replica: "this causal context has seen writes 1..n of replica id".
 * Sorted arrays encode canonically, so equal vectors have equal bytes and
 * equal hashes on every replica.
 */
export interface VersionEntry {
  id: string;
  n: number;
}

export type VersionVector = VersionEntry[];

/** The counter of `id` in `vv`, 0 if absent. */
export function counterOf(vv: VersionVector, id: string): number {
  let lo = 0;
  let hi = vv.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const midId = vv[mid].id;
    if (midId === id) return vv[mid].n;
    if (midId < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}

/** True if `vv` has seen the write (dot) `n` of replica `id`. */
export function covers(vv: VersionVector, id: string, n: number): boolean {
  return counterOf(vv, id) >= n;
}

/** The pointwise maximum of two vectors. */
export function mergeVectors(a: VersionVector, b: VersionVector): VersionVector {
  const out: VersionVector = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i].id < b[j].id)) out.push(a[i++]);
    else if (i >= a.length || b[j].id < a[i].id) out.push(b[j++]);
    else {
      out.push({ id: a[i].id, n: Math.max(a[i].n, b[j].n) });
      i++;
      j++;
    }
  }
  return out;
}

/** `vv` with the counter of `id` raised to at least `n`. */
export function withCounter(vv: VersionVector, id: string, n: number): VersionVector {
  return mergeVectors(vv, [{ id, n }]);
}

/** True if entries are sorted by id, unique and every counter is a positive safe integer. */
export function isCanonical(vv: VersionVector): boolean {
  for (let i = 0; i < vv.length; i++) {
    if (!Number.isSafeInteger(vv[i].n) || vv[i].n < 1) return false;
    if (i > 0 && !(vv[i - 1].id < vv[i].id)) return false;
  }
  return true;
}
