import { MemoryLevel } from 'memory-level';
import { MerkleStore } from '../../merkle/index.js';
import type { StructureUnderTest } from '../structure.js';

/** Values each store has shown in a `'change'` event (each key is written once, with its own value). */
const seenValues = new WeakMap<MerkleStore, Set<string>>();

/**
 * MerkleStore on an in-memory database, paced by virtual time: unique keys,
 * each written once. Stores agree when their Merkle roots do; a write is
 * held once the store has announced it. A crash "with state" keeps the
 * store and its database; without, a new store on a new, empty database.
 */
export const merkleUnderTest: StructureUnderTest<MerkleStore> = {
  name: 'merkle',
  async: true,
  create({ id, now, defer }) {
    const store = new MerkleStore({ db: new MemoryLevel(), id, name: 'sim', depth: 8, clock: { now }, defer });
    const seen = new Set<string>();
    seenValues.set(store, seen);
    store.on('change', (event: { values: unknown[] }) => {
      for (const value of event.values) seen.add(String(value));
    });
    return store;
  },
  async mutate(store, i) {
    await store.put(`k${i}`, `v${i}`);
    return { key: `v${i}` };
  },
  state: (store) => store.rootHash,
  holds: (store, write) => seenValues.get(store)!.has(write.key),
  dispose: (store) => void store.close(),
};
