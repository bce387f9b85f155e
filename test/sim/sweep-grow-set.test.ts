// The convergence sweep for the grow-set structure; see ./sweep.ts for the knobs (SIM_SEEDS, SEED).
import { growSetUnderTest } from '../../lib/sim/structures/index.js';
import { convergenceSweep } from './sweep.js';

convergenceSweep(growSetUnderTest);
