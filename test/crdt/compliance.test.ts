import { GCounter, GSet, LWWRegister, MVRegister, ORMap, ORSet, PNCounter, Reduce, TwoPSet } from '../../lib/index.js';
import { compliance } from '../helpers/compliance.js';

// Every CRDT type passes the same contract as every other structure.
compliance({
  name: 'gset',
  create: (id, name) => new GSet({ id, name }),
  mutate: (s, i) => void s.add(`item-${i}`),
  state: (s) => s.value(),
});

compliance({
  name: 'twopset',
  create: (id, name) => new TwoPSet({ id, name }),
  mutate: (s, i) => {
    s.add(`item-${i}`);
    if (i % 3 === 0) s.remove(`item-${i}`);
  },
  state: (s) => s.value(),
});

compliance({
  name: 'orset',
  create: (id, name) => new ORSet({ id, name }),
  mutate: (s, i) => {
    s.add({ n: i });
    if (i % 3 === 1) s.remove({ n: i - 1 });
  },
  state: (s) => s.value(),
});

compliance({
  name: 'gcounter',
  create: (id, name) => new GCounter({ id, name }),
  mutate: (c, i) => void c.increment(i + 1),
  state: (c) => c.value(),
});

compliance({
  name: 'pncounter',
  create: (id, name) => new PNCounter({ id, name }),
  mutate: (c, i) => void (i % 2 ? c.decrement(i) : c.increment(i + 1)),
  state: (c) => c.value(),
});

compliance({
  name: 'lwwregister',
  create: (id, name) => new LWWRegister({ id, name }),
  mutate: (r, i) => r.set({ i }),
  state: (r) => r.get(),
});

compliance({
  name: 'mvregister',
  create: (id, name) => new MVRegister({ id, name }),
  mutate: (r, i) => r.set(`v${i}`),
  state: (r) => r.get(),
});

compliance({
  name: 'ormap',
  create: (id, name) => new ORMap({ id, name, values: ORSet.embedded() }),
  mutate: (m, i) => {
    m.update(`k${i % 7}`, (set) => set.add(i));
    if (i % 5 === 4) m.remove(`k${(i + 3) % 7}`);
  },
  state: (m) => m.value(),
});

compliance({
  name: 'reduce',
  create: (id, name) => new Reduce<number, number[]>({ id, name, initial: [], map: (x) => [x], reduce: union }),
  mutate: (r, i) => void r.update(i),
  state: (r) => r.value(),
});

/** Sorted set union of numbers: commutative, associative, idempotent. */
function union(a: number[], b: number[]): number[] {
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}
