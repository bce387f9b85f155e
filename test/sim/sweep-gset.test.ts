// The convergence sweep for gset; see ./sweep.ts for the knobs (SIM_SEEDS, SEED, SIM_OPS).
import { gSetUnderTest } from '../../lib/sim/structures/crdt.js';
import { convergenceSweep } from './sweep.js';

convergenceSweep(gSetUnderTest);
