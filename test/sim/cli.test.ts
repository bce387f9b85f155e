import test from 'tape';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, parseDuration } from '../../bin/args.js';

const bin = join(dirname(fileURLToPath(import.meta.url)), '../../bin/tendril.js');
const tendril = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

test('args: positionals, --name value, --name=value, flags, durations', (t) => {
  const parsed = parseArgs(['sim', 'broadcast', '--nodes', '5', '--seed=9', '--json', '--topology', 'ring'], ['json']);
  t.deepEqual(parsed.positional, ['sim', 'broadcast']);
  t.deepEqual(parsed.options, { nodes: '5', seed: '9', topology: 'ring' });
  t.ok(parsed.flags.has('json'));
  t.throws(() => parseArgs(['--nodes'], []), /needs a value/);
  t.equal(parseDuration('20s', 'd'), 20_000);
  t.equal(parseDuration('250', 'd'), 250);
  t.equal(parseDuration('2m', 'd'), 120_000);
  t.throws(() => parseDuration('soon', 'd'), /duration/);
  t.end();
});

test('tendril sim: the same seed prints the same report twice; --json parses; --svg writes a picture', (t) => {
  const args = ['sim', 'broadcast', '--nodes', '6', '--duration', '3s', '--seed', '11', '--partitions', '1', '--latency', '20ms'];
  const first = tendril(...args);
  const second = tendril(...args);
  t.equal(first.status, 0, first.stderr);
  t.ok(first.stdout.includes('msgs/op'), 'a readable report');
  t.equal(first.stdout, second.stdout, 'same output twice');
  const json = tendril(...args, '--json');
  const report = JSON.parse(json.stdout);
  t.equal(report.scenario, 'broadcast');
  t.equal(report.nodes, 6);
  const file = join(mkdtempSync(join(tmpdir(), 'tendril-sim-')), 'run.svg');
  const drawn = tendril('sim', 'epidemic', '--nodes', '200', '--svg', file);
  t.equal(drawn.status, 0);
  t.ok(readFileSync(file, 'utf8').startsWith('<svg'), 'an SVG file');
  t.end();
});

test('tendril sim: usage, unknown scenario, bad option', (t) => {
  t.equal(tendril('sim', '--help').status, 0);
  t.ok(tendril('sim', '--help').stdout.includes('primary-backup'));
  t.equal(tendril('sim', 'nope').status, 2);
  const bad = tendril('sim', 'broadcast', '--loss', '2');
  t.equal(bad.status, 2);
  t.ok(bad.stderr.includes('--loss'), bad.stderr);
  t.equal(tendril('sim', 'epidemic', '--mode', 'sideways').status, 2, 'a bad scenario option is refused');
  const typo = tendril('sim', 'broadcast', '--topolgy', 'ring');
  t.equal(typo.status, 2, 'an unknown option is refused');
  t.ok(typo.stderr.includes('--topolgy'), typo.stderr);
  t.end();
});
