import { Seq } from '../../lib/index.js';
import { stalledReader } from '../helpers/stalled-reader.js';

stalledReader({
  name: 'seq',
  create: (id) => new Seq({ id }),
  // Typing with the odd deletion, at moving places.
  mutate: (s, i) => {
    if (i % 10 === 9 && s.length > 0) s.delete((i * 7) % s.length, 1);
    else s.insert(s.length === 0 ? 0 : (i * 13) % s.length, 'x');
  },
  state: (s) => s.toString(),
  progress: (s) => s.length,
  bound: 1 << 16,
});
