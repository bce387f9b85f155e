import type { Block } from './block-index.js';

/**
 * One run of a Seq: consecutive elements inserted by one client with
 * consecutive clocks, kept together in one object and split only when an
 * insert or delete lands inside it (the run-length items of Yjs).
 *
 * An element's id is `(client, clock)`; the run covers clocks
 * `clock .. clock + len - 1`. `origin` is the id of the element that was
 * immediately left of the run's first element when it was inserted, and
 * `rightOrigin` the id of the element that was immediately right of it; both
 * are `-1` client for "none" (the start or the end of the list). Those two
 * ids are all YATA needs to place a run on every replica in the same spot.
 */
export class Item {
  /** Neighbours in document order (deleted runs stay in the list as tombstones). */
  left: Item | null = null;
  right: Item | null = null;
  /** True once deleted; the content is then dropped and only `len` is kept. */
  deleted = false;
  /** Transaction that integrated this run (used to describe changes to listeners). */
  born: number;
  /** Transaction that deleted this run, or 0. */
  died = 0;
  /** The block of the order-statistic index holding this run (block-index.ts). */
  block: Block | null = null;

  constructor(
    readonly client: number,
    public clock: number,
    public len: number,
    /** A string for text runs, an array for value runs, `null` once deleted. */
    public content: string | unknown[] | null,
    public originClient: number,
    public originClock: number,
    readonly rightClient: number,
    readonly rightClock: number,
    born: number,
  ) {
    this.born = born;
  }

  /** Number of visible elements: 0 for a tombstone. */
  get visible(): number {
    return this.deleted ? 0 : this.len;
  }

  /** Clock of the run's last element. */
  get lastClock(): number {
    return this.clock + this.len - 1;
  }

  /**
   * Cuts this run in two at `offset` (1 .. len-1) and returns the right
   * part, linked in after this one. The right part's origin is the left
   * part's last element, exactly as if it had been typed after it.
   */
  split(offset: number): Item {
    const content = this.content === null ? null : this.content.slice(offset);
    const right = new Item(this.client, this.clock + offset, this.len - offset, content, this.client, this.clock + offset - 1, this.rightClient, this.rightClock, this.born);
    right.deleted = this.deleted;
    right.died = this.died;
    if (this.content !== null) this.content = this.content.slice(0, offset);
    this.len = offset;
    right.left = this;
    right.right = this.right;
    if (this.right) this.right.left = right;
    this.right = right;
    return right;
  }
}

/** True if `(c1, k1)` and `(c2, k2)` name the same element (or both "none"). */
export function sameId(c1: number, k1: number, c2: number, k2: number): boolean {
  return c1 === c2 && (c1 === -1 || k1 === k2);
}
