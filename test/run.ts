// Runs every compiled test file (dist/test/**/*.test.js) in its own process,
// as many at once as there are cores, and ends with one summary line.
// Usage: node dist/test/run.js [filter...]
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
/** A file still running after this long is killed and counted as failed. Default 300 s. */
const fileTimeoutMs = Number(process.env.TEST_FILE_TIMEOUT_MS ?? 300_000);

function find(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

const files = find(root)
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();

interface Result {
  file: string;
  passed: number;
  failed: number;
  code: number | null;
  ms: number;
}

function run(file: string): Promise<Result> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      output += `\n# killed after ${fileTimeoutMs} ms\n`;
      child.kill('SIGKILL');
    }, fileTimeoutMs);
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => {
      clearTimeout(timer);
      const passed = Number(/^# pass\s+(\d+)/m.exec(output)?.[1] ?? 0);
      const failed = Number(/^# fail\s+(\d+)/m.exec(output)?.[1] ?? 0);
      const result = { file: relative(root, file), passed, failed, code, ms: Date.now() - started };
      const ok = code === 0 && failed === 0;
      if (!ok || process.env.VERBOSE) process.stdout.write(output);
      console.log(`${ok ? 'ok ' : 'FAIL'} ${result.file} (${passed} passed, ${failed} failed, ${(result.ms / 1000).toFixed(1)} s)`);
      resolve(result);
    });
  });
}

const queue = [...files];
const results: Result[] = [];
await Promise.all(
  Array.from({ length: Math.max(1, availableParallelism()) }, async () => {
    for (let file = queue.shift(); file; file = queue.shift()) results.push(await run(file));
  }),
);

const passed = results.reduce((n, r) => n + r.passed, 0);
// A file that crashed counts as a failure even if it reported none.
const failed = results.reduce((n, r) => n + r.failed + (r.code !== 0 && r.failed === 0 ? 1 : 0), 0);
if (files.length === 0) console.log('no test files matched');
console.log(`\ntests: ${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || files.length === 0 ? 1 : 0;
