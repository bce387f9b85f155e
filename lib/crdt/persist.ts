import { decode, encode, uint } from '../codec/index.js';
import { errors } from '../errors.js';
import { type LogPersistOptions, LoggedPersistence, OWN_LIMITS } from '../storage/logged-persistence.js';
import type { Db, UpdateLog } from '../storage/update-log.js';
import type { DeltaReplica } from './delta-replica.js';
import type { Delta, DeltaMessage } from './delta.js';

export type DeltaPersistOptions = LogPersistOptions;

/** Own sequence numbers reserved on disk ahead of use: a restart starts past them, so none is ever issued twice. */
const RESERVE = 1 << 20;
/** Bytes of state per snapshot chunk. */
const CHUNK_BYTES = 256 * 1024;

/**
 * Keeps a delta-state CRDT (`ORSet`, `GSet`, `TwoPSet`, the counters,
 * registers, `ORMap`, `Reduce`) on an `abstract-level` database. It loads
 * what the database holds into the fresh replica, then appends every delta
 * the replica applies (local or from a peer; a burst of local changes is
 * one delta), batched per tick, and compacts the log into a snapshot once
 * the log outgrows it, so the stored size stays proportional to the state.
 * A restarted replica holds its causal context again, so a reconnect sends
 * only what it missed (see LoggedPersistence).
 *
 * Own sequence numbers are reserved on disk a million at a time: a replica
 * that crashed after sending changes it had not yet stored restarts past
 * every number it may have used, so it can never issue one twice (the
 * unstored changes are lost everywhere alike, never kept by one replica
 * only).
 */
export class DeltaPersistence extends LoggedPersistence {
  private leave: (() => void) | undefined;
  private reserved = 0;

  private constructor(
    private readonly replica: DeltaReplica<any, any>,
    log: UpdateLog,
  ) {
    super(log);
  }

  static async open(replica: DeltaReplica<any, any>, db: Db | string, options: DeltaPersistOptions = {}): Promise<DeltaPersistence> {
    if (replica.context.replicaCount > 0) throw errors.invalidArgument('persist() needs a fresh replica: this one already holds state');
    return LoggedPersistence.openLog(db, replica.descriptor.name, options, (log) => new DeltaPersistence(replica, log));
  }

  protected stop(): void {
    this.leave?.();
    this.leave = undefined;
  }

  protected async load(): Promise<void> {
    const replica = this.replica;
    const who = `${replica.descriptor.kind}(${replica.descriptor.params ?? ''}) ${replica.id}`;
    const stored = await this.log.getMeta('owner');
    if (stored !== undefined && Buffer.from(stored).toString() !== who) {
      throw errors.invalidArgument(`this database holds ${JSON.stringify(Buffer.from(stored).toString())}, not ${JSON.stringify(who)}`);
    }
    if (stored === undefined) this.log.putMeta('owner', Buffer.from(who));
    const { snapshot, updates } = await this.log.read();
    // Our own bytes: no peer limits, and no peer checks (they are our own events).
    for (const bytes of [...snapshot, ...updates]) {
      const message = decode(replica.messages, bytes, OWN_LIMITS) as DeltaMessage<any>;
      if (message.type !== 'delta') throw errors.decode('a stored record that is not a delta');
      replica.restore(message.delta);
    }
    const reserve = await this.log.getMeta('reserve');
    this.reserved = reserve === undefined ? 0 : decode(uint, reserve);
    replica.skipOwn(this.reserved);
    this.reserve();
    // On disk before the replica can issue a number: a change sent and then lost in a crash
    // before the next batch must still lie below the reserve the next open reads.
    await this.log.flush();
    this.leave = replica.peers.add({ offer: (delta: Delta<any>) => this.record(delta) });
  }

  private record(delta: Delta<any>): void {
    const replica = this.replica;
    // Encoded when the batch is written: a batch of local changes is sealed then, and later ones start a new one.
    this.log.append(() => {
      replica.flushLocal();
      return encode(replica.messages, { type: 'delta', delta });
    });
    if (replica.context.max(replica.id) > this.reserved - RESERVE / 2) this.reserve();
  }

  private reserve(): void {
    this.reserved = this.replica.context.max(this.replica.id) + RESERVE;
    this.log.putMeta('reserve', encode(uint, this.reserved));
  }

  /** The whole state, as the deltas a fresh peer's catch-up would be, encoded. */
  protected snapshot(): Uint8Array[] {
    const replica = this.replica;
    return [...replica.stateInPieces(CHUNK_BYTES)].map((delta) => encode(replica.messages, { type: 'delta', delta }));
  }
}
