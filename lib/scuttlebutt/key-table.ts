import type { Timestamp } from '../clock/index.js';
import { hashOf } from '../key-hash.js';

const PAGE_BITS = 12;
const PAGE_SIZE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SIZE - 1;
const EMPTY = -1;

/** Where a scan stands: the next slot it will look at. Moved by a compaction. */
interface ScanState {
  next: number;
}

/**
 * A scan that never ends: it stands at the end of the table until more is
 * written, and goes on from there (see `KeyTable.cursor`). A peer's session
 * follows the table with one, so that what a peer still lacks is a position
 * in the table, not a queue of objects.
 */
export interface TableCursor {
  /** The next slot this cursor will look at (holes included). */
  readonly next: number;
}

interface CursorState extends ScanState {
  ref: WeakRef<ScanState> | undefined; // undefined once released
}

/**
 * An empty list of pages that has held one already: V8 gives an empty
 * array literal the map of an array of small integers, and the first page
 * pushed changes it, so code optimized on one table that has pages (a
 * replica's own, written to) would be thrown away on meeting a fresh one
 * (a replica catching up in the same process). Popped, the array keeps
 * the map of an array of objects.
 */
function pageList<T extends object>(): T[] {
  const list: T[] = [{} as T];
  list.pop();
  return list;
}

/**
 * The Model's store: the latest write of every key, in the order the writes
 * were applied, with a hash index from key to slot.
 *
 * Each write takes the next slot (a key written again leaves a hole where
 * it was), so the slots in order are the order applied, which is what a
 * history scan must walk. Slots live in columns of 4,096 (key, JSON text,
 * source, timestamp), not in an object per key, and the index is an open-
 * addressed table of (slot, hash) pairs in one Int32Array: a lookup reads
 * one entry and, only if the hashes agree, the key. A JavaScript `Map` was
 * the main cost of applying an update here, about three cache misses per
 * lookup in a large table, and a 28-byte entry per key.
 *
 * When holes outnumber the keys, the columns are compacted; scans that are
 * under way keep their place (see `scan`).
 */
export class KeyTable {
  private keyPages = pageList<(string | undefined)[]>(); // undefined: a hole, the key was written again later
  private jsonPages = pageList<(string | undefined)[]>(); // undefined: a delete marker
  private sourcePages = pageList<string[]>();
  private stampPages = pageList<Float64Array>();
  private hashPages = pageList<Int32Array>();
  private slots = 0; // slots used, holes included
  private keys = 0; // keys held: slots that are not holes
  // The index: pairs of (slot, hash); a slot of EMPTY marks a free entry.
  private index = new Int32Array(2 * 16).fill(EMPTY);
  private mask = 15;
  private readonly scans = new Set<WeakRef<ScanState>>();
  private sweepAt = 64; // scans registered before the registry is swept of abandoned ones
  // The last key `find` missed, its hash and the free index entry it stopped at: put() of that key, next, takes them.
  private missedKey: string | undefined;
  private missedHash = 0;
  private missedAt = 0;
  private readonly stamp = new Float64Array(1); // put()'s timestamp, for putFrom
  private expected = 0; // keys the table expects to hold soon (see expect)

  /** Keys held, delete markers included. */
  get size(): number {
    return this.keys;
  }

  /**
   * `keys` more keys are expected soon (a peer announced a catch-up of that
   * many updates): when the index grows it may grow by 4 rather than 2
   * towards that size, rehashing less often. A hint that may be false, so
   * it never makes the index grow before it is full, and a growth at most
   * doubles what plain doubling would give.
   */
  expect(keys: number): void {
    this.expected = Math.max(this.expected, this.keys) + keys;
  }

  /** The slot that holds `key`, or -1. */
  find(key: string): number {
    const hash = hashOf(key);
    const index = this.index;
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const slot = index[2 * i];
      if (slot === EMPTY) {
        this.missedKey = key;
        this.missedHash = hash;
        this.missedAt = i;
        return -1;
      }
      if (index[2 * i + 1] === hash && this.keyPages[slot >>> PAGE_BITS][slot & PAGE_MASK] === key) return slot;
    }
  }

  keyAt(slot: number): string | undefined {
    return this.keyPages[slot >>> PAGE_BITS][slot & PAGE_MASK];
  }

  jsonAt(slot: number): string | undefined {
    return this.jsonPages[slot >>> PAGE_BITS][slot & PAGE_MASK];
  }

  sourceAt(slot: number): string {
    return this.sourcePages[slot >>> PAGE_BITS][slot & PAGE_MASK];
  }

  stampAt(slot: number): Timestamp {
    return this.stampPages[slot >>> PAGE_BITS][slot & PAGE_MASK];
  }

  /**
   * The page of timestamps that holds `slot` (at `slot & PAGE_MASK`), for
   * loops over many slots: a timestamp is past V8's small integers, so one
   * returned from a call that is not inlined is boxed, an allocation per
   * key; read from the page, it stays a plain double.
   */
  stampPageOf(slot: number): Float64Array {
    return this.stampPages[slot >>> PAGE_BITS];
  }

  /** Where `slot` sits in its page (see stampPageOf). */
  static at(slot: number): number {
    return slot & PAGE_MASK;
  }

  /**
   * Stores a write of `key` in the next slot; `replacing` is the slot that
   * held the key (from `find`), or -1 for a new key. Returns the new slot.
   */
  put(key: string, json: string | undefined, source: string, ts: Timestamp, replacing: number): number {
    this.stamp[0] = ts;
    return this.putFrom(key, json, source, this.stamp, 0, replacing);
  }

  /**
   * `put` with the timestamp read from `stamps[at]`: passed as a double to
   * a call that is not inlined, a timestamp is boxed (see stampPageOf).
   */
  putFrom(key: string, json: string | undefined, source: string, stamps: ArrayLike<Timestamp>, at: number, replacing: number): number {
    let hash: number;
    if (replacing >= 0) {
      // With the hole this write leaves, holes would outnumber keys: compact first (the key's slot moves).
      if (this.slots - this.keys + 1 > this.keys + PAGE_SIZE) {
        this.compact();
        replacing = this.find(key);
      }
      hash = this.hashPages[replacing >>> PAGE_BITS][replacing & PAGE_MASK];
      this.keyPages[replacing >>> PAGE_BITS][replacing & PAGE_MASK] = undefined;
      this.jsonPages[replacing >>> PAGE_BITS][replacing & PAGE_MASK] = undefined;
      this.keys--;
    } else {
      hash = key === this.missedKey ? this.missedHash : hashOf(key);
    }
    const slot = this.slots++;
    if ((slot & PAGE_MASK) === 0 && slot >>> PAGE_BITS === this.keyPages.length) this.addPage();
    const page = slot >>> PAGE_BITS;
    const to = slot & PAGE_MASK;
    this.keyPages[page][to] = key;
    this.jsonPages[page][to] = json;
    this.sourcePages[page][to] = source;
    this.stampPages[page][to] = stamps[at];
    this.hashPages[page][to] = hash;
    this.keys++;
    if (replacing >= 0) this.repoint(hash, replacing, slot);
    else this.insert(key, hash, slot);
    return slot;
  }

  /**
   * The slots that hold keys, in the order written, as a live iterator: a
   * key written during the scan comes again at the end, and the slot it
   * left is skipped. A compaction moves the scan to the same place in the
   * compacted columns; a scan dropped unfinished is forgotten once
   * collected (it is held weakly).
   */
  scan(): Iterator<number> {
    const state: ScanState = { next: 0 };
    const ref = this.register(state);
    return {
      next: () => {
        while (state.next < this.slots) {
          const slot = state.next++;
          if (this.keyPages[slot >>> PAGE_BITS][slot & PAGE_MASK] !== undefined) return { done: false, value: slot };
        }
        this.scans.delete(ref);
        return { done: true, value: undefined };
      },
    };
  }

  /**
   * A cursor at slot 0: `nextSlot` gives the slots that hold keys, in the
   * order written, and -1 when it stands at the end, where it waits for more.
   * Held weakly as scans are (a compaction moves it); `release` forgets it.
   */
  cursor(): TableCursor {
    const state: CursorState = { next: 0, ref: undefined };
    state.ref = this.register(state);
    return state;
  }

  /** The next slot at or after `cursor` that holds a key, or -1 if none is written yet. */
  nextSlot(cursor: TableCursor): number {
    const state = cursor as CursorState;
    while (state.next < this.slots) {
      const slot = state.next++;
      if (this.keyPages[slot >>> PAGE_BITS][slot & PAGE_MASK] !== undefined) return slot;
    }
    return -1;
  }

  /** Whether slots were written after `cursor` (holes maybe: `nextSlot` may still say -1). */
  hasAfter(cursor: TableCursor): boolean {
    return cursor.next < this.slots;
  }

  /** `cursor` is no longer used: a compaction need not move it. */
  release(cursor: TableCursor): void {
    const state = cursor as CursorState;
    if (state.ref !== undefined) this.scans.delete(state.ref);
    state.ref = undefined;
  }

  /** Adds a scan to the registry a compaction renumbers; returns its weak reference. */
  private register(state: ScanState): WeakRef<ScanState> {
    const ref = new WeakRef(state);
    // Scans left unfinished (a loop that breaks) are dropped from the registry once collected.
    if (this.scans.size >= this.sweepAt) {
      for (const held of this.scans) if (held.deref() === undefined) this.scans.delete(held);
      this.sweepAt = 2 * this.scans.size + 64;
    }
    this.scans.add(ref);
    return ref;
  }

  private addPage(): void {
    this.keyPages.push(new Array(PAGE_SIZE));
    this.jsonPages.push(new Array(PAGE_SIZE));
    this.sourcePages.push(new Array(PAGE_SIZE));
    this.stampPages.push(new Float64Array(PAGE_SIZE));
    this.hashPages.push(new Int32Array(PAGE_SIZE));
  }

  /** Adds an index entry for a new key, growing the index to keep it at most half full. */
  private insert(key: string, hash: number, slot: number): void {
    if (2 * this.keys > this.mask + 1) this.grow(); // forgets the miss: its entry moved
    const index = this.index;
    // Where find() stopped for this key: the end of its probe chain, free unless taken since (then probing goes on).
    let i = key === this.missedKey ? this.missedAt : hash & this.mask;
    this.missedKey = undefined;
    while (index[2 * i] !== EMPTY) i = (i + 1) & this.mask;
    index[2 * i] = slot;
    index[2 * i + 1] = hash;
  }

  /** Points the index entry that held `from` at `to`. */
  private repoint(hash: number, from: number, to: number): void {
    const index = this.index;
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      if (index[2 * i] === from) {
        index[2 * i] = to;
        return;
      }
      if (index[2 * i] === EMPTY) throw new Error('key table: a replaced key is missing from the index');
    }
  }

  private grow(): void {
    this.missedKey = undefined;
    const old = this.index;
    // Kept at most half full: twice the entries, or four times if more keys are expected than twice would hold.
    const entries = this.mask + 1;
    const mask = (this.expected > entries ? 4 : 2) * entries - 1;
    const index = new Int32Array(2 * (mask + 1)).fill(EMPTY);
    for (let j = 0; j < old.length; j += 2) {
      const slot = old[j];
      if (slot === EMPTY) continue;
      const hash = old[j + 1];
      let i = hash & mask;
      while (index[2 * i] !== EMPTY) i = (i + 1) & mask;
      index[2 * i] = slot;
      index[2 * i + 1] = hash;
    }
    this.mask = mask;
    this.index = index;
  }

  /** Moves the keys down over the holes, keeping their order; renumbers the index and every scan under way. */
  private compact(): void {
    this.missedKey = undefined;
    const count = this.slots;
    // For each old slot, the number of keys before it: a key's new slot, or a hole's next key's.
    const moved = new Int32Array(count + 1);
    const keys: (string | undefined)[][] = [];
    const jsons: (string | undefined)[][] = [];
    const sources: string[][] = [];
    const stamps: Float64Array[] = [];
    const hashes: Int32Array[] = [];
    let to = 0;
    for (let from = 0; from < count; from++) {
      moved[from] = to;
      const key = this.keyAt(from);
      if (key === undefined) continue;
      if ((to & PAGE_MASK) === 0) {
        keys.push(new Array(PAGE_SIZE));
        jsons.push(new Array(PAGE_SIZE));
        sources.push(new Array(PAGE_SIZE));
        stamps.push(new Float64Array(PAGE_SIZE));
        hashes.push(new Int32Array(PAGE_SIZE));
      }
      const page = to >>> PAGE_BITS;
      const at = to & PAGE_MASK;
      keys[page][at] = key;
      jsons[page][at] = this.jsonAt(from);
      sources[page][at] = this.sourceAt(from);
      stamps[page][at] = this.stampAt(from);
      hashes[page][at] = this.hashPages[from >>> PAGE_BITS][from & PAGE_MASK];
      to++;
    }
    moved[count] = to;
    const index = this.index;
    for (let j = 0; j < index.length; j += 2) if (index[j] !== EMPTY) index[j] = moved[index[j]];
    this.keyPages = keys;
    this.jsonPages = jsons;
    this.sourcePages = sources;
    this.stampPages = stamps;
    this.hashPages = hashes;
    this.slots = to;
    for (const ref of this.scans) {
      const state = ref.deref();
      if (state === undefined) this.scans.delete(ref);
      else state.next = moved[Math.min(state.next, count)];
    }
  }
}
