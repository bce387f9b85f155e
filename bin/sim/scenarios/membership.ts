import { percentiles } from '../../../lib/sim/stats.js';
import type { Chart } from '../svg.js';
import { type MembershipRunResult, runMembership } from '../../../lib/sim/membership-run.js';
import { spreadModelRounds } from '../../../lib/sim/spread-model.js';
import { DEFAULT_PHI } from '../../../lib/gossip/failure-detector.js';
import { DEFAULT_TIMING } from '../../../lib/gossip/options.js';
import { type Goal, type Scenario, type ScenarioOptions, type ScenarioResult, extraNumber, goalLines, lines } from './scenario.js';

/** Cassandra's phi at 8 with its exponential model: about 18.4 mean intervals at 1 s. */
export const CASSANDRA_DETECTION_S = 18;
/** Akka's documented detection time with its defaults (1 s heartbeat, 3 s acceptable pause, phi 8). */
export const AKKA_DETECTION_S = 5.5;
/** Bytes a memberlist node may send per second with the LAN defaults: gossip to 3 nodes every 200 ms in 1,400-byte packets. */
const MEMBERLIST_GOSSIP_BUDGET = 3 * 1400 * 5;

/**
 * memberlist's LAN budget at `n` nodes: the gossip packets, plus its full
 * push-pull state sync (about 50 bytes per node, both ways, every 30 s,
 * stretched by ceil(log2 n - log2 32) + 1 above 32 nodes).
 */
export function memberlistBudget(n: number): number {
  const scale = n <= 32 ? 1 : Math.ceil(Math.log2(n) - Math.log2(32)) + 1;
  return MEMBERLIST_GOSSIP_BUDGET + (2 * n * 50) / (30 * scale);
}

const LOSSES = [0, 0.01, 0.05, 0.1, 0.2];

/**
 * The gossip membership against the goals: false alarms under loss, local
 * pauses, detection time, spread in rounds, and bytes per node per second.
 */
export const membership: Scenario = {
  name: 'membership',
  summary: 'gossip membership and phi accrual failure detection: false alarms, pauses, detection time, spread and cost',
  extraHelp: [
    '--part P         all|alarms|pauses|detection|spread|cost (default all)',
    '--seeds N        seeds per loss level for the false-alarm runs (default 2)',
    '--hours H        simulated hours per false-alarm run (default 0.25)',
    '--spread-nodes N nodes for the spread run (default 1000)',
    '--crash-runs N   20-node runs of five crashes each for the detection figures (default 4)',
    '--model-runs N   runs of the spread model at 1,000 and 10,000 nodes (default 50)',
    '--cost-nodes L   comma-separated cluster sizes for the cost (default 100,1000)',
  ],
  run(options: ScenarioOptions): ScenarioResult {
    const part = options.extra.part ?? 'all';
    const want = (p: string) => part === 'all' || part === p;
    const seed = options.seed;
    const goals: Goal[] = [];
    const report: Record<string, unknown> = {};
    const text: string[] = [];
    const chart: Chart = { title: 'time until every live node convicts a crashed one', xLabel: 'crash', yLabel: 'seconds', series: [], rules: [] };

    if (want('alarms')) {
      const seeds = extraNumber(options, 'seeds', 2);
      const hours = extraNumber(options, 'hours', 0.25);
      const nodes = options.nodes ?? 20;
      const rows = LOSSES.map((loss) => {
        let falseConvictions = 0;
        let nodeHours = 0;
        for (let s = 0; s < seeds; s++) {
          const r = runMembership({ nodes, seed: seed + s, durationMs: 30_000 + hours * 3_600_000, loss });
          falseConvictions += r.falseConvictions.length;
          nodeHours += r.nodeHours;
          options.progress?.(0.1);
        }
        return { loss, falseConvictions, nodeHours: Math.round(nodeHours), perThousandNodeHours: (falseConvictions / nodeHours) * 1000 };
      });
      report.falseAlarms = { nodes, seeds, hours, rows };
      text.push(lines(`false convictions, ${nodes} nodes, ${seeds} seeds x ${hours} h per loss level`, rows.map((r) => [`loss ${r.loss * 100}%`, `${r.falseConvictions} in ${r.nodeHours} node-hours (${r.perThousandNodeHours.toFixed(2)} per 1,000 node-hours)`])));
      goals.push({ text: '0 false convictions at loss 0, 1, 5 and 10%', met: rows.filter((r) => r.loss <= 0.1).every((r) => r.falseConvictions === 0) });
      goals.push({ text: 'at most 1 false conviction per 1,000 node-hours at 20% loss', met: rows.filter((r) => r.loss === 0.2).every((r) => r.perThousandNodeHours <= 1) });
    }

    if (want('pauses')) {
      const pauses = [2000, 4000, 6000, 8000].map((ms, k) => ({ node: 2 + k, at: 60_000 + k * 30_000, ms }));
      const r = runMembership({ nodes: 20, seed, durationMs: 200_000, pauses });
      const acceptable = DEFAULT_PHI.acceptableHeartbeatPauseMs;
      const rows = pauses.map((p) => {
        const convicted = r.pausedConvicted.find((c) => c.target === p.node);
        return { pauseMs: p.ms, convictedBy: convicted?.observers ?? 0 };
      });
      report.pauses = { rows, convictionsOnWaking: r.convictionsOnWaking.length, falseConvictions: r.falseConvictions.length };
      text.push(lines(`paused nodes (20 nodes, acceptable pause ${acceptable / 1000} s)`, [
        ...rows.map((row): [string, unknown] => [`paused ${row.pauseMs / 1000} s`, `convicted by ${row.convictedBy} of 19`]),
        ['convictions made on waking', r.convictionsOnWaking.length],
      ]));
      goals.push({ text: 'a node paused 2 to 8 s convicts nobody on waking', met: r.convictionsOnWaking.length === 0 });
      goals.push({ text: 'a paused node is convicted only if its pause exceeds the acceptable pause', met: rows.every((row) => row.pauseMs > acceptable || row.convictedBy === 0) });
    }

    if (want('detection')) {
      const all: number[] = [];
      const runs: MembershipRunResult[] = [];
      const crashRuns = extraNumber(options, 'crash-runs', 4);
      for (let s = 0; s < crashRuns; s++) {
        const crashes = [0, 1, 2, 3, 4].map((k) => ({ node: 10 + k, at: 60_000 + k * 40_000 }));
        const r = runMembership({ nodes: 20, seed: seed + 100 + s, durationMs: 300_000, loss: options.loss ?? 0, crashes });
        runs.push(r);
        all.push(...r.detectionMs);
      }
      const p = percentiles(all.map((ms) => ms / 1000));
      const setting = `1 s gossip interval, fanout ${DEFAULT_TIMING.fanout}, phi ${DEFAULT_PHI.threshold}, acceptable pause ${DEFAULT_PHI.acceptableHeartbeatPauseMs / 1000} s, min deviation ${DEFAULT_PHI.minStdDeviationMs} ms`;
      report.detection = { crashes: all.length, seconds: p, setting };
      chart.series.push({ name: 'ours (1 s interval, phi 8)', points: all.map((ms, i): [number, number] => [i + 1, ms / 1000]) });
      chart.rules!.push({ y: CASSANDRA_DETECTION_S, label: 'Cassandra ~18 s' }, { y: AKKA_DETECTION_S, label: 'Akka ~5.5 s' }, { y: 10, label: 'goal 10 s' });
      text.push(lines(`detection: ${all.length} crashes in 20-node clusters, ${setting}`, [
        ['every live node convicted after', `median ${p.median.toFixed(1)} s, p99 ${p.p99.toFixed(1)} s, max ${p.max.toFixed(1)} s`],
        ['Cassandra (phi 8, exponential)', `~${CASSANDRA_DETECTION_S} s (ours at p99: ratio ${(p.p99 / CASSANDRA_DETECTION_S).toFixed(2)})`],
        ['Akka defaults', `~${AKKA_DETECTION_S} s (ours at p99: ratio ${(p.p99 / AKKA_DETECTION_S).toFixed(2)})`],
      ]));
      goals.push({ text: 'a crashed node is convicted by every live node within 10 s at p99', met: p.p99 <= 10 });
    }

    if (want('spread')) {
      const n = extraNumber(options, 'spread-nodes', 1000);
      const bound = (nodes: number) => Math.log(nodes) / Math.log(3) + 4;
      const rows: [string, unknown][] = [];
      let full: number | undefined;
      if (n > 0) {
        const r = runMembership({ nodes: n, seed, durationMs: 45_000, warmupMs: 30_000, write: { node: n - 1, at: 32_000 } });
        full = r.spreadRounds;
        rows.push([`${n} nodes, full simulator`, `${full ?? 'never'} rounds (goal: log3(N) + 4 = ${bound(n).toFixed(1)})`]);
        goals.push({ text: `a setLocalState reaches all ${n} nodes within log3(N) + 4 rounds (full simulator)`, met: full !== undefined && full <= bound(n) });
      }
      const modelRuns = extraNumber(options, 'model-runs', 50);
      const model = [1000, 10_000].map((nodes) => {
        const rounds = Array.from({ length: modelRuns }, (_, k) => spreadModelRounds({ nodes, seed: seed + k, fanout: DEFAULT_TIMING.fanout }));
        const p = percentiles(rounds);
        rows.push([`${nodes} nodes, spread model, ${modelRuns} runs`, `median ${p.median}, p99 ${p.p99}, max ${p.max} rounds (goal: ${bound(nodes).toFixed(1)})`]);
        goals.push({ text: `a setLocalState reaches all ${nodes} nodes within log3(N) + 4 rounds at p99 (spread model)`, met: p.p99 <= bound(nodes) });
        return { nodes, runs: modelRuns, rounds: p, bound: bound(nodes) };
      });
      report.spread = { full: n > 0 ? { nodes: n, rounds: full ?? null, bound: bound(n) } : null, model };
      text.push(lines('spread: gossip rounds until every node holds one setLocalState', rows));
    }

    if (want('cost')) {
      const sizes = (options.extra['cost-nodes'] ?? '100,1000').split(',').map(Number);
      const rows = sizes.map((n) => {
        const r = runMembership({ nodes: n, seed, durationMs: 40_000, warmupMs: 30_000 });
        return { nodes: n, bytesPerNodePerSecond: Math.round(r.bytesPerNodePerSecond), memberlist: Math.round(memberlistBudget(n)) };
      });
      report.cost = rows;
      text.push(lines(`cost: bytes sent per node per second, no state changes, 1 s interval, fanout ${DEFAULT_TIMING.fanout} (memberlist: 3 x 1,400 B every 200 ms + push-pull every 30 s)`, rows.map((r) => [`${r.nodes} nodes`, `${r.bytesPerNodePerSecond} B/s; memberlist LAN budget ${r.memberlist} B/s (ratio ${(r.bytesPerNodePerSecond / r.memberlist).toFixed(2)})`])));
      goals.push({ text: 'below memberlist\'s LAN budget at 1,000 nodes', met: rows.every((r) => r.nodes !== 1000 || r.bytesPerNodePerSecond < r.memberlist) });
    }

    return {
      report: { scenario: 'membership', seed, goals, ...report },
      text: [...text, 'goals:', goalLines(goals)].join('\n\n'),
      chart,
    };
  },
};
