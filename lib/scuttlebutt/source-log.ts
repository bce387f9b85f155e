import type { Timestamp } from '../clock/index.js';
import type { Update } from './update.js';

// Compact once dead entries outnumber live ones and are worth the copy.
const COMPACT_MIN_DEAD = 1024;

/**
 * The retained updates of one source, in `ts` order. Updates arrive in
 * order, so adding is an append; a superseded update is marked dead and
 * skipped, and dead entries are compacted away once they are the majority.
 * Memory is therefore proportional to the live updates, not to all writes.
 */
export class SourceLog<U extends Update> {
  /** The highest timestamp applied from this source, retained or not. */
  highWater: Timestamp = 0;
  private entries: U[] = [];
  private dead = 0;

  get size(): number {
    return this.entries.length - this.dead;
  }

  append(update: U): void {
    this.entries.push(update);
  }

  /** Marks a retained update as superseded by a later one. */
  supersede(update: U): void {
    update.superseded = true;
    this.dead++;
    if (this.dead >= COMPACT_MIN_DEAD && this.dead * 2 > this.entries.length) this.compact();
  }

  /** Live updates with `ts > since`, in order; at most `max` of them. */
  after(since: Timestamp, max: number): U[] {
    const out: U[] = [];
    for (let i = this.firstAfter(since); i < this.entries.length && out.length < max; i++) {
      const update = this.entries[i];
      if (!update.superseded) out.push(update);
    }
    return out;
  }

  /** Every live update, in order. */
  *[Symbol.iterator](): IterableIterator<U> {
    for (const update of this.entries) if (!update.superseded) yield update;
  }

  private firstAfter(since: Timestamp): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid].ts <= since) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private compact(): void {
    this.entries = this.entries.filter((update) => !update.superseded);
    this.dead = 0;
  }
}
