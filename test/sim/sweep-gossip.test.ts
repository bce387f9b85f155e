// The convergence sweep for the gossip membership (keys only, no ticks); see ./sweep.ts for the knobs (SIM_SEEDS, SEED).
import { gossipUnderTest } from '../../lib/sim/structures/gossip.js';
import { convergenceSweep } from './sweep.js';

convergenceSweep(gossipUnderTest);
