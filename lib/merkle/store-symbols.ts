import { SymbolPrefix } from '../reconcile/prefix.js';
import { SKETCH_BUCKETS } from '../reconcile/sketch.js';
import type { KeyRecord } from './record.js';

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
 * the record's version sum (4 bytes, big-endian), then the first 8 bytes
 * of the entry's leaf hash (key and record).
 *
 * Why this shape: an item has to lead back to its entry once decoded, and
 * the store has no index from hashes to keys; the position is where the
 * entry sits in the database, so a decoded item costs one short range read
 * (like a differing bucket of the walk). The version sum lets the decoder
 * guess, for a key both sides hold in different versions, whose version
 * is newer without seeing the other record, so that only the newer one
 * crosses (rateless-session.ts). 8 bytes of the leaf hash are 64 bits:
 * two different versions of one key with the same version sum collide
 * with odds 2^-64, and keys of different positions cannot collide at all.
 */
export function entryItem(storedKey: Uint8Array, leaf: Uint8Array, versionSum: number): Uint8Array {
  const item = new Uint8Array(16);
  item.set(storedKey.subarray(0, 4), 0);
  new DataView(item.buffer).setUint32(4, versionSum >>> 0);
  item.set(leaf.subarray(0, 8), 8);
  return item;
}

/**
 * The sum of a record's version-vector counters (modulo 2^32): every write
 * that a record has seen adds one, so a record that has seen all another
 * has and more has a larger sum. The converse fails only for concurrent
 * writes, which the session then sorts out by sending both.
 */
export function versionSum(record: KeyRecord): number {
  let sum = 0;
  for (const entry of record.context) sum = (sum + entry.n) >>> 0;
  return sum;
}

/** The version sum an item carries. */
export function itemVersionSum(item: Uint8Array): number {
  return ((item[4] << 24) | (item[5] << 16) | (item[6] << 8) | item[7]) >>> 0;
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
  /** The snapshot's records are in (as `ready` has resolved, but readable synchronously: a handshake cannot wait). */
  loaded = true;

  constructor(size: number) {
    this.prefix = new SymbolPrefix(size);
  }

  /**
   * The symbols as bytes, to save beside the tree at a clean close: the
   * sum and checksum words, then the counts, little-endian, 28 bytes a
   * symbol; then the difference sketch (its 128 counters and the item
   * count, 4 bytes each). Only a fully loaded prefix may be saved.
   */
  toBytes(): Buffer {
    const { words, counts } = this.prefix.symbols;
    const size = this.prefix.size;
    const out = Buffer.allocUnsafe(StoreSymbols.byteLength(size));
    for (let i = 0; i < size * 6; i++) out.writeUInt32LE(words[i], i * 4);
    for (let i = 0; i < size; i++) out.writeInt32LE(counts[i], size * 24 + i * 4);
    const sketch = this.prefix.sketch;
    for (let j = 0; j < SKETCH_BUCKETS; j++) out.writeInt32LE(sketch.counts[j], size * 28 + j * 4);
    out.writeInt32LE(sketch.items, size * 28 + SKETCH_BUCKETS * 4);
    return out;
  }

  static byteLength(size: number): number {
    return size * 28 + SKETCH_BUCKETS * 4 + 4;
  }

  /** Symbols saved by `toBytes()`, or undefined if they are not `size` symbols. */
  static fromBytes(size: number, bytes: Uint8Array): StoreSymbols | undefined {
    if (bytes.length !== StoreSymbols.byteLength(size)) return undefined;
    const symbols = new StoreSymbols(size);
    symbols.source = 'saved';
    const { words, counts } = symbols.prefix.symbols;
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let i = 0; i < size * 6; i++) words[i] = view.readUInt32LE(i * 4);
    for (let i = 0; i < size; i++) counts[i] = view.readInt32LE(size * 24 + i * 4);
    const sketch = symbols.prefix.sketch;
    for (let j = 0; j < SKETCH_BUCKETS; j++) sketch.counts[j] = view.readInt32LE(size * 28 + j * 4);
    sketch.items = view.readInt32LE(size * 28 + SKETCH_BUCKETS * 4);
    return symbols;
  }

  /** A record changed from `before` (absent for a new key) to `after` (absent for a collected one): their leaf hashes and version sums. */
  change(storedKey: Uint8Array, before: { leaf: Uint8Array; sum: number } | undefined, after: { leaf: Uint8Array; sum: number } | undefined): void {
    if (before) this.prefix.remove(entryItem(storedKey, before.leaf, before.sum));
    if (after) this.prefix.add(entryItem(storedKey, after.leaf, after.sum));
  }

  /**
   * Adds every record of `records`, which must read a snapshot taken now
   * (the iterator is opened by the first `next()`, called synchronously
   * here): later writes reach `change()` instead.
   */
  load(records: AsyncGenerator<Array<[Uint8Array, Uint8Array]>>, itemOf: (storedKey: Uint8Array, record: Uint8Array) => Uint8Array): void {
    const first = records.next();
    this.loaded = false;
    this.ready = (async () => {
      for (let batch = await first; !batch.done; batch = await records.next()) {
        for (const [storedKey, record] of batch.value) this.prefix.add(itemOf(storedKey, record));
      }
      this.loaded = true;
    })();
  }
}
