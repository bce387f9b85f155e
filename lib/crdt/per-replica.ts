import { errors } from '../errors.js';
import type { DotEntry, DotFun } from './dot-store.js';

/**
 * For stores where each replica keeps one current entry (counters, the
 * reduce accumulator): a replica's newer dot replaces its older ones. The
 * prune keeps the highest dot per replica; `ordered(older, newer)`, if
 * given, says whether two values of one replica are in a possible order
 * (a counter never goes down), and a violation is ERR_INTEGRITY.
 */
export function latestPerReplica<V>(ordered?: (older: V, newer: V) => boolean): (s: DotFun<V>) => boolean {
  return (s) => {
    if (s.size < 2) return false;
    const latest = new Map<string, [string, DotEntry<V>]>();
    const drop: string[] = [];
    for (const [key, e] of s) {
      const seen = latest.get(e.replica);
      if (seen === undefined) {
        latest.set(e.replica, [key, e]);
        continue;
      }
      const [older, newer] = seen[1].seq < e.seq ? [seen, [key, e] as [string, DotEntry<V>]] : [[key, e] as [string, DotEntry<V>], seen];
      if (ordered && !ordered(older[1].value, newer[1].value)) throw errors.integrity(`replica ${e.replica} went backwards between events ${older[1].seq} and ${newer[1].seq}`);
      drop.push(older[0]);
      latest.set(e.replica, newer);
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
