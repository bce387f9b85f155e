import { type ConvergenceResult, DEFAULT_CONVERGENCE, runConvergence, runConvergenceAsync } from '../../../lib/sim/convergence.js';
import { percentiles, round } from '../../../lib/sim/stats.js';
import { STRUCTURES } from '../../../lib/sim/structures/index.js';
import type { Chart } from '../svg.js';
import { type Goal, type Scenario, type ScenarioOptions, type ScenarioResult, extraNumber, extraString, goalLines, lines } from './scenario.js';

/** The command that replays one run of the sweep. */
export function replayCommand(structure: string, seed: number, ops = DEFAULT_CONVERGENCE.ops): string {
  return `tendril sim sweep --structure ${structure} --seed ${seed}${ops === DEFAULT_CONVERGENCE.ops ? '' : ` --ops ${ops}`}`;
}

/**
 * The convergence sweep as a command: for each seed, a few hundred writes
 * on five replicas under loss, partitions and crashes, then heal and check
 * (see `runConvergence`). `--seeds N` runs N seeds from `--seed` on.
 */
export const sweep: Scenario = {
  name: 'sweep',
  summary: 'convergence sweep of a tendril structure under loss, partitions and crashes',
  extraHelp: [
    `--structure S     ${Object.keys(STRUCTURES).join('|')}|all (default all)`,
    '--seeds N         seeds to run from --seed on (default 1)',
    `--ops N           writes per run (default ${DEFAULT_CONVERGENCE.ops})`,
  ],
  async run(options: ScenarioOptions): Promise<ScenarioResult> {
    const which = extraString(options, 'structure', [...Object.keys(STRUCTURES), 'all'], 'all');
    const names = which === 'all' ? Object.keys(STRUCTURES) : [which];
    const seeds = extraNumber(options, 'seeds', 1);
    const convergence = {
      nodes: options.nodes ?? DEFAULT_CONVERGENCE.nodes,
      ops: extraNumber(options, 'ops', DEFAULT_CONVERGENCE.ops),
      duration: options.duration ?? DEFAULT_CONVERGENCE.duration,
      maxLoss: options.loss ?? DEFAULT_CONVERGENCE.maxLoss,
      latency: options.latency ?? DEFAULT_CONVERGENCE.latency,
      // --partitions N: about N partitions per run; 0: none.
      ...(options.partitions !== undefined ? { partitionEvery: options.partitions === 0 ? 0 : (options.duration ?? DEFAULT_CONVERGENCE.duration) / options.partitions } : {}),
    };
    const results: ConvergenceResult[] = [];
    const total = names.length * seeds;
    for (const name of names) {
      for (let i = 0; i < seeds; i++) {
        const structure = STRUCTURES[name]!;
        results.push(structure.async ? await runConvergenceAsync(structure, options.seed + i, convergence) : runConvergence(structure, options.seed + i, convergence));
        options.progress?.(results.length / total);
      }
    }
    const failed = results.filter((r) => r.report.violations.length > 0);
    const goals: Goal[] = [
      {
        text: `${results.length} runs: zero divergence, zero lost elements, zero exceptions (${failed.length} failed)`,
        met: failed.length === 0,
      },
    ];
    const perStructure = names.map((name) => {
      const mine = results.filter((r) => r.structure === STRUCTURES[name]!.name);
      const latency = percentiles(mine.map((r) => r.report.latency.median).filter(Number.isFinite));
      return {
        structure: STRUCTURES[name]!.name,
        runs: mine.length,
        failed: mine.filter((r) => r.report.violations.length > 0).length,
        writes: mine.reduce((n, r) => n + r.report.writes, 0),
        wipedWithTheirNode: mine.reduce((n, r) => n + r.report.wipedWithTheirNode, 0),
        messagesPerOp: round(mine.reduce((n, r) => n + r.report.messagesPerOp, 0) / Math.max(1, mine.length), 2),
        medianOfMedianLatencyMs: round(latency.median),
      };
    });
    const report = {
      scenario: 'sweep',
      seed: options.seed,
      seeds,
      settings: { ...DEFAULT_CONVERGENCE, ...convergence },
      structures: perStructure,
      failures: failed.slice(0, 20).map((r) => ({ structure: r.structure, seed: r.seed, violations: r.report.violations, replay: replayCommand(r.structure, r.seed, convergence.ops) })),
      ...(results.length === 1 ? { run: { ...results[0]!, report: { ...results[0]!.report } } } : {}),
      goals,
    };
    const text = [
      lines(`sweep: ${names.join(', ')}, seeds ${options.seed}..${options.seed + seeds - 1}`, [
        ['runs', `${convergence.nodes} replicas, ${convergence.ops} writes over ${convergence.duration / 1000} s, loss up to ${convergence.maxLoss}, latency ${convergence.latency} ms with jitter, partitions and crashes, then heal and check`],
        ...perStructure.map((s) => [s.structure, `${s.runs} runs, ${s.failed} failed, ${s.writes} writes (${s.wipedWithTheirNode} went down with a node that lost its state), ${s.messagesPerOp} frames/write`] as [string, unknown]),
        ...failed.slice(0, 10).map((r) => [`FAILED seed ${r.seed}`, `${r.report.violations.join('; ')}; replay: ${replayCommand(r.structure, r.seed, convergence.ops)}`] as [string, unknown]),
        ...(results.length === 1 ? [['this run', `loss ${results[0]!.loss}, duplication ${results[0]!.duplicate}, jitter ${results[0]!.jitter} ms, ${results[0]!.faults} faults, ${results[0]!.events} events, trace ${results[0]!.traceHash}`] as [string, unknown]] : []),
      ]),
      'goals:',
      goalLines(goals),
    ].join('\n');
    const chart: Chart = {
      title: 'sweep: median write-to-everywhere latency per run',
      xLabel: 'run',
      yLabel: 'median latency (ms)',
      series: names.map((name) => ({
        name,
        points: results.filter((r) => r.structure === STRUCTURES[name]!.name).map((r, i) => [i, Number.isFinite(r.report.latency.median) ? r.report.latency.median : 0] as [number, number]),
      })),
    };
    return { report, text, chart };
  },
};
