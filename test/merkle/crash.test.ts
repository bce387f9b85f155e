import test from 'tape';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MerkleStore } from '../../lib/index.js';
import { testRandom } from '../helpers/seed.js';

const CYCLES = 24;
const writer = join(dirname(fileURLToPath(import.meta.url)), 'crash-writer.js');

interface Run {
  acked: number[];
  opened: boolean;
}

/**
 * Starts the writer and SIGKILLs it `killAfterMs` after it has opened the
 * store (or after its start, with `fromStart`: then the kill may land while
 * it opens or rebuilds); returns what it acknowledged.
 */
function runAndKill(path: string, first: number, killAfterMs: number, fromStart: boolean): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, path, String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    let timer: NodeJS.Timeout | undefined;
    const arm = () => (timer ??= setTimeout(() => child.kill('SIGKILL'), killAfterMs));
    if (fromStart) arm();
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.startsWith('open')) arm();
    });
    child.stderr.on('data', (chunk) => (errors += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited on its own: ${errors}`));
      const lines = output.split('\n');
      lines.pop(); // a line cut short by the kill was never a whole acknowledgement
      resolve({ acked: lines.filter((l) => /^\d+$/.test(l)).map(Number), opened: lines.some((l) => l.startsWith('open')) });
    });
  });
}

test('merkle: a writer killed with SIGKILL at random moments loses no acknowledged write, and the next open replays the journal instead of rebuilding', async (t) => {
  const random = testRandom('merkle crash');
  const dir = mkdtempSync(join(tmpdir(), 'tendril-merkle-crash-'));
  const path = join(dir, 'db');
  const latest = new Map<string, number>(); // key -> highest acknowledged seq
  let next = 0;
  let totalAcked = 0;
  let killedBeforeOpen = 0;
  let replayed = 0;
  try {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const fromStart = random.chance(0.25);
      const run = await runAndKill(path, next, fromStart ? random.int(20, 500) : random.int(0, 400), fromStart);
      if (!run.opened) killedBeforeOpen++;
      for (const seq of run.acked) {
        const key = `k${seq % 400}`;
        latest.set(key, Math.max(latest.get(key) ?? -1, seq));
      }
      totalAcked += run.acked.length;
      // Next run starts past anything this one may have written, acknowledged or not.
      next += 1_000_000;

      const store = new MerkleStore<{ seq: number }>({ path, depth: 14 });
      await store.open(); // classic-level opens without repair, or this throws
      const lost: string[] = [];
      for (const [key, seq] of latest) {
        const got = await store.get(key);
        if (got.values.length !== 1 || got.values[0].seq < seq) lost.push(`${key}: acked ${seq}, found ${JSON.stringify(got.values)}`);
      }
      if (lost.length > 0) t.fail(`cycle ${cycle}: lost acknowledged writes: ${lost.slice(0, 5).join('; ')}`);
      if (!(await store.verifyTree())) t.fail(`cycle ${cycle}: tree disagrees with the data`);
      // A writer that got as far as opening marked the stored tree as not cleanly closed: it must be replayed, not taken as is.
      if (run.opened && store.openedFrom !== 'journal') t.fail(`cycle ${cycle}: after a writer that opened, the tree was ${store.openedFrom}, not journal`);
      // Only a kill before the very first open finished may leave no stored tree; every later open loads one.
      if ((run.opened || cycle > 0) && store.openedFrom === 'rebuild') t.fail(`cycle ${cycle}: the tree was rebuilt from the data`);
      replayed += store.replayedBatches;
      if (cycle % 2 === 0) {
        // A clean close saves the tree; it must load back equal to the data (and the next writer starts from it).
        await store.close();
        const again = new MerkleStore<{ seq: number }>({ path, depth: 14 });
        await again.open();
        if (again.openedFrom !== 'snapshot' || !(await again.verifyTree())) t.fail(`cycle ${cycle}: saved tree not loaded or wrong`);
        await again.close();
      } else await store.db.close(); // leave no saved tree: the writer must rebuild
    }
    t.pass(`${CYCLES} kill cycles, ${totalAcked} acknowledged writes, ${latest.size} keys, all present (${killedBeforeOpen} kills landed before the store was open), ${replayed} write batches replayed from the journal`);
    t.ok(replayed > 0, 'opens after kills replayed journal entries');
    t.ok(totalAcked > 0, 'the writer acknowledged writes');
    const store = new MerkleStore<{ seq: number }>({ path, depth: 14 });
    await store.open();
    t.ok(await store.verifyTree(), 'the tree agrees with the data at the end');
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
