import { Membership } from '../../lib/gossip/membership.js';
import { stalledReader } from '../helpers/stalled-reader.js';

// The live queue holds member ids, each at most once: its length never passes the number of members.
stalledReader({
  name: 'gossip',
  create: (id) => new Membership({ id }),
  mutate: (m, i) => m.setLocalState(`k${i % 1000}`, i),
  state: (m) => m.view().map(({ id, generation, version, entries }) => ({ id, generation, version, entries })),
  progress: (m) => m.view().map(({ id, version }) => [id, version]),
  bound: 2,
  writes: 100_000,
});
