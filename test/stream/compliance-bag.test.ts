import { Bag } from '../helpers/bag.js';
import { compliance } from '../helpers/compliance.js';

compliance({
  name: 'test-bag',
  create: (id, docName) => new Bag(id, docName),
  mutate: (bag, i) => bag.add(`item-${i}`),
  state: (bag) => [...bag.items].sort(),
});
