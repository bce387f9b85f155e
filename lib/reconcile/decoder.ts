import { errors } from '../errors.js';
import { CodedSymbols, SYMBOL_WORDS } from './coded-symbols.js';
import { Encoder } from './encoder.js';
import { IndexSequence } from './index-sequence.js';
import { ITEM_WORDS, itemBytes } from './item.js';
import { estimateRemaining } from './estimate.js';

/** Where the decoder gets its own set's symbols, in order from index 0 (an `Encoder`, a `PrefixSource`). */
export interface SymbolSource {
  /** Computes the next symbol into symbol `into` of `out`. */
  next(out: CodedSymbols, into: number): number;
}

/**
 * Decodes the symmetric difference between the peer's set and ours from
 * the peer's coded symbols, as they arrive.
 *
 * Each received symbol has our own symbol of the same index subtracted, so
 * what is left codes only the difference: items the peer has and we lack
 * count +1, items we have and it lacks -1, shared items cancel. A symbol
 * left with a single item (count ±1 and a matching checksum) is "pure":
 * the item is read off it and removed from every symbol it maps to (the
 * peeling of an IBLT), which may make other symbols pure. Items already
 * peeled are also removed from every later symbol as it arrives.
 *
 * Every item maps to symbol 0, so once symbol 0 is empty every differing
 * item has been peeled: that is `done`. A wrong "done" needs differing
 * items whose sums, checksums and counts all cancel in symbol 0 (odds
 * about 2^-64 per symbol); a wrong peel needs a mixed symbol whose checksum
 * passes (the same odds).
 */
export class Decoder {
  /** Items the peer has that we lack, as they are peeled. */
  readonly remoteOnly: Uint8Array[] = [];
  /** Items we have that the peer lacks. */
  readonly localOnly: Uint8Array[] = [];

  private readonly diff = new CodedSymbols();
  private readonly mine = new CodedSymbols(1);
  private readonly peeled = new Encoder();
  private readonly pure: number[] = [];
  private readonly scratch = new Uint32Array(2);
  private readonly item = new Uint32Array(ITEM_WORDS);
  private readonly check = new Uint32Array(2);

  /**
   * `local` yields our own symbols; `maxSymbols` is the most symbols this
   * decoder takes (the budget agreed for one sync): one more is ERR_LIMIT.
   */
  constructor(
    private readonly local: SymbolSource,
    readonly maxSymbols: number,
  ) {
    this.mine.push();
  }

  /** Symbols received so far. */
  get received(): number {
    return this.diff.length;
  }

  /** The whole difference has been peeled. */
  get done(): boolean {
    return this.diff.length > 0 && this.diff.isEmpty(0);
  }

  /** The budget is used up and the difference is still not decoded. */
  get exhausted(): boolean {
    return !this.done && this.diff.length >= this.maxSymbols;
  }

  /**
   * How many symbols in all this decoder would like, asked when the
   * symbols the sender announced ran out undecoded: 1.6 per item peeled or
   * estimated left (estimate.ts), plus 8; and at least an eighth more than
   * it has, plus 8. Lean, because the sender has usually sent close to
   * enough already (its window came from a sketch of the difference), and
   * every symbol asked for crosses in full.
   */
  wanted(): number {
    if (this.done) return this.received;
    const items = this.remoteOnly.length + this.localOnly.length + estimateRemaining(this.diff);
    const want = Math.max(Math.ceil(1.6 * items) + 8, this.received + Math.ceil(this.received / 8) + 8);
    return Math.min(this.maxSymbols, want);
  }

  /** Takes the peer's next symbol, symbol `j` of `remote`. Returns `done`. */
  receive(remote: CodedSymbols, j: number): boolean {
    if (this.diff.length >= this.maxSymbols) throw errors.limit('coded symbols in one reconciliation', this.diff.length + 1, this.maxSymbols);
    const i = this.diff.push();
    this.diff.copy(i, remote, j);
    this.local.next(this.mine, 0);
    this.diff.subtract(i, this.mine, 0);
    this.peeled.next(this.mine, 0);
    this.diff.subtract(i, this.mine, 0);
    if (this.diff.isPure(i, this.scratch)) this.pure.push(i);
    this.peel();
    return this.done;
  }

  private peel(): void {
    const diff = this.diff;
    const item = this.item;
    while (this.pure.length > 0) {
      const k = this.pure.pop()!;
      if (!diff.isPure(k, this.scratch)) continue; // emptied by an earlier peel
      const sign = diff.counts[k];
      const s = k * SYMBOL_WORDS;
      for (let w = 0; w < ITEM_WORDS; w++) item[w] = diff.words[s + w];
      this.check[0] = diff.words[s + 4];
      this.check[1] = diff.words[s + 5];
      const sequence = new IndexSequence(item, 0);
      for (let index = 0; index < diff.length; index = sequence.next()) {
        diff.apply(index, item, 0, this.check, 0, -sign);
        if (index !== k && diff.isPure(index, this.scratch)) this.pure.push(index);
      }
      // Later symbols lose it as they arrive.
      this.peeled.addWords(item, 0, sign, sequence);
      (sign === 1 ? this.remoteOnly : this.localOnly).push(itemBytes(item, 0));
    }
  }
}
