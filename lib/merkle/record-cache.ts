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
export class RecordCache {
  private readonly entries = new Map<string, CachedRecord & { size: number }>();
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
    return this.entries.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  get(tag: string, key: string): CachedRecord | undefined {
    const id = tag + key;
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    // Most recently used last: delete and insert again.
    this.entries.delete(id);
    this.entries.set(id, entry);
    return entry;
  }

  set(tag: string, key: string, value: CachedRecord): void {
    this.put(tag, key, value.bytes, value.record, value.leaf);
  }

  /** `set` from the parts, without an object to carry them (a store's write path calls it for every key it writes). */
  put(tag: string, key: string, bytes: Uint8Array | undefined, record: KeyRecord, leaf: Uint8Array | undefined): void {
    const id = tag + key;
    const size = (bytes?.length ?? 0) + 2 * id.length + ENTRY_OVERHEAD;
    const old = this.entries.get(id);
    if (old !== undefined) {
      this.entries.delete(id);
      this.bytes -= old.size;
    }
    if (size > this.maxBytes) return;
    this.entries.set(id, { bytes, record, leaf, size });
    this.bytes += size;
    if (this.bytes <= this.maxBytes) return;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.size;
    }
  }

  delete(tag: string, key: string): void {
    const id = tag + key;
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    this.entries.delete(id);
    this.bytes -= entry.size;
  }
}
