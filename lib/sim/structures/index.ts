import type { StructureUnderTest } from '../structure.js';
import { GrowSet } from './grow-set.js';
import { gCounterUnderTest, gSetUnderTest, lwwRegisterUnderTest, mvRegisterUnderTest, orSetUnderTest, pnCounterUnderTest, twoPSetUnderTest } from './crdt.js';
import { merkleUnderTest } from './merkle.js';
import { seqUnderTest } from './seq.js';
import { gossipUnderTest } from './gossip.js';
import { logUnderTest, modelSetUnderTest, modelUnderTest } from './scuttlebutt.js';

/** The grow-only set the simulator ships with: adds unique strings. */
export const growSetUnderTest: StructureUnderTest<GrowSet> = {
  name: 'grow-set',
  create: ({ id }) => new GrowSet(id),
  mutate(set, i) {
    const key = `v${i}`;
    set.add(key);
    return { key };
  },
  state: (set) => set.values(),
  holds: (set, write) => set.has(write.key),
  elements: (set) => set.values(),
};

/** Every structure the simulator can drive, by name (for `tendril sim` and the sweep). */
export const STRUCTURES: Record<string, StructureUnderTest<any>> = {
  'grow-set': growSetUnderTest,
  model: modelUnderTest,
  'model-set': modelSetUnderTest,
  log: logUnderTest,
  merkle: merkleUnderTest,
  gset: gSetUnderTest,
  '2pset': twoPSetUnderTest,
  orset: orSetUnderTest,
  gcounter: gCounterUnderTest,
  pncounter: pnCounterUnderTest,
  'lww-register': lwwRegisterUnderTest,
  'mv-register': mvRegisterUnderTest,
  seq: seqUnderTest,
  gossip: gossipUnderTest,
};
