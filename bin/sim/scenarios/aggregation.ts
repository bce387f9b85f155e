import { schedulePartitions } from '../../../lib/sim/faults.js';
import { Network } from '../../../lib/sim/network.js';
import { SimRandom } from '../../../lib/sim/random.js';
import { Scheduler } from '../../../lib/sim/scheduler.js';
import { round } from '../../../lib/sim/stats.js';
import type { Chart } from '../svg.js';
import { PushSumNode, type PushSumMessage } from './push-sum-node.js';
import { type Goal, type Scenario, type ScenarioOptions, type ScenarioResult, extraNumber, goalLines } from './scenario.js';

export interface AggregateRun {
  what: 'average' | 'count';
  truth: number;
  /** Largest relative error over all nodes after each round (index 0 = before the first). */
  maxError: number[];
  /** First round after which every node is within 1e-3, and 1e-6, of the truth. */
  roundsTo1e3: number | undefined;
  roundsTo1e6: number | undefined;
  messages: number;
  /** What the nodes believe at the end: min and max estimate. */
  finalMin: number;
  finalMax: number;
}

/** Runs push-sum for `rounds` rounds of `period` ms over datagram links. */
function pushSum(what: 'average' | 'count', o: { nodes: number; seed: number; latency: number; loss: number; partitions: number; period: number; rounds: number; progress?: (f: number) => void }): AggregateRun {
  const scheduler = new Scheduler();
  const root = new SimRandom(o.seed);
  const network = new Network(scheduler, root.fork(), { latency: o.latency, loss: o.loss });
  const values = root.fork();
  const names = Array.from({ length: o.nodes }, (_, i) => `n${i}`);
  const nodes = names.map((_, i) =>
    what === 'average' ? new PushSumNode(i, o.nodes, root.fork(), values.float() * 100, 1) : new PushSumNode(i, o.nodes, root.fork(), 1, i === 0 ? 1 : 0),
  );
  const truth = what === 'average' ? nodes.reduce((sum, n) => sum + n.s, 0) / o.nodes : o.nodes;
  names.forEach((name, i) => {
    network.addNode(name);
    network.listen(name, (_, message) => nodes[i]!.receive(message as PushSumMessage));
  });
  schedulePartitions(network, root.fork(), o.partitions, 0, (o.rounds * o.period) / 2);
  const error = () => Math.max(...nodes.map((n) => (Number.isNaN(n.estimate) ? Infinity : Math.abs(n.estimate - truth) / truth)));
  const maxError = [error()];
  let messages = 0;
  let roundsTo1e3: number | undefined;
  let roundsTo1e6: number | undefined;
  for (let r = 1; r <= o.rounds; r++) {
    scheduler.runUntil((r - 1) * o.period);
    for (const node of nodes) {
      const { to, message } = node.tick();
      messages++;
      network.send(names[node.index]!, names[to]!, message, 16);
    }
    scheduler.runUntil(r * o.period - 1);
    const e = error();
    maxError.push(e);
    if (roundsTo1e3 === undefined && e < 1e-3) roundsTo1e3 = r;
    if (roundsTo1e6 === undefined && e < 1e-6) roundsTo1e6 = r;
    o.progress?.(r / o.rounds);
  }
  const estimates = nodes.map((n) => n.estimate).filter((x) => !Number.isNaN(x));
  return { what, truth, maxError, roundsTo1e3, roundsTo1e6, messages, finalMin: Math.min(...estimates), finalMax: Math.max(...estimates) };
}

export const aggregation: Scenario = {
  name: 'aggregation',
  summary: 'push-sum gossip computing the average and the count of the cluster: error versus rounds',
  extraHelp: ['--rounds N        rounds to run (default 60)', '--period MS       round length (default 1000)'],
  run(options: ScenarioOptions): ScenarioResult {
    const nodes = options.nodes ?? 1000;
    const period = extraNumber(options, 'period', 1000);
    const rounds = options.duration !== undefined ? Math.max(1, Math.floor(options.duration / period)) : extraNumber(options, 'rounds', 60);
    const o = { nodes, seed: options.seed, latency: options.latency ?? 10, loss: options.loss ?? 0, partitions: options.partitions ?? 0, period, rounds };
    const runs = (['average', 'count'] as const).map((what, i) => pushSum(what, { ...o, seed: options.seed + i, progress: (f) => options.progress?.((i + f) / 2) }));
    // Kempe et al.: within O(log N + log 1/eps) rounds; print log2 N + log2(1/eps) as the yardstick.
    const yardstick = (eps: number) => round(Math.log2(nodes) + Math.log2(1 / eps), 1);
    const goals: Goal[] = [];
    if (o.loss === 0 && o.partitions === 0) {
      for (const r of runs) goals.push({ text: `${r.what}: every node within 1e-3 after ${r.roundsTo1e3 ?? 'never'} rounds`, met: r.roundsTo1e3 !== undefined });
    }
    const report = {
      scenario: 'aggregation',
      seed: options.seed,
      nodes,
      latencyMs: o.latency,
      loss: o.loss,
      partitions: o.partitions,
      rounds,
      results: runs.map((r) => ({
        what: r.what,
        truth: round(r.truth, 6),
        roundsTo1e3: r.roundsTo1e3 ?? null,
        roundsTo1e6: r.roundsTo1e6 ?? null,
        finalMaxRelativeError: r.maxError[r.maxError.length - 1],
        finalRange: [round(r.finalMin, 6), round(r.finalMax, 6)],
        messagesPerNodePerRound: 1,
        errorByRound: r.maxError.map((e) => (Number.isFinite(e) ? Number(e.toPrecision(3)) : null)),
      })),
      predicted: `O(log N + log 1/eps) rounds (Kempe et al. 2003); log2 N + log2 1/eps = ${yardstick(1e-3)} for 1e-3, ${yardstick(1e-6)} for 1e-6`,
      goals,
    };
    const text = [
      `aggregation (push-sum): ${nodes} nodes, seed ${options.seed}, latency ${o.latency} ms, loss ${o.loss}, ${o.partitions} partitions, ${rounds} rounds`,
      ...runs.map(
        (r) =>
          `  ${r.what.padEnd(8)} truth ${round(r.truth, 4)}: max error < 1e-3 after ${r.roundsTo1e3 ?? '-'} rounds, < 1e-6 after ${r.roundsTo1e6 ?? '-'}; final estimates ${round(r.finalMin, 4)} .. ${round(r.finalMax, 4)}`,
      ),
      `  error by round (average): ${sample(runs[0]!.maxError)}`,
      `  error by round (count):   ${sample(runs[1]!.maxError)}`,
      `  predicted: ${report.predicted}`,
      `  messages: one per node per round (${runs[0]!.messages} per run)`,
      'goals:',
      goals.length ? goalLines(goals) : '  (checked without loss or partitions: lost messages lose mass, and push-sum then converges to a wrong value)',
    ].join('\n');
    const floor = 1e-12;
    const chart: Chart = {
      title: `push-sum: largest relative error over ${nodes} nodes (1000 = a node has no estimate yet)`,
      xLabel: 'round',
      yLabel: 'max relative error',
      logY: true,
      series: runs.map((r) => ({ name: r.what, points: r.maxError.map((e, i) => [i, Math.max(floor, Number.isFinite(e) ? e : 1e3)] as [number, number]) })),
      rules: [{ y: 1e-3, label: '1e-3' }],
    };
    return { report, text, chart };
  },
};

function sample(errors: number[]): string {
  const picks = [0, 5, 10, 15, 20, 30, 40, 50, 60].filter((i) => i < errors.length);
  return picks.map((i) => `r${i} ${Number.isFinite(errors[i]!) ? errors[i]!.toExponential(1) : 'inf'}`).join(', ');
}
