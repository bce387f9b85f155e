// The package as users load it: `import` and, on Node 20, `require()` by name.
import test from 'tape';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const probe = "new t.Model({ id: 'x' }).set('k', 1).get('k') + ' ' + typeof t.ReplicationError + ' ' + typeof t.MerkleStore";

test("the package loads by name with import and with require()", async (t) => {
  const imported = await run(process.execPath, ['--input-type=module', '-e', `import * as t from 'tendril'; console.log(${probe})`], { cwd: root });
  t.equal(imported.stdout.trim(), '1 function function', 'import');
  const required = await run(process.execPath, ['-e', `const t = require('tendril'); console.log(${probe})`], { cwd: root });
  t.equal(required.stdout.trim(), '1 function function', 'require()');
});
