// Rateless reconciliation in the simulator: it converges under the
// convergence sweep's faults, and the comparison with the walk is
// deterministic from its seed.
import test from 'tape';
import { runConvergenceAsync } from '../../lib/sim/convergence.js';
import { compareReconciliation } from '../../lib/sim/reconcile-compare.js';
import { merkleRatelessUnderTest } from '../../lib/sim/structures/merkle.js';

test('merkle-rateless: convergence under loss, partitions and crashes (10 seeds, 60 writes each)', async (t) => {
  const first = Number(process.env.SIM_FIRST_SEED ?? 1);
  for (let seed = first; seed < first + 10; seed++) {
    const result = await runConvergenceAsync(merkleRatelessUnderTest, seed, { ops: 60 });
    t.deepEqual(result.report.violations, [], `seed ${seed}: ${result.report.writes} writes, loss ${result.loss}: no violation`);
  }
  t.end();
});

test('rateless against the walk after a partition heals: both converge, the same numbers from the same seed', async (t) => {
  const options = { keys: 300, diffs: 40, latency: 100, loss: 0.02, seed: 7 };
  const rows = await compareReconciliation(options);
  for (const row of rows) console.log(`# ${row.method}: converged ${row.convergeMs} ms after the heal, ${row.bytes} bytes, ${row.broken} connections broken`);
  t.ok(rows.every((r) => r.converged), 'both converged');
  t.deepEqual(await compareReconciliation(options), rows, 'replayed from the seed');
  t.end();
});
