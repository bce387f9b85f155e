import test from 'tape';
import { runMembership } from '../../lib/sim/membership-run.js';
import { spreadModelRounds } from '../../lib/sim/spread-model.js';

// Virtual time: deterministic from the seed, no wall-clock timing involved.
const seed = Number(process.env.SEED ?? 7);
console.log(`# membership runs: seed ${seed} (replay with SEED=${seed})`);

test('simulated membership: crashes are convicted by all, a restart comes back, pauses convict nobody, a write spreads', (t) => {
  const r = runMembership({
    nodes: 12,
    seed,
    durationMs: 150_000,
    loss: 0.05,
    crashes: [{ node: 3, at: 40_000 }, { node: 4, at: 50_000, restartAt: 90_000 }],
    pauses: [{ node: 5, at: 60_000, ms: 4000 }],
    write: { node: 6, at: 100_000 },
  });
  t.equal(r.detectionMs.length, 1, 'one node stays crashed');
  t.ok(Number.isFinite(r.detectionMs[0]), `every live node convicted it (after ${(r.detectionMs[0] / 1000).toFixed(1)} s)`);
  t.deepEqual(r.falseConvictions, [], 'no false convictions');
  t.deepEqual(r.convictionsOnWaking, [], 'the paused node convicted nobody on waking');
  t.ok(r.spreadRounds !== undefined, `the write reached every live node in ${r.spreadRounds} rounds`);
  t.ok(r.converged, 'every live node knows every other live node\'s life and keys, the restarted one included');
  t.end();
});

test('simulated membership: a partition heals through the seed', (t) => {
  const side = [6, 7, 8, 9, 10, 11];
  const r = runMembership({ nodes: 12, seed, durationMs: 200_000, partitions: [{ at: 40_000, until: 100_000, side }] });
  t.ok(r.converged, 'converged after the partition healed');
  t.end();
});

test('the spread model agrees with the full simulator (60 nodes)', (t) => {
  const n = 60;
  const full = [seed, seed + 1, seed + 2].map((s) => runMembership({ nodes: n, seed: s, durationMs: 45_000, warmupMs: 30_000, write: { node: n - 1, at: 32_000 } }).spreadRounds);
  const model = Array.from({ length: 30 }, (_, k) => spreadModelRounds({ nodes: n, seed: seed + k }));
  const [low, high] = [Math.min(...model), Math.max(...model)];
  for (const rounds of full) t.ok(rounds !== undefined && rounds >= low && rounds <= high, `full simulator: ${rounds} rounds; model: ${low} to ${high}`);
  t.end();
});
