import { ITEM_WORDS, checksum } from './item.js';

/** Words per symbol in `CodedSymbols.words`: the item sum, then the two checksum words. */
export const SYMBOL_WORDS = ITEM_WORDS + 2;
/** Largest magnitude of a symbol's count: counts are kept in an Int32Array. */
export const MAX_COUNT = 2 ** 31 - 1;

/**
 * A run of coded symbols, flat in typed arrays: symbol `i` is the XOR of
 * the items mapped to it (`words[6i..6i+3]`), the XOR of their checksums
 * (`words[6i+4..6i+5]`) and the signed number of items (`counts[i]`; an
 * item added counts +1, one removed -1). The sum of symbols is itself a
 * symbol: XOR the words, add the counts. Grows as symbols are appended.
 */
export class CodedSymbols {
  words: Uint32Array;
  counts: Int32Array;
  length = 0;

  constructor(capacity = 64) {
    this.words = new Uint32Array(Math.max(1, capacity) * SYMBOL_WORDS);
    this.counts = new Int32Array(Math.max(1, capacity));
  }

  /** Appends an empty symbol and returns its index. */
  push(): number {
    if (this.length === this.counts.length) this.grow(this.length * 2);
    const i = this.length++;
    this.words.fill(0, i * SYMBOL_WORDS, (i + 1) * SYMBOL_WORDS);
    this.counts[i] = 0;
    return i;
  }

  /** Empties symbol `i`. */
  clear(i: number): void {
    this.words.fill(0, i * SYMBOL_WORDS, (i + 1) * SYMBOL_WORDS);
    this.counts[i] = 0;
  }

  /** Makes room for `capacity` symbols. */
  grow(capacity: number): void {
    if (capacity <= this.counts.length) return;
    const words = new Uint32Array(capacity * SYMBOL_WORDS);
    words.set(this.words.subarray(0, this.length * SYMBOL_WORDS));
    const counts = new Int32Array(capacity);
    counts.set(this.counts.subarray(0, this.length));
    this.words = words;
    this.counts = counts;
  }

  /** Adds (`sign` 1) or removes (`sign` -1) an item whose words and checksum are given to symbol `i`. */
  apply(i: number, item: Uint32Array, at: number, check: Uint32Array, checkAt: number, sign: number): void {
    const w = this.words;
    const s = i * SYMBOL_WORDS;
    w[s] ^= item[at];
    w[s + 1] ^= item[at + 1];
    w[s + 2] ^= item[at + 2];
    w[s + 3] ^= item[at + 3];
    w[s + 4] ^= check[checkAt];
    w[s + 5] ^= check[checkAt + 1];
    this.counts[i] += sign;
  }

  /** Subtracts symbol `j` of `other` from symbol `i` of this run. */
  subtract(i: number, other: CodedSymbols, j: number): void {
    const w = this.words;
    const o = other.words;
    const s = i * SYMBOL_WORDS;
    const t = j * SYMBOL_WORDS;
    for (let k = 0; k < SYMBOL_WORDS; k++) w[s + k] ^= o[t + k];
    this.counts[i] -= other.counts[j];
  }

  /** Copies symbol `j` of `other` over symbol `i` of this run. */
  copy(i: number, other: CodedSymbols, j: number): void {
    this.words.set(other.words.subarray(j * SYMBOL_WORDS, (j + 1) * SYMBOL_WORDS), i * SYMBOL_WORDS);
    this.counts[i] = other.counts[j];
  }

  /** Symbol `i` holds no item: zero count, sum and checksum. */
  isEmpty(i: number): boolean {
    if (this.counts[i] !== 0) return false;
    const w = this.words;
    const s = i * SYMBOL_WORDS;
    return (w[s] | w[s + 1] | w[s + 2] | w[s + 3] | w[s + 4] | w[s + 5]) === 0;
  }

  /** Symbol `i` holds exactly one item, added or removed: count ±1 and the checksum of its sum matches. */
  isPure(i: number, scratch: Uint32Array): boolean {
    const c = this.counts[i];
    if (c !== 1 && c !== -1) return false;
    const s = i * SYMBOL_WORDS;
    checksum(this.words, s, scratch, 0);
    return scratch[0] === this.words[s + 4] && scratch[1] === this.words[s + 5];
  }

  /** A copy of the first `length` symbols. */
  slice(length = this.length): CodedSymbols {
    const out = new CodedSymbols(length);
    out.words.set(this.words.subarray(0, length * SYMBOL_WORDS));
    out.counts.set(this.counts.subarray(0, length));
    out.length = length;
    return out;
  }

  /** Symbols `from..from+count-1` equal those of `other` at the same indices. */
  equals(other: CodedSymbols, count = Math.max(this.length, other.length)): boolean {
    if (this.length < count || other.length < count) return false;
    for (let i = 0; i < count * SYMBOL_WORDS; i++) if (this.words[i] !== other.words[i]) return false;
    for (let i = 0; i < count; i++) if (this.counts[i] !== other.counts[i]) return false;
    return true;
  }
}
