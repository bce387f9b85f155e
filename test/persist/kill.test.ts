// A persisted ORSet killed with SIGKILL at random moments: every
// acknowledged add survives, and a restart never reuses an event number.
import test from 'tape';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ORSet, persist } from '../../lib/index.js';
import { testRandom } from '../helpers/seed.js';

const CYCLES = 8;
const writer = join(dirname(fileURLToPath(import.meta.url)), 'kill-writer.js');

function runAndKill(path: string, first: number, killAfterMs: number): Promise<{ acked: number[]; maxAtOpen: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, path, String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    let timer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.startsWith('open')) timer ??= setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (chunk) => (errors += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      clearTimeout(deadline);
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited on its own: ${errors}`));
      const lines = output.split('\n');
      lines.pop(); // a line cut short by the kill was never a whole acknowledgement
      const open = lines.find((l) => l.startsWith('open'));
      resolve({ acked: lines.filter((l) => /^\d+$/.test(l)).map(Number), maxAtOpen: open ? Number(open.split(' ')[2]) : -1 });
    });
  });
}

test('persist: an ORSet writer killed with SIGKILL keeps every acknowledged add and never reuses an event number', async (t) => {
  const random = testRandom('persist kill');
  const dir = mkdtempSync(join(tmpdir(), 'tendril-persist-kill-'));
  const path = join(dir, 'db');
  const acked = new Set<number>();
  let next = 1;
  let lastMax = 0;
  try {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const run = await runAndKill(path, next, random.int(20, 300));
      for (const i of run.acked) acked.add(i);
      if (run.maxAtOpen >= 0) {
        t.ok(cycle === 0 || run.maxAtOpen > lastMax, `cycle ${cycle}: opened with events up to ${run.maxAtOpen}, past ${lastMax}`);
        lastMax = run.maxAtOpen;
      }
      next += 10_000; // each run writes fresh element numbers
    }
    const set = new ORSet({ id: 'writer' });
    await (await persist(set, path)).close();
    const lost = [...acked].filter((i) => {
      // w<i> with i % 7 === 4 is removed by the write of w<i+3>, which may be on disk unacknowledged.
      return i % 7 !== 4 && !set.has(`w${i}`);
    });
    t.deepEqual(lost, [], `no acknowledged add lost (${acked.size} acknowledged over ${CYCLES} kills)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.end();
});
