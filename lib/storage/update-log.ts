import { EventEmitter } from 'node:events';
import type { AbstractLevel } from 'abstract-level';
import { pathDb } from '../path-db.js';

/** Any abstract-level database: classic-level, memory-level, browser-level. */
export type Db = AbstractLevel<any, any, any>;

export interface UpdateLogOptions {
  /** Sublevel that holds this structure, so one database can hold many. */
  sublevel: string;
  /** Write with `sync: true` (survives a machine crash, slower). Default false. */
  sync?: boolean;
}

/** What a log holds when it is opened: the snapshot's chunks, then the updates written since, both in order. */
export interface StoredState {
  snapshot: Uint8Array[];
  updates: Uint8Array[];
  /** Bytes of the snapshot and of the updates. */
  snapshotBytes: number;
  updateBytes: number;
}

// Keys: `m!<name>` for small metadata (the owner's id, ...), `s!<8 hex>`
// for the chunks of the last snapshot, `u!<14 hex>` for each update since
// (14 hex digits hold 2^53), so a scan reads each in order.
const chunkKey = (i: number) => `s!${i.toString(16).padStart(8, '0')}`;
const updateKey = (i: number) => `u!${i.toString(16).padStart(14, '0')}`;

/**
 * A structure's state on an `abstract-level` database, kept the way
 * y-leveldb keeps a Yjs document: a snapshot plus the updates made since,
 * each update written once (batched per tick, never a rewrite of the
 * state), and a compaction that replaces both by a fresh snapshot in one
 * atomic batch. Updates are handed over as functions that encode them when
 * the batch is written, so a structure can keep growing a batch in place
 * until then.
 *
 * Emits `'error'` if a write fails.
 */
export class UpdateLog extends EventEmitter {
  private pending: (() => Uint8Array | undefined)[] = [];
  /** Meta values to write with the next batch. */
  private meta = new Map<string, Uint8Array>();
  /** Every meta value: read when the log was opened, then as put. */
  private readonly storedMeta = new Map<string, Uint8Array>();
  /** What the log held when opened, until `read()` hands it over. */
  private stored: StoredState | undefined;
  private compaction: (() => Uint8Array[]) | undefined;
  private writing: Promise<void> = Promise.resolve();
  private scheduled = false;
  private nextUpdate = 0;
  private firstUpdate = 0;
  private chunks = 0;
  private closed = false;
  /** Bytes of the stored snapshot. */
  snapshotBytes = 0;
  /** Bytes of the updates stored since the snapshot. */
  updateBytes = 0;

  private constructor(
    private readonly root: Db,
    private readonly db: Db,
    private readonly ownsDb: boolean,
    private readonly sync: boolean,
  ) {
    super();
  }

  /** Opens the log in `db` (an abstract-level database, or a directory for classic-level), and reads what it holds. */
  static async open(db: Db | string, options: UpdateLogOptions): Promise<UpdateLog> {
    const ownsDb = typeof db === 'string';
    const root: Db = typeof db === 'string' ? await pathDb(db) : db;
    await root.open();
    const level = root.sublevel(options.sublevel, { keyEncoding: 'utf8', valueEncoding: 'view' }) as unknown as Db;
    const log = new UpdateLog(root, level, ownsDb, options.sync ?? false);
    try {
      await log.load();
    } catch (err) {
      if (ownsDb) await root.close();
      throw err;
    }
    return log;
  }

  /** A meta value: as stored when the log was opened, or as put since. */
  async getMeta(name: string): Promise<Uint8Array | undefined> {
    return this.storedMeta.get(name);
  }

  /** The snapshot and the updates since, as the log held them when opened (handed over once); later updates are appended after them. */
  async read(): Promise<StoredState> {
    const state = this.stored ?? { snapshot: [], updates: [], snapshotBytes: 0, updateBytes: 0 };
    this.stored = undefined;
    return state;
  }

  /**
   * Reads the whole log in one pass: its meta values, snapshot chunks and
   * updates are neighbours in key order (`m!` < `s!` < `u!`), so opening
   * costs one iterator instead of a read or an iterator for each part (each
   * a round trip to the database's threads, which on a busy machine cost
   * a reopened replica more wall time than loading its state).
   */
  private async load(): Promise<void> {
    const state: StoredState = { snapshot: [], updates: [], snapshotBytes: 0, updateBytes: 0 };
    let last = -1;
    let first = -1;
    for await (const [key, value] of this.db.iterator({ gte: 'm!', lt: 'u~' })) {
      if (key.startsWith('m!')) this.storedMeta.set(key.slice(2), value);
      else if (key.startsWith('s!')) {
        state.snapshot.push(value);
        state.snapshotBytes += value.byteLength;
      } else if (key.startsWith('u!')) {
        state.updates.push(value);
        state.updateBytes += value.byteLength;
        last = parseInt(key.slice(2), 16);
        if (first < 0) first = last;
      }
    }
    this.chunks = state.snapshot.length;
    this.firstUpdate = first < 0 ? 0 : first;
    this.nextUpdate = last + 1;
    this.snapshotBytes = state.snapshotBytes;
    this.updateBytes = state.updateBytes;
    this.stored = state;
  }

  /** Appends an update, encoded when the batch is written (`undefined` then means nothing to write). */
  append(encode: () => Uint8Array | undefined): void {
    if (this.closed) return;
    this.pending.push(encode);
    this.schedule();
  }

  putMeta(name: string, value: Uint8Array): void {
    if (this.closed) return;
    this.meta.set(name, value);
    this.storedMeta.set(name, value);
    this.schedule();
  }

  /**
   * Replaces the snapshot and every update before it by the chunks `snapshot`
   * returns, in the next batch (after the updates pending now, which the
   * snapshot must include: it is taken when the batch is written).
   */
  compact(snapshot: () => Uint8Array[]): void {
    if (this.closed) return;
    this.compaction = snapshot;
    this.schedule();
  }

  /** Called after each batch is handed to the database: the owner may ask for a compaction there. */
  afterWrite: (() => void) | undefined;

  /** Resolves once everything handed over so far (and any compaction it asked for) is in the database. */
  async flush(): Promise<void> {
    do {
      this.write();
      await this.writing;
    } while (this.pending.length > 0 || this.meta.size > 0 || this.compaction !== undefined);
  }

  /** Flushes, stops writing, and closes the database if it was opened from a path. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.ownsDb) await this.root.close();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.write();
    });
  }

  /** Writes everything pending as one batch, after the batches before it. */
  private write(): void {
    const ops: { type: 'put' | 'del'; key: string; value?: Uint8Array }[] = [];
    for (const encode of this.pending) {
      const value = encode();
      if (value === undefined) continue;
      ops.push({ type: 'put', key: updateKey(this.nextUpdate++), value });
      this.updateBytes += value.byteLength;
    }
    this.pending = [];
    for (const [name, value] of this.meta) ops.push({ type: 'put', key: `m!${name}`, value });
    this.meta.clear();
    if (this.compaction !== undefined) {
      const chunks = this.compaction();
      this.compaction = undefined;
      // One atomic batch: the old snapshot and every update go, the new snapshot comes.
      for (let i = this.firstUpdate; i < this.nextUpdate; i++) ops.push({ type: 'del', key: updateKey(i) });
      for (let i = chunks.length; i < this.chunks; i++) ops.push({ type: 'del', key: chunkKey(i) });
      chunks.forEach((value, i) => ops.push({ type: 'put', key: chunkKey(i), value }));
      this.chunks = chunks.length;
      this.firstUpdate = this.nextUpdate;
      this.snapshotBytes = chunks.reduce((n, c) => n + c.byteLength, 0);
      this.updateBytes = 0;
    }
    if (ops.length === 0) return;
    this.afterWrite?.();
    this.writing = this.writing
      .then(() => this.db.batch(ops as any, { sync: this.sync } as object))
      .catch((err) => {
        this.emit('error', err);
      });
  }
}
