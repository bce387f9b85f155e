// The convergence sweep for Seq; see ./sweep.ts for the knobs (SIM_SEEDS, SEED, SIM_OPS).
import { seqUnderTest } from '../../lib/sim/structures/seq.js';
import { convergenceSweep } from './sweep.js';

convergenceSweep(seqUnderTest);
