// Defect 12: a persisted Model or Log killed with SIGKILL at a random moment
// and restarted must never leave the replicas differing for good, even if
// it writes again at once, before it has resynced. Real processes on
// 127.0.0.1, SIGKILL, bounded in time, seed printed.
import test from 'tape';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Log, Model, listen } from '../../lib/index.js';
import { testRandom } from '../helpers/seed.js';
import { log as logSubject, model as modelSubject } from './subjects.js';

const CYCLES = Number(process.env.CRASH_CYCLES ?? 8);
const writer = join(dirname(fileURLToPath(import.meta.url)), 'persist-writer.js');
const BOUND_MS = 20_000;
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function start(args: string[]): { child: ChildProcess; output: Promise<{ stdout: string; stderr: string; code: number | null; signal: string | null }> } {
  const child = spawn(process.execPath, [writer, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const bound = setTimeout(() => child.kill('SIGKILL'), BOUND_MS);
  const output = new Promise<{ stdout: string; stderr: string; code: number | null; signal: string | null }>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(bound);
      children.delete(child);
      resolve({ stdout, stderr, code, signal });
    }),
  );
  return { child, output };
}

for (const kind of ['model', 'log'] as const) {
  test(`${kind}: killed with SIGKILL at random moments and writing again at once, a persisted replica never diverges`, async (t) => {
    const random = testRandom(`${kind} persist crash`);
    const dir = mkdtempSync(join(tmpdir(), `tendril-${kind}-crash-`));
    const server = kind === 'log' ? new Log({ id: 'server' }) : new Model({ id: 'server' });
    const snapshot = async () => String(await (server instanceof Log ? logSubject.snapshot(server) : modelSubject.snapshot(server as Model)));
    const tcp = await listen(server, 0, '127.0.0.1');
    const port = String((tcp.address() as AddressInfo).port);
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const killAfter = random.int(5, 250);
        const run = start([kind, join(dir, 'db'), 'writer', port, 'forever', `c${cycle}`]);
        run.child.stdout!.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('ready')) setTimeout(() => run.child.kill('SIGKILL'), killAfter);
        });
        const killed = await run.output;
        if (killed.signal !== 'SIGKILL') {
          t.fail(`cycle ${cycle}: the writer was not killed: ${killed.stderr}`);
          break;
        }
        const after = await start([kind, join(dir, 'db'), 'writer', port, 'after', `r${cycle}`]).output;
        if (after.code !== 0) {
          t.fail(`cycle ${cycle} (killed after ${killAfter} ms): the restarted writer could not resync: ${after.stderr.trim()}`);
          break;
        }
        const state = JSON.parse(/^state (.*)$/m.exec(after.stdout)![1]) as string;
        if (state !== (await snapshot())) {
          const ours = await snapshot();
          let at = 0;
          while (at < state.length && state[at] === ours[at]) at++;
          t.fail(`cycle ${cycle} (killed after ${killAfter} ms): the restarted writer and the server differ after a full sync\nwriter ...${state.slice(at - 200, at + 200)}\nserver ...${ours.slice(at - 200, at + 200)}`);
          break;
        }
        t.pass(`cycle ${cycle}: killed after ${killAfter} ms, wrote at once after the restart, and converged`);
      }
    } finally {
      await new Promise((resolve) => tcp.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
