import test from 'tape';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const demo = join(dirname(fileURLToPath(import.meta.url)), '..', 'demo');

test('the main demo: three TCP peers converge, and resume from LevelDB on a second run', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tendril-demo-'));
  try {
    const env = { ...process.env, TENDRIL_DEMO_DIR: dir };
    const first = await run(process.execPath, [join(demo, 'tcp', 'run.js')], { env, timeout: 30_000 });
    t.match(first.stdout, /converged: all three peers hold the same state/);
    t.match(first.stdout, /alice {2}opened its LevelDB store with 0 keys/);
    const second = await run(process.execPath, [join(demo, 'tcp', 'run.js')], { env, timeout: 30_000 });
    t.match(second.stdout, /alice {2}opened its LevelDB store with 7 keys/, 'the second run starts from disk');
    t.match(second.stdout, /converged/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the stdio demo: two peers piped into each other converge', async (t) => {
  const { stderr } = await run(process.execPath, [join(demo, 'stdio', 'run.js')], { timeout: 30_000 });
  const finals = stderr.split('\n').filter((line) => line.includes('final state')).map((line) => line.split('final state ')[1]);
  t.equal(finals.length, 2, 'both peers reported');
  t.equal(finals[0], finals[1], 'with the same state');
});
