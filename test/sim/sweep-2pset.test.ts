// The convergence sweep for 2pset; see ./sweep.ts for the knobs (SIM_SEEDS, SEED, SIM_OPS).
import { twoPSetUnderTest } from '../../lib/sim/structures/crdt.js';
import { convergenceSweep } from './sweep.js';

convergenceSweep(twoPSetUnderTest);
