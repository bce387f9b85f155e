import { Membership } from '../../lib/gossip/membership.js';
import { compliance } from '../helpers/compliance.js';

compliance<Membership>({
  name: 'gossip',
  create: (id, docName) => new Membership({ id, name: docName }),
  mutate: (m, i) => m.setLocalState(`key-${i}`, { i, text: `value ${i}` }),
  // Status is relative (we are 'self' to ourselves); compare what each node holds.
  state: (m) => m.view().map(({ id, generation, version, entries }) => ({ id, generation, version, entries })),
});
