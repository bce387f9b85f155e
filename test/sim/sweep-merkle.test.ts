// The convergence sweep for MerkleStore (on memory-level, paced by virtual time); see ./sweep.ts for the knobs.
// 100 writes per run in CI: every write goes through the database; SIM_OPS=300 runs the full size.
import { merkleUnderTest } from '../../lib/sim/structures/merkle.js';
import { convergenceSweep } from './sweep.js';

convergenceSweep(merkleUnderTest, { ops: 100 });
