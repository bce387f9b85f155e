import { GCounter, GSet, LWWRegister, MVRegister, ORMap, ORSet, PNCounter, TwoPSet } from '../../lib/index.js';
import { stalledReader } from '../helpers/stalled-reader.js';

// Delta sessions queue deltas: 2^16 of them at most, then a catch-up from what the peer has.
const BOUND = 1 << 16;

stalledReader({ name: 'gset', create: (id) => new GSet({ id }), mutate: (s, i) => void s.add(i), state: (s) => s.value(), bound: BOUND });
stalledReader({
  name: 'twopset',
  create: (id) => new TwoPSet({ id }),
  mutate: (s, i) => void (i % 4 === 3 ? s.remove(i - 1) : s.add(i)),
  state: (s) => s.value(),
  bound: BOUND,
});
stalledReader({
  name: 'orset',
  create: (id) => new ORSet({ id }),
  mutate: (s, i) => void (i % 4 === 3 ? s.remove(i - 1) : s.add(i)),
  state: (s) => s.value(),
  bound: BOUND,
});
stalledReader({ name: 'gcounter', create: (id) => new GCounter({ id }), mutate: (c) => void c.increment(), state: (c) => c.value(), bound: BOUND });
stalledReader({
  name: 'pncounter',
  create: (id) => new PNCounter({ id }),
  mutate: (c, i) => void (i % 3 === 0 ? c.decrement() : c.increment()),
  state: (c) => c.value(),
  bound: BOUND,
});
stalledReader({ name: 'lwwregister', create: (id) => new LWWRegister({ id }), mutate: (r, i) => r.set(i), state: (r) => r.get(), bound: BOUND });
stalledReader({ name: 'mvregister', create: (id) => new MVRegister({ id }), mutate: (r, i) => r.set(i), state: (r) => r.get(), bound: BOUND });
stalledReader({
  name: 'ormap',
  create: (id) => new ORMap({ id, values: ORSet.embedded() }),
  mutate: (m, i) => m.update(`k${i % 100}`, (set) => set.add(i % 1_000)),
  state: (m) => m.value(),
  bound: BOUND,
});
