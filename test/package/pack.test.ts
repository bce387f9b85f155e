// The package as a user gets it: `npm pack`, then an offline install of the
// tarball into a fresh project that has nothing else, then a small strict
// TypeScript program compiled against the published types and run.
//
// The fresh project gets a lockfile made from ours (the production entries
// only), so `npm ci --offline` installs from the npm cache that `npm ci` of
// this repository filled, and no dev-only package is there to help.
import test from 'tape';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const STEP_MS = 120_000;

interface LockEntry {
  dev?: boolean;
  devOptional?: boolean;
  link?: boolean;
  [field: string]: unknown;
}

const tsconfig = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    // TypeScript no longer includes every @types package by default; a Node program names node's.
    types: ['node'],
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    noImplicitOverride: true,
    noImplicitReturns: true,
    // The point of the test: the published .d.ts files are checked, not skipped.
    skipLibCheck: false,
    outDir: 'dist',
  },
  include: ['app.ts'],
};

// Two Models replicate; the stream, option and event types, a codec from
// `tendril/codec`, the `Replica` base from `tendril/core`, a seeded random
// source from `tendril/sim`, and a Model persisted on a path.
const app = `
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MerkleStore, Model, persist, replicate, ReplicationError, type ChangeMeta, type ReplicationStream, type StreamOptions } from 'tendril';
import { decode, encode, uint } from 'tendril/codec';
import { Replica } from 'tendril/core';
import { SimRandom } from 'tendril/sim';

const a = new Model({ id: 'a' });
const b = new Model({ id: 'b' });
a.set('greeting', { text: 'hello' });
const updates: string[] = [];
a.on('update', (key: string, _value: unknown, meta: ChangeMeta) => updates.push(key + ' from ' + meta.source));
const options: StreamOptions = { live: true };
const replication = await replicate(a, b, options);
b.set('reply', 'hi');
for (let turns = 0; a.get('reply') === undefined && turns < 10_000; turns++) await new Promise((resolve) => setImmediate(resolve));
await replication.close();

const stream: ReplicationStream = a.createStream({ live: false });
const isReplica: boolean = a instanceof Replica;
stream.destroy();

const dir = mkdtempSync(join(tmpdir(), 'tendril-consumer-'));
const stored = new Model({ id: 'stored' });
const persistence = await persist(stored, dir);
stored.set('k', 1);
await persistence.close();
rmSync(dir, { recursive: true, force: true });

let code = '';
try {
  new MerkleStore({}); // neither a path nor a db
} catch (err) {
  if (err instanceof ReplicationError) code = err.code;
}
console.log(JSON.stringify({
  greeting: b.get('greeting'),
  reply: a.get('reply'),
  updates,
  isReplica,
  uint: decode(uint, encode(uint, 300)),
  random: typeof new SimRandom(1).exponential(10),
  code,
}));
`;

test('the packed tarball installs offline into a fresh project, and a strict TypeScript program compiles against it and runs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tendril-pack-'));
  try {
    // dist/ is built already (this test runs from it), so skip `prepare`.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, timeout: STEP_MS });
    const [{ filename, integrity, files }] = JSON.parse(packed.stdout) as [{ filename: string; integrity: string; files: { path: string }[] }];
    const paths = new Set(files.map((f) => f.path));
    for (const path of ['LICENSE', 'README.md', 'package.json', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/core.d.ts', 'dist/lib/codec/index.d.ts', 'dist/lib/sim/index.d.ts']) {
      t.ok(paths.has(path), `the tarball holds ${path}`);
    }
    t.notOk([...paths].some((p) => p.startsWith('dist/test/') || p.startsWith('test/')), 'and no tests');

    const project = join(dir, 'app');
    mkdirSync(project);
    const ours = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const ourLock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
    const tarball = `file:../${filename}`;
    const packages: Record<string, unknown> = {
      '': { name: 'app', dependencies: { tendril: tarball } },
      'node_modules/tendril': { version: ours.version, resolved: tarball, integrity, license: ours.license, dependencies: ours.dependencies, engines: ours.engines, bin: ours.bin },
    };
    for (const [path, entry] of Object.entries(ourLock.packages)) {
      if (path !== '' && !entry.dev && !entry.devOptional && !entry.link) packages[path] = entry;
    }
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module', dependencies: { tendril: tarball } }, null, 2));
    writeFileSync(join(project, 'package-lock.json'), JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages }, null, 2));
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    writeFileSync(join(project, 'app.ts'), app);

    await run('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: project, timeout: STEP_MS });
    t.pass(`${filename} installed offline with its ${Object.keys(ours.dependencies).length} dependencies`);

    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      await run(process.execPath, [tsc, '-p', project], { cwd: project, timeout: STEP_MS });
      t.pass('a strict program compiles against the published types (skipLibCheck off)');
    } catch (err) {
      t.fail(`tsc failed:\n${(err as { stdout?: string }).stdout ?? err}`);
      return;
    }

    const { stdout } = await run(process.execPath, [join(project, 'dist', 'app.js')], { cwd: project, timeout: STEP_MS });
    t.deepEqual(JSON.parse(stdout), {
      greeting: { text: 'hello' },
      reply: 'hi',
      updates: ['reply from b'],
      isReplica: true,
      uint: 300,
      random: 'number',
      code: 'ERR_INVALID_ARGUMENT',
    }, 'two Models replicated both ways; codec, core, sim and persist work from the installed package');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
