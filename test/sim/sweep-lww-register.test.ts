// The convergence sweep for lww-register; see ./sweep.ts for the knobs (SIM_SEEDS, SEED, SIM_OPS).
import { lwwRegisterUnderTest } from '../../lib/sim/structures/crdt.js';
import { convergenceSweep } from './sweep.js';

convergenceSweep(lwwRegisterUnderTest);
