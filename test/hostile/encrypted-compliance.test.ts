// The encrypted variant passes the compliance suite (item 16 and the Tests
// section): every stream of the suite runs inside a Noise channel over TCP
// on 127.0.0.1, with the first replica as initiator and again as responder,
// for Model, a CRDT, Seq and MerkleStore. Raw peers write through the
// channel, so they are authenticated peers sending garbage.
import { MemoryLevel } from 'memory-level';
import { MerkleStore, Model, ORSet, Seq } from '../../lib/index.js';
import { compliance } from '../helpers/compliance.js';
import { encryptedLink } from '../helpers/encrypted-link.js';

for (const initiator of ['first', 'second'] as const) {
  compliance({
    name: `encrypted model (${initiator} initiates)`,
    create: (id, name) => new Model({ id, name }),
    mutate: (m, i) => (i % 7 === 6 ? void m.delete(`k${i - 1}`) : void m.set(`k${i}`, { i })),
    state: (m) => m.toJSON(),
    link: encryptedLink({ initiator }),
  });
}

compliance({
  name: 'encrypted orset',
  create: (id, name) => new ORSet({ id, name }),
  mutate: (s, i) => {
    s.add({ n: i });
    if (i % 3 === 1) s.remove({ n: i - 1 });
  },
  state: (s) => s.value(),
  link: encryptedLink({ initiator: 'second' }),
});

compliance({
  name: 'encrypted seq',
  create: (id, name) => new Seq({ id, name }),
  mutate: (seq, i) => {
    if (i % 4 === 3 && seq.length > 0) seq.delete(i % seq.length, 1);
    else seq.insert(i % (seq.length + 1), `${i}`);
  },
  state: (seq) => seq.toArray(),
  link: encryptedLink(),
});

compliance({
  name: 'encrypted merkle',
  create: (id, name) => new MerkleStore({ db: new MemoryLevel(), id, name, depth: 8 }),
  mutate: async (store, i) => {
    if (i % 7 === 6) await store.del(`k${i - 1}`);
    else await store.put(`k${i}`, { i, by: store.id });
  },
  state: (store) => (store.opened ? store.rootHash : null),
  close: (store) => store.close(),
  link: encryptedLink(),
});
