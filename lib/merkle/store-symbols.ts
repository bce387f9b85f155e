import { SymbolPrefix } from '../reconcile/prefix.js';

/**
 * Default number of coded symbols a rateless store keeps up to date: 2^15,
 * 28 bytes each (about 900 KiB of memory), enough to decode a difference of
 * about 23,000 entries (1.4 symbols each); a larger difference falls back
 * to the Merkle walk, which is then the cheaper of the two anyway. A write
 * updates about 21 of them for the old version and 21 for the new.
 */
export const DEFAULT_SYMBOL_PREFIX = 1 << 15;

/**
 * The rateless item of a stored entry: the key's 4-byte position (the
 * first 4 bytes of its stored key, by which the store orders its data),
 * then the first 12 bytes of the entry's leaf hash (key and record).
 *
 * Why this shape: an item has to lead back to its entry once decoded, and
 * the store has no index from hashes to keys; the position is where the
 * entry sits in the database, so a decoded item costs one short range read
 * (like a differing bucket of the walk). 12 bytes of the leaf hash are 96
 * bits: two different versions of one key collide with odds 2^-96, and
 * keys of different positions cannot collide at all.
 */
export function entryItem(storedKey: Uint8Array, leaf: Uint8Array): Uint8Array {
  const item = new Uint8Array(16);
  item.set(storedKey.subarray(0, 4), 0);
  item.set(leaf.subarray(0, 12), 4);
  return item;
}

/** The key position an item names. */
export function itemPosition(item: Uint8Array): number {
  return ((item[0] << 24) | (item[1] << 16) | (item[2] << 8) | item[3]) >>> 0;
}

/**
 * A store's maintained symbol prefix. `change()` is called for every
 * record the store writes, from the moment this object exists; `load()`
 * adds every record of a database snapshot taken at that same moment.
 * Coded symbols are linear, so the two together are the symbols of the
 * store's current contents, whichever order they arrive in.
 */
export class StoreSymbols {
  readonly prefix: SymbolPrefix;
  /** Where the symbols came from: saved at the last clean close, or a scan of the records. */
  source: 'saved' | 'scan' = 'scan';
  /** Resolves once the snapshot's records are in. */
  ready: Promise<void> = Promise.resolve();

  constructor(size: number) {
    this.prefix = new SymbolPrefix(size);
  }

  /**
   * The symbols as bytes, to save beside the tree at a clean close: the
   * sum and checksum words, then the counts, little-endian, 28 bytes a
   * symbol. Only a fully loaded prefix may be saved.
   */
  toBytes(): Buffer {
    const { words, counts } = this.prefix.symbols;
    const size = this.prefix.size;
    const out = Buffer.allocUnsafe(size * 28);
    for (let i = 0; i < size * 6; i++) out.writeUInt32LE(words[i], i * 4);
    for (let i = 0; i < size; i++) out.writeInt32LE(counts[i], size * 24 + i * 4);
    return out;
  }

  /** Symbols saved by `toBytes()`, or undefined if they are not `size` symbols. */
  static fromBytes(size: number, bytes: Uint8Array): StoreSymbols | undefined {
    if (bytes.length !== size * 28) return undefined;
    const symbols = new StoreSymbols(size);
    symbols.source = 'saved';
    const { words, counts } = symbols.prefix.symbols;
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let i = 0; i < size * 6; i++) words[i] = view.readUInt32LE(i * 4);
    for (let i = 0; i < size; i++) counts[i] = view.readInt32LE(size * 24 + i * 4);
    return symbols;
  }

  /** A record changed from `before` (absent for a new key) to `after` (absent for a collected one); both are leaf hashes. */
  change(storedKey: Uint8Array, before: Uint8Array | undefined, after: Uint8Array | undefined): void {
    if (before) this.prefix.remove(entryItem(storedKey, before));
    if (after) this.prefix.add(entryItem(storedKey, after));
  }

  /**
   * Adds every record of `records`, which must read a snapshot taken now
   * (the iterator is opened by the first `next()`, called synchronously
   * here): later writes reach `change()` instead.
   */
  load(records: AsyncGenerator<Array<[Uint8Array, Uint8Array]>>, leafOf: (storedKey: Uint8Array, record: Uint8Array) => Uint8Array): void {
    const first = records.next();
    this.ready = (async () => {
      for (let batch = await first; !batch.done; batch = await records.next()) {
        for (const [storedKey, record] of batch.value) this.prefix.add(entryItem(storedKey, leafOf(storedKey, record)));
      }
    })();
  }
}
