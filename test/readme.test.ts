// The README's examples run as they are: every ```js block that imports
// 'tendril' and does not reach for the network or the disk is executed.
import test from 'tape';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
const runnable = blocks.filter((code) => code.includes("from 'tendril'") && !/node:net|persist\(model, '\.\/data'\)|fs\./.test(code));

test('README examples run', async (t) => {
  t.ok(runnable.length >= 5, `${runnable.length} runnable examples`);
  for (const [i, code] of runnable.entries()) {
    // Inside the package, so that `import 'tendril'` resolves to this package by name.
    const file = join(root, `readme-example-${i}.mjs`);
    writeFileSync(file, code);
    try {
      await run(process.execPath, [file], { cwd: root, timeout: 30_000 });
      t.pass(`example ${i + 1} (${code.split('\n')[0].slice(0, 60)})`);
    } catch (err) {
      t.fail(`example ${i + 1} failed: ${(err as Error).message}`);
    } finally {
      rmSync(file, { force: true });
    }
  }
});
