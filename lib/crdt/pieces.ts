import { CausalContext } from './causal-context.js';
import { type Delta, contextOfStore } from './delta.js';
import type { StoreKind } from './dot-store.js';

// A state cut into deltas that each fit a message: what a catch-up, a
// too-large live delta and a stored snapshot are made of.

/** A whole state (`store` with `context`) as deltas of about `budget` bytes: its entries in pieces, then what it removed. */
export function* statePieces<S>(kind: StoreKind<S>, store: S, context: CausalContext, budget: number): Generator<Delta<S>> {
  for (const piece of kind.missing(store, new CausalContext(), budget / 2)) yield { store: piece, context: contextOfStore(kind, piece) };
  yield* splitContext(kind, removedFrom(kind, store, context), budget);
}

/** Splits a (removal) context into deltas of at most `budget` bytes. */
export function* splitContext<S>(kind: StoreKind<S>, ctx: CausalContext, budget: number): Generator<Delta<S>> {
  const empty = kind.empty();
  // A range costs at most ~16 bytes, a replica id its length: stay well inside the budget.
  let part = new CausalContext();
  let bytes = 8;
  for (const [replica, r] of ctx.ranges) {
    for (let i = 0; i < r.length; i += 2) {
      const cost = 16 + (part.ranges.has(replica) ? 0 : Buffer.byteLength(replica) + 8);
      if (bytes + cost > budget && part.replicaCount > 0) {
        yield { store: empty, context: part };
        part = new CausalContext();
        bytes = 8;
      }
      const ranges = part.ranges.get(replica);
      if (ranges === undefined) part.ranges.set(replica, [r[i], r[i + 1]]);
      else ranges.push(r[i], r[i + 1]);
      bytes += 16 + (ranges === undefined ? Buffer.byteLength(replica) + 8 : 0);
    }
  }
  if (part.replicaCount > 0) yield { store: empty, context: part };
}

/** The dots of `context` that `store` does not hold, as ranges: what a state removed. */
export function removedFrom<S>(kind: StoreKind<S>, store: S, context: CausalContext): CausalContext {
  // Every dot held is in the context: as many held as seen means none removed.
  if (kind.dotCount !== undefined && kind.dotCount(store) === context.dotCount()) return new CausalContext();
  // First only count the dots held per replica: a replica whose every seen
  // dot is still held (one range, as many dots as it spans) had nothing
  // removed, and needs neither a list of its seqs, nor a sort, nor holes cut.
  const held = new Map<string, number>();
  let lastReplica: string | undefined;
  let lastCount = 0;
  kind.forEachDot(store, (replica) => {
    if (replica !== lastReplica) {
      if (lastReplica !== undefined) held.set(lastReplica, lastCount);
      lastReplica = replica;
      lastCount = held.get(replica) ?? 0;
    }
    lastCount++;
  });
  if (lastReplica !== undefined) held.set(lastReplica, lastCount);
  const whole = new Set<string>();
  for (const [replica, count] of held) {
    const ranges = context.ranges.get(replica);
    if (ranges !== undefined && ranges.length === 2 && ranges[1] - ranges[0] + 1 === count) whole.add(replica);
  }
  const live = new Map<string, number[]>();
  if (whole.size < held.size) {
    kind.forEachDot(store, (replica, seq) => {
      if (whole.has(replica)) return;
      let seqs = live.get(replica);
      if (seqs === undefined) live.set(replica, (seqs = []));
      seqs.push(seq);
    });
    for (const seqs of live.values()) if (!isSorted(seqs)) seqs.sort((a, b) => a - b);
  }
  const removed = context.subtract(live);
  for (const replica of whole) removed.ranges.delete(replica);
  return removed;
}

function isSorted(seqs: number[]): boolean {
  for (let i = 1; i < seqs.length; i++) if (seqs[i] < seqs[i - 1]) return false;
  return true;
}
