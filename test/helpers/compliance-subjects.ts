// The structures the compliance suite is run against more than once (plain,
// keyed, encrypted): one definition each of how to make, change, compare and
// close them, so every variant tests the same thing.
import { MemoryLevel } from 'memory-level';
import { MerkleStore, Model, ORSet, Seq } from '../../lib/index.js';
import type { ComplianceSpec } from './compliance.js';

type Subject<R extends Model | ORSet | Seq | MerkleStore> = Pick<ComplianceSpec<R>, 'create' | 'mutate' | 'state' | 'close'>;

export const model: Subject<Model> = {
  create: (id, name) => new Model({ id, name }),
  mutate: (m, i) => (i % 7 === 6 ? void m.delete(`k${i - 1}`) : void m.set(`k${i}`, { i })),
  state: (m) => m.toJSON(),
};

export const orset: Subject<ORSet> = {
  create: (id, name) => new ORSet({ id, name }),
  mutate: (s, i) => {
    s.add({ n: i });
    if (i % 3 === 1) s.remove({ n: i - 1 });
  },
  state: (s) => s.value(),
};

export const seq: Subject<Seq> = {
  create: (id, name) => new Seq({ id, name }),
  mutate: (doc, i) => {
    if (i % 4 === 3 && doc.length > 0) doc.delete(i % doc.length, 1);
    else doc.insert(i % (doc.length + 1), `${i}`);
  },
  state: (doc) => doc.toArray(),
};

export const merkle: Subject<MerkleStore> = {
  create: (id, name) => new MerkleStore({ db: new MemoryLevel(), id, name, depth: 8 }),
  mutate: async (store, i) => {
    if (i % 7 === 6) await store.del(`k${i - 1}`);
    else await store.put(`k${i}`, { i, by: store.id });
  },
  // The root hash covers every record, siblings and contexts included.
  state: (store) => (store.opened ? store.rootHash : null),
  close: (store) => store.close(),
};
