import { randomBytes } from 'node:crypto';
import type { AbstractSublevel } from 'abstract-level';
import { HybridClock, type ClockOptions, fromWallTime, wallTime } from '../clock/index.js';
import { type ValueEncoding, canonicalOf, decode, encode, json } from '../codec/index.js';
import { errors } from '../errors.js';
import { pathDb } from '../path-db.js';
import { Replica } from '../session/replica.js';
import type { Descriptor, SessionOptions } from '../session/contract.js';
import { HASH_NAME, keyPosition, leafHash } from './hash.js';
import { type KeyRecord, EMPTY_RECORD, decodeContext, encodeContext, encodeRecord, decodeRecord, isTombstone, mergeRecords, writeRecord } from './record.js';
import { type Resolver, lastWriterWins } from './resolve.js';
import type { LiveEntry } from './live-entries.js';
import { MerkleSession } from './session.js';
import { RatelessSession } from './rateless-session.js';
import { DEFAULT_SYMBOL_PREFIX, StoreSymbols, entryItem, versionSum } from './store-symbols.js';
import type { SymbolPrefix } from '../reconcile/prefix.js';
import { SessionSet } from '../session/session-set.js';
import { type AnyLevel, type ChangeEvent, type MerkleStoreOptions, type Versions, type WriteOptions, DEFAULT_DEPTH, checkKey, checkWriteOptions } from './store-options.js';
import { EMPTY_BYTES, dataKey, position, timeKey, tombstoneKey } from './stored-keys.js';
import { MerkleTree, checkDepth } from './tree.js';
import type { RecordCache } from './record-cache.js';
import { type RawOperation, rawWriter, syncReader } from '../storage/turn-batching.js';
import { type JournalEntry, type JournalLevel, type MetaLevel, SavedTree } from './saved-tree.js';

/** Read options of the root database: keys and records as bytes. */
const VIEWS = { keyEncoding: 'view', valueEncoding: 'view' } as const;
/** Most operations written in one database batch: bounds the synchronous work per batch (tree paths, records) to a few ms. */
const MAX_GROUP = 128;
/** Runs of fewer buckets than this are read by seeking, several at once. */
const SHORT_RUN = 16;
/** Short runs read before yielding. */
const SHORT_RUNS_AT_ONCE = 256;
/** Iterators seeking side by side. */
const READ_LANES = 8;
/** The tree snapshot is stored in chunks of this many bytes. */
const SNAPSHOT_CHUNK = 1 << 20;

interface Pending {
  key: string;
  /** `collect`: drop the key's record if it is still a tombstone deleted before `cutoff`. */
  kind: 'write' | 'merge' | 'barrier' | 'collect';
  cutoff?: number;
  value?: Uint8Array; // write: undefined deletes
  seen?: KeyRecord['context']; // write
  sync?: boolean; // write: this write must be synced to disk
  record?: KeyRecord; // merge
  origin?: object;
  /** The key's stored form (`dataKey(key)`) if the caller had made it already: the key is not hashed again. */
  stored?: Uint8Array;
  /** write: settle with the key's stored record once written (`putRecord`, `delRecord`), not its context. */
  wantRecord?: boolean;
  /** merge (`mergeEncoded`): the bytes `record` was decoded from, stored as they are when the merge leaves exactly that record; settles with nothing. */
  bytes?: Uint8Array;
  /** The key's record after this operation (set by `applyGroup`). */
  after?: KeyRecord;
  resolve: (result: any) => void;
  reject: (err: unknown) => void;
}

/**
 * A persistent key/value store on an abstract-level database, replicated by
 * Merkle-tree anti-entropy over `createStream()`. Concurrent writes are kept
 * as siblings (dotted version vectors, as in Dynamo and Riak) identically on
 * every replica until a write that has seen them replaces them.
 *
 * Events: `'change'` ({ key, values, local }) after every write that changed
 * a key, local or from a peer; `'conflict'` ({ key, values }) when a key
 * gains a sibling it did not have, so it now holds several.
 */
export class MerkleStore<V = unknown> extends Replica {
  readonly name: string;
  readonly valueEncoding: ValueEncoding<V>;
  readonly sync: boolean;
  readonly clock: HybridClock;
  readonly depth: number;
  /** The tree; undefined until open. */
  tree: MerkleTree | undefined;
  /**
   * How the tree was obtained at open: loaded as a clean close stored it
   * (`'snapshot'`), loaded with the journal of the writes since replayed on
   * top (`'journal'`, after a crash), or rebuilt by hashing every record
   * (`'rebuild'`: no usable stored tree, or another depth).
   */
  openedFrom: 'snapshot' | 'journal' | 'rebuild' | undefined;
  /** Write batches replayed from the journal at open. */
  replayedBatches = 0;

  private database: AnyLevel | undefined;
  /**
   * The root database under `db` (itself if `db` is no sublevel). The write
   * path reads and writes through it with keys already prefixed (or a
   * batch's `sublevel` option): each sublevel between would otherwise check,
   * copy and prefix every key and operation once more on the way down.
   */
  private root!: AnyLevel;
  private readonly path: string | undefined;
  private data!: AbstractSublevel<any, any, Uint8Array, Uint8Array>;
  private meta!: MetaLevel;
  private journal!: JournalLevel;
  private saved!: SavedTree;
  private readonly checkpointBuckets: number;
  /** Deleted keys by delete time: the tombstones a collection looks at. */
  private tombstones!: AbstractSublevel<any, any, Uint8Array, Uint8Array>;
  /** Milliseconds after which a tombstone is collected; undefined keeps them forever. */
  readonly tombstoneGrace: number | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly ownsDb: boolean;
  private readonly resolver: Resolver<V> | undefined;
  private readonly randomId: () => string;
  /** Runs a callback on a later event-loop turn. */
  readonly defer: (callback: () => void) => void;
  /** How a sync finds the difference (see `MerkleStoreOptions.reconcile`). */
  readonly reconcile: 'merkle' | 'rateless';
  private readonly symbolPrefixSize: number;
  /** The maintained coded symbols, once asked for. */
  private storeSymbols: StoreSymbols | undefined;
  private symbolsStarted: Promise<StoreSymbols> | undefined;
  private replicaId: string | undefined;
  private opening: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private isOpen = false;
  private queue: Pending[] = [];
  private draining = false;
  /** Records written or read lately (shared with other stores, under this store's tag), or undefined. */
  private readonly cache: RecordCache | undefined;
  private readonly cacheTag: string;
  /** @internal Every open session, to end them when the store closes. */
  readonly sessions = new Set<{ storeClosed(): void }>();
  /** @internal The live sessions: every record that changed goes to each but the one it came from. */
  readonly peers = new SessionSet<LiveEntry>();

  constructor(options: MerkleStoreOptions<V> = {}) {
    super();
    if (!options.db && !options.path) throw errors.invalidArgument('MerkleStore needs a path or a db');
    this.ownsDb = !options.db;
    this.path = options.path;
    if (options.db) this.useDb(options.db);
    this.name = options.name ?? 'merkle';
    this.replicaId = options.id;
    this.depth = options.depth ?? DEFAULT_DEPTH;
    checkDepth(this.depth);
    this.valueEncoding = options.valueEncoding ?? (json as ValueEncoding<any>);
    this.sync = options.sync ?? false;
    this.clock = options.clock instanceof HybridClock ? options.clock : new HybridClock(options.clock);
    this.resolver = options.resolve === 'lww' ? lastWriterWins : options.resolve;
    this.randomId = options.randomId ?? (() => randomBytes(8).toString('hex'));
    this.defer = options.defer ?? ((callback) => setImmediate(callback));
    this.reconcile = options.reconcile ?? 'merkle';
    if (this.reconcile !== 'merkle' && this.reconcile !== 'rateless') throw errors.invalidArgument(`reconcile is 'merkle' or 'rateless', got ${String(this.reconcile)}`);
    this.symbolPrefixSize = options.symbolPrefix ?? DEFAULT_SYMBOL_PREFIX;
    if (!Number.isInteger(this.symbolPrefixSize) || this.symbolPrefixSize < 1 || this.symbolPrefixSize > 1 << 24) throw errors.invalidArgument('symbolPrefix is an integer from 1 to 2^24');
    this.checkpointBuckets = options.checkpointBuckets ?? Math.max(1024, 2 ** this.depth / 32);
    if (!Number.isInteger(this.checkpointBuckets) || this.checkpointBuckets < 1) throw errors.invalidArgument('checkpointBuckets is a positive integer');
    this.cache = options.recordCache;
    this.cacheTag = this.cache?.newTag() ?? '';
    this.tombstoneGrace = options.tombstoneGrace;
    if (this.tombstoneGrace !== undefined && (!Number.isInteger(this.tombstoneGrace) || this.tombstoneGrace < 1)) throw errors.invalidArgument('tombstoneGrace is a positive integer of milliseconds');
  }

  /** The database. A store on a path creates it in `open()`, which loads classic-level only then. */
  get db(): AnyLevel {
    this.assertDatabase();
    return this.database!;
  }

  /** A store on a path has no database before `open()`: a method that reads it refuses with a coded error, not a TypeError. */
  private assertDatabase(): void {
    if (!this.database) throw errors.invalidArgument('the database of a store on a path exists once the store is open: await store.open() first');
  }

  private useDb(db: AnyLevel): void {
    this.database = db;
    this.root = (db as { db?: AnyLevel }).db ?? db;
    this.data = db.sublevel<Uint8Array, Uint8Array>('d', { keyEncoding: 'view', valueEncoding: 'view' });
    this.meta = db.sublevel<string, Uint8Array>('m', { keyEncoding: 'utf8', valueEncoding: 'view' });
    this.journal = db.sublevel<Uint8Array, Uint8Array>('j', { keyEncoding: 'view', valueEncoding: 'view' });
    this.tombstones = db.sublevel<Uint8Array, Uint8Array>('t', { keyEncoding: 'view', valueEncoding: 'view' });
  }

  get id(): string {
    if (this.replicaId === undefined) throw errors.invalidArgument('the replica id is known once the store is open: await store.open() first, or pass an id');
    return this.replicaId;
  }

  get descriptor(): Descriptor {
    const gc = this.tombstoneGrace === undefined ? '' : `/gc${this.tombstoneGrace}`;
    return { kind: 'merkle', name: this.name, id: this.id, params: `${HASH_NAME}/${this.depth}/${this.valueEncoding.name}${gc}` };
  }

  get opened(): boolean {
    return this.isOpen;
  }

  /** The root hash as hex; all-zero for an empty store. Equal roots mean equal contents. */
  get rootHash(): string {
    if (!this.tree) throw this.closing ? errors.closed('the store') : errors.invalidArgument('the root hash is known once the store is open: await store.open() first');
    return Buffer.from(this.tree.root).toString('hex');
  }

  openSession(options: SessionOptions): MerkleSession | RatelessSession {
    return this.reconcile === 'rateless' ? new RatelessSession(this, options) : new MerkleSession(this, options);
  }

  /** Opens the database and loads (or rebuilds) the tree. Idempotent; every other method awaits it. */
  open(): Promise<void> {
    if (this.closing) return Promise.reject(errors.closed('store'));
    return (this.opening ??= this.doOpen());
  }

  private async doOpen(): Promise<void> {
    if (!this.database) this.useDb(await pathDb(this.path!, { keyEncoding: 'view', valueEncoding: 'view' }));
    await this.db.open();
    const storedId = await this.meta.get('id');
    const id = this.replicaId ?? (storedId ? Buffer.from(storedId).toString('utf8') : this.randomId());
    this.replicaId = id;
    const stamp = await this.meta.get('clock');
    if (stamp) this.clock.restore(Number(Buffer.from(stamp).toString('utf8')));
    this.saved = new SavedTree(this.db, this.meta, this.journal, this.depth, this.checkpointBuckets);
    const loaded = await this.saved.load();
    // Rateless symbols saved with the tree describe the same data only after a clean close.
    const savedSymbols = loaded?.clean && this.reconcile === 'rateless' ? await this.loadSavedSymbols(loaded.symbols) : undefined;
    if (loaded) {
      this.tree = loaded.tree;
      this.openedFrom = loaded.clean ? 'snapshot' : 'journal';
      this.replayedBatches = loaded.replayed;
    } else {
      this.tree = await this.buildTree();
      this.openedFrom = 'rebuild';
      await this.saved.reset(this.tree);
    }
    // From here on the data may change, so the saved symbols no longer describe it:
    // mark the stored tree as not cleanly closed (durably) before any write.
    await this.db.batch([this.saved.openedOp(), { type: 'put', key: 'id', value: Buffer.from(id), sublevel: this.meta }], { sync: true } as object);
    this.isOpen = true;
    if (this.tombstoneGrace !== undefined) {
      // Sweep a few times per grace period; a tombstone lives at most a quarter period past its grace.
      const every = Math.min(Math.max(1000, this.tombstoneGrace / 4), 3_600_000);
      this.sweeper = setInterval(() => void this.collectTombstones().catch(() => {}), every);
      this.sweeper.unref();
    }
    if (savedSymbols) this.storeSymbols = savedSymbols;
    if (this.reconcile === 'rateless') this.symbolsStarted = savedSymbols ? Promise.resolve(savedSymbols) : this.startSymbols();
  }

  /** Saves the maintained symbols in chunks (as the tree); returns their header entry, or undefined if there are none. */
  private async saveSymbols(): Promise<{ size: number; chunks: number } | undefined> {
    const symbols = this.storeSymbols;
    if (!symbols) return undefined;
    try {
      await symbols.ready; // a load still reading must finish before the database closes
    } catch {
      return undefined; // a load that failed leaves nothing worth saving
    }
    const bytes = symbols.toBytes();
    const chunks = Math.ceil(bytes.length / SNAPSHOT_CHUNK);
    for (let i = 0; i < chunks; i++) await this.meta.put(`symbols/${i}`, bytes.subarray(i * SNAPSHOT_CHUNK, (i + 1) * SNAPSHOT_CHUNK));
    return { size: symbols.prefix.size, chunks };
  }

  private async loadSavedSymbols(header: { size: number; chunks: number } | undefined): Promise<StoreSymbols | undefined> {
    if (!header || header.size !== this.symbolPrefixSize) return undefined;
    const parts: Uint8Array[] = [];
    for (let i = 0; i < header.chunks; i++) {
      const chunk = await this.meta.get(`symbols/${i}`);
      if (!chunk) return undefined;
      parts.push(chunk);
    }
    return StoreSymbols.fromBytes(header.size, Buffer.concat(parts));
  }

  /** Builds the tree from every stored record: what `open()` does after a crash. */
  async buildTree(): Promise<MerkleTree> {
    this.assertDatabase();
    const tree = new MerkleTree(this.depth);
    const iterator = this.data.iterator();
    try {
      while (true) {
        const batch = await iterator.nextv(1000);
        if (batch.length === 0) break;
        for (const [key, record] of batch) {
          const position = ((key[0] << 24) | (key[1] << 16) | (key[2] << 8) | key[3]) >>> 0;
          tree.toggleLeaf(tree.bucketOf(position), leafHash(key.subarray(4), record));
        }
      }
    } finally {
      await iterator.close();
    }
    await tree.recomputeAll();
    return tree;
  }

  /** Reads the current versions of `key`. */
  async get(key: string): Promise<Versions<V>> {
    checkKey(key);
    await this.ready();
    const stored = await this.readRecord(key);
    return this.versions(key, stored ? decodeRecord(stored) : EMPTY_RECORD);
  }

  /** The stored record of `key` as bytes (see record.ts), or undefined: what a cluster sends between replicas. */
  async getRecord(key: string): Promise<Uint8Array | undefined> {
    checkKey(key);
    await this.ready();
    return this.readRecord(key);
  }

  /**
   * The stored record of `key`: from the record cache if it has it (what the
   * last written batch left, so what the database holds), else read. A read
   * never fills the cache: one that raced a write could put back the record
   * that write replaced.
   */
  private async readRecord(key: string): Promise<Uint8Array | undefined> {
    const cached = this.cache?.get(this.cacheTag, key);
    if (cached) return cached.bytes;
    const stored = this.data.prefixKey(dataKey(key), 'view') as Uint8Array;
    const readNow = syncReader(this.root);
    return readNow ? readNow(stored) : ((await this.root.get(stored, VIEWS)) ?? undefined);
  }

  /**
   * Writes `value`, replacing the versions `options.context` saw (default:
   * every version this replica holds). Resolves with the new context once
   * the write is in the database.
   */
  async put(key: string, value: V, options: WriteOptions = {}): Promise<string> {
    checkKey(key);
    checkWriteOptions(options);
    // Exactly what peers will decode, or ERR_INVALID_ARGUMENT (Infinity, -0, BigInt, cycles...).
    return this.write(key, encode(this.valueEncoding, canonicalOf(this.valueEncoding, value) as V), options);
  }

  /** Deletes the versions `options.context` saw (default: every version this replica holds). The key's context stays, so they never come back. */
  async del(key: string, options: WriteOptions = {}): Promise<string> {
    checkKey(key);
    checkWriteOptions(options);
    return this.write(key, undefined, options);
  }

  /**
   * As `put`, resolving with the key's stored record (the bytes `getRecord`
   * would read next) instead of its context: a cluster replica hands the
   * record on to the others without reading it back.
   */
  async putRecord(key: string, value: V, options: WriteOptions = {}): Promise<Uint8Array> {
    checkKey(key);
    checkWriteOptions(options);
    return this.write(key, encode(this.valueEncoding, canonicalOf(this.valueEncoding, value) as V), options, true);
  }

  /**
   * As `putRecord`, for a value that arrives already encoded (a cluster
   * replica receives it as bytes): decoded once to check it (ERR_DECODE, as
   * a value received from a peer), then stored as these same bytes, which a
   * value that decodes is the canonical encoding of; nothing is encoded again.
   */
  putEncodedRecord(key: string, value: Uint8Array, options: WriteOptions = {}, stored?: Uint8Array): Promise<Uint8Array> {
    try {
      checkKey(key);
      checkWriteOptions(options);
      decode(this.valueEncoding, value);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.write(key, value, options, true, stored);
  }

  /**
   * As `putEncodedRecord`, for bytes the caller has already decoded once
   * with this store's value encoding (a cluster node checks a value at the
   * door it came in by, and hands the checked bytes on): not decoded again.
   * Bytes that were not checked must go through `putEncodedRecord`.
   * `stored`, if given, must be `dataKey(key)` (saves hashing the key again).
   */
  putCheckedRecord(key: string, value: Uint8Array, options: WriteOptions = {}, stored?: Uint8Array): Promise<Uint8Array> {
    return this.recordWrite(key, value, options, stored);
  }

  /** As `del`, resolving with the key's stored record (see `putRecord`; `stored` as in `putCheckedRecord`). */
  delRecord(key: string, options: WriteOptions = {}, stored?: Uint8Array): Promise<Uint8Array> {
    return this.recordWrite(key, undefined, options, stored);
  }

  /** A write (or, with no value, a delete) of a checked value, its key and options checked here; settles with the key's stored record. */
  private recordWrite(key: string, value: Uint8Array | undefined, options: WriteOptions, stored: Uint8Array | undefined): Promise<Uint8Array> {
    try {
      checkKey(key);
      checkWriteOptions(options);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.write(key, value, options, true, stored);
  }

  /**
   * Queues a write; settles with the new context, or (`wantRecord`) the
   * key's stored record as written. An open store queues it at once, with
   * no promise in between: a cluster node makes one per replica write.
   */
  private write(key: string, value: Uint8Array | undefined, options: WriteOptions, wantRecord: true, stored?: Uint8Array): Promise<Uint8Array>;
  private write(key: string, value: Uint8Array | undefined, options: WriteOptions, wantRecord?: false): Promise<string>;
  private write(key: string, value: Uint8Array | undefined, options: WriteOptions, wantRecord = false, stored?: Uint8Array): Promise<string | Uint8Array> {
    let seen: KeyRecord['context'] | undefined;
    try {
      seen = options.context === undefined ? undefined : decodeContext(options.context);
    } catch (err) {
      return Promise.reject(err);
    }
    const queue = (): Promise<string | Uint8Array> => new Promise((resolve, reject) => this.enqueue({ key, kind: 'write', value, seen, sync: options.sync, wantRecord, stored, resolve, reject }));
    if (this.isOpen && !this.closing) return queue();
    return this.ready().then(queue);
  }

  /** Every key with its versions, deleted keys skipped, in hash order (not key order). */
  async *entries(): AsyncGenerator<Versions<V>> {
    await this.ready();
    for await (const [key, record] of this.data.iterator()) {
      const decoded = decodeRecord(record);
      if (decoded.siblings.length > 0) yield this.versions(Buffer.from(key.subarray(4)).toString('utf8'), decoded);
    }
  }

  /**
   * Drops the records of keys deleted more than `tombstoneGrace` ago (the
   * store also does this on a timer). Resolves with the number dropped.
   */
  async collectTombstones(): Promise<number> {
    if (this.tombstoneGrace === undefined) return 0;
    await this.ready();
    const cutoff = this.graceCutoff();
    const found: Promise<string>[] = [];
    for await (const indexKey of this.tombstones.keys({ lt: timeKey(cutoff) })) {
      const key = Buffer.from(indexKey.subarray(8 + 4)).toString('utf8');
      found.push(new Promise((resolve, reject) => this.enqueue({ key, kind: 'collect', cutoff, resolve, reject })));
    }
    return (await Promise.all(found)).filter((done) => done === 'collected').length;
  }

  /** Hybrid-clock time before which a delete is past the grace period. */
  private graceCutoff(): number {
    return fromWallTime(wallTime(this.clock.now()) - this.tombstoneGrace!);
  }

  /** Rebuilds the tree from the data and tells whether it matches the tree in use. */
  async verifyTree(): Promise<boolean> {
    await this.ready();
    await this.flushed();
    const rebuilt = await this.buildTree();
    return Buffer.compare(rebuilt.nodes, this.tree!.nodes) === 0;
  }

  /**
   * Waits for pending writes, saves the tree so the next open need not
   * rebuild it, and closes the database if the store opened it.
   */
  override close(): Promise<void> {
    return (this.closing ??= this.doClose());
  }

  private async doClose(): Promise<void> {
    if (this.opening) {
      try {
        await this.opening;
      } catch {
        // a store that failed to open has nothing to save
      }
    }
    clearInterval(this.sweeper);
    if (this.isOpen) {
      await this.flushed();
      for (const session of this.sessions) session.storeClosed();
      const symbols = await this.saveSymbols();
      // Only the parts of the tree that changed since the last checkpoint are written; the header goes last.
      await this.saved.close(symbols, [{ type: 'put', key: 'clock', value: Buffer.from(String(this.clock.last)), sublevel: this.meta }]);
      this.isOpen = false;
    }
    if (this.ownsDb) await this.database?.close();
  }

  // ---- for sessions ----

  /** Resolves once open; fails if closing. */
  async ready(): Promise<void> {
    if (this.closing) throw errors.closed('store');
    await this.open();
  }

  /**
   * The coded symbols of the store's entries, kept up to date by every
   * write from the first call on (a rateless store calls it at open).
   * The first call reads the whole store once.
   */
  async symbols(): Promise<SymbolPrefix> {
    await this.ready();
    const symbols = await (this.symbolsStarted ??= this.startSymbols());
    await symbols.ready;
    return symbols.prefix;
  }

  /** The maintained symbols if they are loaded now, else undefined: for a handshake, which cannot wait (rateless-session.ts). */
  loadedSymbols(): SymbolPrefix | undefined {
    return this.storeSymbols?.loaded ? this.storeSymbols.prefix : undefined;
  }

  /**
   * Starts maintaining the symbols: from now on every write goes through
   * `change()`, and a snapshot of the records taken at the same moment is
   * loaded. That moment must fall where no write is between its database
   * batch and its tree update: at the end of open, or right after a
   * barrier of the write queue has run (its promise callback runs before
   * the queue moves on to the next group).
   */
  private startSymbols(): Promise<StoreSymbols> {
    const begin = () => {
      const symbols = new StoreSymbols(this.symbolPrefixSize);
      this.storeSymbols = symbols;
      symbols.load(this.readBuckets(0, 2 ** this.depth - 1), MerkleStore.itemOf);
      return symbols;
    };
    if (!this.draining) return Promise.resolve(begin());
    return new Promise((resolve, reject) => this.enqueue({ key: '', kind: 'barrier', resolve: () => resolve(begin()), reject }));
  }

  /** Resolves once every write queued so far is in the database and the tree. */
  flushed(): Promise<void> {
    if (this.queue.length === 0 && !this.draining) return Promise.resolve();
    return new Promise((resolve, reject) => this.enqueue({ key: '', kind: 'barrier', resolve: () => resolve(), reject }));
  }

  /** Merges a record received from a peer; resolves once it is written (or found to change nothing). `stored` as in `putCheckedRecord`. */
  merge(key: string, record: KeyRecord, origin: object | undefined, stored?: Uint8Array): Promise<string> {
    return this.queueMerge(key, record, origin, stored, undefined) as Promise<string>;
  }

  /**
   * As `merge`, for a record that came as bytes (a cluster replica):
   * `bytes` must be what `record` was decoded from (`decodeRecord`). When
   * the merge leaves exactly that record, the bytes are stored as they came
   * instead of encoding it again (a record has one encoding). Settles with
   * nothing once written: the key's context is not encoded for it.
   */
  mergeEncoded(key: string, record: KeyRecord, bytes: Uint8Array, stored?: Uint8Array): Promise<void> {
    return this.queueMerge(key, record, undefined, stored, bytes) as Promise<void>;
  }

  private queueMerge(key: string, record: KeyRecord, origin: object | undefined, stored: Uint8Array | undefined, bytes: Uint8Array | undefined): Promise<string | void> {
    if (this.closing) return Promise.reject(errors.closed('store'));
    // Before open (or while opening) it opens the store first, as every other method does.
    if (!this.isOpen) return this.ready().then(() => this.queueMerge(key, record, origin, stored, bytes));
    for (const sibling of record.siblings) this.clock.receive(sibling.ts);
    if (record.deleted !== undefined) this.clock.receive(record.deleted);
    return new Promise((resolve, reject) => this.enqueue({ key, kind: 'merge', record, origin, stored, bytes, resolve, reject }));
  }

  /** Records of every key in buckets `first..last` (inclusive), in hash order, a batch at a time. */
  readBuckets(first: number, last: number): AsyncGenerator<Array<[Uint8Array, Uint8Array]>> {
    return this.readRuns([[first, last]]);
  }

  /**
   * Records of every key in the given runs of buckets (ascending, each
   * `[first, last]` inclusive), a batch at a time, in order. A long run is
   * streamed through one iterator. Short runs (a differing bucket holds a
   * key or two) are read by several iterators at once, each seeking from
   * run to run: a seek is a round trip to the database's thread pool, and
   * running a few side by side hides most of its latency.
   */
  async *readRuns(runs: Array<[number, number]>): AsyncGenerator<Array<[Uint8Array, Uint8Array]>> {
    this.assertDatabase();
    const shift = 2 ** (32 - this.depth);
    const startOf = (bucket: number) => position(bucket * shift);
    const endOf = (bucket: number) => ((bucket + 1) * shift >= 2 ** 32 ? Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]) : position((bucket + 1) * shift));
    let i = 0;
    while (i < runs.length) {
      const [first, last] = runs[i];
      if (last - first >= SHORT_RUN) {
        yield* this.readRange(startOf(first), endOf(last));
        i++;
        continue;
      }
      // The next stretch of short runs, read in parallel slices.
      let j = i;
      while (j < runs.length && j - i < SHORT_RUNS_AT_ONCE && runs[j][1] - runs[j][0] < SHORT_RUN) j++;
      const stretch = runs.slice(i, j);
      const lanes = Math.min(READ_LANES, stretch.length);
      const per = Math.ceil(stretch.length / lanes);
      const results = await Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          const mine = stretch.slice(lane * per, (lane + 1) * per);
          const found: Array<[Uint8Array, Uint8Array]> = [];
          if (mine.length === 0) return found;
          // A small read-ahead: after a seek, classic-level would otherwise fetch 16 KiB of entries we skip.
          const iterator = this.data.iterator({ gte: startOf(mine[0][0]), lt: endOf(mine[mine.length - 1][1]), highWaterMarkBytes: 512 } as object);
          try {
            for (const [from, to] of mine) {
              const stop = endOf(to);
              iterator.seek(startOf(from));
              while (true) {
                const entry = await iterator.next();
                if (entry === undefined || Buffer.compare(entry[0], stop) >= 0) break;
                found.push(entry);
              }
            }
          } finally {
            await iterator.close();
          }
          return found;
        }),
      );
      for (const found of results) if (found.length > 0) yield found;
      i = j;
    }
  }

  private async *readRange(gte: Uint8Array, lt: Uint8Array): AsyncGenerator<Array<[Uint8Array, Uint8Array]>> {
    const iterator = this.data.iterator({ gte, lt });
    try {
      while (true) {
        const batch = await iterator.nextv(256);
        if (batch.length === 0) return;
        yield batch;
      }
    } finally {
      await iterator.close();
    }
  }

  /** The rateless item of a stored key and record (store-symbols.ts). */
  static itemOf(storedKey: Uint8Array, record: Uint8Array): Uint8Array {
    return entryItem(storedKey, MerkleStore.leafOf(storedKey, record), versionSum(decodeRecord(record)));
  }

  /** Leaf hash of a stored key and record, as the tree sees it. */
  static leafOf(storedKey: Uint8Array, record: Uint8Array): Uint8Array {
    return leafHash(storedKey.subarray(4), record);
  }

  // ---- the write queue ----

  private enqueue(pending: Pending): void {
    this.queue.push(pending);
    if (!this.draining) this.drain();
  }

  /**
   * Applies queued operations in groups: one read of the old records, one
   * database batch, then the tree, the events and the promises. One writer
   * at a time keeps read-modify-write on a key safe, and groups amortise
   * the database round trip (and the fsync with `sync`). Callbacks, not an
   * async loop: a busy cluster node runs a group for nearly every write.
   */
  private drain(): void {
    this.draining = true;
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, MAX_GROUP);
      try {
        // A group waiting for the database calls `groupDone` when it is through, which drains on.
        if (this.applyGroup(group)) return;
      } catch (err) {
        for (const op of group) op.reject(err);
      }
    }
    this.draining = false;
  }

  /** A group that waited for the database is through (or failed with `err`: its operations fail); the queue drains on. */
  private groupDone(group: Pending[], err?: unknown): void {
    if (err !== undefined) for (const op of group) op.reject(err);
    this.drain();
  }

  /** Applies one group. True if it waits for the database (and calls `groupDone` when through); false if it is done. */
  private applyGroup(group: Pending[]): boolean {
    // One slot per key of the group, found by key only when the group has several operations (most groups of a
    // busy cluster node hold one: its writes spread over many partition stores).
    const slots: Slot[] = [];
    const byKey = group.length > 1 ? new Map<string, Slot>() : undefined;
    for (const op of group) {
      if (op.kind === 'barrier') continue;
      let slot = byKey ? byKey.get(op.key) : slots[0];
      if (slot === undefined) {
        slot = new Slot(op.key, op.stored);
        slots.push(slot);
        byKey?.set(op.key, slot);
      } else if (slot.stored === undefined && op.stored !== undefined) slot.stored = op.stored;
    }
    // The old records: from the cache where it has them, the rest in one read.
    const cache = this.cache;
    let missing: Slot[] | undefined;
    for (const slot of slots) {
      slot.stored ??= dataKey(slot.key);
      const cached = cache?.get(this.cacheTag, slot.key);
      if (cached) {
        slot.old = cached.bytes;
        slot.setInitial(cached.record);
        slot.before = cached.leaf;
      } else (missing ??= []).push(slot);
    }
    if (missing === undefined) return this.writeGroup(group, slots, byKey, undefined);
    const read = missing;
    // The node's own database reads at once (see `syncReader`): no hand-off to its thread pool, no turn of waiting.
    const readNow = syncReader(this.root);
    if (readNow) {
      for (const slot of read) slot.setOld(readNow(this.data.prefixKey(slot.stored!, 'view') as Uint8Array));
      return this.writeGroup(group, slots, byKey, read);
    }
    this.root.getMany(read.map((slot) => this.data.prefixKey(slot.stored!, 'view')), VIEWS).then(
      (values) => {
        try {
          for (let i = 0; i < read.length; i++) read[i].setOld(values[i] ?? undefined);
          if (!this.writeGroup(group, slots, byKey, read)) this.groupDone(group);
        } catch (err) {
          this.groupDone(group, err);
        }
      },
      (err) => this.groupDone(group, err),
    );
    return true;
  }

  /** A group's new records, written in one batch; then `finishGroup`. True if it waits for the batch (and calls `groupDone`); false if nothing changed (finished already). */
  private writeGroup(group: Pending[], slots: Slot[], byKey: Map<string, Slot> | undefined, missing: Slot[] | undefined): boolean {
    const tree = this.tree!;
    const cache = this.cache;
    let collected: Set<Pending> | undefined;
    const cutoff = this.tombstoneGrace === undefined ? 0 : this.graceCutoff();
    for (const op of group) {
      if (op.kind === 'barrier') continue;
      const slot = byKey ? byKey.get(op.key)! : slots[0];
      if (op.kind === 'write') {
        const seen = op.seen ?? slot.record.context;
        const ts = this.clock.now();
        // With tombstones collected, a key's record may be gone while stale contexts remain elsewhere:
        // counters from the hybrid clock exceed every earlier one of this replica, so no version is reused.
        slot.record = writeRecord(slot.record, this.id, seen, op.value, ts, this.tombstoneGrace === undefined ? 0 : ts);
        slot.encoded = undefined;
        slot.changed = true;
        slot.local = true;
        slot.addOrigin(undefined);
      } else if (op.kind === 'collect') {
        if (isTombstone(slot.record) && slot.record.deleted !== undefined && slot.record.deleted < op.cutoff!) {
          slot.record = EMPTY_RECORD;
          slot.encoded = undefined;
          slot.changed = true;
          (collected ??= new Set()).add(op);
        }
      } else {
        const merged = mergeRecords(slot.record, op.record!);
        if (!sameRecord(merged, slot.record)) {
          if (hasNewDot(slot.record.siblings, merged.siblings)) slot.gained = true;
          // The merge left exactly the record that came: its bytes are its one encoding.
          slot.encoded = op.bytes !== undefined && sameRecord(merged, op.record!) ? op.bytes : undefined;
          slot.record = merged;
          slot.changed = true;
          slot.addOrigin(op.origin);
        }
      }
      // A tombstone past the grace period (received from a peer that has not collected it yet) is dropped, not stored:
      // storing it would bring back a record every replica is dropping.
      if (cutoff > 0 && isTombstone(slot.record) && slot.record.deleted !== undefined && slot.record.deleted < cutoff) {
        slot.record = EMPTY_RECORD;
        slot.encoded = undefined;
        slot.changed = true;
      }
      op.after = slot.record;
    }
    const changed: Slot[] = [];
    for (const slot of slots) {
      if (slot.record === EMPTY_RECORD && slot.changed) {
        slot.removed = true;
        slot.changed = slot.old !== undefined;
      }
      if (!slot.changed) continue;
      changed.push(slot);
      const stored = slot.stored!;
      // The old leaf: known to the cache, else hashed now (only for the keys that changed).
      if (slot.old !== undefined) slot.before ??= leafHash(stored.subarray(4), slot.old);
      slot.bucket = tree.bucketOf(((stored[0] << 24) | (stored[1] << 16) | (stored[2] << 8) | stored[3]) >>> 0);
      if (slot.removed) {
        slot.encoded = undefined;
        slot.after = undefined;
      } else {
        slot.encoded ??= encodeRecord(slot.record);
        slot.after = leafHash(stored.subarray(4), slot.encoded);
      }
    }
    if (changed.length === 0) {
      this.finishGroup(group, slots, byKey, missing, changed, collected);
      return false;
    }
    // The new bucket hashes go into the same atomic batch as the records, so an open after a crash replays them instead of rehashing the data.
    const entry = this.saved.entry(changed);
    const sync = this.sync || group.some((op) => op.sync === true);
    const written = (err?: unknown): void => {
      if (err !== undefined) {
        // Not written: whatever the cache says of these keys may be what the database holds no longer.
        if (cache) for (const slot of slots) cache.delete(this.cacheTag, slot.key);
        return this.groupDone(group, err);
      }
      try {
        tree.updateMany(changed);
        this.saved.written(entry);
        this.finishGroup(group, slots, byKey, missing, changed, collected);
      } catch (failure) {
        return this.groupDone(group, failure);
      }
      this.groupDone(group);
    };
    // The node's own turn-batched database takes the operations as bytes, prefixed here, and calls back (see `rawWriter`).
    const raw = sync || this.tombstoneGrace !== undefined ? undefined : rawWriter(this.root);
    if (raw) raw(this.rawOperations(changed, entry), written);
    // Options only when syncing: abstract-level copies the batch's options into every operation,
    // a slow object spread that cost more than the rest of the batch (about 5 µs an operation).
    else (sync ? this.root.batch(this.operations(changed, entry) as never[], { sync: true } as object) : this.root.batch(this.operations(changed, entry) as never[])).then(() => written(), written);
    return true;
  }

  /** After a group's batch is written: the cache, the symbols, the callers' promises and the events. */
  private finishGroup(group: Pending[], slots: Slot[], byKey: Map<string, Slot> | undefined, missing: Slot[] | undefined, changed: Slot[], collected: Set<Pending> | undefined): void {
    const cache = this.cache;
    if (cache) {
      // What the database holds now, written or read: the next write of these keys reads nothing.
      for (const slot of changed) cache.put(this.cacheTag, slot.key, slot.encoded, slot.removed ? EMPTY_RECORD : slot.record, slot.after);
      if (missing) for (const slot of missing) if (!slot.changed) cache.put(this.cacheTag, slot.key, slot.old, slot.initial, slot.before);
    }
    const symbols = this.storeSymbols;
    if (symbols) {
      for (const slot of changed) symbols.change(slot.stored!, slot.before && { leaf: slot.before, sum: slot.sumBefore }, slot.after && { leaf: slot.after, sum: versionSum(slot.record) });
    }
    for (const op of group) {
      if (op.kind === 'barrier') op.resolve('');
      else if (op.kind === 'collect') op.resolve(collected?.has(op) ? 'collected' : '');
      else if (op.wantRecord) {
        // A recorded write's caller takes the record, not the context: no need to encode it.
        const slot = byKey ? byKey.get(op.key)! : slots[0];
        op.resolve(slot.removed ? EMPTY_BYTES : slot.changed ? slot.encoded! : (slot.old ?? EMPTY_BYTES));
      } else if (op.bytes !== undefined) op.resolve(undefined);
      else op.resolve(encodeContext(op.after!.context));
    }
    const listening = this.listenerCount('change') > 0;
    for (const slot of changed) {
      if (slot.removed) {
        // Peers collect on their own clock; only a value that disappeared here is worth an event.
        if (slot.siblingsBefore > 0) this.emit('change', { key: slot.key, values: [], local: slot.local } satisfies ChangeEvent<V>);
        continue;
      }
      // Echo suppression: skip the one session the record came from, only when nothing else changed it.
      this.peers.relay({ key: slot.key, record: slot.encoded! }, slot.mixedOrigins ? undefined : slot.origin);
      const conflict = slot.record.siblings.length > 1 && (slot.gained || (slot.local && slot.record.siblings.length > slot.siblingsBefore));
      if (listening || (conflict && this.listenerCount('conflict') > 0)) {
        // Decoded only if a listener reads them: a cluster node listens for its watchers, who watch few keys.
        const siblings = slot.record.siblings;
        let decoded: V[] | undefined;
        const values = () => (decoded ??= siblings.map((s) => this.decodeValue(s.value)));
        const key = slot.key;
        const local = slot.local;
        this.emit('change', {
          key,
          get values() {
            return values();
          },
          local,
        } satisfies ChangeEvent<V>);
        if (conflict) {
          this.emit('conflict', {
            key,
            get values() {
              return values();
            },
          });
        }
      }
    }
  }

  /** A group's batch for `batch()`: records, their tombstone index, the journal entry (and the clock, when tombstones are collected). */
  private operations(changed: Slot[], entry: JournalEntry): object[] {
    const ops: object[] = [];
    for (const slot of changed) {
      if (slot.removed) ops.push({ type: 'del', key: slot.stored, sublevel: this.data });
      else ops.push({ type: 'put', key: slot.stored, value: slot.encoded!, sublevel: this.data });
      // The tombstone index follows the record in the same batch.
      const deletedAfter = slot.deletedAfter();
      if (slot.deletedBefore !== deletedAfter) {
        if (slot.deletedBefore) ops.push({ type: 'del', key: tombstoneKey(slot.deletedBefore, slot.stored!), sublevel: this.tombstones });
        if (deletedAfter) ops.push({ type: 'put', key: tombstoneKey(deletedAfter, slot.stored!), value: EMPTY_BYTES, sublevel: this.tombstones });
      }
    }
    ops.push({ type: 'put', key: entry.key, value: entry.value, sublevel: this.journal });
    // Version counters come from the clock when tombstones are collected: it must never run backwards, even after a crash.
    if (this.tombstoneGrace !== undefined) ops.push({ type: 'put', key: 'clock', value: Buffer.from(String(this.clock.last)), sublevel: this.meta });
    return ops;
  }

  /** The same batch as `operations` (without the clock: raw writes are not used when tombstones are collected), as prefixed bytes. */
  private rawOperations(changed: Slot[], entry: JournalEntry): RawOperation[] {
    const ops: RawOperation[] = [];
    for (const slot of changed) {
      const key = this.data.prefixKey(slot.stored!, 'view') as Uint8Array;
      if (slot.removed) ops.push({ type: 'del', key });
      else ops.push({ type: 'put', key, value: slot.encoded! });
      const deletedAfter = slot.deletedAfter();
      if (slot.deletedBefore !== deletedAfter) {
        if (slot.deletedBefore) ops.push({ type: 'del', key: this.tombstones.prefixKey(tombstoneKey(slot.deletedBefore, slot.stored!), 'view') as Uint8Array });
        if (deletedAfter) ops.push({ type: 'put', key: this.tombstones.prefixKey(tombstoneKey(deletedAfter, slot.stored!), 'view') as Uint8Array, value: EMPTY_BYTES });
      }
    }
    ops.push({ type: 'put', key: this.journal.prefixKey(entry.key, 'view') as Uint8Array, value: entry.value });
    return ops;
  }

  private decodeValue(bytes: Uint8Array): V {
    return decode(this.valueEncoding, bytes);
  }

  private versions(key: string, record: KeyRecord): Versions<V> {
    const siblings = record.siblings.map((s) => ({ value: this.decodeValue(s.value), replica: s.id, ts: s.ts }));
    const values = siblings.map((s) => s.value);
    let value: V | undefined;
    if (siblings.length === 1) value = values[0];
    else if (siblings.length > 1 && this.resolver) value = this.resolver(siblings, key);
    return { key, values, siblings, value, conflict: siblings.length > 1, context: encodeContext(record.context) };
  }
}

/** What a write group knows and decides about one of its keys (`applyGroup`). */
class Slot {
  /** The stored record before the group (bytes; absent: none), and its leaf hash (from the cache, or once the key changed). */
  old: Uint8Array | undefined = undefined;
  before: Uint8Array | undefined = undefined;
  /** The record before the group, and as the group leaves it. */
  initial: KeyRecord = EMPTY_RECORD;
  record: KeyRecord = EMPTY_RECORD;
  /** `record` encoded, once known; its leaf hash; its tree bucket. */
  encoded: Uint8Array | undefined = undefined;
  after: Uint8Array | undefined = undefined;
  bucket = 0;
  changed = false;
  local = false;
  gained = false;
  /** The record was dropped: a tombstone past the grace period. */
  removed = false;
  siblingsBefore = 0;
  /** Tombstone-index time of the stored record (0: not indexed). */
  deletedBefore = 0;
  /** The stored record's version sum, for the rateless items. */
  sumBefore = 0;
  /** Where the changes came from: one origin, unless they came from several. */
  origin: object | undefined = undefined;
  private origins = 0;

  constructor(
    readonly key: string,
    /** The key's stored form (`dataKey`), made by the caller or in `applyGroup`. */
    public stored: Uint8Array | undefined,
  ) {}

  /** The stored record as read from the database (absent: none). */
  setOld(old: Uint8Array | undefined): void {
    this.old = old;
    this.setInitial(old ? decodeRecord(old) : EMPTY_RECORD);
  }

  setInitial(record: KeyRecord): void {
    this.initial = this.record = record;
    this.siblingsBefore = record.siblings.length;
    this.deletedBefore = isTombstone(record) ? (record.deleted ?? 0) : 0;
    this.sumBefore = versionSum(record);
  }

  addOrigin(origin: object | undefined): void {
    if (this.origins === 0) {
      this.origin = origin;
      this.origins = 1;
    } else if (this.origins === 1 && origin !== this.origin) this.origins = 2;
  }

  get mixedOrigins(): boolean {
    return this.origins > 1;
  }

  /** Tombstone-index time of the record as written (0: not indexed). */
  deletedAfter(): number {
    return !this.removed && isTombstone(this.record) ? (this.record.deleted ?? 0) : 0;
  }
}

/** Whether `after` holds a sibling `before` does not; both sorted by dot, as records keep them. */
function hasNewDot(before: KeyRecord['siblings'], after: KeyRecord['siblings']): boolean {
  let i = 0;
  for (const s of after) {
    while (i < before.length && (before[i].id < s.id || (before[i].id === s.id && before[i].n < s.n))) i++;
    if (i >= before.length || before[i].id !== s.id || before[i].n !== s.n) return true;
  }
  return false;
}

function sameRecord(a: KeyRecord, b: KeyRecord): boolean {
  if (a.context.length !== b.context.length || a.siblings.length !== b.siblings.length || a.deleted !== b.deleted) return false;
  for (let i = 0; i < a.context.length; i++) if (a.context[i].id !== b.context[i].id || a.context[i].n !== b.context[i].n) return false;
  for (let i = 0; i < a.siblings.length; i++) {
    if (a.siblings[i].id !== b.siblings[i].id || a.siblings[i].n !== b.siblings[i].n || a.siblings[i].ts !== b.siblings[i].ts) return false;
    if (Buffer.compare(a.siblings[i].value, b.siblings[i].value) !== 0) return false;
  }
  return true;
}

