import { ITEM_WORDS, mix32 } from './item.js';

/** Indices past this are never produced: a sequence that would go beyond it ends. */
export const MAX_INDEX = 2 ** 32;

/**
 * The coded-symbol indices one item maps to, in increasing order: always 0,
 * then each later index `i` with probability `ρ(i) = 1 / (1 + i/2)`
 * (Yang, Gilad and Alizadeh, "Practical Rateless Set Reconciliation",
 * SIGCOMM 2024, with their α = 1/2). Symbol `i` therefore holds about
 * `2n / (i + 2)` of `n` items: the first symbols hold many items and the
 * later ones few, which is what lets any prefix of the stream decode a
 * difference of about two thirds its length.
 *
 * Rather than toss a coin per index, we jump straight to the next one (the
 * paper's gap sampling). With independent tosses, the chance that an item
 * at index `i` maps to none of `i+1..j` is the product of `(1 - ρ(k))`
 * = `k / (k + 2)`, which telescopes to
 *
 *     T(j) = (i + 1)(i + 2) / ((j + 1)(j + 2)).
 *
 * Drawing `u` uniform in (0, 1], the next index is the least `j > i` with
 * `T(j) ≤ u`, i.e. `(j + 1)(j + 2) ≥ C` with `C = (i + 1)(i + 2) / u`: the
 * root of the quadratic, rounded up. (The paper writes the same draw in
 * its approximate closed form, `i + ⌈(i + 1.5)(1/√u − 1)⌉`; ours is the
 * exact inverse of the tail. Both sides of a sync must only agree, and IEEE
 * arithmetic with `Math.sqrt` is exactly rounded, so every platform
 * computes the same indices.)
 *
 * The draws come from a small generator seeded by the item itself, so both
 * replicas map an item to the same indices with no coordination: two
 * 32-bit lanes (a Weyl sequence through `mix32` each, as in SplitMix) give
 * 53 random bits per draw.
 */
export class IndexSequence {
  /** The current index; `MAX_INDEX` once the sequence has ended. */
  index = 0;
  private a: number;
  private b: number;

  constructor(words: Uint32Array, at: number) {
    // Seeds from the item's words; items are hashes, so their words are already random.
    this.a = mix32(words[at] ^ mix32(words[at + 2] ^ 0x68e31da4));
    this.b = mix32(words[at + 1] ^ mix32(words[at + ITEM_WORDS - 1] ^ 0x1b873593));
  }

  /** Moves to the next index and returns it. */
  next(): number {
    const i = this.index;
    if (i >= MAX_INDEX) return i;
    this.a = (this.a + 0x9e3779b9) | 0;
    this.b = (this.b + 0x6d2b79f5) | 0;
    const high = mix32(this.a) >>> 11; // 21 bits
    const low = mix32(this.b); // 32 bits
    const u = 1 - (high * 2 ** 32 + low) / 2 ** 53; // (0, 1]
    const c = ((i + 1) * (i + 2)) / u;
    let j = Math.ceil((Math.sqrt(1 + 4 * c) - 3) / 2);
    if (j <= i) j = i + 1;
    this.index = j >= MAX_INDEX ? MAX_INDEX : j;
    return this.index;
  }
}
