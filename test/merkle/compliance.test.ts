import { MemoryLevel } from 'memory-level';
import { MerkleStore } from '../../lib/index.js';
import { compliance } from '../helpers/compliance.js';

compliance({
  name: 'merkle',
  create: (id, name) => new MerkleStore({ db: new MemoryLevel(), id, name, depth: 8 }),
  mutate: async (store, i) => {
    if (i % 7 === 6) await store.del(`k${i - 1}`);
    else await store.put(`k${i}`, { i, by: store.id });
  },
  // The root hash covers every record, siblings and contexts included.
  state: (store) => (store.opened ? store.rootHash : null),
  close: (store) => store.close(),
});
