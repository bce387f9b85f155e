import { CodedSymbols } from './coded-symbols.js';
import type { SymbolSource } from './decoder.js';
import { Encoder } from './encoder.js';
import { IndexSequence } from './index-sequence.js';
import { ITEM_WORDS, checksum, readItem } from './item.js';
import { DifferenceSketch } from './sketch.js';

/**
 * The first `size` coded symbols of a set, kept up to date as items come
 * and go, so a sync can start streaming at once instead of hashing and
 * encoding the whole set first.
 *
 * Adding or removing an item XORs it into the symbols it maps to below
 * `size`: symbol 0 and then, by the mapping's density `2 / (i + 2)`, about
 * `2 ln(size / 2) + 1` more (19 for 16,384 symbols), each six 32-bit XORs
 * and an increment. Memory is 28 bytes a symbol. Since coded symbols are
 * linear (a symbol of a union is the sum of the symbols), an update may
 * come before or after the items of a bulk load: the result is the same.
 *
 * Symbols past the prefix are not kept (they would need every item again);
 * `source()` computes them on demand from the items, given a way to list
 * them.
 */
export class SymbolPrefix {
  readonly symbols: CodedSymbols;
  /** The difference estimator a decoder sends before the symbols (sketch.ts), kept up to date beside them. */
  readonly sketch = new DifferenceSketch();
  private readonly words = new Uint32Array(ITEM_WORDS);
  private readonly check = new Uint32Array(2);

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a symbol prefix holds at least one symbol, got ${size}`);
    this.symbols = new CodedSymbols(size);
    for (let i = 0; i < size; i++) this.symbols.push();
  }

  /** Adds an item (16 bytes). */
  add(item: Uint8Array): void {
    this.update(item, 1);
  }

  /** Removes an item that was added. */
  remove(item: Uint8Array): void {
    this.update(item, -1);
  }

  /** Adds (`sign` 1) or removes (`sign` -1) an item. */
  update(item: Uint8Array, sign: number): void {
    const words = this.words;
    readItem(item, words, 0);
    checksum(words, 0, this.check, 0);
    this.sketch.update(this.check[0], sign);
    const sequence = new IndexSequence(words, 0);
    const symbols = this.symbols;
    for (let index = 0; index < this.size; index = sequence.next()) symbols.apply(index, words, 0, this.check, 0, sign);
  }

  /**
   * The symbols as they are now, then (past the prefix) symbols computed
   * from `items()`, which must list the same set; called only if a peer
   * needs more than the prefix.
   */
  source(items?: () => Iterable<Uint8Array>): PrefixSource {
    return new PrefixSource(this.symbols.slice(), items);
  }
}

/** Reads a snapshot of a prefix, then encodes past it on demand. */
export class PrefixSource implements SymbolSource {
  private index = 0;
  private encoder: Encoder | undefined;

  constructor(
    private readonly snapshot: CodedSymbols,
    private readonly items?: () => Iterable<Uint8Array>,
  ) {}

  /** How many symbols come from the snapshot. */
  get prefixLength(): number {
    return this.snapshot.length;
  }

  next(out: CodedSymbols, into: number): number {
    const index = this.index++;
    if (index < this.snapshot.length) {
      out.copy(into, this.snapshot, index);
      return into;
    }
    if (!this.encoder) {
      if (!this.items) throw new RangeError(`symbol ${index} is past the prefix of ${this.snapshot.length} and no items were given`);
      const encoder = new Encoder();
      encoder.skipTo(index); // only the items' indices past the prefix matter
      for (const item of this.items()) encoder.add(item);
      this.encoder = encoder;
    }
    return this.encoder.next(out, into);
  }
}
