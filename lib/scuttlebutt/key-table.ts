import type { Timestamp } from '../clock/index.js';
import { decodeUtf8, uintLength, writeUint, writeUtf8 } from '../codec/primitives.js';
import { HASH_PRIME, HASH_START, finishHash } from '../key-hash.js';

const PAGE_BITS = 12;
const PAGE_SIZE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SIZE - 1;
const EMPTY = -1;
/** How far into a page the next page is made (see `take`). */
const PAGE_AHEAD = 64;
/** A key length that marks a hole: the slot's key was written again later. */
const HOLE = -1;
/** A value length that marks a delete marker. */
const DELETED = -1;
/** A value length that marks a value held as text (see LONG_VALUE_BYTES). */
const TEXT = -2;
/**
 * Values longer than this (in UTF-8 bytes, or a third of it in UTF-16
 * units for one given as text) are held as strings, not in a page's bytes:
 * so a page's bytes stay bounded (4,096 keys of at most 4 KiB and values
 * of at most 3 KiB), and a long string costs the garbage collector no copy.
 */
const LONG_VALUE_BYTES = 3 * 1024;
/**
 * The first page's bytes, room for 4,096 keys and values of 16 bytes; a
 * later page starts from what the page before it used. A page whose bytes
 * must grow is the exception: the code that grows them runs too rarely for
 * the compiler to have seen it, and running it throws the optimized code of
 * the write path away once.
 */
const FIRST_POOL_BYTES = 64 * 1024;

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
 * 4,096 slots in columns. A slot's key and value are UTF-8 bytes, one after
 * the other in `bytes` from `starts[at]`: the exact bytes they travel as.
 * A peer's update is copied into them from the frame it came in and sent
 * on from them, and a local write is encoded into them once; no string is
 * kept per key, so a large table costs the garbage collector nothing to
 * copy or mark but its few pages.
 */
class Page {
  readonly starts = new Int32Array(PAGE_SIZE);
  readonly keyLengths = new Int32Array(PAGE_SIZE); // HOLE: the key was written again later
  readonly jsonLengths = new Int32Array(PAGE_SIZE); // DELETED, TEXT (see texts) or the value's bytes
  // Filled, so that it holds strings from the start: an array made by `new Array(n)` is one of small integers until a string is
  // stored, and that first store in each page would change its kind, which the compiled write path does not expect.
  readonly sources: string[] = new Array<string>(PAGE_SIZE).fill('');
  readonly stamps = new Float64Array(PAGE_SIZE);
  readonly hashes = new Int32Array(PAGE_SIZE);
  /** Long values, by slot (see LONG_VALUE_BYTES); made on the first. */
  texts: (string | undefined)[] | undefined = undefined;
  bytes: Buffer;
  used = 0;

  constructor(poolBytes: number) {
    this.bytes = Buffer.allocUnsafe(poolBytes);
  }

  /** Makes room for `count` more bytes. */
  reserve(count: number): void {
    if (this.bytes.length - this.used >= count) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.used + count));
    this.bytes.copy(grown, 0, 0, this.used);
    this.bytes = grown;
  }

  /** Appends `s` as UTF-8 (room reserved for 3 bytes a unit); returns its byte length. */
  appendText(s: string): number {
    const at = this.used;
    this.used = encodeText(this.bytes, at, s);
    return this.used - at;
  }

  /** Appends `from[start, end)`. */
  appendBytes(from: Uint8Array, start: number, end: number): void {
    const bytes = this.bytes;
    const at = this.used;
    if (end - start <= 32) for (let i = start; i < end; i++) bytes[at + i - start] = from[i]!;
    else bytes.set(from.subarray(start, end), at);
    this.used = at + end - start;
  }

  setText(at: number, text: string | undefined): void {
    if (text !== undefined) (this.texts ??= new Array(PAGE_SIZE))[at] = text;
    else if (this.texts !== undefined) this.texts[at] = undefined;
  }
}

/** Writes `s` as UTF-8 at `bytes[at]` (room for 3 bytes a unit); returns the offset after it. */
function encodeText(bytes: Buffer, at: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const code = s.charCodeAt(i);
    if (code > 0x7f) {
      const length = Buffer.byteLength(s, 'utf8');
      return at + writeUtf8(bytes, s, at, length);
    }
    bytes[at + i] = code;
  }
  return at + n;
}

/**
 * A key and a value encoded as UTF-8, one after the other, as the table
 * holds them: so a local write goes into the table by the same path as a
 * peer's (`findBytes`, `putBytes`), whose code is then already warm (and
 * compiled once) when updates arrive.
 */
export class EntryBytes {
  bytes = Buffer.allocUnsafe(1024);
  keyEnd = 0;
  /** -1 for a delete. */
  jsonStart = -1;
  jsonEnd = 0;

  /** Encodes `key` and `json`; false, encoding nothing, if the value is one the table keeps as text (then `put` it). */
  encode(key: string, json: string | undefined): boolean {
    const units = json === undefined ? 0 : json.length;
    if (units * 3 > LONG_VALUE_BYTES) return false;
    const room = 3 * (key.length + units);
    if (this.bytes.length < room) this.bytes = Buffer.allocUnsafe(room);
    const keyEnd = (this.keyEnd = encodeText(this.bytes, 0, key));
    if (json === undefined) {
      this.jsonStart = -1;
      this.jsonEnd = keyEnd;
    } else {
      this.jsonStart = keyEnd;
      this.jsonEnd = encodeText(this.bytes, keyEnd, json);
    }
    return true;
  }

  /**
   * Encodes `key` and the JSON text of the string `value` without making
   * that text, if `JSON.stringify` would write `value` as it stands between
   * quotes (printable ASCII, no quote or backslash: see `canonicalText`);
   * false, with nothing encoded, if not (or if the table would keep it as
   * text): then `encode` its canonical text.
   */
  encodePlainString(key: string, value: string): boolean {
    const n = value.length;
    if ((n + 2) * 3 > LONG_VALUE_BYTES) return false;
    const room = 3 * key.length + n + 2;
    if (this.bytes.length < room) this.bytes = Buffer.allocUnsafe(room);
    const bytes = this.bytes;
    const keyEnd = encodeText(bytes, 0, key);
    bytes[keyEnd] = 0x22;
    for (let i = 0; i < n; i++) {
      const code = value.charCodeAt(i);
      if (code < 0x20 || code > 0x7e || code === 0x22 || code === 0x5c) return false;
      bytes[keyEnd + 1 + i] = code;
    }
    bytes[keyEnd + 1 + n] = 0x22;
    this.keyEnd = keyEnd;
    this.jsonStart = keyEnd;
    this.jsonEnd = keyEnd + n + 2;
    return true;
  }
}

/** The seeded hash of `key` (key-hash.ts) over its UTF-8 bytes: for an ASCII key, `hashOf(key)`. */
function hashText(key: string): number {
  let hash = HASH_START;
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code > 0x7f) {
      const utf8 = Buffer.from(key, 'utf8');
      return hashBytes(utf8, 0, utf8.length);
    }
    hash = Math.imul(hash ^ code, HASH_PRIME);
  }
  return finishHash(hash);
}

/** The same hash over the UTF-8 bytes `bytes[start, end)`. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = HASH_START;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, HASH_PRIME);
  return finishHash(hash);
}

/** True if `key` is, in UTF-8, the `length` bytes at `bytes[start]`. */
function sameText(key: string, bytes: Buffer, start: number, length: number): boolean {
  if (key.length === length) {
    // As many bytes as units: equal only if the key is ASCII and unit for unit the bytes.
    for (let i = 0; i < length; i++) if (key.charCodeAt(i) !== bytes[start + i]) return false;
    return true;
  }
  if (key.length > length) return false;
  // More bytes than units: equal only if the key is not ASCII.
  const utf8 = Buffer.from(key, 'utf8');
  return sameBytes(utf8, 0, utf8.length, bytes, start, length);
}

/** True if `a[aStart, aEnd)` are the `length` bytes at `b[bStart]`. */
function sameBytes(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, length: number): boolean {
  if (aEnd - aStart !== length) return false;
  for (let i = 0; i < length; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

/**
 * The Model's store: the latest write of every key, in the order the writes
 * were applied, with a hash index from key to slot.
 *
 * Each write takes the next slot (a key written again leaves a hole where
 * it was), so the slots in order are the order applied, which is what a
 * history scan must walk. Slots live in pages of 4,096 (see `Page`: each
 * key and value as its UTF-8 bytes, source, timestamp, hash), not in an
 * object per key, and the index is an open-addressed table of (slot, hash)
 * pairs in one Int32Array: a lookup reads one entry and, only if the hashes
 * agree, the key's bytes. A JavaScript `Map` was the main cost of applying
 * an update here, about three cache misses per lookup in a large table, and
 * a 28-byte entry per key; a key and a value kept as strings cost the
 * garbage collector a copy or two of each as they were promoted.
 *
 * Keys and values go in as strings (`put`) or as the UTF-8 bytes a peer
 * sent (`putBytes`), and come out as strings (`keyAt`, `jsonAt`, decoded on
 * each call) or as bytes written into a message (`writeEntry`).
 *
 * When holes outnumber the keys, the pages are compacted; scans that are
 * under way keep their place (see `scan`).
 */
export class KeyTable {
  private pages = pageList<Page>();
  private slots = 0; // slots used, holes included
  private capacity = 0; // slots the pages hold
  private keys = 0; // keys held: slots that are not holes
  // The index: pairs of (slot, hash); a slot of EMPTY marks a free entry.
  private index = new Int32Array(2 * 16).fill(EMPTY);
  private mask = 15;
  private readonly scans = new Set<WeakRef<ScanState>>();
  private sweepAt = 64; // scans registered before the registry is swept of abandoned ones
  // The last key `find` or `findBytes` missed (the key, or the buffer its bytes are in and where they start), its hash and
  // the free index entry it stopped at: a put of that key, next, takes them.
  private missed: unknown = undefined;
  private missedStart = -1;
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
    // An ASCII key's hash (hashText) in the loop here: a call per lookup costs while the code is still cold.
    let hash = HASH_START;
    let unit = 0;
    for (; unit < key.length; unit++) {
      const code = key.charCodeAt(unit);
      if (code > 0x7f) break;
      hash = Math.imul(hash ^ code, HASH_PRIME);
    }
    hash = unit === key.length ? finishHash(hash) : hashText(key);
    const index = this.index;
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const slot = index[2 * i];
      if (slot === EMPTY) {
        this.missed = key;
        this.missedStart = -1;
        this.missedHash = hash;
        this.missedAt = i;
        return -1;
      }
      if (index[2 * i + 1] === hash) {
        const page = this.pages[slot >>> PAGE_BITS];
        const at = slot & PAGE_MASK;
        if (sameText(key, page.bytes, page.starts[at], page.keyLengths[at])) return slot;
      }
    }
  }

  /** The slot that holds the key whose UTF-8 bytes are `bytes[start, end)`, or -1. */
  findBytes(bytes: Uint8Array, start: number, end: number): number {
    let hash = HASH_START;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, HASH_PRIME);
    hash = finishHash(hash);
    const index = this.index;
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const slot = index[2 * i];
      if (slot === EMPTY) {
        this.missed = bytes;
        this.missedStart = start;
        this.missedHash = hash;
        this.missedAt = i;
        return -1;
      }
      if (index[2 * i + 1] === hash) {
        const page = this.pages[slot >>> PAGE_BITS];
        const at = slot & PAGE_MASK;
        if (sameBytes(bytes, start, end, page.bytes, page.starts[at], page.keyLengths[at])) return slot;
      }
    }
  }

  keyAt(slot: number): string | undefined {
    const page = this.pages[slot >>> PAGE_BITS];
    const at = slot & PAGE_MASK;
    const length = page.keyLengths[at];
    if (length === HOLE) return undefined;
    const start = page.starts[at];
    return decodeUtf8(page.bytes, start, start + length);
  }

  jsonAt(slot: number): string | undefined {
    const page = this.pages[slot >>> PAGE_BITS];
    const at = slot & PAGE_MASK;
    const length = page.jsonLengths[at];
    if (length === DELETED || page.keyLengths[at] === HOLE) return undefined;
    if (length === TEXT) return page.texts![at];
    const start = page.starts[at] + page.keyLengths[at];
    return decodeUtf8(page.bytes, start, start + length);
  }

  /** True if `slot` holds a value (not a delete marker, not a hole). */
  hasJsonAt(slot: number): boolean {
    const page = this.pages[slot >>> PAGE_BITS];
    const at = slot & PAGE_MASK;
    return page.jsonLengths[at] !== DELETED && page.keyLengths[at] !== HOLE;
  }

  sourceAt(slot: number): string {
    return this.pages[slot >>> PAGE_BITS].sources[slot & PAGE_MASK];
  }

  stampAt(slot: number): Timestamp {
    return this.pages[slot >>> PAGE_BITS].stamps[slot & PAGE_MASK];
  }

  /**
   * The page of timestamps that holds `slot` (at `slot & PAGE_MASK`), for
   * loops over many slots: a timestamp is past V8's small integers, so one
   * returned from a call that is not inlined is boxed, an allocation per
   * key; read from the page, it stays a plain double.
   */
  stampPageOf(slot: number): Float64Array {
    return this.pages[slot >>> PAGE_BITS].stamps;
  }

  /** Where `slot` sits in its page (see stampPageOf). */
  static at(slot: number): number {
    return slot & PAGE_MASK;
  }

  /**
   * The encoded size of the key and value in `slot` (a key that is not a
   * hole) as an updates message carries them: see `writeEntry`.
   */
  entryLength(slot: number): number {
    const page = this.pages[slot >>> PAGE_BITS];
    const at = slot & PAGE_MASK;
    const keyLength = page.keyLengths[at];
    const jsonLength = page.jsonLengths[at];
    let length = uintLength(keyLength) + keyLength;
    if (jsonLength === DELETED) return length + 1;
    const valueBytes = jsonLength === TEXT ? Buffer.byteLength(page.texts![at]!, 'utf8') : jsonLength;
    return length + uintLength(valueBytes + 1) + valueBytes;
  }

  /**
   * Writes the key and value in `slot` at `buffer[offset]` as an updates
   * message carries them (model-wire.ts: the key's byte length and bytes,
   * then the value's byte length + 1, 0 for a delete, and its bytes), with
   * room for `entryLength(slot)` bytes; returns the offset after them.
   */
  writeEntry(slot: number, buffer: Buffer, offset: number): number {
    const page = this.pages[slot >>> PAGE_BITS];
    const at = slot & PAGE_MASK;
    const bytes = page.bytes;
    const keyLength = page.keyLengths[at];
    const jsonLength = page.jsonLengths[at];
    let from = page.starts[at];
    let to = offset;
    if (keyLength < 0x80) buffer[to++] = keyLength;
    else to = writeUint(buffer, to, keyLength);
    for (let end = from + keyLength; from < end; ) buffer[to++] = bytes[from++]!;
    if (jsonLength === DELETED) {
      buffer[to] = 0;
      return to + 1;
    }
    if (jsonLength === TEXT) {
      const text = page.texts![at]!;
      const length = Buffer.byteLength(text, 'utf8');
      to = writeUint(buffer, to, length + 1);
      return to + writeUtf8(buffer, text, to, length);
    }
    if (jsonLength < 0x7f) buffer[to++] = jsonLength + 1;
    else to = writeUint(buffer, to, jsonLength + 1);
    if (jsonLength > 64) {
      bytes.copy(buffer, to, from, from + jsonLength);
      return to + jsonLength;
    }
    for (let end = from + jsonLength; from < end; ) buffer[to++] = bytes[from++]!;
    return to;
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
    if (replacing >= 0 && this.compactsBefore()) replacing = this.find(key);
    const fresh = replacing < 0 && this.missed === key && this.missedStart === -1;
    const hash = replacing >= 0 ? this.hashAt(replacing) : fresh ? this.missedHash : hashText(key);
    const slot = this.take();
    const page = this.pages[slot >>> PAGE_BITS];
    const to = slot & PAGE_MASK;
    const kind = json === undefined ? DELETED : json.length * 3 > LONG_VALUE_BYTES ? TEXT : 0;
    page.reserve(3 * key.length + (kind === 0 ? 3 * json!.length : 0));
    page.starts[to] = page.used;
    page.keyLengths[to] = page.appendText(key);
    page.jsonLengths[to] = kind === 0 ? page.appendText(json!) : kind;
    if (kind === TEXT || page.texts !== undefined) page.setText(to, kind === TEXT ? json : undefined);
    return this.placed(page, to, slot, source, stamps, at, hash, replacing, fresh);
  }

  /**
   * `putFrom` of a key and value given as UTF-8 bytes, checked as a peer's
   * are: the key `bytes[keyStart, keyEnd)`, the value's JSON text
   * `bytes[jsonStart, jsonEnd)`, or a delete if `jsonStart` is -1.
   */
  putBytes(bytes: Buffer, keyStart: number, keyEnd: number, jsonStart: number, jsonEnd: number, source: string, stamps: ArrayLike<Timestamp>, at: number, replacing: number): number {
    if (replacing >= 0 && this.compactsBefore()) replacing = this.findBytes(bytes, keyStart, keyEnd);
    const fresh = replacing < 0 && this.missed === bytes && this.missedStart === keyStart;
    const hash = replacing >= 0 ? this.hashAt(replacing) : fresh ? this.missedHash : hashBytes(bytes, keyStart, keyEnd);
    const slot = this.take();
    const page = this.pages[slot >>> PAGE_BITS];
    const to = slot & PAGE_MASK;
    const jsonLength = jsonStart < 0 ? DELETED : jsonEnd - jsonStart > LONG_VALUE_BYTES ? TEXT : jsonEnd - jsonStart;
    const length = keyEnd - keyStart + (jsonLength > 0 ? jsonLength : 0);
    page.reserve(length);
    const pool = page.bytes;
    let used = page.used;
    page.starts[to] = used;
    page.keyLengths[to] = keyEnd - keyStart;
    page.jsonLengths[to] = jsonLength;
    // Copied in loops here, short as keys and values mostly are: the frame's bytes, then the page's.
    for (let i = keyStart; i < keyEnd; i++) pool[used++] = bytes[i]!;
    if (jsonLength > 64) {
      bytes.copy(pool, used, jsonStart, jsonEnd);
      used += jsonLength;
    } else if (jsonLength > 0) {
      for (let i = jsonStart; i < jsonEnd; i++) pool[used++] = bytes[i]!;
    }
    page.used = used;
    if (jsonLength === TEXT || page.texts !== undefined) page.setText(to, jsonLength === TEXT ? decodeUtf8(bytes, jsonStart, jsonEnd) : undefined);
    return this.placed(page, to, slot, source, stamps, at, hash, replacing, fresh);
  }

  /** Compacts if the hole a write over an existing key leaves would make holes outnumber keys; returns whether it did (slots moved). */
  private compactsBefore(): boolean {
    if (this.slots - this.keys + 1 <= this.keys + PAGE_SIZE) return false;
    this.compact();
    return true;
  }

  private hashAt(slot: number): number {
    return this.pages[slot >>> PAGE_BITS].hashes[slot & PAGE_MASK];
  }

  /** The next slot, on a new page if it starts one. */
  private take(): number {
    const slot = this.slots++;
    // The next page is made a little after a page starts, not as its first
    // slot is taken: so the code that makes it runs early, while the
    // compiler still watches, and not first in compiled code, which would
    // then be thrown away. (After a compaction, the first slot past the
    // pages makes one too.)
    if ((slot & PAGE_MASK) === PAGE_AHEAD || slot === this.capacity) this.addPage();
    return slot;
  }

  private addPage(): void {
    const { pages } = this;
    // A page's keys are like those of the last full page, most likely: start with a little more room than it used.
    const previous = pages.length > 1 ? pages[pages.length - 2].used : 0;
    pages.push(new Page(Math.max(FIRST_POOL_BYTES, previous + (previous >>> 3))));
    this.capacity += PAGE_SIZE;
  }

  /** The rest of a put, once the key and value are in `page` at `to` (slot `slot`): the other columns, the hole, the index. */
  private placed(page: Page, to: number, slot: number, source: string, stamps: ArrayLike<Timestamp>, at: number, hash: number, replacing: number, fresh: boolean): number {
    page.sources[to] = source;
    page.stamps[to] = stamps[at];
    page.hashes[to] = hash;
    if (replacing >= 0) {
      const old = this.pages[replacing >>> PAGE_BITS];
      const from = replacing & PAGE_MASK;
      old.keyLengths[from] = HOLE;
      old.setText(from, undefined);
      this.repoint(hash, replacing, slot);
    } else {
      this.keys++;
      this.insert(hash, slot, fresh);
    }
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
          if (this.pages[slot >>> PAGE_BITS].keyLengths[slot & PAGE_MASK] !== HOLE) return { done: false, value: slot };
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
      if (this.pages[slot >>> PAGE_BITS].keyLengths[slot & PAGE_MASK] !== HOLE) return slot;
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

  /** Adds an index entry for a new key, growing the index to keep it at most half full; `fresh`: the key is the last one missed. */
  private insert(hash: number, slot: number, fresh: boolean): void {
    const grew = 2 * this.keys > this.mask + 1;
    if (grew) this.grow(); // the miss's entry moved
    const { index, mask } = this;
    // Where find() stopped for this key: the end of its probe chain, free unless taken since (then probing goes on).
    // The step to the next entry runs at least once (from the entry before), so the compiler has seen it: it seldom runs more.
    let i = ((fresh && !grew ? this.missedAt : hash & mask) - 1) & mask;
    this.missed = undefined;
    do i = (i + 1) & mask;
    while (index[2 * i] !== EMPTY);
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
    this.missed = undefined;
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
    this.missed = undefined;
    const count = this.slots;
    // For each old slot, the number of keys before it: a key's new slot, or a hole's next key's.
    const moved = new Int32Array(count + 1);
    const pages = pageList<Page>();
    let page: Page | undefined;
    let to = 0;
    for (let from = 0; from < count; from++) {
      moved[from] = to;
      const old = this.pages[from >>> PAGE_BITS];
      const at = from & PAGE_MASK;
      const keyLength = old.keyLengths[at];
      if (keyLength === HOLE) continue;
      const n = to & PAGE_MASK;
      if (n === 0) pages.push((page = new Page(Math.max(FIRST_POOL_BYTES, old.used))));
      const jsonLength = old.jsonLengths[at];
      const start = old.starts[at];
      const end = start + keyLength + (jsonLength > 0 ? jsonLength : 0);
      page!.reserve(end - start);
      page!.starts[n] = page!.used;
      page!.appendBytes(old.bytes, start, end);
      page!.keyLengths[n] = keyLength;
      page!.jsonLengths[n] = jsonLength;
      page!.setText(n, jsonLength === TEXT ? old.texts![at] : undefined);
      page!.sources[n] = old.sources[at];
      page!.stamps[n] = old.stamps[at];
      page!.hashes[n] = old.hashes[at];
      to++;
    }
    moved[count] = to;
    const index = this.index;
    for (let j = 0; j < index.length; j += 2) if (index[j] !== EMPTY) index[j] = moved[index[j]];
    this.pages = pages;
    this.slots = to;
    this.capacity = pages.length * PAGE_SIZE;
    for (const ref of this.scans) {
      const state = ref.deref();
      if (state === undefined) this.scans.delete(ref);
      else state.next = moved[Math.min(state.next, count)];
    }
  }
}
