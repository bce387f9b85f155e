import type { AbstractLevel } from 'abstract-level';

type Level = AbstractLevel<any, any, any>;

/** The private (implementer) methods of an abstract-level database that this module wraps. */
interface PrivateLevel {
  _get(key: unknown, options: ReadOptions): Promise<unknown>;
  _getMany(keys: unknown[], options: ReadOptions): Promise<unknown[]>;
  _getSync(key: unknown, options: ReadOptions): unknown;
  _batch(operations: BatchOperation[], options: { sync?: boolean }): Promise<void>;
  _put(key: unknown, value: unknown, options: WriteOptions): Promise<void>;
  _del(key: unknown, options: WriteOptions): Promise<void>;
  _close(): Promise<void>;
  _chainedBatch(): NativeChainedBatch;
}

/** The implementer side of a database's own chained batch (classic-level's: one native call per operation). */
interface NativeChainedBatch {
  _put(key: unknown, value: unknown, options: object): void;
  _del(key: unknown, options: object): void;
  _write(options: { sync?: boolean }): Promise<void>;
}

interface ReadOptions {
  keyEncoding: string;
  valueEncoding: string;
  fillCache?: boolean;
  snapshot?: unknown;
}

interface WriteOptions {
  keyEncoding: string;
  valueEncoding?: string;
  sync?: boolean;
}

interface BatchOperation {
  type: 'put' | 'del';
  key: unknown;
  value?: unknown;
  /** Absent on raw operations (bytes): neither the database nor a ForwardingLevel reads them for bytes. */
  keyEncoding?: string;
  valueEncoding?: string;
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

interface ReadGroup {
  options: ReadOptions;
  keys: unknown[];
  /** Per caller: where its keys start in `keys`, how many, and whether it asked for one key (`_get`) or several. */
  callers: Array<{ start: number; count: number; single: boolean } & Waiter<any>>;
}

const INSTALLED = Symbol('turn-batching');
const NO_OPTIONS = Object.freeze({});

/**
 * True if the database's class gives a chained batch of its own. The default
 * one (abstract-level's, found on the prototype furthest up the chain, so
 * whichever copy of abstract-level the database was made with) writes
 * through `_batch`, which this module has taken over: using it here would
 * hand the turn's writes back to the next turn, forever.
 */
function hasOwnChainedBatch(level: PrivateLevel): boolean {
  let base: PrivateLevel | undefined;
  for (let proto = Object.getPrototypeOf(level); proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    if (Object.prototype.hasOwnProperty.call(proto, '_chainedBatch')) base = proto;
  }
  return base !== undefined && level._chainedBatch !== base._chainedBatch;
}

/**
 * How a turn's operations reach the database: through its own chained
 * batch when it has one (classic-level), else its array `_batch`.
 *
 * Why: classic-level's array batch reads `type`, `key` and `value` off
 * every operation object through N-API, its chained batch takes each
 * operation's key and value as the arguments of one native call. In a
 * vine node the array form was a tenth of the main thread, and the chained
 * one takes about half of its time per operation. The chained batch is
 * driven by its implementer methods (as `_batch` is), so no operation is
 * copied, checked or encoded again; it leaves the database's open
 * resources at once, because the turn's batch is tracked here until it is
 * written (and `close()` waits for it).
 */
function writesOf(db: Level, level: PrivateLevel): (operations: BatchOperation[], options: { sync?: boolean }) => Promise<void> {
  if (!hasOwnChainedBatch(level)) return level._batch.bind(level);
  return (operations, options) => {
    try {
      const chained = level._chainedBatch();
      db.detachResource(chained as never);
      for (const op of operations) {
        if (op.type === 'put') chained._put(op.key, op.value, NO_OPTIONS);
        else chained._del(op.key, NO_OPTIONS);
      }
      return chained._write(options);
    } catch (err) {
      return Promise.reject(err);
    }
  };
}

/** Settles one writer; a raw writer's callback that throws is reported on its own, and every other writer still settles. */
function settle(callback: (value?: any) => void, value: unknown): void {
  try {
    callback(value);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}

const RAW = Symbol('turn-batching raw writes');
const SYNC_READ = Symbol('turn-batching sync reads');
const VIEWS: ReadOptions = Object.freeze({ keyEncoding: 'view', valueEncoding: 'view' });

/** A write operation as the database's own `_batch` takes it: keys already prefixed (for a sublevel) and encoded as bytes. */
export interface RawOperation {
  type: 'put' | 'del';
  key: Uint8Array;
  value?: Uint8Array;
}

/** Puts operations into the current turn's batch; `done` is called once that batch is written (with its error, if it failed). */
export type RawWriter = (operations: RawOperation[], done: (err?: unknown) => void) => void;

/**
 * The writer that puts operations straight into the current turn's batch
 * of a database made by `batchByTurn`, or undefined for any other database
 * (or one not open). What it skips is abstract-level's per-operation work
 * in `batch()`: a copy of every operation, key and value checks, encoding
 * and prefixing through each sublevel, prewrite hooks and `write` events;
 * and a promise per call (the caller is called back). So it is only for
 * code that hands over bytes it has prefixed itself
 * (`sublevel.prefixKey(key, 'view')`), on a database whose owner uses no
 * hooks and no write events: a vine node's own database. `done` is called
 * as a `batch()` would settle, once the turn's batch is written.
 */
export function rawWriter(db: Level): RawWriter | undefined {
  const writer = (db as unknown as { [RAW]?: RawWriter })[RAW];
  return writer !== undefined && db.status === 'open' ? writer : undefined;
}

/** Reads the bytes stored under a prefixed key at once (undefined: none); throws what the database throws. */
export type SyncReader = (key: Uint8Array) => Uint8Array | undefined;

/**
 * The reader that gets a key's bytes from a database made by `batchByTurn`
 * at once, on the calling thread, or undefined for any other database (or
 * one not open, or one that cannot read synchronously: classic-level can).
 *
 * Why: a write of a key its store has not cached reads the key's old
 * record first, and a turn's reads went to the database's thread pool as a
 * `getMany`: a hand-off to another thread and back, and a turn of waiting,
 * for what LevelDB answers in a few microseconds from its memtable, its
 * block cache or the page cache (a key that does not exist, the usual case
 * for a new key, is mostly settled by the tables' Bloom filters). The price:
 * a record that is in none of them is read from disk while the event loop
 * waits.
 *
 * Like any read in flight beside the turn's batch, it does not see writes
 * not yet written; a store reads a key only when none of its own writes to
 * it is pending.
 */
export function syncReader(db: Level): SyncReader | undefined {
  const reader = (db as unknown as { [SYNC_READ]?: SyncReader })[SYNC_READ];
  return reader !== undefined && db.status === 'open' ? reader : undefined;
}

/**
 * Makes a database take the reads and the writes of one event-loop turn in
 * one round trip each: every `get`/`getMany` issued in a turn (by the
 * database or any of its sublevels) becomes one `getMany`, and every
 * `batch`/`put`/`del` one atomic batch (synced if any of them asked for it),
 * each caller's promise settling with the round trip that carried it.
 *
 * Why: a node of a cluster keeps many small stores in one database (vine:
 * one MerkleStore per partition), each batching only its own writes, so
 * under load every request cost two or three hand-offs to the database's
 * thread pool, and on a busy machine each hand-off costs far more than the
 * work it carries. Nothing about ordering changes: operations in flight
 * together were never ordered against each other, and a write still
 * settles only once it is in the database.
 *
 * Reads with a snapshot, and reads whose options differ from the rest of
 * the turn's, go in their own `getMany`. Installed once per database (the
 * database's own methods are wrapped; its sublevels go through them).
 */
export function batchByTurn<D extends Level>(db: D): D {
  const level = db as unknown as PrivateLevel & { [INSTALLED]?: true };
  if (level[INSTALLED]) return db;
  level[INSTALLED] = true;
  const getMany = level._getMany.bind(level);
  const batch = writesOf(db, level);
  const close = level._close.bind(level);

  let reads = new Map<string, ReadGroup>();
  let writes: BatchOperation[] = [];
  let writers: Waiter<void>[] = [];
  let sync = false;
  let scheduled = false;
  let writing = false;
  let inFlight = new Set<Promise<unknown>>();

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    // A turn is one iteration of the event loop, not one callback: every socket read and every
    // database completion of the same poll goes in the same round trip (setImmediate runs right
    // after the poll). Per callback (process.nextTick) a busy node of a cluster made several
    // round trips per iteration, one per connection that had data, each a hand-off to another thread.
    setImmediate(flush);
  };

  const flush = () => {
    scheduled = false;
    const groups = reads;
    reads = new Map();
    for (const group of groups.values()) {
      const done = getMany(group.keys, group.options).then(
        (values) => {
          for (const caller of group.callers) {
            if (caller.single) caller.resolve(values[caller.start]);
            else caller.resolve(values.slice(caller.start, caller.start + caller.count));
          }
        },
        (err) => {
          for (const caller of group.callers) caller.reject(err);
        },
      );
      track(done);
    }
    // One batch in flight at a time (group commit): what comes while one is written waits and goes
    // as the next, so a busy node hands LevelDB fewer, larger batches, each a wake-up of a
    // thread-pool thread and a completion back to the loop.
    if (writes.length > 0 && !writing) {
      const operations = writes;
      const waiting = writers;
      const synced = sync;
      writes = [];
      writers = [];
      sync = false;
      writing = true;
      const written = () => {
        writing = false;
        if (writes.length > 0) schedule();
      };
      const done = batch(operations, { sync: synced }).then(
        () => {
          written();
          for (const writer of waiting) settle(writer.resolve, undefined);
        },
        (err) => {
          written();
          for (const writer of waiting) settle(writer.reject, err);
        },
      );
      track(done);
    }
  };

  const track = (done: Promise<unknown>) => {
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  };

  const read = (keys: unknown[], options: ReadOptions, single: boolean): Promise<any> => {
    if (options.snapshot !== undefined) return single ? getMany(keys, options).then((values) => values[0]) : getMany(keys, options);
    const signature = `${options.keyEncoding}\0${options.valueEncoding}\0${options.fillCache !== false}`;
    let group = reads.get(signature);
    if (!group) {
      group = { options: { keyEncoding: options.keyEncoding, valueEncoding: options.valueEncoding, fillCache: options.fillCache }, keys: [], callers: [] };
      reads.set(signature, group);
    }
    const start = group.keys.length;
    for (const key of keys) group.keys.push(key);
    const target = group;
    schedule();
    return new Promise((resolve, reject) => target.callers.push({ start, count: keys.length, single, resolve, reject }));
  };

  const write = (operations: BatchOperation[], options: { sync?: boolean }): Promise<void> => {
    for (const op of operations) writes.push(op);
    if (options.sync === true) sync = true;
    schedule();
    return new Promise((resolve, reject) => writers.push({ resolve, reject }));
  };

  (level as unknown as { [RAW]: RawWriter })[RAW] = (operations, done) => {
    for (const op of operations) writes.push(op as BatchOperation);
    // Called back with no argument once written, with the error if not.
    writers.push({ resolve: done, reject: done });
    schedule();
  };
  if ((db.supports as { getSync?: boolean }).getSync === true) {
    (level as unknown as { [SYNC_READ]: SyncReader })[SYNC_READ] = (key) => (level._getSync(key, VIEWS) as Uint8Array | undefined) ?? undefined;
  }
  level._get = (key, options) => read([key], options, true);
  level._getMany = (keys, options) => (keys.length === 0 ? Promise.resolve([]) : read(keys, options, false));
  level._batch = (operations, options) => (operations.length === 0 ? Promise.resolve() : write(operations, options));
  level._put = (key, value, options) => write([{ type: 'put', key, value, keyEncoding: options.keyEncoding, valueEncoding: options.valueEncoding }], options);
  level._del = (key, options) => write([{ type: 'del', key, keyEncoding: options.keyEncoding }], options);
  // Whatever this turn still holds goes to the database before it closes.
  level._close = async () => {
    // A batch in flight may leave writes behind it: they go once it is written, until none is left.
    for (;;) {
      if (scheduled) flush();
      if (inFlight.size === 0) break;
      await Promise.allSettled([...inFlight]);
    }
    inFlight = new Set();
    return close();
  };
  return db;
}
