import { EventEmitter } from 'node:events';
import type { AbstractLevel } from 'abstract-level';
import { type EncodeState, decode, decodeState, string, uint } from '../codec/index.js';
import { errors } from '../errors.js';
import { pathDb } from '../path-db.js';
import type { Clock } from './messages.js';
import type { Scuttlebutt } from './scuttlebutt.js';
import type { Update } from './update.js';

type Db = AbstractLevel<any, any, any>;

export interface PersistOptions {
  /** Sublevel that holds this structure, so one database can hold many. Default: the document name. */
  sublevel?: string;
  /** Write with `sync: true` (survives a machine crash, slower). Default false. */
  sync?: boolean;
}

// Keys: `u!<ts as 14 hex digits>!<source>` for each retained update (so a
// scan returns them in timestamp order, and so per source in order),
// `c!<source>` for each source's high-water timestamp, `id` for the owner.
const TS_DIGITS = 14; // 2^53 needs 14 hex digits
const updateKey = (u: Update) => `u!${u.ts.toString(16).padStart(TS_DIGITS, '0')}!${u.source}`;

/**
 * Keeps a scuttlebutt structure on an `abstract-level` database: it loads
 * what the database holds into the (fresh) replica, then writes every update
 * the replica applies and deletes every update it supersedes, batched per
 * tick. A restarted replica thus resumes from disk, and its digest makes
 * peers send only what it missed.
 */
export class Persistence extends EventEmitter {
  private pending: { type: 'put' | 'del'; key: string; value?: Uint8Array }[] = [];
  private clock: Clock = new Map();
  private writing: Promise<void> = Promise.resolve();
  private scheduled = false;
  private unobserve: (() => void) | undefined;
  private release: (() => void) | undefined;
  private appliedSinceWrite = 0; // updates applied since the last batch was cut: relayed once it is stored
  private closed = false;

  private constructor(
    private readonly replica: Scuttlebutt<any>,
    private readonly root: Db,
    private readonly db: Db,
    private readonly ownsDb: boolean,
    private readonly sync: boolean,
  ) {
    super();
  }

  /** Opens (or creates) the stored replica; `db` is an abstract-level database or a path for classic-level. */
  static async open<U extends Update>(replica: Scuttlebutt<U>, db: Db | string, options: PersistOptions = {}): Promise<Persistence> {
    if (!replica.isEmpty) throw errors.invalidArgument('persist() needs a fresh replica: this one already holds updates');
    const ownsDb = typeof db === 'string';
    const root: Db = typeof db === 'string' ? await pathDb(db) : db;
    await root.open();
    const level = root.sublevel(options.sublevel ?? replica.descriptor.name, { keyEncoding: 'utf8', valueEncoding: 'view' }) as unknown as Db;
    const persistence = new Persistence(replica, root, level, ownsDb, options.sync ?? false);
    try {
      await persistence.load();
    } catch (err) {
      if (ownsDb) await root.close();
      throw err;
    }
    // Relay only what is stored: a replica killed before its write reached
    // the disk must not have sent it, or it would come back behind its
    // peers and could reuse the timestamp or sequence number.
    persistence.release = replica.holdUntilStored();
    persistence.unobserve = replica.observe({
      applied: (update, retained) => persistence.applied(update, retained),
      superseded: (update) => persistence.queue({ type: 'del', key: updateKey(update) }),
    });
    return persistence;
  }

  /**
   * Resolves once every update applied so far is in the database (and so
   * relayed to peers). That survives a crash of the process; with
   * `sync: true` it survives a crash of the machine too.
   */
  async flush(): Promise<void> {
    if (this.pending.length > 0 || this.clock.size > 0) this.write();
    await this.writing;
  }

  /**
   * Flushes, stops persisting, and closes the database if it was opened
   * from a path. Writes to the replica after this fail with ERR_CLOSED: they
   * could no longer be stored.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.replica.closeWrites('persisted replica');
    await this.flush();
    this.unobserve?.();
    this.release?.();
    if (this.ownsDb) await this.root.close();
  }

  private async load(): Promise<void> {
    const storedId = await this.db.get('id');
    const id = this.replica.id;
    if (storedId !== undefined && Buffer.from(storedId).toString() !== id) {
      throw errors.invalidArgument(`this database holds replica ${JSON.stringify(Buffer.from(storedId).toString())}, not ${JSON.stringify(id)}`);
    }
    if (storedId === undefined) await this.db.put('id', Buffer.from(id));
    const codec = this.replica.updateCodec;
    for await (const [, value] of this.db.iterator({ gte: 'u!', lt: 'u~' })) {
      const state = decodeState(value);
      const source = string.decode(state);
      const ts = uint.decode(state);
      this.replica.ingest(codec.decode(state, source, ts));
    }
    const clock: Clock = new Map();
    for await (const [key, value] of this.db.iterator({ gte: 'c!', lt: 'c~' })) clock.set(key.slice(2), decode(uint, value));
    this.replica.restoreClock(clock);
  }

  private applied(update: Update, retained: boolean): void {
    if (retained) {
      const codec = this.replica.updateCodec;
      const length = string.encodingLength(update.source) + uint.encodingLength(update.ts) + codec.encodingLength(update);
      const state: EncodeState = { buffer: Buffer.allocUnsafe(length), offset: 0 };
      string.encode(update.source, state);
      uint.encode(update.ts, state);
      codec.encode(update, state);
      this.queue({ type: 'put', key: updateKey(update), value: state.buffer });
    }
    this.clock.set(update.source, update.ts);
    this.appliedSinceWrite++;
    this.schedule();
  }

  private queue(op: { type: 'put' | 'del'; key: string; value?: Uint8Array }): void {
    this.pending.push(op);
    this.schedule();
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
    const ops: any[] = this.pending;
    for (const [source, ts] of this.clock) ops.push({ type: 'put', key: `c!${source}`, value: Buffer.from(uintBytes(ts)) });
    this.pending = [];
    this.clock = new Map();
    const stored = this.appliedSinceWrite;
    this.appliedSinceWrite = 0;
    if (ops.length === 0) return;
    this.writing = this.writing
      .then(() => this.db.batch(ops, { sync: this.sync } as object))
      .then(
        () => this.replica.releaseStored(stored),
        (err) => {
          // Not stored, so never relayed: a restart from disk stays consistent with what peers have.
          this.emit('error', err);
        },
      );
  }
}

function uintBytes(n: number): Uint8Array {
  const state: EncodeState = { buffer: Buffer.allocUnsafe(uint.encodingLength(n)), offset: 0 };
  uint.encode(n, state);
  return state.buffer;
}

/** Keeps `replica` on `db` (an abstract-level database, or a directory for classic-level). */
export function persist<U extends Update>(replica: Scuttlebutt<U>, db: Db | string, options?: PersistOptions): Promise<Persistence> {
  return Persistence.open(replica, db, options);
}
