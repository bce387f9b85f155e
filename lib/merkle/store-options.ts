// The store's public options and result types, and the checks of its arguments.
import type { AbstractLevel } from 'abstract-level';
import type { ClockOptions, HybridClock } from '../clock/index.js';
import type { ValueEncoding } from '../codec/index.js';
import { errors } from '../errors.js';
import type { Resolver, SiblingView } from './resolve.js';
import type { RecordCache } from './record-cache.js';

export type AnyLevel = AbstractLevel<any, any, any>;

/** Default tree depth: 2^16 buckets, 2 MiB of hashes; about log2(expected keys) is the right depth. */
export const DEFAULT_DEPTH = 16;

export interface MerkleStoreOptions<V = unknown> {
  /** Directory of a classic-level (LevelDB) database, used when `db` is not given. */
  path?: string;
  /** Any abstract-level database (memory-level in tests and browsers). The store does not close a database it was given. */
  db?: AnyLevel;
  /** Document name; streams of stores with other names refuse each other. Default `'merkle'`. */
  name?: string;
  /** Replica id. Default: the id stored in the database, or a new random one stored there. */
  id?: string;
  /** Tree depth: 2^depth buckets of 16-byte hashes, 32 · 2^depth bytes of memory. Default 16. Peers must agree. */
  depth?: number;
  /** How values become bytes. Default `json`. Peers must agree. */
  valueEncoding?: ValueEncoding<V>;
  /** Write with LevelDB's `sync`, so an acknowledged write survives a machine crash. Default false (survives a process crash). */
  sync?: boolean;
  /** Turns siblings into the single `value` of `get()`: `'lww'` (last writer wins) or your merge function. Default none. */
  resolve?: 'lww' | Resolver<V>;
  /** The hybrid clock stamping writes (used by `'lww'`), or its options. */
  clock?: HybridClock | ClockOptions;
  /** Makes a new replica id. Default 16 random hex digits. */
  randomId?: () => string;
  /** Runs a callback on a later event-loop turn; sessions use it to pace their output. Default `setImmediate`. */
  defer?: (callback: () => void) => void;
  /**
   * How a sync finds the difference: `'merkle'` (default) walks the tree;
   * `'rateless'` streams coded symbols (docs/reconcile.md) and walks only
   * when the peer does not reconcile that way or the difference is beyond
   * the symbols kept. Peers need not agree.
   */
  reconcile?: 'merkle' | 'rateless';
  /** Rateless mode: coded symbols kept up to date, 28 bytes each. Default 32,768 (a difference of about 23,000 entries). */
  symbolPrefix?: number;
  /**
   * Buckets changed since the tree was last stored before the store stores
   * the changed parts again. Bounds the work of an open after a crash
   * (recomputing the tree above that many buckets) against the bytes
   * written by checkpoints. Default 2^depth / 32, at least 1,024.
   */
  checkpointBuckets?: number;
  /**
   * Tombstone garbage collection: a deleted key's record (its version
   * vector) is dropped once its delete is older than this many milliseconds.
   * Every replica must use the same value (checked in the handshake), and a
   * replica that was cut off from every other for longer must not rejoin
   * with its data: it may bring deleted values back (docs/merkle.md). New
   * writes then take their version counters from the hybrid clock, so a
   * key written again after its record was dropped never reuses a version.
   * Default: none (deleted keys keep their record forever).
   */
  tombstoneGrace?: number;
  /**
   * Keeps the records this store wrote or read lately in memory, so that
   * writing a key again skips reading its old record from the database.
   * Several stores may share one cache and its budget. Default: none.
   */
  recordCache?: RecordCache;
}

/** What `get()` returns. */
export interface Versions<V> {
  key: string;
  /** The standing values, one per sibling, in the same order on every replica. Empty if absent or deleted. */
  values: V[];
  /** The siblings with their writer and timestamp. */
  siblings: SiblingView<V>[];
  /** The value if there is exactly one; with a resolver, the resolved value of several. */
  value: V | undefined;
  /** More than one sibling. */
  conflict: boolean;
  /** Pass to `put`/`del` to replace exactly these versions. */
  context: string;
}

export interface ChangeEvent<V> {
  key: string;
  values: V[];
  /** Made by this replica (`put`/`del`) rather than received from a peer. */
  local: boolean;
}

/** Options of `put` and `del`. */
export interface WriteOptions {
  /** The context from `get()`: replace exactly the versions it saw. Default: every version this replica holds. */
  context?: string;
  /**
   * Resolve only once the write is synced to the disk (LevelDB's `sync`), so
   * it survives a machine crash, not only a process crash. Default: the
   * store's own `sync` option. The batch it goes in is synced as a whole.
   */
  sync?: boolean;
}

const WRITE_OPTIONS = new Set(['context', 'sync']);

/** An option we do not know is a mistake (a misspelt `sync` would silently lose durability): refuse it. */
export function checkWriteOptions(options: WriteOptions): void {
  if (options === null || typeof options !== 'object') throw errors.invalidArgument('write options must be an object');
  for (const name of Object.keys(options)) if (!WRITE_OPTIONS.has(name)) throw errors.invalidArgument(`unknown write option ${JSON.stringify(name)}`);
  if (options.sync !== undefined && typeof options.sync !== 'boolean') throw errors.invalidArgument('sync must be a boolean');
}

export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw errors.invalidArgument('keys are strings');
  if (!key.isWellFormed()) throw errors.invalidArgument('key has lone surrogates');
}
