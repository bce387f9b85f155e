import { schedulePartitions } from '../../../lib/sim/faults.js';
import { Network } from '../../../lib/sim/network.js';
import { SimRandom } from '../../../lib/sim/random.js';
import { Scheduler } from '../../../lib/sim/scheduler.js';
import { round } from '../../../lib/sim/stats.js';
import type { Chart, Series } from '../svg.js';
import { paperFigures, type PaperRow } from './demers-tables.js';
import {
  PAPER_VARIANT,
  type RoundSemantics,
  RumorNode,
  type RumorMessage,
  type RumorVariant,
  type SpreadMode,
  carriesRumor,
  predictedResidue,
  predictedRounds,
} from './rumor-node.js';
import { type Goal, type Scenario, type ScenarioOptions, type ScenarioResult, extraNumber, extraString, goalLines } from './scenario.js';

const MODES = ['all', 'push', 'pull', 'push-pull', 'rumor'] as const;
const ROUNDS = ['sync', 'async'] as const;

export interface SpreadRun {
  mode: SpreadMode;
  k?: number;
  variant?: RumorVariant;
  nodes: number;
  /** Rounds until everyone knew (anti-entropy), or until nobody was spreading (rumour mongering); undefined if it never ended. */
  rounds: number | undefined;
  messages: number;
  /** Messages that carried the rumour (the paper's traffic, times N). */
  rumorMessages: number;
  /** Fraction of nodes never reached. */
  residue: number;
  /** Mean round in which a node that learned the rumour learned it (the origin: round 0). */
  tAve: number;
  /** Round in which the last node to learn it learned it. */
  tLast: number;
  /** Nodes informed after each round (index 0 = before the first round). */
  informed: number[];
  /** Rumour mongering: infective nodes after each round. */
  active: number[];
  /** Messages sent in each round (index 0 unused, 0). */
  messagesPerRound: number[];
  /** Partitions applied: kind and rounds. */
  faults: string[];
}

export interface SpreadOptions {
  nodes: number;
  seed: number;
  latency: number;
  loss: number;
  partitions: number;
  /** Round length, ms (every node ticks once per round). */
  period: number;
  maxRounds: number;
  k: number;
  variant?: RumorVariant;
  rounds?: RoundSemantics;
  progress?: (fraction: number) => void;
}

/**
 * Spreads one rumour from node 0 over `nodes` nodes on the simulated
 * network (datagram links), in rounds of `period` ms: at the start of each
 * round every node ticks once, in a random order, and its messages travel
 * with the link's latency, loss, duplication and cuts; at the end of the
 * round the infective nodes decide whether they lose interest.
 */
export function spread(mode: SpreadMode, o: SpreadOptions): SpreadRun {
  const scheduler = new Scheduler();
  const root = new SimRandom(o.seed);
  const network = new Network(scheduler, root.fork(), { latency: o.latency, loss: o.loss });
  const names = Array.from({ length: o.nodes }, (_, i) => `n${i}`);
  const index = new Map(names.map((n, i) => [n, i]));
  const nodes = names.map((_, i) => new RumorNode(i, mode, o.nodes, root.fork(), o.k, o.variant ?? PAPER_VARIANT, o.rounds ?? 'sync'));
  let roundNo = 0;
  let messages = 0;
  let rumorMessages = 0;
  let informed = 0;
  let roundMessages = 0;
  const send = (from: number, out: { to: number; message: RumorMessage }[]) => {
    for (const { to, message } of out) {
      messages++;
      roundMessages++;
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
  const activeHistory = [mode === 'rumor' ? 1 : 0];
  const perRound = [0];
  let rounds: number | undefined;
  const everyone = names.map((_, j) => j);
  for (roundNo = 1; roundNo <= o.maxRounds; roundNo++) {
    const start = (roundNo - 1) * o.period;
    roundMessages = 0;
    scheduler.runUntil(start);
    for (const i of order.shuffle(everyone.slice())) send(i, nodes[i]!.tick(roundNo));
    scheduler.runUntil(start + o.period - 1);
    let active = 0;
    if (mode === 'rumor') {
      for (const node of nodes) {
        node.endRound();
        if (node.active) active++;
      }
    }
    history.push(informed);
    activeHistory.push(active);
    perRound.push(roundMessages);
    o.progress?.(roundNo / o.maxRounds);
    if (mode === 'rumor' ? active === 0 : informed === o.nodes) {
      rounds = roundNo;
      break;
    }
  }
  let learnedSum = 0;
  let tLast = 0;
  for (const node of nodes) {
    if (!node.knows) continue;
    learnedSum += node.learnedAt;
    tLast = Math.max(tLast, node.learnedAt);
  }
  const faults = network.faults.map((w) => `${w.kind} in rounds ${Math.floor(w.start / o.period) + 1}-${Math.ceil((w.end ?? scheduler.now) / o.period)}`);
  return {
    mode,
    k: mode === 'rumor' ? o.k : undefined,
    variant: mode === 'rumor' ? (o.variant ?? PAPER_VARIANT) : undefined,
    nodes: o.nodes,
    rounds,
    messages,
    rumorMessages,
    residue: (o.nodes - informed) / o.nodes,
    tAve: learnedSum / informed,
    tLast,
    informed: history,
    active: activeHistory,
    messagesPerRound: perRound,
    faults,
  };
}

/** Means (and the standard error of the residue) over the runs of one plan entry, one run per seed. */
export interface SpreadSummary {
  seeds: number;
  /** Mean rounds over the runs that ended; null if none did. */
  rounds: number | null;
  roundsMin: number | null;
  roundsMax: number | null;
  /** Runs that never ended within the round limit. */
  unfinished: number;
  residue: number;
  residueStdError: number;
  /** The paper's traffic m: messages carrying the rumour per node. */
  traffic: number;
  /** All messages per node (requests and feedback too). */
  messagesPerNode: number;
  tAve: number;
  tLast: number;
}

export function summarize(runs: SpreadRun[]): SpreadSummary {
  const n = runs.length;
  const mean = (f: (r: SpreadRun) => number) => runs.reduce((a, r) => a + f(r), 0) / n;
  const ended = runs.filter((r) => r.rounds !== undefined).map((r) => r.rounds!);
  const residue = mean((r) => r.residue);
  const variance = n > 1 ? runs.reduce((a, r) => a + (r.residue - residue) ** 2, 0) / (n - 1) : 0;
  return {
    seeds: n,
    rounds: ended.length ? ended.reduce((a, b) => a + b, 0) / ended.length : null,
    roundsMin: ended.length ? Math.min(...ended) : null,
    roundsMax: ended.length ? Math.max(...ended) : null,
    unfinished: n - ended.length,
    residue,
    residueStdError: Math.sqrt(variance / n),
    traffic: mean((r) => r.rumorMessages / r.nodes),
    messagesPerNode: mean((r) => r.messages / r.nodes),
    tAve: mean((r) => r.tAve),
    tLast: mean((r) => r.tLast),
  };
}

/** Parses `--k`: one number, a list `1,2,3` or a range `1-5`. */
export function parseKs(raw: string | undefined, fallback: number[]): number[] {
  if (raw === undefined) return fallback;
  const ks = raw.split(',').flatMap((part) => {
    const range = /^(\d+)-(\d+)$/.exec(part.trim());
    if (range) return Array.from({ length: Math.max(0, Number(range[2]) - Number(range[1]) + 1) }, (_, i) => Number(range[1]) + i);
    return [Number(part)];
  });
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1 || k > 1000)) throw new RangeError(`--k must be whole numbers 1..1000 (3, 1,2,4 or 1-5); got ${JSON.stringify(raw)}`);
  return ks;
}

/** Parses `--variant feedback,counter,push` (any order; what is left out keeps the paper's Table 1 choice). */
export function parseVariant(raw: string | undefined): RumorVariant {
  const variant: RumorVariant = { ...PAPER_VARIANT };
  if (raw === undefined) return variant;
  for (const word of raw.split(',').map((w) => w.trim())) {
    if (word === 'feedback' || word === 'blind') variant.interest = word;
    else if (word === 'counter' || word === 'coin') variant.stop = word;
    else if (word === 'push' || word === 'pull') variant.direction = word;
    else throw new RangeError(`--variant takes feedback|blind, counter|coin, push|pull, comma-separated; got ${JSON.stringify(word)}`);
  }
  return variant;
}

export function variantName(v: RumorVariant): string {
  return `${v.interest},${v.stop},${v.direction}`;
}

export const epidemic: Scenario = {
  name: 'epidemic',
  summary: 'anti-entropy push, pull and push-pull, and rumour mongering in the variants of Demers et al.: rounds, traffic, residue, delays vs the papers',
  extraHelp: [
    `--mode M          ${MODES.join('|')} (default all)`,
    '--k K             rumour mongering: the counter (stop after k useless rounds) or the coin (stop with probability 1/k); 2, 1,3 or 1-5 (default 1-4)',
    '--variant V       rumour mongering: feedback|blind, counter|coin, push|pull, comma-separated (default feedback,counter,push)',
    '--rounds R        sync: answers use the state at the start of the round, as in the papers (default); async: the state on arrival',
    '--seeds N         runs per mode with seeds seed..seed+N-1, reported as means (default 1)',
    '--period MS       round length (default 1000)',
  ],
  run(options: ScenarioOptions): ScenarioResult {
    const nodes = options.nodes ?? 10_000;
    const mode = extraString(options, 'mode', MODES, 'all');
    const period = extraNumber(options, 'period', 1000);
    const seeds = extraNumber(options, 'seeds', 1);
    if (!Number.isInteger(seeds) || seeds < 1) throw new RangeError(`--seeds must be a whole number >= 1, got ${seeds}`);
    const variant = parseVariant(options.extra.variant);
    const semantics = extraString(options, 'rounds', ROUNDS, 'sync');
    const ks = parseKs(options.extra.k, [1, 2, 3, 4]);
    const base: SpreadOptions = {
      nodes,
      seed: options.seed,
      latency: options.latency ?? 10,
      loss: options.loss ?? 0,
      partitions: options.partitions ?? 0,
      period,
      maxRounds: Math.max(1, Math.floor((options.duration ?? 200 * period) / period)),
      k: ks[0]!,
      variant,
      rounds: semantics,
    };
    const plan: { mode: SpreadMode; k: number }[] =
      mode === 'all' ? [{ mode: 'push', k: 0 }, { mode: 'pull', k: 0 }, { mode: 'push-pull', k: 0 }, ...ks.map((k) => ({ mode: 'rumor' as const, k }))]
      : mode === 'rumor' ? ks.map((k) => ({ mode, k }))
      : [{ mode, k: 0 }];
    const total = plan.length * seeds;
    const groups = plan.map((p, i) =>
      Array.from({ length: seeds }, (_, s) =>
        // Each plan entry and seed gets a seed of its own, so adding a mode does not change another's runs.
        spread(p.mode, { ...base, k: p.k, seed: options.seed + i * 7919 + s, progress: (f) => options.progress?.((i * seeds + s + f) / total) }),
      ),
    );
    const faultless = base.loss === 0 && base.partitions === 0 && base.latency < period;
    const goals: Goal[] = [];
    const rows = groups.map((runs, i) => {
      const p = plan[i]!;
      const first = runs[0]!;
      const summary = summarize(runs);
      const label = p.mode === 'rumor' ? `rumor ${variantName(variant)} k=${p.k}` : p.mode;
      const paper = p.mode === 'rumor' ? paperFigures(variant, p.k) : undefined;
      let predicted: string;
      if (p.mode === 'rumor') {
        const parts: string[] = [];
        if (paper) parts.push(`paper (n=1000, ${paper.table}): s ${paper.residue}, m ${paper.traffic}, t_ave ${paper.tAve}, t_last ${paper.tLast}`);
        if (variant.direction === 'push' && variant.interest === 'feedback' && variant.stop === 'coin') parts.push(`s = e^-(k+1)(1-s) = ${round(predictedResidue(p.k), 4)}`);
        if (variant.direction === 'push') parts.push(`push: s = e^-m = ${round(Math.exp(-summary.traffic), 4)}`);
        predicted = parts.join('; ');
      } else {
        const model = predictedRounds(p.mode, nodes);
        // The model is synchronous; with answers on arrival a node informed early in a round can pass it on in the same round.
        predicted = `${round(model.rounds, 2)} rounds: ${model.source}${semantics === 'async' ? ' (the model is synchronous; these answers are not)' : ''}`;
        if (p.mode === 'push-pull' && semantics === 'sync' && faultless && nodes >= 1000 && summary.rounds !== null) {
          const tolerance = seeds >= 10 ? 0.5 : 1.5;
          goals.push({
            text: `push-pull, ${nodes} nodes, synchronous rounds: ${round(summary.rounds, 2)} rounds (mean of ${seeds}) within ±${tolerance} of the model's ${round(model.rounds, 2)}`,
            met: summary.unfinished === 0 && Math.abs(summary.rounds - model.rounds) <= tolerance,
          });
        }
      }
      if (paper && nodes === 1000 && semantics === 'sync' && faultless && seeds >= 30) goals.push(...paperGoals(label, summary, paper, nodes));
      return {
        mode: label,
        k: p.k || undefined,
        variant: p.mode === 'rumor' ? variantName(variant) : undefined,
        ...summary,
        paper,
        predicted,
        partitions: first.faults,
        firstSeed: { seed: options.seed + i * 7919, informed: first.informed, active: p.mode === 'rumor' ? first.active : undefined, messages: first.messagesPerRound },
      };
    });
    const report = {
      scenario: 'epidemic',
      seed: options.seed,
      seeds,
      nodes,
      rounds: semantics,
      latencyMs: base.latency,
      loss: base.loss,
      partitions: base.partitions,
      periodMs: period,
      runs: rows,
      goals,
    };
    const num = (x: number | null, digits = 2) => (x === null ? '-' : String(round(x, digits)));
    const header = `${'mode'.padEnd(30)} ${'rounds'.padStart(6)} ${'traffic m'.padStart(9)} ${'msgs/node'.padStart(9)} ${'residue s'.padStart(10)} ${'t_ave'.padStart(6)} ${'t_last'.padStart(6)}  predicted`;
    const text = [
      `epidemic: one rumour from n0 to ${nodes} nodes, ${seeds === 1 ? `seed ${options.seed}` : `${seeds} seeds from ${options.seed}, means`}, ${semantics} rounds of ${period} ms, latency ${base.latency} ms, loss ${base.loss}, ${base.partitions} partitions`,
      `  ${header}`,
      ...rows.map((r) => `  ${r.mode.padEnd(30)} ${num(r.rounds, 1).padStart(6)} ${num(r.traffic).padStart(9)} ${num(r.messagesPerNode).padStart(9)} ${residueText(r.residue).padStart(10)} ${num(r.tAve, 1).padStart(6)} ${num(r.tLast, 1).padStart(6)}  ${r.predicted}`),
      ...(base.partitions > 0 ? rows.map((r) => `  partitions (${r.mode}, first seed): ${r.partitions.join('; ') || 'none'}`) : []),
      '  (rounds: until all knew, or until nobody spread; traffic m: messages carrying the rumour per node; t_ave, t_last: mean and last round in which a node learned it)',
      'goals:',
      goals.length ? goalLines(goals) : '  (checked without loss or partitions: push-pull at >= 1,000 nodes in sync rounds; the paper\'s tables at 1,000 nodes with >= 30 seeds)',
    ].join('\n');
    const series: Series[] = groups.map((runs, i) => ({
      name: rows[i]!.mode,
      points: runs[0]!.informed.map((v, r) => [r, v] as [number, number]),
    }));
    const chart: Chart = {
      title: `epidemic: nodes informed per round (N = ${nodes}, ${semantics})`,
      xLabel: 'round',
      yLabel: 'nodes that know the rumour',
      series,
      yMax: nodes,
      rules: [{ y: nodes, label: 'N' }],
    };
    return { report, text, chart };
  },
};

/**
 * Residue and traffic against the paper's table: within ±10%, or for a
 * residue too small to measure that closely over these runs, within two
 * standard errors (the larger of the runs' own and the binomial one at the
 * paper's value).
 */
function paperGoals(label: string, s: SpreadSummary, paper: PaperRow, nodes: number): Goal[] {
  const binomial = Math.sqrt((paper.residue * (1 - paper.residue)) / (nodes * s.seeds));
  const slack = Math.max(0.1 * paper.residue, 2 * Math.max(s.residueStdError, binomial));
  return [
    { text: `${label}: residue ${residueText(s.residue)} vs the paper's ${paper.residue} (±${residueText(slack)})`, met: Math.abs(s.residue - paper.residue) <= slack },
    { text: `${label}: traffic ${round(s.traffic, 2)} vs the paper's ${paper.traffic} (±10%)`, met: Math.abs(s.traffic - paper.traffic) <= 0.1 * paper.traffic },
  ];
}

function residueText(x: number): string {
  return x === 0 ? '0' : x >= 0.001 ? String(round(x, 4)) : x.toExponential(1);
}
