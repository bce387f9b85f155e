import type { AbstractLevel, AbstractSublevel } from 'abstract-level';
import { HASH_BYTES, HASH_NAME } from './hash.js';
import { MerkleTree } from './tree.js';

/**
 * Bytes per stored piece of the tree. Small, so a checkpoint rewrites only
 * the pieces that changed; large enough that loading a 32 MiB tree takes a
 * few hundred reads.
 */
export const TREE_CHUNK = 1 << 16;
/** Chunk size of stores written before chunks were rewritten one by one. */
const LEGACY_CHUNK = 1 << 20;
/** One journal record: a 4-byte bucket number and the bucket's new hash. */
const RECORD_BYTES = 4 + HASH_BYTES;
/** Journal entries read at once when replaying. */
const REPLAY_BATCH = 256;

type AnyLevel = AbstractLevel<any, any, any>;
export type MetaLevel = AbstractSublevel<any, any, string, Uint8Array>;
export type JournalLevel = AbstractSublevel<any, any, Uint8Array, Uint8Array>;

/** What the `tree` entry of the metadata says about the stored chunks. */
interface Header {
  depth: number;
  hash: string;
  bytes: number;
  chunks: number;
  /** Absent in stores written before the journal: then 1 MiB, every chunk present. */
  chunkBytes?: number;
  /** The chunks, with every journal entry after this sequence number applied, are the tree. */
  base?: number;
  /** Written by a clean close: nothing after `base`, and the saved symbols are valid. */
  clean?: boolean;
  symbols?: { size: number; chunks: number };
}

export interface LoadedTree {
  tree: MerkleTree;
  /** The store was closed cleanly: no journal to replay, saved symbols usable. */
  clean: boolean;
  symbols: { size: number; chunks: number } | undefined;
  /** Journal entries (write batches) replayed on top of the stored chunks. */
  replayed: number;
}

/** A journal entry, to go into the write batch whose buckets it records. */
export interface JournalEntry {
  seq: number;
  key: Uint8Array;
  value: Uint8Array;
  buckets: number[];
}

/**
 * Keeps the Merkle tree on disk so that opening never rehashes the data,
 * even after a crash.
 *
 * The tree is stored in chunks; the `tree` header names the journal
 * sequence number (`base`) they describe. Every write batch carries, in the
 * same atomic database batch, a journal entry with the new hash of each
 * bucket it changed. Opening loads the chunks, sets the buckets recorded
 * after `base` and recomputes only the inner nodes above them.
 *
 * Once enough buckets changed since `base`, a checkpoint rewrites the
 * chunks that changed (reading each from the live tree as it goes), then
 * moves `base` forward and drops the journal up to it. A crash part-way
 * leaves some chunks newer than `base`: still correct, because every bucket
 * that changed after `base` is in the journal and the replay recomputes
 * every node above it, and a node above no such bucket is the same in
 * either version of its chunk.
 */
export class SavedTree {
  tree!: MerkleTree;
  /** Journal entries at or before this are described by the stored chunks. */
  private base = 0;
  /** The last sequence number handed to a write batch. */
  private lastSeq = 0;
  /** The last sequence number whose batch is in `tree`. */
  private applied = 0;
  private dirtyChunks = new Set<number>();
  /** Buckets changed since `base`: what an open after a crash would recompute above. */
  private dirtyBuckets = new Set<number>();
  /** Bucket records in the journal since `base`: what an open after a crash would read. */
  private journalRecords = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: AnyLevel,
    private readonly meta: MetaLevel,
    private readonly journal: JournalLevel,
    readonly depth: number,
    /** Checkpoint once this many buckets changed since the last one. */
    readonly limit: number,
  ) {}

  /** Loads the stored tree and replays the journal, or returns undefined if there is no usable stored tree. */
  async load(): Promise<LoadedTree | undefined> {
    const raw = await this.meta.get('tree');
    const header: Header | undefined = raw ? JSON.parse(Buffer.from(raw).toString('utf8')) : undefined;
    if (!header || header.depth !== this.depth || header.hash !== HASH_NAME || header.bytes !== MerkleTree.byteLength(this.depth)) return undefined;
    const legacy = header.chunkBytes === undefined;
    const chunkBytes = header.chunkBytes ?? LEGACY_CHUNK;
    if (!Number.isInteger(chunkBytes) || chunkBytes <= 0 || header.chunks !== Math.ceil(header.bytes / chunkBytes)) return undefined;
    const nodes = new Uint8Array(header.bytes);
    // One chunk at a time: each read is a turn of the event loop, so loading never blocks it for long.
    for (let i = 0; i < header.chunks; i++) {
      const chunk = await this.meta.get(`tree/${i}`);
      const expected = Math.min(chunkBytes, header.bytes - i * chunkBytes);
      if (!chunk) {
        if (legacy) return undefined;
        continue; // an all-zero chunk is not stored
      }
      if (chunk.length !== expected) return undefined;
      nodes.set(chunk, i * chunkBytes);
    }
    const tree = new MerkleTree(this.depth, nodes);
    const base = header.base ?? 0;
    const touched = new Set<number>();
    let last = base;
    let replayed = 0;
    const iterator = this.journal.iterator({ gt: seqKey(base) });
    try {
      while (true) {
        const batch = await iterator.nextv(REPLAY_BATCH);
        if (batch.length === 0) break;
        for (const [key, value] of batch) {
          if (value.length % RECORD_BYTES !== 0) return undefined;
          for (let at = 0; at < value.length; at += RECORD_BYTES) {
            const bucket = ((value[at] << 24) | (value[at + 1] << 16) | (value[at + 2] << 8) | value[at + 3]) >>> 0;
            if (bucket >= tree.buckets) return undefined;
            tree.setBucket(bucket, value.subarray(at + 4, at + RECORD_BYTES));
            touched.add(bucket);
          }
          this.journalRecords += value.length / RECORD_BYTES;
          last = seqOf(key);
          replayed++;
        }
      }
    } finally {
      await iterator.close();
    }
    await tree.recomputeAboveSliced(touched);
    this.tree = tree;
    this.base = base;
    this.lastSeq = this.applied = last;
    for (const bucket of touched) this.markChanged(bucket);
    if (chunkBytes !== TREE_CHUNK) {
      // Written with another chunk size: the next checkpoint rewrites it whole, in ours.
      for (let i = 0; i < Math.ceil(nodes.length / TREE_CHUNK); i++) this.dirtyChunks.add(i);
      await this.meta.clear({ gte: 'tree/', lt: 'tree0' });
      await this.writeChunks();
      await this.writeHeader(base, false, undefined, []);
    }
    const clean = header.clean === true && replayed === 0;
    return { tree, clean, symbols: clean ? header.symbols : undefined, replayed };
  }

  /**
   * Starts from a tree rebuilt from the data: drops the journal and any
   * stored chunks, and stores this tree whole before any write.
   */
  async reset(tree: MerkleTree): Promise<void> {
    this.tree = tree;
    await this.journal.clear();
    await this.meta.clear({ gte: 'tree/', lt: 'tree0' });
    this.base = this.lastSeq = this.applied = 0;
    this.dirtyBuckets.clear();
    this.journalRecords = 0;
    for (let i = 0; i < Math.ceil(tree.nodes.length / TREE_CHUNK); i++) this.dirtyChunks.add(i);
    await this.checkpoint(false, undefined, []);
  }

  /** The batch operation that, once opened, marks the stored tree as not cleanly closed (its saved symbols go stale). */
  openedOp(): { type: 'put'; key: string; value: Uint8Array; sublevel: MetaLevel } {
    return { type: 'put', key: 'tree', value: this.headerBytes(this.base, false, undefined), sublevel: this.meta };
  }

  /**
   * The journal entry of a write batch: the new hash of each bucket the
   * changes touch (computed here, so the tree changes only once the batch
   * is written).
   */
  entry(changes: Array<{ bucket: number; before: Uint8Array | undefined; after: Uint8Array | undefined }>): JournalEntry {
    if (changes.length === 1) {
      // One key (most write groups of a cluster node): its bucket's hash straight into the entry, no map.
      const { bucket, before, after } = changes[0];
      const value = Buffer.allocUnsafe(RECORD_BYTES);
      value.writeUInt32BE(bucket, 0);
      const hash = this.tree.hash(this.depth, bucket);
      for (let i = 0; i < HASH_BYTES; i++) value[4 + i] = hash[i] ^ (before ? before[i] : 0) ^ (after ? after[i] : 0);
      const seq = ++this.lastSeq;
      return { seq, key: seqKey(seq), value, buckets: [bucket] };
    }
    const hashes = new Map<number, Uint8Array>();
    for (const { bucket, before, after } of changes) {
      let hash = hashes.get(bucket);
      if (!hash) hashes.set(bucket, (hash = this.tree.hash(this.depth, bucket).slice()));
      for (let i = 0; i < HASH_BYTES; i++) hash[i] ^= (before ? before[i] : 0) ^ (after ? after[i] : 0);
    }
    const value = Buffer.allocUnsafe(hashes.size * RECORD_BYTES);
    let at = 0;
    for (const [bucket, hash] of hashes) {
      value.writeUInt32BE(bucket, at);
      value.set(hash, at + 4);
      at += RECORD_BYTES;
    }
    const seq = ++this.lastSeq;
    return { seq, key: seqKey(seq), value, buckets: [...hashes.keys()] };
  }

  /** The batch of `entry` is written and in the tree; checkpoints if enough has changed since the last one. */
  written(entry: JournalEntry): void {
    this.applied = entry.seq;
    for (const bucket of entry.buckets) this.markChanged(bucket);
    this.journalRecords += entry.buckets.length;
    // Distinct buckets bound the hashing of a replay; records bound its reading (one hot key rewritten many times).
    if (!this.running && (this.dirtyBuckets.size >= this.limit || this.journalRecords >= 4 * this.limit)) {
      this.running = this.checkpoint(false, undefined, [])
        .catch(() => {
          // The journal still holds everything: the next batch tries again.
        })
        .finally(() => (this.running = undefined));
    }
  }

  /** Writes the changed chunks and a clean header (with `extra` operations in the same batch): what `close()` does. */
  async close(symbols: { size: number; chunks: number } | undefined, extra: object[]): Promise<void> {
    while (this.running) await this.running;
    await this.checkpoint(true, symbols, extra);
  }

  /** Distinct buckets changed since the stored chunks' base (what an open after a crash now would recompute above). */
  get pendingBuckets(): number {
    return this.dirtyBuckets.size;
  }

  private async checkpoint(clean: boolean, symbols: Header['symbols'], extra: object[]): Promise<void> {
    const base = this.applied;
    const buckets = this.dirtyBuckets;
    const records = this.journalRecords;
    this.dirtyBuckets = new Set();
    this.journalRecords = 0;
    try {
      await this.writeChunks();
      await this.writeHeader(base, clean, symbols, extra);
      this.base = base;
      // Entries up to the base are in the chunks now. A crash before this clear leaves them behind, ignored by the next load.
      await this.journal.clear({ lte: seqKey(base) });
    } catch (err) {
      for (const bucket of buckets) this.dirtyBuckets.add(bucket);
      this.journalRecords += records;
      throw err;
    }
  }

  /** Writes every changed chunk, each read from the live tree just before it is written. */
  private async writeChunks(): Promise<void> {
    const chunks = [...this.dirtyChunks].sort((a, b) => a - b);
    this.dirtyChunks.clear();
    try {
      while (chunks.length > 0) {
        const i = chunks[0];
        const copy = this.tree.nodes.slice(i * TREE_CHUNK, (i + 1) * TREE_CHUNK);
        if (allZero(copy)) await this.meta.del(`tree/${i}`);
        else await this.meta.put(`tree/${i}`, copy);
        chunks.shift();
      }
    } catch (err) {
      for (const i of chunks) this.dirtyChunks.add(i);
      throw err;
    }
  }

  private async writeHeader(base: number, clean: boolean, symbols: Header['symbols'], extra: object[]): Promise<void> {
    await this.db.batch([{ type: 'put', key: 'tree', value: this.headerBytes(base, clean, symbols), sublevel: this.meta }, ...(extra as never[])], { sync: true } as object);
  }

  private headerBytes(base: number, clean: boolean, symbols: Header['symbols']): Uint8Array {
    const bytes = MerkleTree.byteLength(this.depth);
    const header: Header = { depth: this.depth, hash: HASH_NAME, bytes, chunks: Math.ceil(bytes / TREE_CHUNK), chunkBytes: TREE_CHUNK, base, clean, symbols };
    return Buffer.from(JSON.stringify(header));
  }

  /** Marks a bucket and the chunks holding the nodes on its path to the root as changed. */
  private markChanged(bucket: number): void {
    this.dirtyBuckets.add(bucket);
    let index = bucket;
    // Offsets shrink going up: once one falls in the first chunk, so do all the levels above it.
    for (let level = this.depth; level >= 0; level--, index >>>= 1) {
      const chunk = Math.floor((((1 << level) - 1 + index) * HASH_BYTES) / TREE_CHUNK);
      this.dirtyChunks.add(chunk);
      if (chunk === 0) break;
    }
  }
}

/** A journal key: the 8-byte big-endian sequence number, so entries sort in order. */
function seqKey(seq: number): Uint8Array {
  const key = Buffer.allocUnsafe(8);
  key.writeUInt32BE(Math.floor(seq / 2 ** 32), 0);
  key.writeUInt32BE(seq >>> 0, 4);
  return key;
}

function seqOf(key: Uint8Array): number {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return view.getUint32(0) * 2 ** 32 + view.getUint32(4);
}

/** True if every byte is zero (a loop: `every` with a callback per byte cost a checkpoint more than writing the chunk). */
function allZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
