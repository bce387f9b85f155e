import { errors } from '../errors.js';
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
