/**
 * The most recently used stored records of one or more MerkleStores, in a
 * memory budget (bytes of keys and records). A store that has one answers
 * reads and finds the old record of a write without a database round trip
 * for the keys in it: a cluster node reads a key right after writing it,
 * and replicas merge the keys that were just written elsewhere.
 *
 * The store keeps it exact: only its single writer fills it, with what it
 * read or wrote inside a write group; a read that misses fills it only when
 * no write group ran in the meantime. Several stores share one cache under
 * distinct `space` names (a node's partitions: one budget for all).
 */
export class RecordCache {
  private readonly entries = new Map<string, Uint8Array>();
  private used = 0;

  constructor(readonly maxBytes: number) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.used;
  }

  get(space: string, storedKey: Uint8Array): Uint8Array | undefined {
    const id = idOf(space, storedKey);
    const record = this.entries.get(id);
    if (record === undefined) return undefined;
    // Most recently used last: Map keeps insertion order.
    this.entries.delete(id);
    this.entries.set(id, record);
    return record;
  }

  set(space: string, storedKey: Uint8Array, record: Uint8Array): void {
    const id = idOf(space, storedKey);
    const cost = id.length + record.length;
    const old = this.entries.get(id);
    if (old !== undefined) {
      this.entries.delete(id);
      this.used -= id.length + old.length;
    }
    if (cost > this.maxBytes / 8) return; // one record may not push out most of the rest
    this.entries.set(id, record);
    this.used += cost;
    for (const [oldest, bytes] of this.entries) {
      if (this.used <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.used -= oldest.length + bytes.length;
    }
  }

  /** Forgets every record of `space` (its store closed). */
  dropSpace(space: string): void {
    const prefix = space + SEPARATOR;
    for (const [id, bytes] of this.entries) {
      if (id.startsWith(prefix)) {
        this.entries.delete(id);
        this.used -= id.length + bytes.length;
      }
    }
  }
}

/** Ends the space name: a latin1 string of the key never holds it, so no space's ids run into another's. */
const SEPARATOR = '\u0100';

function idOf(space: string, storedKey: Uint8Array): string {
  return space + SEPARATOR + Buffer.from(storedKey.buffer, storedKey.byteOffset, storedKey.byteLength).toString('latin1');
}
