import { GSet, ORMap, ORSet, TwoPSet } from '../../lib/index.js';
import { stalledReader } from '../helpers/stalled-reader.js';

// Delta sessions queue deltas: 2^16 of them at most, then a catch-up from what the peer has.
const BOUND = 1 << 16;

stalledReader({ name: 'gset', create: (id) => new GSet({ id }), mutate: (s, i) => void s.add(i), state: (s) => s.value(), progress: (s) => s.size, bound: BOUND });
stalledReader({
  name: 'twopset',
  create: (id) => new TwoPSet({ id }),
  mutate: (s, i) => void (i % 4 === 3 ? s.remove(i - 1) : s.add(i)),
  state: (s) => s.value(),
  progress: (s) => s.size,
  bound: BOUND,
});
stalledReader({
  name: 'orset',
  create: (id) => new ORSet({ id }),
  // Adds and removes over a small range: every operation is a delta, the state stays small.
  mutate: (s, i) => void (i % 2 === 1 ? s.remove((i - 1) % 1_000) : s.add(i % 1_000)),
  state: (s) => s.value(),
  bound: BOUND,
});
stalledReader({
  name: 'ormap',
  create: (id) => new ORMap({ id, values: ORSet.embedded() }),
  mutate: (m, i) => m.update(`k${i % 100}`, (set) => set.add(i % 1_000)),
  state: (m) => m.value(),
  bound: BOUND,
});
