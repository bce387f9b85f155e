import test from 'tape';
import { type ConvergenceOptions, runConvergence, runConvergenceAsync } from '../../lib/sim/convergence.js';
import { replayCommand } from '../../bin/sim/scenarios/sweep.js';
import type { StructureUnderTest } from '../../lib/sim/structure.js';

/**
 * The convergence sweep for one structure, as a tape test: SIM_SEEDS seeds
 * (default 200) from SIM_FIRST_SEED (default 1), or only SEED if set;
 * SIM_OPS writes per run (default the structure's CI size, or 300). Every
 * failing seed is printed with the command that replays it.
 */
export function convergenceSweep(structure: StructureUnderTest<any>, defaults: Partial<ConvergenceOptions> = {}): void {
  // SIM_OPS overrides the writes per run (for structures whose CI size is smaller).
  const options: Partial<ConvergenceOptions> = { ...defaults, ...(process.env.SIM_OPS ? { ops: Number(process.env.SIM_OPS) } : {}) };
  const only = process.env.SEED !== undefined ? Number(process.env.SEED) : undefined;
  const count = Number(process.env.SIM_SEEDS ?? 200);
  const first = Number(process.env.SIM_FIRST_SEED ?? 1);
  const seeds = only !== undefined ? [only] : Array.from({ length: count }, (_, i) => first + i);
  test(`${structure.name}: convergence sweep over ${seeds.length} seeds (5 nodes, ${options.ops ?? 300} writes, loss up to 30%, partitions, crashes)`, async (t) => {
    console.log(`# seeds ${seeds[0]}..${seeds[seeds.length - 1]}; replay one with SEED=<n> or \`${replayCommand(structure.name, seeds[0]!, options.ops)}\``);
    let failed = 0;
    let writes = 0;
    let wiped = 0;
    for (const seed of seeds) {
      let result;
      try {
        result = structure.async ? await runConvergenceAsync(structure, seed, options) : runConvergence(structure, seed, options);
      } catch (err) {
        failed++;
        t.fail(`seed ${seed} threw ${(err as Error).stack}; replay: ${replayCommand(structure.name, seed, options.ops)}`);
        continue;
      }
      writes += result.report.writes;
      wiped += result.report.wipedWithTheirNode;
      if (result.report.violations.length > 0) {
        failed++;
        t.fail(`seed ${seed}: ${result.report.violations.join('; ')}\n  replay: ${replayCommand(structure.name, seed, options.ops)}  (or SEED=${seed} node ${process.argv[1]})`);
      }
    }
    t.equal(failed, 0, `${seeds.length} seeds, ${writes} writes (${wiped} went down with a node that lost its state): no divergence, no lost or duplicated element, no exception`);
    t.end();
  });
}
