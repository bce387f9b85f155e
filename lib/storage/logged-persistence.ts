import { EventEmitter } from 'node:events';
import type { Limits } from '../codec/index.js';
import { type Db, UpdateLog } from './update-log.js';

export interface LogPersistOptions {
  /** Sublevel that holds this structure, so one database can hold many. Default: the document name. */
  sublevel?: string;
  /** Write with `sync: true` (survives a machine crash, slower). Default false. */
  sync?: boolean;
}

/** The log is compacted into a snapshot once it holds more bytes than the snapshot, and at least this many. */
const MIN_COMPACT_BYTES = 64 * 1024;

/** Limits for reading back our own bytes: no peer limits apply to them. */
export const OWN_LIMITS: Limits = { maxBytes: 2 ** 31, maxItems: 2 ** 31, maxDepth: 256 };

/**
 * A structure kept on an `UpdateLog`: loaded from the stored snapshot and
 * the updates since, then every update appended, batched per tick, and the
 * log compacted into a fresh snapshot once it outgrows the last one, so the
 * stored size stays proportional to the state. A kind writes how it loads,
 * records and snapshots; opening, flushing, closing and compaction are here.
 *
 * Emits `'error'` if a write fails.
 */
export abstract class LoggedPersistence extends EventEmitter {
  protected constructor(protected readonly log: UpdateLog) {
    super();
    log.on('error', (err) => this.emit('error', err));
    // Once the log outgrows the snapshot, the next batch replaces both by a fresh snapshot.
    log.afterWrite = () => {
      if (log.updateBytes > Math.max(log.snapshotBytes, MIN_COMPACT_BYTES)) log.compact(() => this.snapshot());
    };
  }

  /** Opens the log of `db`, makes the persistence and loads it; closes the log again if loading fails. */
  protected static async openLog<P extends LoggedPersistence>(db: Db | string, sublevel: string, options: LogPersistOptions, make: (log: UpdateLog) => P): Promise<P> {
    const log = await UpdateLog.open(db, { sublevel: options.sublevel ?? sublevel, sync: options.sync });
    const persistence = make(log);
    try {
      await persistence.load();
    } catch (err) {
      await log.close();
      throw err;
    }
    return persistence;
  }

  /** Resolves once every change applied so far is in the database. */
  async flush(): Promise<void> {
    await this.log.flush();
  }

  /** Flushes, stops persisting, and closes the database if it was opened from a path. */
  async close(): Promise<void> {
    this.stop();
    await this.log.close();
  }

  /** Bytes stored: the snapshot and the updates written since. */
  get storedBytes(): number {
    return this.log.snapshotBytes + this.log.updateBytes;
  }

  /** Loads what the log holds into the structure, then starts recording its updates. */
  protected abstract load(): Promise<void>;
  /** Stops recording the structure's updates. */
  protected abstract stop(): void;
  /** The whole state, encoded as the log stores it. */
  protected abstract snapshot(): Uint8Array[];
}
