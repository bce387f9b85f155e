import { Log, Model } from '../../lib/index.js';
import { stalledReader } from '../helpers/stalled-reader.js';

// Scuttlebutt sessions queue references to retained updates: 2^18 of them at most.
const BOUND = 1 << 18;

stalledReader({
  name: 'model',
  create: (id) => new Model({ id }),
  mutate: (m, i) => m.set(`k${i % 50_000}`, i),
  state: (m) => m.toJSON(),
  progress: (m) => m.size,
  bound: BOUND,
});

stalledReader({
  name: 'log',
  create: (id) => new Log({ id }),
  mutate: (l, i) => void l.append(i),
  state: (l) => l.toJSON().map((r) => r.seq),
  progress: (l) => l.length,
  bound: BOUND,
});
