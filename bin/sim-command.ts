import { writeFileSync } from 'node:fs';
import { SCENARIOS } from './sim/scenarios/index.js';
import type { ScenarioOptions } from './sim/scenarios/scenario.js';
import { renderSvg } from './sim/svg.js';
import { parseArgs, parseDuration, parseNumber } from './args.js';

const COMMON = ['nodes', 'seed', 'latency', 'loss', 'partitions', 'duration', 'svg'];

export function simUsage(): string {
  return [
    'usage: tendril sim <scenario> [options]',
    '',
    'scenarios:',
    ...Object.values(SCENARIOS).map((s) => `  ${s.name.padEnd(16)} ${s.summary}`),
    '',
    'options (each scenario has its own defaults):',
    '  --nodes N         number of nodes',
    '  --seed N          seed of the run (default 1); the same seed gives the same run',
    '  --latency T       mean one-way link latency (500, 500ms, 1s)',
    '  --loss P          message loss probability, 0..1 (on stream links: a lost frame breaks the connection)',
    '  --partitions N    number of partitions to inject (0 = none)',
    '  --duration T      simulated run length (20s, 2m, or ms)',
    '  --json            print the report as JSON',
    '  --svg FILE        draw the run as an SVG picture',
    '',
    ...Object.values(SCENARIOS).flatMap((s) => [`${s.name}:`, ...s.extraHelp.map((h) => `  ${h}`)]),
  ].join('\n');
}

/** `tendril sim ...`: runs one scenario and prints its report. Returns the exit code. */
export async function simCommand(argv: readonly string[], out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  const args = parseArgs(argv, ['json', 'help']);
  const name = args.positional[0];
  if (args.flags.has('help') || name === undefined || name === 'help') {
    out.write(simUsage() + '\n');
    return name === undefined && !args.flags.has('help') ? 2 : 0;
  }
  const scenario = SCENARIOS[name];
  if (!scenario) {
    err.write(`tendril sim: unknown scenario ${JSON.stringify(name)}; one of ${Object.keys(SCENARIOS).join(', ')}\n`);
    return 2;
  }
  const o = args.options;
  const extra: Record<string, string> = {};
  // A scenario's own options are the `--name`s its help lists; anything else is a typo, not a silent default.
  const known = new Set(scenario.extraHelp.map((line) => /^--([a-z-]+)/.exec(line)?.[1]));
  for (const [key, value] of Object.entries(o)) {
    if (COMMON.includes(key)) continue;
    if (!known.has(key)) throw new Error(`unknown option --${key} for ${scenario.name} (see tendril sim --help)`);
    extra[key] = value;
  }
  const options: ScenarioOptions = {
    seed: o.seed !== undefined ? parseNumber(o.seed, 'seed', { integer: true }) : 1,
    nodes: o.nodes !== undefined ? parseNumber(o.nodes, 'nodes', { min: 2, integer: true }) : undefined,
    latency: o.latency !== undefined ? parseDuration(o.latency, 'latency') : undefined,
    loss: o.loss !== undefined ? parseNumber(o.loss, 'loss', { min: 0, max: 1 }) : undefined,
    partitions: o.partitions !== undefined ? parseNumber(o.partitions, 'partitions', { min: 0, integer: true }) : undefined,
    duration: o.duration !== undefined ? parseDuration(o.duration, 'duration') : undefined,
    extra,
  };
  // Progress on a terminal only: pipes and CI logs get the report alone.
  if (err.isTTY) {
    let last = -1;
    options.progress = (fraction) => {
      const percent = Math.floor(fraction * 100);
      if (percent === last) return;
      last = percent;
      err.write(`\r${scenario.name}: ${percent}%`);
    };
  }
  const result = await scenario.run(options);
  if (err.isTTY) err.write('\r\x1b[K');
  out.write(args.flags.has('json') ? JSON.stringify(result.report, null, 2) + '\n' : result.text + '\n');
  if (o.svg !== undefined) {
    writeFileSync(o.svg, renderSvg(result.chart));
    if (!args.flags.has('json')) out.write(`picture: ${o.svg}\n`);
  }
  return result.report.goals.every((g) => g.met) ? 0 : 1;
}
