import { errors } from './errors.js';
import { DeltaReplica } from './crdt/delta-replica.js';
import { type DeltaPersistOptions, DeltaPersistence } from './crdt/persist.js';
import { Scuttlebutt } from './scuttlebutt/scuttlebutt.js';
import { type PersistOptions, Persistence } from './scuttlebutt/persist.js';
import { Seq } from './seq/seq.js';
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
  if (replica instanceof DeltaReplica) return DeltaPersistence.open(replica, db, options);
  if (replica instanceof Seq) return SeqPersistence.open(replica, db, options);
  return Promise.reject(errors.invalidArgument('persist() takes a Model, a Log, a delta-state CRDT or a Seq'));
}
