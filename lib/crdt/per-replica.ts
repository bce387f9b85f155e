import { errors } from '../errors.js';
import type { CausalContext } from './causal-context.js';
import type { DotEntry, DotFun } from './dot-store.js';

/**
 * For stores where each replica keeps one current entry (counters, the
 * reduce accumulator): a replica's newer dot replaces its older ones, so the
 * prune keeps the highest dot per replica. (A replica only writes a new
 * entry once its old one is replaced or removed, so an older dot of the
 * same replica is always dead in the newer one's causal past.)
 */
export function latestPerReplica<V>(): (s: DotFun<V>) => boolean {
  return (s) => {
    if (s.size < 2) return false;
    const latest = new Map<string, [string, DotEntry<V>]>();
    const drop: string[] = [];
    for (const [key, e] of s) {
      const seen = latest.get(e.replica);
      if (seen === undefined) latest.set(e.replica, [key, e]);
      else if (seen[1].seq < e.seq) {
        drop.push(seen[0]);
        latest.set(e.replica, [key, e]);
      } else drop.push(key);
    }
    for (const key of drop) s.delete(key);
    return drop.length > 0;
  };
}

/** The current entry of `replica`, if any. */
export function entryOf<V>(s: DotFun<V>, replica: string): DotEntry<V> | undefined {
  let found: DotEntry<V> | undefined;
  for (const e of s.values()) if (e.replica === replica && (found === undefined || e.seq > found.seq)) found = e;
  return found;
}

/**
 * Checks a peer's entries against ours, replica by replica, before a join:
 * the same dot must carry the same value, and values must be ordered like
 * their dots. Throws ERR_INTEGRITY.
 */
export function checkPerReplica<V>(current: DotFun<V>, incoming: DotFun<V>, ordered: (older: V, newer: V) => boolean): void {
  for (const e of incoming.values()) {
    const ours = entryOf(current, e.replica);
    if (ours === undefined) continue;
    const fine =
      ours.seq === e.seq ? JSON.stringify(ours.value) === JSON.stringify(e.value) : ours.seq < e.seq ? ordered(ours.value, e.value) : ordered(e.value, ours.value);
    if (!fine) throw errors.integrity(`replica ${e.replica}'s entry ${e.seq} contradicts entry ${ours.seq}`);
  }
}

export function assertCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n <= 0) throw errors.invalidArgument(`${what} must be a positive safe integer, got ${n}`);
}

/**
 * The checks on a standalone counter's delta that need its context. A
 * counter entry is its replica's whole total, so it may only ever give way
 * to a newer total of the same replica:
 *
 * - a context that covers an entry we hold must come with a newer entry of
 *   that replica (else the owner's increments would vanish everywhere);
 * - a context that names events of a replica beyond anything we hold must
 *   carry that replica's entry at its newest event (else that entry, when
 *   it comes, would be taken for one already seen and dropped);
 * - the sums stay exact: every per-replica amount and every sum of them
 *   (`parts` of an entry: one for a G-counter, the P and N of a PN-counter)
 *   is a safe integer.
 *
 * Work: one pass over the delta plus one entry per replica we hold.
 */
export function checkCounterDelta<V>(current: DotFun<V>, context: CausalContext, delta: { store: DotFun<V>; context: CausalContext }, width: number, parts: (v: V) => number[]): void {
  const newest = new Map<string, DotEntry<V>>();
  for (const e of delta.store.values()) {
    const seen = newest.get(e.replica);
    if (seen === undefined || seen.seq < e.seq) newest.set(e.replica, e);
  }
  for (const [replica, ranges] of delta.context.ranges) {
    const top = ranges[ranges.length - 1];
    if (top > context.max(replica) && newest.get(replica)?.seq !== top) {
      throw errors.integrity(`counter delta names events of ${replica} up to ${top} without its total`);
    }
  }
  const ours = new Map<string, DotEntry<V>>();
  for (const e of current.values()) {
    const seen = ours.get(e.replica);
    if (seen === undefined || seen.seq < e.seq) ours.set(e.replica, e);
    if (!delta.context.has(e.replica, e.seq) || delta.store.has(`${e.seq}@${e.replica}`)) continue;
    if ((newest.get(e.replica)?.seq ?? 0) <= e.seq) throw errors.integrity(`counter delta would drop ${e.replica}'s total without a newer one`);
  }
  // The sums after the join: per replica, the newer of the two entries.
  const sums = new Array<number>(width).fill(0);
  const add = (e: DotEntry<V>) => {
    const p = parts(e.value);
    for (let i = 0; i < width; i++) {
      sums[i] += p[i];
      if (!Number.isSafeInteger(sums[i])) throw errors.integrity('counter totals sum beyond 2^53-1');
    }
  };
  for (const [replica, e] of newest) {
    const mine = ours.get(replica);
    add(mine !== undefined && mine.seq > e.seq ? mine : e);
  }
  for (const [replica, e] of ours) if (!newest.has(replica)) add(e);
}
