// The convergence sweep for orset; see ./sweep.ts for the knobs (SIM_SEEDS, SEED, SIM_OPS).
import { orSetUnderTest } from '../../lib/sim/structures/crdt.js';
import { convergenceSweep } from './sweep.js';

convergenceSweep(orSetUnderTest);
