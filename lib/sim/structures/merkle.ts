import { MemoryLevel } from 'memory-level';
import { MerkleStore } from '../../merkle/index.js';
import type { ReplicaContext, StructureUnderTest } from '../structure.js';

/** Values each store has shown in a `'change'` event (each key is written once, with its own value). */
const seenValues = new WeakMap<MerkleStore, Set<string>>();

function open(db: MemoryLevel<string, unknown> | MerkleStore['db'], { id, now, defer }: ReplicaContext, seen: Set<string>, reconcile: 'merkle' | 'rateless' = 'merkle'): MerkleStore {
  const store = new MerkleStore({ db, id, name: 'sim', depth: 8, clock: { now }, defer, reconcile, symbolPrefix: 4096 });
  seenValues.set(store, seen);
  store.on('change', (event: { values: unknown[] }) => {
    for (const value of event.values) seen.add(String(value));
  });
  return store;
}

/**
 * MerkleStore on an in-memory database, paced by virtual time: unique keys,
 * each written once. Stores agree when their Merkle roots do; a write is
 * held once the store has announced it. A crash "with state" abandons the
 * store without closing it and opens a new one on the same database (so the
 * stored tree is loaded and the journal replayed, as after a real crash); without state, a
 * new store on a new, empty database.
 */
export const merkleUnderTest: StructureUnderTest<MerkleStore> = {
  name: 'merkle',
  async: true,
  create: (context) => open(new MemoryLevel(), context, new Set()),
  // What was announced was written: the reopened store holds it.
  reopen: (crashed, context) => open(crashed.db, context, new Set(seenValues.get(crashed))),
  async mutate(store, i) {
    await store.put(`k${i}`, `v${i}`);
    return { key: `v${i}` };
  },
  state: (store) => store.rootHash,
  holds: (store, write) => seenValues.get(store)!.has(write.key),
  dispose: (store) => void store.close(),
};


/** The same store in rateless mode (docs/reconcile.md): coded symbols find the difference, the walk only as fallback. */
export const merkleRatelessUnderTest: StructureUnderTest<MerkleStore> = {
  ...merkleUnderTest,
  name: 'merkle-rateless',
  create: (context) => open(new MemoryLevel(), context, new Set(), 'rateless'),
  reopen: (crashed, context) => open(crashed.db, context, new Set(seenValues.get(crashed)), 'rateless'),
};
