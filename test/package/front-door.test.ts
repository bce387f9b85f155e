// Importing `tendril` loads neither the simulator nor classic-level (and its
// native LevelDB addon); classic-level loads when a store is opened on a path.
// Each case runs in a fresh process, which lists every script V8 has parsed.
import test from 'tape';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ReplicationError } from '../../lib/index.js';
import { pathDb } from '../../lib/path-db.js';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

// Prints the URLs of every script parsed so far: the debugger reports each of them when enabled.
const loaded = `
import { Session } from 'node:inspector';
globalThis.loaded = async () => {
  const session = new Session();
  session.connect();
  const urls = [];
  session.on('Debugger.scriptParsed', (m) => urls.push(m.params.url));
  await new Promise((resolve) => session.post('Debugger.enable', resolve));
  session.disconnect();
  return urls;
};
`;

/** Runs `body` (an ES module body with `loaded()` in scope) in a fresh process inside the package; returns what it printed as JSON. */
async function probe(body: string): Promise<any> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', loaded + body], { cwd: root, timeout: 60_000 });
  return JSON.parse(stdout);
}

const sim = (urls: string[]) => urls.filter((u) => u.includes('/dist/lib/sim/'));
const level = (urls: string[]) => urls.filter((u) => u.includes('/node_modules/classic-level/'));

test("import 'tendril' loads neither the simulator nor classic-level", async (t) => {
  const urls: string[] = await probe(`await import('tendril'); console.log(JSON.stringify(await loaded()));`);
  t.ok(urls.some((u) => u.endsWith('/dist/lib/index.js')), 'the probe sees the package itself');
  t.ok(urls.some((u) => u.endsWith('/dist/lib/merkle/store.js')), 'and MerkleStore, whose module names classic-level');
  t.deepEqual(sim(urls), [], 'no module of the simulator');
  t.deepEqual(level(urls), [], 'no module of classic-level');
});

test("import 'tendril/sim' does load the simulator (the probe can see it)", async (t) => {
  const urls: string[] = await probe(`await import('tendril/sim'); console.log(JSON.stringify(await loaded()));`);
  t.ok(sim(urls).length > 5, `${sim(urls).length} modules of the simulator`);
});

test('classic-level loads when a store opens on a path, not before', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tendril-front-door-'));
  try {
    const seen = await probe(`
      import { join } from 'node:path';
      const { Model, MerkleStore } = await import('tendril');
      const store = new MerkleStore({ path: ${JSON.stringify(join(dir, 'merkle'))}, id: 'm' });
      const model = new Model({ id: 'a' });
      model.set('k', 1);
      const beforeOpen = (await loaded()).filter((u) => u.includes('/node_modules/classic-level/')).length;
      await store.open();
      await store.put('k', 1);
      const afterStore = (await loaded()).filter((u) => u.includes('/node_modules/classic-level/')).length;
      await store.close();
      console.log(JSON.stringify({ beforeOpen, afterStore }));
    `);
    t.equal(seen.beforeOpen, 0, 'a MerkleStore made on a path has not loaded classic-level');
    t.ok(seen.afterStore > 0, 'opening it did; put and close worked');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('persist() on a path loads classic-level and keeps the data', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tendril-front-door-'));
  try {
    const body = (write: boolean) => `
      const { Model, persist } = await import('tendril');
      const model = new Model({ id: 'a' });
      const stored = await persist(model, ${JSON.stringify(dir)});
      ${write ? "model.set('k', 'kept');" : ''}
      await stored.close();
      const levels = (await loaded()).filter((u) => u.includes('/node_modules/classic-level/')).length;
      console.log(JSON.stringify({ levels, value: model.get('k') ?? null }));
    `;
    t.ok((await probe(body(true))).levels > 0, 'persist() on a path loaded classic-level');
    t.equal((await probe(body(false))).value, 'kept', 'a second process reads what the first wrote');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a classic-level that fails to load is a coded error', async (t) => {
  const failing = () => Promise.reject(new Error('no build for this platform'));
  try {
    await pathDb('unused', {}, failing);
    t.fail('resolved');
  } catch (err) {
    t.ok(err instanceof ReplicationError, 'a ReplicationError');
    t.equal((err as ReplicationError).code, 'ERR_INVALID_ARGUMENT');
    t.match((err as Error).message, /classic-level.*no build for this platform/, 'naming the cause');
    t.equal(((err as Error).cause as Error).message, 'no build for this platform', 'with the cause attached');
  }
});
