import { EventEmitter } from 'node:events';
import { errors } from '../errors.js';
import { type Db, UpdateLog } from '../storage/update-log.js';
import type { Seq } from './seq.js';

export interface SeqPersistOptions {
  /** Sublevel that holds this document, so one database can hold many. Default: the document name. */
  sublevel?: string;
  /** Write with `sync: true` (survives a machine crash, slower). Default false. */
  sync?: boolean;
}

/** The log is compacted into a snapshot once it holds more bytes than the snapshot, and at least this many. */
const MIN_COMPACT_BYTES = 64 * 1024;

/**
 * Keeps a `Seq` on an `abstract-level` database, as y-leveldb keeps a Yjs
 * document: the fresh replica loads the stored snapshot and the updates
 * since, then every update it applies (local or from a peer) is appended,
 * batched per tick, and the log is compacted into one snapshot once it
 * outgrows it. A reconnect then sends only what the restarted replica lacks.
 *
 * A restarted `Seq` must use a client id of its own (the default, a random
 * one, is): reusing the id of stored elements could issue an element id
 * twice after a crash, so it is refused.
 *
 * Emits `'error'` if a write fails.
 */
export class SeqPersistence extends EventEmitter {
  private readonly onUpdate = (update: Buffer) => this.record(update);

  private constructor(
    private readonly seq: Seq,
    private readonly log: UpdateLog,
  ) {
    super();
    log.on('error', (err) => this.emit('error', err));
    // Once the log outgrows the snapshot, the next batch replaces both by a fresh snapshot.
    log.afterWrite = () => {
      if (log.updateBytes > Math.max(log.snapshotBytes, MIN_COMPACT_BYTES)) log.compact(() => [this.seq.encodeState()]);
    };
  }

  static async open(seq: Seq, db: Db | string, options: SeqPersistOptions = {}): Promise<SeqPersistence> {
    if (seq.document.stateVector().size > 0) throw errors.invalidArgument('persist() needs a fresh Seq: this one already holds elements');
    const log = await UpdateLog.open(db, { sublevel: options.sublevel ?? seq.descriptor.name, sync: options.sync });
    const persistence = new SeqPersistence(seq, log);
    try {
      await persistence.load();
    } catch (err) {
      await log.close();
      throw err;
    }
    return persistence;
  }

  /** Resolves once every update applied so far is in the database. */
  async flush(): Promise<void> {
    await this.log.flush();
  }

  /** Flushes, stops persisting, and closes the database if it was opened from a path. */
  async close(): Promise<void> {
    this.seq.off('update', this.onUpdate);
    await this.log.close();
  }

  /** Bytes stored: the snapshot and the updates written since. */
  get storedBytes(): number {
    return this.log.snapshotBytes + this.log.updateBytes;
  }

  private async load(): Promise<void> {
    const stored = await this.log.getMeta('kind');
    if (stored !== undefined && Buffer.from(stored).toString() !== 'seq') throw errors.invalidArgument('this database does not hold a Seq');
    if (stored === undefined) this.log.putMeta('kind', Buffer.from('seq'));
    const { snapshot, updates } = await this.log.read();
    // Our own bytes: no peer limits.
    const limits = { maxBytes: 2 ** 31, maxItems: 2 ** 31, maxDepth: 256 };
    for (const update of [...snapshot, ...updates]) this.seq.applyUpdate(update, this, limits);
    if (this.seq.document.stateVector().has(this.seq.clientId)) {
      throw errors.invalidArgument(`client id ${this.seq.clientId} already wrote elements stored here: a restarted Seq needs a fresh client id`);
    }
    this.seq.on('update', this.onUpdate);
  }

  private record(update: Buffer): void {
    this.log.append(() => update);
  }
}

/** Keeps `seq` on `db` (an abstract-level database, or a directory for classic-level). */
export function persistSeq(seq: Seq, db: Db | string, options?: SeqPersistOptions): Promise<SeqPersistence> {
  return SeqPersistence.open(seq, db, options);
}
