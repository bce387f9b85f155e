// The convergence sweep for mv-register; see ./sweep.ts for the knobs (SIM_SEEDS, SEED, SIM_OPS).
import { mvRegisterUnderTest } from '../../lib/sim/structures/crdt.js';
import { convergenceSweep } from './sweep.js';

convergenceSweep(mvRegisterUnderTest);
