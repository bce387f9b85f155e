import { schedulePartitions } from '../../../lib/sim/faults.js';
import { Network } from '../../../lib/sim/network.js';
import { SimRandom } from '../../../lib/sim/random.js';
import { Scheduler } from '../../../lib/sim/scheduler.js';
import { round } from '../../../lib/sim/stats.js';
import type { Chart, Series } from '../svg.js';
import { RumorNode, type RumorMessage, type SpreadMode, carriesRumor, predictedResidue, predictedRounds } from './rumor-node.js';
import { type Goal, type Scenario, type ScenarioOptions, type ScenarioResult, extraNumber, extraString, goalLines } from './scenario.js';

const MODES = ['all', 'push', 'pull', 'push-pull', 'rumor'] as const;

export interface SpreadRun {
  mode: SpreadMode;
  k?: number;
  nodes: number;
  /** Rounds until everyone knew (anti-entropy), or until nobody was spreading (rumour mongering); undefined if it never ended. */
  rounds: number | undefined;
  messages: number;
  /** Messages that carried the rumour. */
  rumorMessages: number;
  /** Fraction of nodes never reached. */
  residue: number;
  /** Nodes informed after each round (index 0 = before the first round). */
  informed: number[];
  /** Partitions applied: kind and rounds. */
  faults: string[];
}

interface SpreadOptions {
  nodes: number;
  seed: number;
  latency: number;
  loss: number;
  partitions: number;
  /** Round length, ms (every node ticks once per round). */
  period: number;
  maxRounds: number;
  k: number;
  progress?: (fraction: number) => void;
}

/**
 * Spreads one rumour from node 0 over `nodes` nodes on the simulated
 * network (datagram links), in rounds of `period` ms: in each round every
 * node ticks once, in a random order, and its messages travel with the
 * link's latency, loss, duplication and cuts.
 */
export function spread(mode: SpreadMode, o: SpreadOptions): SpreadRun {
  const scheduler = new Scheduler();
  const root = new SimRandom(o.seed);
  const network = new Network(scheduler, root.fork(), { latency: o.latency, loss: o.loss });
  const names = Array.from({ length: o.nodes }, (_, i) => `n${i}`);
  const index = new Map(names.map((n, i) => [n, i]));
  const nodes = names.map((_, i) => new RumorNode(i, mode, o.nodes, root.fork(), o.k));
  let roundNo = 0;
  let messages = 0;
  let rumorMessages = 0;
  let informed = 0;
  const send = (from: number, out: { to: number; message: RumorMessage }[]) => {
    for (const { to, message } of out) {
      messages++;
      if (carriesRumor(message)) rumorMessages++;
      network.send(names[from]!, names[to]!, message, 16);
    }
  };
  names.forEach((name, i) =>
    network.listen(name, (from, message) => {
      const node = nodes[i]!;
      const before = node.knows;
      send(i, node.receive(index.get(from)!, message as RumorMessage, roundNo));
      if (!before && node.knows) informed++;
    }),
  );
  for (const name of names) network.addNode(name);
  const order = root.fork();
  schedulePartitions(network, root.fork(), o.partitions, 0, (o.maxRounds * o.period) / 4);
  nodes[0]!.learn(0);
  informed = 1;
  const history = [informed];
  let rounds: number | undefined;
  for (roundNo = 1; roundNo <= o.maxRounds; roundNo++) {
    const start = (roundNo - 1) * o.period;
    scheduler.runUntil(start);
    for (const i of order.shuffle(names.map((_, j) => j))) send(i, nodes[i]!.tick());
    scheduler.runUntil(start + o.period - 1);
    history.push(informed);
    o.progress?.(roundNo / o.maxRounds);
    const over = mode === 'rumor' ? !nodes.some((n) => n.active) : informed === o.nodes;
    if (over) {
      rounds = roundNo;
      break;
    }
  }
  const faults = network.faults.map((w) => `${w.kind} in rounds ${Math.floor(w.start / o.period) + 1}-${Math.ceil((w.end ?? scheduler.now) / o.period)}`);
  return { mode, k: mode === 'rumor' ? o.k : undefined, nodes: o.nodes, rounds, messages, rumorMessages, residue: (o.nodes - informed) / o.nodes, informed: history, faults };
}

export const epidemic: Scenario = {
  name: 'epidemic',
  summary: 'push, pull and push-pull anti-entropy and rumour mongering: rounds, messages, residue vs the published predictions',
  extraHelp: [
    `--mode M          ${MODES.join('|')} (default all)`,
    '--k N             rumour mongering: stop after N useless contacts (default: 1 to 4 in mode all, 2 otherwise)',
    '--period MS       round length (default 1000)',
  ],
  run(options: ScenarioOptions): ScenarioResult {
    const nodes = options.nodes ?? 10_000;
    const mode = extraString(options, 'mode', MODES, 'all');
    const period = extraNumber(options, 'period', 1000);
    const base: SpreadOptions = {
      nodes,
      seed: options.seed,
      latency: options.latency ?? 10,
      loss: options.loss ?? 0,
      partitions: options.partitions ?? 0,
      period,
      maxRounds: Math.max(1, Math.floor((options.duration ?? 200 * period) / period)),
      k: extraNumber(options, 'k', 2),
    };
    const plan: { mode: SpreadMode; k: number }[] =
      mode === 'all'
        ? [
            { mode: 'push', k: 0 },
            { mode: 'pull', k: 0 },
            { mode: 'push-pull', k: 0 },
            ...(options.extra.k ? [base.k] : [1, 2, 3, 4]).map((k) => ({ mode: 'rumor' as const, k })),
          ]
        : [{ mode, k: base.k }];
    const runs = plan.map((p, i) =>
      spread(p.mode, { ...base, k: p.k, seed: options.seed + i, progress: (f) => options.progress?.((i + f) / plan.length) }),
    );
    const goals: Goal[] = [];
    const pushPull = runs.find((r) => r.mode === 'push-pull');
    const limit = Math.log(nodes) / Math.log(3) + 3;
    if (pushPull && nodes >= 10_000 && base.loss === 0 && base.partitions === 0) {
      goals.push({
        text: `push-pull, ${nodes} nodes: all informed in ${pushPull.rounds ?? 'never'} rounds <= log3(N)+3 = ${round(limit, 2)}`,
        met: pushPull.rounds !== undefined && pushPull.rounds <= limit,
      });
    }
    const rows = runs.map((r) => {
      const predicted =
        r.mode === 'rumor'
          ? `residue ${pct(predictedResidue(r.k!))} (Demers et al. 1987: s = e^-(k+1)(1-s))`
          : `${round(predictedRounds(r.mode, nodes).rounds, 1)} rounds: ${predictedRounds(r.mode, nodes).source}`;
      return {
        mode: r.mode === 'rumor' ? `rumor k=${r.k}` : r.mode,
        rounds: r.rounds ?? null,
        messages: r.messages,
        messagesPerNode: round(r.messages / nodes, 2),
        rumorMessages: r.rumorMessages,
        residue: r.residue,
        partitions: r.faults,
        predicted,
      };
    });
    const report = {
      scenario: 'epidemic',
      seed: options.seed,
      nodes,
      latencyMs: base.latency,
      loss: base.loss,
      partitions: base.partitions,
      periodMs: period,
      runs: rows,
      goals,
    };
    const header = `${'mode'.padEnd(12)} ${'rounds'.padStart(6)} ${'msgs/node'.padStart(10)} ${'with rumour'.padStart(12)} ${'residue'.padStart(8)}  predicted`;
    const text = [
      `epidemic: one rumour from n0 to ${nodes} nodes, seed ${options.seed}, latency ${base.latency} ms, loss ${base.loss}, ${base.partitions} partitions, rounds of ${period} ms`,
      `  ${header}`,
      ...rows.map((r) => `  ${r.mode.padEnd(12)} ${String(r.rounds ?? '-').padStart(6)} ${String(r.messagesPerNode).padStart(10)} ${String(round(r.rumorMessages / nodes, 2)).padStart(12)} ${pct(r.residue).padStart(8)}  ${r.predicted}`),
      ...(base.partitions > 0 ? rows.map((r) => `  partitions (${r.mode}): ${r.partitions.join('; ') || 'none'}`) : []),
      '  (anti-entropy: every node calls one random peer per round, the random phone call model; "with rumour": messages carrying it, per node)',
      'goals:',
      goals.length ? goalLines(goals) : '  (the goal is checked at 10,000 nodes without loss or partitions)',
    ].join('\n');
    const series: Series[] = runs.map((r) => ({
      name: r.mode === 'rumor' ? `rumor k=${r.k}` : r.mode,
      points: r.informed.map((v, i) => [i, v] as [number, number]),
    }));
    const chart: Chart = {
      title: `epidemic: nodes informed per round (N = ${nodes})`,
      xLabel: 'round',
      yLabel: 'nodes that know the rumour',
      series,
      yMax: nodes,
      rules: [{ y: nodes, label: 'N' }],
    };
    return { report, text, chart };
  },
};

function pct(x: number): string {
  return `${round(x * 100, 2)}%`;
}
