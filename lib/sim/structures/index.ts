import type { StructureUnderTest } from '../structure.js';
import { gCounterUnderTest, gSetUnderTest, lwwRegisterUnderTest, mvRegisterUnderTest, orSetUnderTest, pnCounterUnderTest, twoPSetUnderTest } from './crdt.js';
import { merkleRatelessUnderTest, merkleUnderTest } from './merkle.js';
import { seqUnderTest } from './seq.js';
import { gossipUnderTest } from './gossip.js';
import { logUnderTest, modelSetUnderTest, modelUnderTest } from './scuttlebutt.js';

/** Every structure the simulator can drive, by name (for `tendril sim` and the sweep). */
export const STRUCTURES: Record<string, StructureUnderTest<any>> = {
  model: modelUnderTest,
  'model-set': modelSetUnderTest,
  log: logUnderTest,
  merkle: merkleUnderTest,
  'merkle-rateless': merkleRatelessUnderTest,
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
