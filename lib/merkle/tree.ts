import { errors } from '../errors.js';
import { HASH_BYTES, nodeHash } from './hash.js';

/** Deepest tree accepted: 2^24 buckets, 512 MiB of hashes. */
export const MAX_DEPTH = 24;
/**
 * Buckets whose paths to the root may wait: past this many, the inner
 * nodes above them are recomputed at once. Bounds the work of the read
 * that settles them: at most this many paths (at depth 20 about 3,300
 * hashes, a few ms), never more than eager updates would have hashed.
 */
export const MAX_STALE_BUCKETS = 256;

export function checkDepth(depth: number): void {
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH) {
    throw errors.invalidArgument(`tree depth must be an integer from 1 to ${MAX_DEPTH}, got ${depth}`);
  }
}

/**
 * A complete binary hash tree of fixed depth over the key space, held in
 * one typed array in heap order (node `i` of level `l` at `2^l - 1 + i`).
 *
 * Level `depth` holds the buckets: a key falls into the bucket given by the
 * top `depth` bits of the hash of the key. A bucket's hash is the XOR of the
 * leaf hashes of its keys, so a write changes it without reading the other
 * keys of the bucket; every inner node is the hash of its two children
 * (all zero for an empty subtree). A write therefore costs `depth` hashes,
 * whatever the number of keys.
 *
 * Binary rather than wider: a walk sends the two children of each differing
 * node, so the bytes spent per level and differing key are 2 hashes instead
 * of the fan-out's worth; the extra levels cost round trips, which the
 * session pipelines.
 *
 * Written buckets are updated at once; the inner nodes above them only
 * when something reads an inner node (the root, a walk, a checkpoint), or
 * once MAX_STALE_BUCKETS buckets wait. Between two reads a node on many
 * changed paths is hashed once, not once per write: a store of a cluster
 * node, whose root is read by anti-entropy now and then, skips most of the
 * `depth` hashes of each write. Every reader sees settled nodes: `nodes`,
 * `hash`, `equals` and `root` settle first.
 */
export class MerkleTree {
  readonly depth: number;
  private readonly bytes: Uint8Array;
  /** Buckets changed since the inner nodes above them were last recomputed. */
  private stale = new Set<number>();

  constructor(depth: number, nodes?: Uint8Array) {
    checkDepth(depth);
    this.depth = depth;
    const size = MerkleTree.byteLength(depth);
    if (nodes && nodes.length !== size) throw errors.invalidArgument(`tree of depth ${depth} needs ${size} bytes, got ${nodes.length}`);
    this.bytes = nodes ?? new Uint8Array(size);
  }

  /** Every node, in heap order, settled. */
  get nodes(): Uint8Array {
    this.settle();
    return this.bytes;
  }

  /** Buckets whose paths to the root wait to be recomputed. */
  get staleBuckets(): number {
    return this.stale.size;
  }

  /** Recomputes the inner nodes above every bucket changed since the last time. */
  settle(): void {
    if (this.stale.size === 0) return;
    const stale = this.stale;
    this.stale = new Set();
    this.recomputeAbove(stale);
  }

  static byteLength(depth: number): number {
    return (2 ** (depth + 1) - 1) * HASH_BYTES;
  }

  /** Number of buckets: 2^depth. */
  get buckets(): number {
    return 2 ** this.depth;
  }

  /** Byte offset of node `index` of `level`. */
  offset(level: number, index: number): number {
    // A shift, not 2 ** level: this runs for every node of every path (levels stay below 32).
    return ((1 << level) - 1 + index) * HASH_BYTES;
  }

  hash(level: number, index: number): Uint8Array {
    if (level < this.depth) this.settle();
    const at = this.offset(level, index);
    return this.bytes.subarray(at, at + HASH_BYTES);
  }

  get root(): Uint8Array {
    return this.hash(0, 0);
  }

  /** True if node `index` of `level` equals the hash at `other[at..]`. */
  equals(level: number, index: number, other: Uint8Array, at: number): boolean {
    if (level < this.depth) this.settle();
    const mine = this.offset(level, index);
    const nodes = this.bytes;
    for (let i = 0; i < HASH_BYTES; i++) if (nodes[mine + i] !== other[at + i]) return false;
    return true;
  }

  /** The bucket of a key, from the 32-bit position of its hash. */
  bucketOf(position: number): number {
    // A shift, not a division by 2 ** (32 - depth), which is a call to pow (depth is 1 to 24, so the shift is 8 to 31).
    return position >>> (32 - this.depth);
  }

  /** Folds a leaf hash into (or out of) a bucket, without touching the levels above. */
  toggleLeaf(bucket: number, leaf: Uint8Array): void {
    const at = this.offset(this.depth, bucket);
    const nodes = this.bytes;
    for (let i = 0; i < HASH_BYTES; i++) nodes[at + i] ^= leaf[i];
  }

  /** One key changed from `before` to `after` (either may be absent): updates its bucket and the path to the root. */
  update(bucket: number, before: Uint8Array | undefined, after: Uint8Array | undefined): void {
    this.settle();
    if (before) this.toggleLeaf(bucket, before);
    if (after) this.toggleLeaf(bucket, after);
    let index = bucket;
    for (let level = this.depth - 1; level >= 0; level--) {
      index = Math.floor(index / 2);
      this.recompute(level, index);
    }
  }

  /**
   * Several keys changed at once (one write batch): updates their buckets
   * now, and the inner nodes above them when next read (each once).
   */
  updateMany(changes: Array<{ bucket: number; before: Uint8Array | undefined; after: Uint8Array | undefined }>): void {
    for (const { bucket, before, after } of changes) {
      if (before) this.toggleLeaf(bucket, before);
      if (after) this.toggleLeaf(bucket, after);
      this.stale.add(bucket);
    }
    if (this.stale.size >= MAX_STALE_BUCKETS) this.settle();
  }

  /** Overwrites a bucket's hash (from a journal), without touching the levels above. */
  setBucket(bucket: number, hash: Uint8Array): void {
    this.bytes.set(hash.subarray(0, HASH_BYTES), this.offset(this.depth, bucket));
  }

  /** Recomputes each inner node on the paths from `buckets` to the root once, level by level. */
  recomputeAbove(buckets: Iterable<number>): void {
    let dirty = new Set(buckets);
    for (let level = this.depth - 1; level >= 0; level--) {
      const parents = new Set<number>();
      for (const index of dirty) parents.add(Math.floor(index / 2));
      for (const index of parents) this.recompute(level, index);
      dirty = parents;
    }
  }

  /** `recomputeAbove` for many buckets (a journal replay), yielding to the event loop after every `slice` nodes. */
  async recomputeAboveSliced(buckets: Iterable<number>, slice = 8192, pause: () => Promise<void> = () => new Promise((r) => setImmediate(r))): Promise<void> {
    // Sorted, the parents of a level are the halves with neighbours merged: no set needed.
    const dirty = Uint32Array.from(new Set([...buckets, ...this.stale])).sort();
    this.stale = new Set();
    let count = dirty.length;
    let budget = slice;
    for (let level = this.depth - 1; level >= 0; level--) {
      let parents = 0;
      for (let i = 0; i < count; i++) {
        const parent = dirty[i] >>> 1;
        if (parents === 0 || dirty[parents - 1] !== parent) dirty[parents++] = parent;
      }
      count = parents;
      for (let i = 0; i < count; i++) {
        this.recompute(level, dirty[i]);
        if (--budget === 0) {
          budget = slice;
          await pause();
        }
      }
    }
  }

  /**
   * Recomputes every inner node from the buckets, bottom up, yielding to the
   * event loop after every `slice` nodes so a large rebuild does not stall it.
   */
  async recomputeAll(slice = 8192, pause: () => Promise<void> = () => new Promise((r) => setImmediate(r))): Promise<void> {
    this.stale = new Set();
    let budget = slice;
    for (let level = this.depth - 1; level >= 0; level--) {
      const width = 2 ** level;
      for (let index = 0; index < width; index++) {
        this.recompute(level, index);
        if (--budget === 0) {
          budget = slice;
          await pause();
        }
      }
    }
  }

  private recompute(level: number, index: number): void {
    const at = this.offset(level, index);
    const child = this.offset(level + 1, index * 2);
    const nodes = this.bytes;
    let empty = true;
    for (let i = 0; i < 2 * HASH_BYTES; i++) {
      if (nodes[child + i] !== 0) {
        empty = false;
        break;
      }
    }
    if (empty) nodes.fill(0, at, at + HASH_BYTES);
    else nodes.set(nodeHash(nodes, child), at);
  }
}
