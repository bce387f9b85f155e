import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'tape';
import { testRandom } from '../helpers/seed.js';
import { freePorts } from './free-ports.js';

const script = join(dirname(fileURLToPath(import.meta.url)), 'seed-snippet.js');

test("vine: the seed's two snippets, in two processes: the second sees 'foo' set by the first", async (t) => {
  const random = testRandom('vine seed snippets');
  const base = await freePorts(4, random);
  const dir = mkdtempSync(join(tmpdir(), 'tendril-vine-seed-'));
  const children: ChildProcess[] = [];
  const lines: string[] = [];
  try {
    const run = (args: string[], label: string) => {
      const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
      child.stdout!.on('data', (chunk: Buffer) => lines.push(...String(chunk).trim().split('\n').map((l) => `${label} ${l}`)));
      children.push(child);
    };
    run(['first', String(base), dir], 'first');
    run(['second', String(base + 2), String(base), dir], 'second');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !lines.some((l) => l.startsWith('second data'))) await new Promise((r) => setTimeout(r, 100));
    t.ok(lines.includes('second data "hello, world"'), `the watcher on the second node got the value (${lines.join('; ')})`);
    while (Date.now() < deadline && !lines.includes('first set')) await new Promise((r) => setTimeout(r, 100));
    t.ok(lines.includes('first set'), "the first node's set was acknowledged once the second joined");
    t.notOk(lines.some((l) => l.includes('error')), 'no errors');
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    rmSync(dir, { recursive: true, force: true });
  }
});
