import { inRanges } from './causal-context.js';

/** Dots are grouped in buckets of this many consecutive seqs, so a range query skips empty stretches. */
const BUCKET_BITS = 6;
const BUCKET = 1 << BUCKET_BITS;

/** The dots of one replica that a store holds: seq -> key, plus how many dots each bucket of seqs holds. */
class ReplicaDots {
  readonly keys = new Map<number, string>();
  readonly buckets = new Map<number, number>();

  add(seq: number, key: string): void {
    if (this.keys.has(seq)) {
      this.keys.set(seq, key);
      return;
    }
    this.keys.set(seq, key);
    const b = Math.floor(seq / BUCKET);
    this.buckets.set(b, (this.buckets.get(b) ?? 0) + 1);
  }

  delete(seq: number): boolean {
    if (!this.keys.delete(seq)) return false;
    const b = Math.floor(seq / BUCKET);
    const n = this.buckets.get(b)! - 1;
    if (n === 0) this.buckets.delete(b);
    else this.buckets.set(b, n);
    return true;
  }

  /**
   * Calls `fn` for each held dot with a seq from `start` to `end`. The work
   * is at most two buckets' worth of seqs at the ends plus, in between, the
   * smaller of the buckets the range spans and the buckets that hold dots:
   * never a walk of a huge range, nor of every dot held.
   */
  forEachIn(start: number, end: number, fn: (seq: number, key: string) => void): void {
    if (end - start < 2 * BUCKET) {
      for (let s = start; s <= end; s++) {
        const key = this.keys.get(s);
        if (key !== undefined) fn(s, key);
      }
      return;
    }
    const first = Math.floor(start / BUCKET);
    const last = Math.floor(end / BUCKET);
    const visit = (b: number) => {
      const from = Math.max(start, b * BUCKET);
      const to = Math.min(end, b * BUCKET + BUCKET - 1);
      for (let s = from; s <= to; s++) {
        const key = this.keys.get(s);
        if (key !== undefined) fn(s, key);
      }
    };
    if (last - first + 1 <= this.buckets.size) {
      for (let b = first; b <= last; b++) if (this.buckets.has(b)) visit(b);
    } else {
      for (const b of [...this.buckets.keys()]) if (b >= first && b <= last) visit(b);
    }
  }
}

/**
 * Which key holds each dot of a `dotMap`: lets a remove delta, which names
 * dots only by its causal context, find its entries without a scan of the
 * map. Per replica, so a context naming replicas we hold nothing of costs
 * nothing, and bucketed, so a huge range costs what it actually hits.
 */
export class DotIndex {
  private readonly replicas = new Map<string, ReplicaDots>();
  private count = 0;

  /** Dots indexed. */
  get size(): number {
    return this.count;
  }

  set(replica: string, seq: number, key: string): void {
    let dots = this.replicas.get(replica);
    if (dots === undefined) this.replicas.set(replica, (dots = new ReplicaDots()));
    const before = dots.keys.size;
    dots.add(seq, key);
    this.count += dots.keys.size - before;
  }

  delete(replica: string, seq: number): void {
    const dots = this.replicas.get(replica);
    if (dots === undefined || !dots.delete(seq)) return;
    this.count--;
    if (dots.keys.size === 0) this.replicas.delete(replica);
  }

  get(replica: string, seq: number): string | undefined {
    return this.replicas.get(replica)?.keys.get(seq);
  }

  /**
   * Calls `fn` with the key of each indexed dot of `replica` inside the flat
   * ranges `ranges` (sorted, disjoint). Range by range while that is cheap;
   * when the ranges are many, one pass over this replica's dots instead, so
   * the work never exceeds the dots held of `replica` (plus a binary search each).
   */
  forEachIn(replica: string, ranges: number[], fn: (seq: number, key: string) => void): void {
    const dots = this.replicas.get(replica);
    if (dots === undefined) return;
    let cost = 0;
    for (let i = 0; i < ranges.length && cost <= dots.keys.size; i += 2) {
      const span = ranges[i + 1] - ranges[i] + 1;
      cost += Math.min(span, (dots.buckets.size + 2) * BUCKET);
    }
    if (cost <= dots.keys.size) {
      for (let i = 0; i < ranges.length; i += 2) dots.forEachIn(ranges[i], ranges[i + 1], fn);
      return;
    }
    for (const [seq, key] of [...dots.keys]) if (inRanges(ranges, seq)) fn(seq, key);
  }
}
