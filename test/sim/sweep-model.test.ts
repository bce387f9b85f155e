// The convergence sweep for the model structure; see ./sweep.ts for the knobs (SIM_SEEDS, SEED).
import { modelUnderTest } from '../../lib/sim/structures/scuttlebutt.js';
import { convergenceSweep } from './sweep.js';

convergenceSweep(modelUnderTest);
