import { CodedSymbols } from './coded-symbols.js';
import { IndexSequence, MAX_INDEX } from './index-sequence.js';
import { ITEM_WORDS, checksum, readItem } from './item.js';

/**
 * Produces the coded symbols of a set of items in order, one at a time,
 * for as long as the peer asks: the rateless part. Items wait in a binary
 * min-heap keyed by the next index they map to, so symbol `i` costs work
 * only for the items in it (about `2n / (i + 2)`), and the first `m`
 * symbols cost about `2n ln(m)` steps in all.
 *
 * Each item has a sign: +1 adds it to the symbols, -1 removes it (the
 * decoder uses one encoder of signed items for what it has peeled). Items
 * may be added before any symbol is produced, or later: a late item is
 * caught up only from the next symbol on, so add everything first unless
 * you mean that.
 */
export class Encoder {
  /** Items, four words each, then their checksums, two words each. */
  private items = new Uint32Array(64 * ITEM_WORDS);
  private checks = new Uint32Array(64 * 2);
  private signs: Int8Array = new Int8Array(64);
  private sequences: IndexSequence[] = [];
  /** Heap of item slots, ordered by `sequences[slot].index`. */
  private heap: number[] = [];
  /** The index of the next symbol `next()` produces. */
  produced = 0;

  get size(): number {
    return this.sequences.length;
  }

  /** Adds an item (16 bytes) with `sign` +1 (default) or -1. */
  add(item: Uint8Array, sign = 1): void {
    const slot = this.reserve();
    readItem(item, this.items, slot * ITEM_WORDS);
    this.place(slot, sign);
  }

  /** Adds an item given as four words at `words[at..]`, with a sequence already advanced to `sequence.index` (at least `produced`). */
  addWords(words: Uint32Array, at: number, sign: number, sequence?: IndexSequence): void {
    const slot = this.reserve();
    this.items.set(words.subarray(at, at + ITEM_WORDS), slot * ITEM_WORDS);
    this.place(slot, sign, sequence);
  }

  /**
   * Starts production at symbol `index` instead of 0, for an encoder that
   * only computes symbols past a prefix: call before adding items, which
   * then skip straight past it.
   */
  skipTo(index: number): void {
    if (this.sequences.length > 0 || this.produced > 0) throw new RangeError('skipTo() comes before any item or symbol');
    this.produced = index;
  }

  /** Computes the next symbol into symbol `into` of `out` (default: a new symbol appended to `out`). */
  next(out: CodedSymbols, into = out.push()): number {
    out.clear(into);
    const index = this.produced++;
    const heap = this.heap;
    while (heap.length > 0 && this.sequences[heap[0]].index === index) {
      const slot = heap[0];
      out.apply(into, this.items, slot * ITEM_WORDS, this.checks, slot * 2, this.signs[slot]);
      const sequence = this.sequences[slot];
      // Skip indices already produced: a sequence placed late may start behind.
      while (sequence.next() < this.produced && sequence.index < MAX_INDEX);
      if (sequence.index >= MAX_INDEX) this.popRoot();
      else this.siftDown(0);
    }
    return into;
  }

  private reserve(): number {
    const slot = this.sequences.length;
    if ((slot + 1) * ITEM_WORDS > this.items.length) {
      const items = new Uint32Array(this.items.length * 2);
      items.set(this.items);
      this.items = items;
      const checks = new Uint32Array(this.checks.length * 2);
      checks.set(this.checks);
      this.checks = checks;
      const signs = new Int8Array(this.signs.length * 2);
      signs.set(this.signs);
      this.signs = signs;
    }
    return slot;
  }

  private place(slot: number, sign: number, sequence?: IndexSequence): void {
    if (sign !== 1 && sign !== -1) throw new RangeError('an item is added with sign 1 or -1');
    checksum(this.items, slot * ITEM_WORDS, this.checks, slot * 2);
    this.signs[slot] = sign;
    const seq = sequence ?? new IndexSequence(this.items, slot * ITEM_WORDS);
    while (seq.index < this.produced && seq.index < MAX_INDEX) seq.next();
    this.sequences.push(seq);
    if (seq.index >= MAX_INDEX) return;
    this.heap.push(slot);
    this.siftUp(this.heap.length - 1);
  }

  private popRoot(): void {
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const seqs = this.sequences;
    const slot = heap[i];
    const key = seqs[slot].index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (seqs[heap[parent]].index <= key) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = slot;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const seqs = this.sequences;
    const n = heap.length;
    const slot = heap[i];
    const key = seqs[slot].index;
    while (true) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && seqs[heap[child + 1]].index < seqs[heap[child]].index) child++;
      if (seqs[heap[child]].index >= key) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = slot;
  }
}
