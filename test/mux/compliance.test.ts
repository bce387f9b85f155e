import { Model, ORSet, Seq } from '../../lib/index.js';
import { Doc } from '../../lib/mux/index.js';
import type { Replicable } from '../../lib/session/contract.js';
import { Bag } from '../helpers/bag.js';
import { compliance } from '../helpers/compliance.js';

/**
 * The contract every structure keeps, run with each structure on a channel
 * of a Doc: every stream below is a multiplexed one, carrying the structure
 * under test beside a neighbour that syncs too.
 */
function onChannel<S extends Replicable>(name: string, make: (id: string) => S, mutate: (s: S, i: number) => void, state: (s: S) => unknown): void {
  compliance<Doc>({
    name: `doc(${name})`,
    create: (id, docName) => {
      const doc = new Doc({ id, name: docName });
      doc.add('x', make(`${id}-x`));
      doc.add('neighbour', new Bag(`${id}-n`)).add(`from ${id}`);
      return doc;
    },
    mutate: (doc, i) => mutate(doc.get<S>('x')!, i),
    state: (doc) => [state(doc.get<S>('x')!), [...doc.get<Bag>('neighbour')!.items].sort()],
  });
}

onChannel(
  'model',
  (id) => new Model({ id, name: 'x' }),
  (m, i) => (i % 7 === 6 ? m.delete(`k${i - 1}`) : m.set(`k${i}`, { i })),
  (m) => m.toJSON(),
);
onChannel(
  'orset',
  (id) => new ORSet({ id, name: 'x' }),
  (s, i) => {
    s.add({ n: i });
    if (i % 3 === 1) s.remove({ n: i - 1 });
  },
  (s) => s.value(),
);
onChannel(
  'seq',
  (id) => new Seq({ id, name: 'x' }),
  (s, i) => (i % 5 === 4 ? s.delete(0, 1) : s.insert(Math.floor(s.length / 2), `t${i}`)),
  (s) => s.toString(),
);
onChannel(
  'bag',
  (id) => new Bag(id, 'x'),
  (b, i) => b.add(`item-${i}`),
  (b) => [...b.items].sort(),
);
