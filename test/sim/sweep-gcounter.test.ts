// The convergence sweep for gcounter; see ./sweep.ts for the knobs (SIM_SEEDS, SEED, SIM_OPS).
import { gCounterUnderTest } from '../../lib/sim/structures/crdt.js';
import { convergenceSweep } from './sweep.js';

convergenceSweep(gCounterUnderTest);
