import { errors } from '../errors.js';
import { type LogPersistOptions, LoggedPersistence, OWN_LIMITS } from '../storage/logged-persistence.js';
import type { Db, UpdateLog } from '../storage/update-log.js';
import type { Seq } from './seq.js';

export type SeqPersistOptions = LogPersistOptions;

/**
 * Keeps a `Seq` on an `abstract-level` database, as y-leveldb keeps a Yjs
 * document: the fresh replica loads the stored snapshot and the updates
 * since, then every update it applies (local or from a peer) is appended,
 * batched per tick, and the log is compacted into one snapshot once it
 * outgrows it (see LoggedPersistence). A reconnect then sends only what the
 * restarted replica lacks.
 *
 * A restarted `Seq` must use a client id of its own (the default, a random
 * one, is): reusing the id of stored elements could issue an element id
 * twice after a crash, so it is refused.
 */
export class SeqPersistence extends LoggedPersistence {
  private readonly onUpdate = (update: Buffer) => this.log.append(() => update);

  private constructor(
    private readonly seq: Seq,
    log: UpdateLog,
  ) {
    super(log);
  }

  static async open(seq: Seq, db: Db | string, options: SeqPersistOptions = {}): Promise<SeqPersistence> {
    if (seq.document.stateVector().size > 0) throw errors.invalidArgument('persist() needs a fresh Seq: this one already holds elements');
    return LoggedPersistence.openLog(db, seq.descriptor.name, options, (log) => new SeqPersistence(seq, log));
  }

  protected async load(): Promise<void> {
    const stored = await this.log.getMeta('kind');
    if (stored !== undefined && Buffer.from(stored).toString() !== 'seq') throw errors.invalidArgument('this database does not hold a Seq');
    if (stored === undefined) this.log.putMeta('kind', Buffer.from('seq'));
    const { snapshot, updates } = await this.log.read();
    for (const update of [...snapshot, ...updates]) this.seq.applyUpdate(update, this, OWN_LIMITS);
    if (this.seq.document.stateVector().has(this.seq.clientId)) {
      throw errors.invalidArgument(`client id ${this.seq.clientId} already wrote elements stored here: a restarted Seq needs a fresh client id`);
    }
    this.seq.on('update', this.onUpdate);
  }

  protected stop(): void {
    this.seq.off('update', this.onUpdate);
  }

  protected snapshot(): Uint8Array[] {
    return [this.seq.encodeState()];
  }
}
