import { GCounter, LWWRegister, MVRegister, PNCounter } from '../../lib/index.js';
import { stalledReader } from '../helpers/stalled-reader.js';

// Delta sessions queue deltas: 2^16 of them at most, then a catch-up from what the peer has.
const BOUND = 1 << 16;

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
