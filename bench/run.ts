// Runs the benchmarks: node --expose-gc dist/bench/run.js [model|...]
// Each prints its tables with ratios against the anchors, measured in the same run.
import { formatBundleSizes, runBundleBench } from './bundle.js';
import { runModelBench } from './model/index.js';
import { runCrdtBench } from './crdt/index.js';
import { formatMerkleRows, runMerkleBench } from './merkle.js';
import { formatSeqBench, runSeqBench } from './seq.js';
import { formatSeqLive, runSeqLiveBench } from './seq-live.js';
import { formatReconcile, formatReconcileSim, runReconcileBench, runReconcileSimBench } from './reconcile.js';
import { formatReconcileSpread, runReconcileSpread } from './reconcile-spread.js';
import { formatSetReconcile, runSetReconcileBench } from './reconcile-sets.js';
import { runVineBench } from './vine.js';
import { runVineHealBench } from './vine-heal.js';
import { printVineReplicaBench } from './vine-replica.js';
import { printPersistBench, runPersistBench } from './persist.js';
import { runGossipBench } from './gossip.js';
import { formatSignedLogBench, runSignedLogBench } from './signed-log.js';

const only = process.argv.slice(2);
const benches: Record<string, () => Promise<unknown>> = {
  model: () =>
    runModelBench({ keys: Number(process.env.BENCH_KEYS ?? 100_000), stallKeys: Number(process.env.BENCH_STALL_KEYS ?? 1_000_000), runs: Number(process.env.BENCH_RUNS ?? 3) }),
  crdt: () => runCrdtBench({ elements: Number(process.env.BENCH_ELEMENTS ?? 100_000), runs: Number(process.env.BENCH_RUNS ?? 3) }),
  merkle: async () =>
    console.log(
      formatMerkleRows(
        await runMerkleBench({
          keys: process.env.BENCH_MERKLE_KEYS ? Number(process.env.BENCH_MERKLE_KEYS) : undefined,
          // BENCH_MERKLE_OPEN_ONLY=1: only the open rows (load, rebuild, open after a crash).
          diffs: process.env.BENCH_MERKLE_OPEN_ONLY ? [] : undefined,
        }),
      ),
    ),
  reconcile: async () => {
    console.log(formatReconcile(await runReconcileBench({ keys: process.env.BENCH_RECONCILE_KEYS ? Number(process.env.BENCH_RECONCILE_KEYS) : undefined })));
    console.log(formatReconcileSpread(await runReconcileSpread()));
    console.log(formatReconcileSim(await runReconcileSimBench()));
    console.log(formatSetReconcile(await runSetReconcileBench()));
  },
  seq: async () =>
    console.log(
      formatSeqBench(
        runSeqBench({
          crdtLimitMs: Number(process.env.CRDT_LIMIT_S ?? 30) * 1000,
          automergeLimitMs: Number(process.env.AUTOMERGE_LIMIT_S ?? 10) * 1000,
          traceEdits: Number(process.env.TRACE_EDITS ?? 200_000),
        }),
      ),
    ),
  'seq-live': async () => console.log(formatSeqLive(runSeqLiveBench({ edits: Number(process.env.SEQ_LIVE_EDITS ?? 100_000) }))),
  bundle: async () => console.log(formatBundleSizes(await runBundleBench())),
  gossip: async () => runGossipBench(),
  'signed-log': async () => console.log(formatSignedLogBench(await runSignedLogBench(Number(process.env.BENCH_SIGNED_ENTRIES ?? 10_000)))),
  vine: async () => {
    await runVineBench({ phaseMs: Number(process.env.VINE_BENCH_MS ?? 3000), warmMs: process.env.VINE_BENCH_WARM_MS === undefined ? undefined : Number(process.env.VINE_BENCH_WARM_MS) });
    await runVineHealBench(Number(process.env.VINE_HEAL_KEYS ?? 2_000));
  },
  'vine-replica': () => printVineReplicaBench(),
  persist: async () => printPersistBench(await runPersistBench()),
};

for (const [name, bench] of Object.entries(benches)) {
  if (only.length > 0 && !only.includes(name)) continue;
  console.log(`\n## ${name}`);
  await bench();
}
