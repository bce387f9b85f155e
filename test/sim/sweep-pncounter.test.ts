// The convergence sweep for pncounter; see ./sweep.ts for the knobs (SIM_SEEDS, SEED, SIM_OPS).
import { pnCounterUnderTest } from '../../lib/sim/structures/crdt.js';
import { convergenceSweep } from './sweep.js';

convergenceSweep(pnCounterUnderTest);
