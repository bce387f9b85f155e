// Gossip membership against its anchors, in the simulator (virtual time, the
// real Membership code): bytes per node per second in a quiet cluster beside
// memberlist's LAN budget, time until every live node convicts a crashed node
// beside Cassandra (phi 8) and Akka's defaults, and rounds until a
// setLocalState reaches every node beside log3(N) + 4.
//
// Sized for a 2-core machine: 100 nodes for the cost (1,000 takes minutes:
// GOSSIP_COST_NODES=100,1000), two 20-node runs of five crashes, the spread
// in the full simulator at 200 nodes and in the spread model at 1,000 and
// 10,000. The goals' full sizes: `tendril sim membership` (docs/gossip.md).
import { memberlistBudget, AKKA_DETECTION_S, CASSANDRA_DETECTION_S } from '../bin/sim/scenarios/membership.js';
import { DEFAULT_PHI, DEFAULT_GOSSIP_TIMING } from '../lib/gossip/index.js';
import { runMembership } from '../lib/sim/membership-run.js';
import { spreadModelRounds } from '../lib/sim/spread-model.js';
import { percentiles } from '../lib/sim/stats.js';
import { type Row, printTable, ratio } from './harness.js';

export function runGossipBench(): void {
  const seed = Number(process.env.GOSSIP_SEED ?? 1);
  const cost: Row[] = (process.env.GOSSIP_COST_NODES ?? '100').split(',').map(Number).map((nodes) => {
    const r = runMembership({ nodes, seed, durationMs: 40_000, warmupMs: 30_000 });
    const budget = memberlistBudget(nodes);
    return { nodes, 'ours B/s per node': Math.round(r.bytesPerNodePerSecond), 'memberlist LAN budget B/s': Math.round(budget), ratio: ratio(r.bytesPerNodePerSecond, budget) };
  });
  printTable(`cost: bytes sent per node per second, no state changes (1 s interval, fanout ${DEFAULT_GOSSIP_TIMING.fanout}; goal: below memberlist at 1,000 nodes)`, cost);

  const detection: number[] = [];
  let falseConvictions = 0;
  for (let s = 0; s < Number(process.env.GOSSIP_CRASH_RUNS ?? 2); s++) {
    const crashes = [0, 1, 2, 3, 4].map((k) => ({ node: 10 + k, at: 60_000 + k * 40_000 }));
    const r = runMembership({ nodes: 20, seed: seed + 100 + s, durationMs: 300_000, crashes });
    detection.push(...r.detectionMs.map((ms) => ms / 1000));
    falseConvictions += r.falseConvictions.length;
  }
  const p = percentiles(detection);
  printTable(`detection: seconds until every live node convicted a crashed one (${p.count} crashes, 20 nodes, phi ${DEFAULT_PHI.threshold}, acceptable pause ${DEFAULT_PHI.acceptableHeartbeatPauseMs / 1000} s; ${falseConvictions} false convictions; goal: p99 within 10 s)`, [
    { anchor: 'Cassandra (phi 8)', 'anchor s': CASSANDRA_DETECTION_S, 'ours median s': p.median, 'ours p99 s': p.p99, 'p99 ratio': ratio(p.p99, CASSANDRA_DETECTION_S) },
    { anchor: 'Akka defaults', 'anchor s': AKKA_DETECTION_S, 'ours median s': p.median, 'ours p99 s': p.p99, 'p99 ratio': ratio(p.p99, AKKA_DETECTION_S) },
  ]);

  const spread: Row[] = [];
  const fullNodes = Number(process.env.GOSSIP_SPREAD_NODES ?? 200);
  const full = runMembership({ nodes: fullNodes, seed, durationMs: 45_000, warmupMs: 30_000, write: { node: fullNodes - 1, at: 32_000 } });
  const bound = (n: number) => Math.log(n) / Math.log(3) + 4;
  spread.push({ nodes: fullNodes, how: 'full simulator, 1 run', 'p99 rounds': full.spreadRounds ?? Infinity, 'log3(N) + 4': bound(fullNodes), ratio: ratio(full.spreadRounds ?? Infinity, bound(fullNodes)) });
  for (const nodes of [1000, 10_000]) {
    const runs = nodes > 1000 ? 10 : 50;
    const q = percentiles(Array.from({ length: runs }, (_, k) => spreadModelRounds({ nodes, seed: seed + k, fanout: DEFAULT_GOSSIP_TIMING.fanout })));
    spread.push({ nodes, how: `spread model, ${runs} runs`, 'p99 rounds': q.p99, 'log3(N) + 4': bound(nodes), ratio: ratio(q.p99, bound(nodes)) });
  }
  printTable('spread: gossip rounds until every node holds one setLocalState (goal: within log3(N) + 4 at p99)', spread);
}
