import { errors } from '../errors.js';
import type { KeyRecord } from './record.js';

/** What the cache knows of one key: its stored record (absent: no record), decoded, and its leaf hash once computed. */
export interface CachedRecord {
  bytes: Uint8Array | undefined;
  record: KeyRecord;
  leaf: Uint8Array | undefined;
}

/** Bytes charged per entry beyond the record and the key: the entry, the decoded record, the map's slot. */
const ENTRY_OVERHEAD = 160;

/**
 * The records a store wrote or read most recently, so that writing a key
 * again skips reading its old record back from the database: one hand-off
 * to the database's thread pool and one decode fewer per write. Several
 * stores may share one cache (a cluster node's partitions: one budget for
 * all), each under its own tag.
 *
 * Only a store's write queue fills it, after its batch is written, and that
 * queue is the only writer of the store's records, so an entry is always
 * the record in the database. A store that closes takes a new tag if it is
 * ever opened again; what it left ages out.
 *
 * Least recently used first out, once the bytes (records, keys and a fixed
 * overhead per entry) pass `maxBytes`.
 */
/** An entry, in the least-recently-used list (oldest first) as well as its tag's map. */
interface Entry extends CachedRecord {
  size: number;
  tag: string;
  keys: Map<string, Entry>;
  key: string;
  older: Entry | undefined;
  newer: Entry | undefined;
}

export class RecordCache {
  /** Each tag's entries by key: a lookup is two map reads, with no key string made from the tag and the key. */
  private readonly byTag = new Map<string, Map<string, Entry>>();
  private oldest: Entry | undefined;
  private newest: Entry | undefined;
  private count = 0;
  private bytes = 0;
  private tags = 0;

  constructor(readonly maxBytes: number) {
    if (!Number.isInteger(maxBytes) || maxBytes < 0) throw errors.invalidArgument('a record cache takes a whole number of bytes');
  }

  /** A tag of its own for a store. */
  newTag(): string {
    return `${(this.tags++).toString(36)}\0`;
  }

  get size(): number {
    return this.count;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  get(tag: string, key: string): CachedRecord | undefined {
    const entry = this.byTag.get(tag)?.get(key);
    if (entry === undefined) return undefined;
    // Most recently used last.
    if (entry !== this.newest) {
      this.unlink(entry);
      this.append(entry);
    }
    return entry;
  }

  set(tag: string, key: string, value: CachedRecord): void {
    this.put(tag, key, value.bytes, value.record, value.leaf);
  }

  /** `set` from the parts, without an object to carry them (a store's write path calls it for every key it writes). */
  put(tag: string, key: string, bytes: Uint8Array | undefined, record: KeyRecord, leaf: Uint8Array | undefined): void {
    const size = (bytes?.length ?? 0) + 2 * (tag.length + key.length) + ENTRY_OVERHEAD;
    let keys = this.byTag.get(tag);
    const old = keys?.get(key);
    if (size > this.maxBytes) {
      if (old !== undefined) this.remove(old);
      return;
    }
    if (old !== undefined) {
      // The same entry, updated and moved to the newest end: no map operation (a key written again is the usual case).
      old.bytes = bytes;
      old.record = record;
      old.leaf = leaf;
      this.bytes += size - old.size;
      old.size = size;
      if (old !== this.newest) {
        this.unlink(old);
        this.append(old);
      }
    } else {
      if (keys === undefined) this.byTag.set(tag, (keys = new Map()));
      const entry: Entry = { bytes, record, leaf, size, tag, keys, key, older: undefined, newer: undefined };
      keys.set(key, entry);
      this.append(entry);
      this.count++;
      this.bytes += size;
    }
    while (this.bytes > this.maxBytes && this.oldest !== undefined) this.remove(this.oldest);
  }

  delete(tag: string, key: string): void {
    const entry = this.byTag.get(tag)?.get(key);
    if (entry !== undefined) this.remove(entry);
  }

  private remove(entry: Entry): void {
    entry.keys.delete(entry.key);
    // A tag whose entries are all gone (its store closed, or they aged out) keeps no map.
    if (entry.keys.size === 0) this.byTag.delete(entry.tag);
    this.unlink(entry);
    this.count--;
    this.bytes -= entry.size;
  }

  private append(entry: Entry): void {
    entry.older = this.newest;
    entry.newer = undefined;
    if (this.newest) this.newest.newer = entry;
    else this.oldest = entry;
    this.newest = entry;
  }

  private unlink(entry: Entry): void {
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
    entry.older = entry.newer = undefined;
  }
}
