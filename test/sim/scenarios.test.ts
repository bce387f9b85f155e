import test from 'tape';
import { SCENARIOS } from '../../lib/sim/scenarios/index.js';
import type { ScenarioOptions } from '../../lib/sim/scenarios/scenario.js';
import { renderSvg } from '../../lib/sim/svg.js';

const run = (name: string, options: Partial<ScenarioOptions> = {}) => Promise.resolve(SCENARIOS[name]!.run({ seed: 1, extra: {}, ...options }));

test('broadcast goal: 25 nodes, 100 ms, 100 ops/s, 20 s: < 20 msgs/op, median < 400 ms, max < 600 ms', async (t) => {
  const result = await run('broadcast');
  console.log(result.text.replace(/^/gm, '# '));
  t.equal(result.report.goals.length, 2, 'the goal is checked at this size');
  for (const goal of result.report.goals) t.ok(goal.met, goal.text);
  t.end();
});

test('broadcast through the Model with partitions in the middle: nothing lost, all converge', async (t) => {
  const result = await run('broadcast', { nodes: 10, duration: 10_000, partitions: 3, extra: { structure: 'model', topology: 'ring' } });
  console.log(result.text.replace(/^/gm, '# '));
  t.ok(result.report.goals[0]!.met, result.report.goals[0]!.text);
  t.ok((result.report.partitions as unknown[]).length >= 3, 'partitions happened');
  t.end();
});

test('epidemic goal: push-pull over 10,000 nodes informs everyone within log3(N) + 3 rounds', async (t) => {
  const result = await run('epidemic', { extra: { mode: 'push-pull' } });
  console.log(result.text.replace(/^/gm, '# '));
  t.equal(result.report.goals.length, 1);
  t.ok(result.report.goals[0]!.met, result.report.goals[0]!.text);
  t.end();
});

test('epidemic: rumour mongering residue near Demers et al. for k = 1..4 (1,000 nodes)', async (t) => {
  const result = await run('epidemic', { nodes: 1000 });
  const rows = result.report.runs as { mode: string; residue: number; rounds: number | null }[];
  const predicted: Record<string, number> = { 'rumor k=1': 0.203, 'rumor k=2': 0.0595, 'rumor k=3': 0.0198, 'rumor k=4': 0.007 };
  for (const row of rows) {
    if (row.mode in predicted) t.ok(Math.abs(row.residue - predicted[row.mode]!) < 0.05, `${row.mode}: residue ${row.residue} vs ${predicted[row.mode]}`);
    else t.equal(row.residue, 0, `${row.mode}: everyone informed in ${row.rounds} rounds`);
  }
  t.end();
});

test('aggregation: push-sum average and count reach 1e-3 at every node', async (t) => {
  const result = await run('aggregation', { nodes: 500, extra: { rounds: '50' } });
  console.log(result.text.replace(/^/gm, '# '));
  for (const goal of result.report.goals) t.ok(goal.met, goal.text);
  t.end();
});

test('every scenario: the same seed gives the same report, and a picture', async (t) => {
  const small: Record<string, Partial<ScenarioOptions>> = {
    'primary-backup': { duration: 20_000, partitions: 2, loss: 0.05 },
    epidemic: { nodes: 300 },
    aggregation: { nodes: 100, extra: { rounds: '20' } },
    broadcast: { nodes: 8, duration: 5000, partitions: 2, loss: 0.01 },
    sweep: { extra: { ops: '100' } },
    membership: { extra: { part: 'detection', 'crash-runs': '1' } },
  };
  for (const name of Object.keys(SCENARIOS)) {
    const a = await run(name, { seed: 5, ...small[name] });
    const b = await run(name, { seed: 5, ...small[name] });
    t.equal(a.text, b.text, `${name}: same text`);
    t.equal(JSON.stringify(a.report), JSON.stringify(b.report), `${name}: same report`);
    const svg = renderSvg(a.chart);
    t.ok(svg.startsWith('<svg') && svg.includes('</svg>') && svg.includes('<polyline'), `${name}: draws a picture`);
  }
  t.end();
});
