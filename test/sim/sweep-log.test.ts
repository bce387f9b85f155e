// The convergence sweep for the log structure; see ./sweep.ts for the knobs (SIM_SEEDS, SEED).
import { logUnderTest } from '../../lib/sim/structures/scuttlebutt.js';
import { convergenceSweep } from './sweep.js';

convergenceSweep(logUnderTest);
