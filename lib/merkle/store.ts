import { randomBytes } from 'node:crypto';
import type { AbstractLevel, AbstractSublevel } from 'abstract-level';
import { HybridClock, type ClockOptions } from '../clock/index.js';
import { type ValueEncoding, canonicalOf, decode, encode, json } from '../codec/index.js';
import { errors } from '../errors.js';
import { pathDb } from '../path-db.js';
import { Replica } from '../session/replica.js';
import type { Descriptor, SessionOptions } from '../session/contract.js';
import { HASH_NAME, keyPosition, leafHash } from './hash.js';
import { type KeyRecord, EMPTY_RECORD, decodeContext, encodeContext, encodeRecord, decodeRecord, mergeRecords, writeRecord } from './record.js';
import { type Resolver, type SiblingView, lastWriterWins } from './resolve.js';
import type { LiveEntry } from './live-entries.js';
import { MerkleSession } from './session.js';
import { RatelessSession } from './rateless-session.js';
import { DEFAULT_SYMBOL_PREFIX, StoreSymbols } from './store-symbols.js';
import type { SymbolPrefix } from '../reconcile/prefix.js';
import { SessionSet } from '../session/session-set.js';
import { MerkleTree, checkDepth } from './tree.js';
import type { RecordCache } from './record-cache.js';

/** Default tree depth: 2^16 buckets, 2 MiB of hashes; about log2(expected keys) is the right depth. */
export const DEFAULT_DEPTH = 16;
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

type AnyLevel = AbstractLevel<any, any, any>;

/** Distinct names of stores in a shared RecordCache. */
let nextCacheSpace = 0;

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
  /** Keeps recently used records in memory (several stores may share one); default none: every read goes to the database. */
  cache?: RecordCache;
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
function checkWriteOptions(options: WriteOptions): void {
  if (options === null || typeof options !== 'object') throw errors.invalidArgument('write options must be an object');
  for (const name of Object.keys(options)) if (!WRITE_OPTIONS.has(name)) throw errors.invalidArgument(`unknown write option ${JSON.stringify(name)}`);
  if (options.sync !== undefined && typeof options.sync !== 'boolean') throw errors.invalidArgument('sync must be a boolean');
}

interface Pending {
  key: string;
  kind: 'write' | 'merge' | 'barrier';
  value?: Uint8Array; // write: undefined deletes
  seen?: KeyRecord['context']; // write
  sync?: boolean; // write: this write must be synced to disk
  record?: KeyRecord; // merge
  origin?: object;
  resolve: (context: string) => void;
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
  /** How the tree was obtained at open: loaded from the snapshot of a clean close, or rebuilt from the data. */
  openedFrom: 'snapshot' | 'rebuild' | undefined;

  private database: AnyLevel | undefined;
  private readonly path: string | undefined;
  private data!: AbstractSublevel<any, any, Uint8Array, Uint8Array>;
  private meta!: AbstractSublevel<any, any, string, Uint8Array>;
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
  private readonly cache: RecordCache | undefined;
  /** This store's name in the cache. */
  private readonly cacheSpace = String(nextCacheSpace++);
  /** Write groups committed so far: a read that missed the cache fills it only if none committed while it read. */
  private committedGroups = 0;
  /** Sessions to tell about every changed record. */
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
    this.cache = options.cache;
    if (!Number.isInteger(this.symbolPrefixSize) || this.symbolPrefixSize < 1 || this.symbolPrefixSize > 1 << 24) throw errors.invalidArgument('symbolPrefix is an integer from 1 to 2^24');
  }

  /** The database. A store on a path creates it in `open()`, which loads classic-level only then. */
  get db(): AnyLevel {
    if (!this.database) throw errors.invalidArgument('the database of a store on a path exists once the store is open: await store.open() first');
    return this.database;
  }

  private useDb(db: AnyLevel): void {
    this.database = db;
    this.data = db.sublevel<Uint8Array, Uint8Array>('d', { keyEncoding: 'view', valueEncoding: 'view' });
    this.meta = db.sublevel<string, Uint8Array>('m', { keyEncoding: 'utf8', valueEncoding: 'view' });
  }

  get id(): string {
    if (this.replicaId === undefined) throw errors.invalidArgument('the replica id is known once the store is open: await store.open() first, or pass an id');
    return this.replicaId;
  }

  get descriptor(): Descriptor {
    return { kind: 'merkle', name: this.name, id: this.id, params: `${HASH_NAME}/${this.depth}/${this.valueEncoding.name}` };
  }

  get opened(): boolean {
    return this.isOpen;
  }

  /** The root hash as hex; all-zero for an empty store. Equal roots mean equal contents. */
  get rootHash(): string {
    if (!this.tree) throw errors.closed('the store is not open and');
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
    const header = await this.meta.get('tree');
    const parsed = header ? JSON.parse(Buffer.from(header).toString('utf8')) : undefined;
    const loaded = parsed ? await this.loadSnapshot(parsed) : undefined;
    // Rateless symbols saved with the tree describe the same data.
    const savedSymbols = loaded && this.reconcile === 'rateless' ? await this.loadSavedSymbols(parsed.symbols) : undefined;
    // From here on the data may change, so the snapshot no longer describes it:
    // drop its header first (durably), so a crash before the next clean close rebuilds.
    await this.db.batch(
      [
        { type: 'del', key: 'tree', sublevel: this.meta },
        { type: 'put', key: 'id', value: Buffer.from(id), sublevel: this.meta },
      ],
      { sync: true } as object,
    );
    if (loaded) {
      this.tree = loaded;
      this.openedFrom = 'snapshot';
    } else {
      this.tree = await this.buildTree();
      this.openedFrom = 'rebuild';
    }
    this.isOpen = true;
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

  private async loadSnapshot(header: { depth: number; hash: string; bytes: number; chunks: number }): Promise<MerkleTree | undefined> {
    if (header.depth !== this.depth || header.hash !== HASH_NAME || header.bytes !== MerkleTree.byteLength(this.depth)) return undefined;
    const nodes = new Uint8Array(header.bytes);
    let at = 0;
    // One chunk at a time: each read is a turn of the event loop, so loading never blocks it for long.
    for (let i = 0; i < header.chunks; i++) {
      const chunk = await this.meta.get(`tree/${i}`);
      if (!chunk || at + chunk.length > nodes.length) return undefined;
      nodes.set(chunk, at);
      at += chunk.length;
    }
    return at === header.bytes ? new MerkleTree(this.depth, nodes) : undefined;
  }

  /** Builds the tree from every stored record: what `open()` does after a crash. */
  async buildTree(): Promise<MerkleTree> {
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
    const stored = await this.readRecord(dataKey(key));
    return this.versions(key, stored ? decodeRecord(stored) : EMPTY_RECORD);
  }

  /** The stored record of `key` as bytes (see record.ts), or undefined: what a cluster sends between replicas. */
  async getRecord(key: string): Promise<Uint8Array | undefined> {
    checkKey(key);
    await this.ready();
    return this.readRecord(dataKey(key));
  }

  private async readRecord(stored: Buffer): Promise<Uint8Array | undefined> {
    const cached = this.cache?.get(this.cacheSpace, stored);
    if (cached) return cached;
    const groups = this.committedGroups;
    const record = (await this.data.get(stored)) ?? undefined;
    if (record && this.cache && groups === this.committedGroups) this.cache.set(this.cacheSpace, stored, record);
    return record;
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

  private async write(key: string, value: Uint8Array | undefined, options: WriteOptions): Promise<string> {
    const seen = options.context === undefined ? undefined : decodeContext(options.context);
    await this.ready();
    return new Promise((resolve, reject) => this.enqueue({ key, kind: 'write', value, seen, sync: options.sync, resolve, reject }));
  }

  /** Every key with its versions, deleted keys skipped, in hash order (not key order). */
  async *entries(): AsyncGenerator<Versions<V>> {
    await this.ready();
    for await (const [key, record] of this.data.iterator()) {
      const decoded = decodeRecord(record);
      if (decoded.siblings.length > 0) yield this.versions(Buffer.from(key.subarray(4)).toString('utf8'), decoded);
    }
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
    if (this.isOpen) {
      await this.flushed();
      this.cache?.dropSpace(this.cacheSpace);
      for (const session of this.sessions) session.storeClosed();
      const nodes = this.tree!.nodes;
      const chunks = Math.ceil(nodes.length / SNAPSHOT_CHUNK);
      // Chunk by chunk, so no single write blocks the event loop; the header goes last,
      // so a crash part-way leaves chunks without a header, and the next open rebuilds.
      for (let i = 0; i < chunks; i++) await this.meta.put(`tree/${i}`, nodes.subarray(i * SNAPSHOT_CHUNK, (i + 1) * SNAPSHOT_CHUNK));
      const symbols = await this.saveSymbols();
      const header = { depth: this.depth, hash: HASH_NAME, bytes: nodes.length, chunks, symbols };
      await this.db.batch(
        [
          { type: 'put', key: 'clock', value: Buffer.from(String(this.clock.last)), sublevel: this.meta },
          { type: 'put', key: 'tree', value: Buffer.from(JSON.stringify(header)), sublevel: this.meta },
        ],
        { sync: true } as object,
      );
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
      symbols.load(this.readBuckets(0, 2 ** this.depth - 1), MerkleStore.leafOf);
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

  /** Merges a record received from a peer; resolves once it is written (or found to change nothing). */
  merge(key: string, record: KeyRecord, origin: object | undefined): Promise<string> {
    if (this.closing) return Promise.reject(errors.closed('store'));
    for (const sibling of record.siblings) this.clock.receive(sibling.ts);
    return new Promise((resolve, reject) => this.enqueue({ key, kind: 'merge', record, origin, resolve, reject }));
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

  /** Leaf hash of a stored key and record, as the tree sees it. */
  static leafOf(storedKey: Uint8Array, record: Uint8Array): Uint8Array {
    return leafHash(storedKey.subarray(4), record);
  }

  // ---- the write queue ----

  private enqueue(pending: Pending): void {
    this.queue.push(pending);
    if (!this.draining) void this.drain();
  }

  /**
   * Applies queued operations in groups: one read of the old records, one
   * database batch, then the tree, the events and the promises. One writer
   * at a time keeps read-modify-write on a key safe, and groups amortise
   * the database round trip (and the fsync with `sync`).
   */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, MAX_GROUP);
        try {
          await this.applyGroup(group);
        } catch (err) {
          for (const op of group) op.reject(err);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async applyGroup(group: Pending[]): Promise<void> {
    const tree = this.tree!;
    interface Slot {
      key: string;
      stored: Uint8Array;
      before: Uint8Array | undefined;
      record: KeyRecord;
      changed: boolean;
      local: boolean;
      origins: Set<object | undefined>;
      siblingsBefore: number;
      gained: boolean;
    }
    const slots = new Map<string, Slot>();
    for (const op of group) if (op.kind !== 'barrier' && !slots.has(op.key)) slots.set(op.key, undefined as unknown as Slot);
    const keys = [...slots.keys()];
    const storedKeys = keys.map(dataKey);
    const befores: Array<Uint8Array | undefined> = storedKeys.map((stored) => this.cache?.get(this.cacheSpace, stored));
    const missing = befores.flatMap((before, i) => (before ? [] : [i]));
    if (missing.length > 0) {
      const read = await this.data.getMany(missing.map((i) => storedKeys[i]));
      missing.forEach((i, j) => (befores[i] = read[j] ?? undefined));
    }
    keys.forEach((key, i) => {
      const before = befores[i] ?? undefined;
      const record = before ? decodeRecord(before) : EMPTY_RECORD;
      slots.set(key, { key, stored: storedKeys[i], before, record, changed: false, local: false, origins: new Set(), siblingsBefore: record.siblings.length, gained: false });
    });
    const contexts = new Map<Pending, KeyRecord>();
    for (const op of group) {
      if (op.kind === 'barrier') continue;
      const slot = slots.get(op.key)!;
      if (op.kind === 'write') {
        const seen = op.seen ?? slot.record.context;
        slot.record = writeRecord(slot.record, this.id, seen, op.value, this.clock.now());
        slot.changed = true;
        slot.local = true;
        slot.origins.add(undefined);
      } else {
        const merged = mergeRecords(slot.record, op.record!);
        if (!sameRecord(merged, slot.record)) {
          const had = new Set(slot.record.siblings.map((s) => `${s.id}\0${s.n}`));
          if (merged.siblings.some((s) => !had.has(`${s.id}\0${s.n}`))) slot.gained = true;
          slot.record = merged;
          slot.changed = true;
          slot.origins.add(op.origin);
        }
      }
      contexts.set(op, slot.record);
    }
    const changed = [...slots.values()].filter((s) => s.changed);
    const encoded = new Map<Slot, Buffer>();
    for (const slot of changed) encoded.set(slot, encodeRecord(slot.record));
    if (changed.length > 0) {
      await this.db.batch(
        changed.map((slot) => ({ type: 'put' as const, key: slot.stored, value: encoded.get(slot)!, sublevel: this.data })),
        { sync: this.sync || group.some((op) => op.sync === true) } as object,
      );
    }
    this.committedGroups++;
    if (this.cache) for (const slot of slots.values()) if (slot.changed || slot.before) this.cache.set(this.cacheSpace, slot.stored, slot.changed ? encoded.get(slot)! : slot.before!);
    const leaves = changed.map((slot) => {
      const keyBytes = slot.stored.subarray(4);
      const position = ((slot.stored[0] << 24) | (slot.stored[1] << 16) | (slot.stored[2] << 8) | slot.stored[3]) >>> 0;
      return { bucket: tree.bucketOf(position), before: slot.before && leafHash(keyBytes, slot.before), after: leafHash(keyBytes, encoded.get(slot)!) };
    });
    tree.updateMany(leaves);
    const symbols = this.storeSymbols;
    if (symbols) changed.forEach((slot, i) => symbols.change(slot.stored, leaves[i].before, leaves[i].after));
    for (const op of group) op.resolve(op.kind === 'barrier' ? '' : encodeContext(contexts.get(op)!.context));
    for (const slot of changed) {
      // Echo suppression: skip the one session the record came from, only when nothing else changed it.
      const origin = slot.origins.size === 1 ? [...slot.origins][0] : undefined;
      const bytes = encoded.get(slot)!;
      this.peers.relay({ key: slot.key, record: bytes }, origin);
      const conflict = slot.record.siblings.length > 1 && (slot.gained || (slot.local && slot.record.siblings.length > slot.siblingsBefore));
      if (this.listenerCount('change') > 0 || (conflict && this.listenerCount('conflict') > 0)) {
        const values = slot.record.siblings.map((s) => this.decodeValue(s.value));
        this.emit('change', { key: slot.key, values, local: slot.local } satisfies ChangeEvent<V>);
        if (conflict) this.emit('conflict', { key: slot.key, values });
      }
    }
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

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw errors.invalidArgument('keys are strings');
  if (!key.isWellFormed()) throw errors.invalidArgument('key has lone surrogates');
}

/** A 4-byte big-endian position. */
function position(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

/** How a key is stored: its 4-byte hash position, then its UTF-8 bytes, so a bucket is a key range. */
export function dataKey(key: string): Buffer {
  const bytes = Buffer.from(key, 'utf8');
  const out = Buffer.allocUnsafe(4 + bytes.length);
  out.writeUInt32BE(keyPosition(bytes));
  out.set(bytes, 4);
  return out;
}

function sameRecord(a: KeyRecord, b: KeyRecord): boolean {
  if (a.context.length !== b.context.length || a.siblings.length !== b.siblings.length) return false;
  for (let i = 0; i < a.context.length; i++) if (a.context[i].id !== b.context[i].id || a.context[i].n !== b.context[i].n) return false;
  for (let i = 0; i < a.siblings.length; i++) {
    if (a.siblings[i].id !== b.siblings[i].id || a.siblings[i].n !== b.siblings[i].n || a.siblings[i].ts !== b.siblings[i].ts) return false;
    if (Buffer.compare(a.siblings[i].value, b.siblings[i].value) !== 0) return false;
  }
  return true;
}

