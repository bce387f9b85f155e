// The compliance suite with both stores in rateless mode.
import { MemoryLevel } from 'memory-level';
import { MerkleStore } from '../../lib/index.js';
import { compliance } from '../helpers/compliance.js';

compliance({
  name: 'merkle-rateless',
  create: (id, name) => new MerkleStore({ db: new MemoryLevel(), id, name, depth: 8, reconcile: 'rateless', symbolPrefix: 256 }),
  mutate: async (store, i) => {
    if (i % 7 === 6) await store.del(`k${i - 1}`);
    else await store.put(`k${i}`, { i, by: store.id });
  },
  state: (store) => (store.opened ? store.rootHash : null),
  close: (store) => store.close(),
});
