import { errors } from '../errors.js';
import { type Codec, type DecodeState, type EncodeState, readCount, string, uint } from '../codec/index.js';

/**
 * An event of one replica: the `seq`-th event it created (1, 2, 3, ...).
 * Every entry of a causal CRDT's state is tagged with the dot of the event
 * that wrote it.
 */
export interface Dot {
  replica: string;
  seq: number;
}

export function dotKey(replica: string, seq: number): string {
  return `${seq}@${replica}`;
}

/**
 * A causal context: the set of dots a replica has seen, as per-replica
 * sorted, disjoint, non-adjacent inclusive ranges. A replica that saw every
 * event of every peer has one range `[1, n]` per peer, so the context is a
 * version vector; gaps appear only while deltas arrive out of order, or in a
 * delta that describes what was removed.
 *
 * The context is what makes removal work without tombstones (the ORSWOT
 * design): a dot that is in the context but no longer in the store was
 * removed, and a late copy of it can never come back.
 */
export class CausalContext {
  /** replica id -> flat list `[start0, end0, start1, end1, ...]`. */
  readonly ranges = new Map<string, number[]>();

  static from(entries: Iterable<[string, number[]]>): CausalContext {
    const ctx = new CausalContext();
    for (const [replica, ranges] of entries) if (ranges.length > 0) ctx.ranges.set(replica, ranges.slice());
    return ctx;
  }

  static ofDots(dots: Iterable<Dot>): CausalContext {
    const ctx = new CausalContext();
    for (const dot of dots) ctx.add(dot.replica, dot.seq);
    return ctx;
  }

  get replicaCount(): number {
    return this.ranges.size;
  }

  has(replica: string, seq: number): boolean {
    const r = this.ranges.get(replica);
    if (r === undefined) return false;
    return inRanges(r, seq);
  }

  /** The highest seq seen from `replica`, 0 if none. */
  max(replica: string): number {
    const r = this.ranges.get(replica);
    return r === undefined ? 0 : r[r.length - 1];
  }

  /** Issues the next dot of `replica` (our own), and records it. */
  next(replica: string): Dot {
    const seq = this.max(replica) + 1;
    this.add(replica, seq);
    return { replica, seq };
  }

  /** Adds one dot; returns false if it was already there. */
  add(replica: string, seq: number): boolean {
    const r = this.ranges.get(replica);
    if (r === undefined) {
      this.ranges.set(replica, [seq, seq]);
      return true;
    }
    // The common cases in place, without a new array: the next event of a
    // replica extends its last range; an older one is often already in.
    const last = r.length - 1;
    if (seq === r[last] + 1) {
      r[last] = seq;
      return true;
    }
    if (seq <= r[last] && this.has(replica, seq)) return false;
    if (seq > r[last] + 1) {
      r.push(seq, seq);
      return true;
    }
    this.ranges.set(replica, unionRanges(r, [seq, seq]));
    return true;
  }

  /** Adds every dot of `other`; returns true if anything was new. */
  union(other: CausalContext): boolean {
    let changed = false;
    for (const [replica, theirs] of other.ranges) {
      const ours = this.ranges.get(replica);
      if (ours === undefined) {
        this.ranges.set(replica, theirs.slice());
        changed = true;
        continue;
      }
      if (coversRanges(ours, theirs)) continue;
      // Theirs all start within or after our last range (the next piece of
      // a catch-up, the next batch of a replica's events): they are merged
      // onto our end in place, at the cost of theirs, not of ours.
      if (theirs[0] >= ours[ours.length - 2]) appendRanges(ours, theirs);
      else this.ranges.set(replica, unionRanges(ours, theirs));
      changed = true;
    }
    return changed;
  }

  /** True if every dot of `other` is in this context. */
  includes(other: CausalContext): boolean {
    for (const [replica, theirs] of other.ranges) {
      const ours = this.ranges.get(replica);
      if (ours === undefined || !coversRanges(ours, theirs)) return false;
    }
    return true;
  }

  /** True if this context and `other` have a dot in common. */
  intersects(other: CausalContext): boolean {
    for (const [replica, theirs] of other.ranges) {
      const ours = this.ranges.get(replica);
      if (ours !== undefined && rangesOverlap(ours, theirs)) return true;
    }
    return false;
  }

  /** True if every dot of `replica` from `start` to `end` is in this context. */
  hasRange(replica: string, start: number, end: number): boolean {
    const r = this.ranges.get(replica);
    if (r === undefined) return false;
    const i = rangeAtOrBefore(r, start);
    return i >= 0 && end <= r[i * 2 + 1];
  }

  /** How many dots the context holds (sum of range lengths). */
  dotCount(): number {
    let n = 0;
    for (const r of this.ranges.values()) for (let i = 0; i < r.length; i += 2) n += r[i + 1] - r[i] + 1;
    return n;
  }

  /** How many ranges the context holds: its size in memory and on the wire. */
  rangeCount(): number {
    let n = 0;
    for (const r of this.ranges.values()) n += r.length / 2;
    return n;
  }

  /** Calls `fn` for every dot; only for small contexts (deltas). */
  forEachDot(fn: (replica: string, seq: number) => void): void {
    for (const [replica, r] of this.ranges) for (let i = 0; i < r.length; i += 2) for (let s = r[i]; s <= r[i + 1]; s++) fn(replica, s);
  }

  /**
   * This context minus a set of dots, given per replica as sorted seqs.
   * Used to describe "everything I have seen except these live entries".
   */
  subtract(dots: Map<string, number[]>): CausalContext {
    const out = new CausalContext();
    for (const [replica, r] of this.ranges) {
      const holes = dots.get(replica);
      const result = holes === undefined || holes.length === 0 ? r.slice() : subtractSorted(r, holes);
      if (result.length > 0) out.ranges.set(replica, result);
    }
    return out;
  }

  clone(): CausalContext {
    return CausalContext.from(this.ranges);
  }

  toJSON(): Record<string, number[][]> {
    const out: Record<string, number[][]> = {};
    for (const replica of [...this.ranges.keys()].sort()) {
      const r = this.ranges.get(replica)!;
      const pairs: number[][] = [];
      for (let i = 0; i < r.length; i += 2) pairs.push([r[i], r[i + 1]]);
      out[replica] = pairs;
    }
    return out;
  }

}

/** Union of two flat range lists; the result has no adjacent or overlapping ranges. */
export function unionRanges(a: number[], b: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let start: number;
    let end: number;
    if (j >= b.length || (i < a.length && a[i] <= b[j])) {
      start = a[i];
      end = a[i + 1];
      i += 2;
    } else {
      start = b[j];
      end = b[j + 1];
      j += 2;
    }
    const last = out.length - 1;
    if (last > 0 && start <= out[last] + 1) {
      if (end > out[last]) out[last] = end;
    } else out.push(start, end);
  }
  return out;
}

/** Adds the ranges `theirs` to `ours` in place, where the first of theirs starts at or after the start of our last range. */
function appendRanges(ours: number[], theirs: number[]): void {
  for (let j = 0; j < theirs.length; j += 2) {
    const last = ours.length - 1;
    if (theirs[j] <= ours[last] + 1) {
      if (theirs[j + 1] > ours[last]) ours[last] = theirs[j + 1];
    } else ours.push(theirs[j], theirs[j + 1]);
  }
}

/** Whether `seq` falls in one of the sorted `[start, end]` ranges of `r`. */
export function inRanges(r: number[], seq: number): boolean {
  // One range (a version vector) is the usual case.
  if (r.length === 2) return seq >= r[0] && seq <= r[1];
  const i = rangeAtOrBefore(r, seq);
  return i >= 0 && seq <= r[i * 2 + 1];
}

/** Index of the last range of `r` starting at or before `seq`, -1 if none (binary search). */
export function rangeAtOrBefore(r: number[], seq: number): number {
  let lo = 0;
  let hi = r.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (r[mid * 2] <= seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi;
}

/** True if the ranges `ours` hold every dot of the ranges `theirs`, without building their union. */
function coversRanges(ours: number[], theirs: number[]): boolean {
  for (let j = 0; j < theirs.length; j += 2) {
    const i = rangeAtOrBefore(ours, theirs[j]);
    if (i < 0 || theirs[j + 1] > ours[i * 2 + 1]) return false;
  }
  return true;
}

/** True if two flat range lists share a seq (one walk through both, or a search per range of the much shorter one). */
function rangesOverlap(a: number[], b: number[]): boolean {
  if (a.length < b.length) [a, b] = [b, a];
  // A long list (a context) and a few ranges (a delta's): each of those is looked up.
  if (a.length > 16 * b.length) {
    for (let j = 0; j < b.length; j += 2) {
      // The last range of `a` starting at or before b's end: it or none overlaps [b start, b end].
      const i = rangeAtOrBefore(a, b[j + 1]);
      if (i >= 0 && a[i * 2 + 1] >= b[j]) return true;
    }
    return false;
  }
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i + 1] < b[j]) i += 2;
    else if (b[j + 1] < a[i]) j += 2;
    else return true;
  }
  return false;
}

/** Ranges `r` minus the sorted distinct seqs `holes`. */
function subtractSorted(r: number[], holes: number[]): number[] {
  const out: number[] = [];
  let h = 0;
  for (let i = 0; i < r.length; i += 2) {
    let start = r[i];
    const end = r[i + 1];
    while (h < holes.length && holes[h] < start) h++;
    while (h < holes.length && holes[h] <= end) {
      if (holes[h] > start) out.push(start, holes[h] - 1);
      start = holes[h] + 1;
      h++;
    }
    if (start <= end) out.push(start, end);
  }
  return out;
}

/** Default most replicas a peer's context may name: 10,000. */
export const DEFAULT_MAX_REPLICAS = 10_000;

/**
 * Wire form of a context: replica count, then per replica its id and its
 * ranges as (gap from the previous end, length - 1) varint pairs, so a
 * version vector costs a few bytes per replica. The decoder refuses more
 * than `maxReplicas` replicas (ERR_LIMIT), ranges out of order or touching,
 * and seqs beyond 2^53-1 (ERR_DECODE).
 */
export function contextCodec(maxReplicas = DEFAULT_MAX_REPLICAS): Codec<CausalContext> {
  return {
    encodingLength(ctx) {
      let n = uint.encodingLength(ctx.ranges.size);
      for (const [replica, r] of ctx.ranges) {
        n += string.encodingLength(replica) + uint.encodingLength(r.length / 2);
        let prevEnd = 0;
        for (let i = 0; i < r.length; i += 2) {
          n += uint.encodingLength(r[i] - prevEnd - 1) + uint.encodingLength(r[i + 1] - r[i]);
          prevEnd = r[i + 1];
        }
      }
      return n;
    },
    encode(ctx, state: EncodeState) {
      uint.encode(ctx.ranges.size, state);
      for (const [replica, r] of ctx.ranges) {
        string.encode(replica, state);
        uint.encode(r.length / 2, state);
        let prevEnd = 0;
        for (let i = 0; i < r.length; i += 2) {
          uint.encode(r[i] - prevEnd - 1, state);
          uint.encode(r[i + 1] - r[i], state);
          prevEnd = r[i + 1];
        }
      }
    },
    decode(state: DecodeState) {
      const replicas = readCount(state, 2);
      if (replicas > maxReplicas) throw errors.limit('replicas in a causal context', replicas, maxReplicas);
      const ctx = new CausalContext();
      for (let k = 0; k < replicas; k++) {
        const replica = string.decode(state);
        if (ctx.ranges.has(replica)) throw errors.decode('duplicate replica in a causal context');
        const count = readCount(state, 2);
        if (count === 0) throw errors.decode('empty range list in a causal context');
        const r = new Array<number>(count * 2);
        let prevEnd = 0;
        for (let i = 0; i < count; i++) {
          const gap = uint.decode(state);
          if (i > 0 && gap === 0) throw errors.decode('adjacent ranges in a causal context');
          const start = prevEnd + gap + 1;
          const end = start + uint.decode(state);
          if (!Number.isSafeInteger(end)) throw errors.decode('sequence number beyond 2^53-1');
          r[i * 2] = start;
          r[i * 2 + 1] = end;
          prevEnd = end;
        }
        ctx.ranges.set(replica, r);
      }
      return ctx;
    },
  };
}
