import { errors } from './errors.js';
import type { DeltaReplica } from './crdt/delta-replica.js';
import { type DeltaPersistOptions, DeltaPersistence } from './crdt/persist.js';
import { Scuttlebutt } from './scuttlebutt/scuttlebutt.js';
import { type PersistOptions, Persistence } from './scuttlebutt/persist.js';
import type { Seq } from './seq/seq.js';
import { type SeqPersistOptions, SeqPersistence } from './seq/persist.js';
import type { Db } from './storage/update-log.js';

/** What `persist` returns: `flush()` resolves once everything applied so far is stored; `close()` flushes and stops. */
export type AnyPersistence = Persistence | DeltaPersistence | SeqPersistence;

/**
 * Keeps any structure on `db` (an abstract-level database, or a directory
 * for classic-level): `Model` and `Log`, every delta-state CRDT, and `Seq`.
 * The replica must be fresh; it is loaded from the database first.
 */
export function persist(replica: Scuttlebutt<any>, db: Db | string, options?: PersistOptions): Promise<Persistence>;
export function persist(replica: DeltaReplica<any, any>, db: Db | string, options?: DeltaPersistOptions): Promise<DeltaPersistence>;
export function persist(replica: Seq, db: Db | string, options?: SeqPersistOptions): Promise<SeqPersistence>;
export function persist(replica: unknown, db: Db | string, options: PersistOptions & DeltaPersistOptions & SeqPersistOptions = {}): Promise<AnyPersistence> {
  if (replica instanceof Scuttlebutt) return Persistence.open(replica, db, options);
  // Told apart by what they hold, not by class: a page that persists only a
  // Model then bundles neither the CRDT engine nor Seq.
  if (isDeltaReplica(replica)) return DeltaPersistence.open(replica, db, options);
  if (isSeq(replica)) return SeqPersistence.open(replica, db, options);
  return Promise.reject(errors.invalidArgument('persist() takes a Model, a Log, a delta-state CRDT or a Seq'));
}

function isDeltaReplica(replica: unknown): replica is DeltaReplica<any, any> {
  return typeof replica === 'object' && replica !== null && 'storeKind' in replica && 'context' in replica && typeof (replica as { openSession?: unknown }).openSession === 'function';
}

function isSeq(replica: unknown): replica is Seq {
  const descriptor = (replica as { descriptor?: { kind?: unknown } } | null)?.descriptor;
  return descriptor?.kind === 'seq' && 'document' in (replica as object);
}
