import test from 'tape';
import { once } from 'node:events';
import { Model } from '../../lib/index.js';
import type { ModelUpdate } from '../../lib/core.js';
import { testRandom } from '../helpers/seed.js';

// The Model keeps its keys in columns of 4,096 slots a page: these tests
// write several pages' worth, rewrite and delete across them, and check
// that what a replica holds, scans and sends stays exact.

const KEYS = 10_000;

async function sync(from: Model, to: Model): Promise<void> {
  const a = from.createStream({ live: false });
  const b = to.createStream({ live: false });
  a.pipe(b).pipe(a);
  await Promise.all([once(a, 'synced'), once(b, 'synced')]);
}

/** Every key's value and write metadata, deletes included, in key order. */
function state(m: Model, keys: string[]): string {
  return JSON.stringify(keys.map((k) => [k, m.get(k), m.meta(k)]));
}

test('model store: two writers over several pages of keys, with rewrites and deletes, converge; a fresh replica gets it all', async (t) => {
  const random = testRandom('model store');
  const a = new Model({ id: 'a' });
  const b = new Model({ id: 'b' });
  const keys = Array.from({ length: KEYS }, (_, i) => `key-${i}`);
  for (const k of keys) (random.chance(0.5) ? a : b).set(k, { k, n: random.int(0, 1000) });
  for (let i = 0; i < 20_000; i++) {
    const writer = random.chance(0.5) ? a : b;
    const key = keys[random.int(0, KEYS - 1)];
    if (random.chance(0.2)) writer.delete(key);
    else writer.set(key, random.chance(0.5) ? random.int(0, 1e6) : ['v', i, 'é', '😀']);
  }
  await sync(a, b);
  t.equal(state(a, keys), state(b, keys), 'both writers hold the same values and metadata');
  t.equal(a.size, b.size, 'the same number of live keys');
  t.equal(a.size, keys.filter((k) => a.has(k)).length, 'size counts the live keys');

  const c = new Model({ id: 'c' });
  await sync(a, c);
  t.equal(state(c, keys), state(a, keys), 'a fresh replica holds what a holds');
  t.deepEqual(c.toJSON(), a.toJSON(), 'toJSON alike');

  // History: one update per key, each the one meta() reports, each source's in timestamp order.
  const history = [...a.history()];
  t.equal(history.length, KEYS, 'one update per key ever written');
  t.equal(new Set(history.map((u) => u.key)).size, KEYS, 'no key twice');
  const last = new Map<string, number>();
  let ordered = true;
  let matches = true;
  for (const u of history) {
    if (u.ts <= (last.get(u.source) ?? 0)) ordered = false;
    last.set(u.source, u.ts);
    const meta = a.meta(u.key)!;
    if (meta.ts !== u.ts || meta.source !== u.source || meta.deleted !== (u.json === undefined)) matches = false;
    if (u.json !== undefined && JSON.stringify(a.get(u.key)) !== u.json) matches = false;
  }
  t.ok(ordered, "each source's updates in timestamp order");
  t.ok(matches, 'each update is the one the replica holds for its key');
  t.end();
});

test('model store: a scan meets a key written during it again at the end, and never the update that write replaced', (t) => {
  const m = new Model({ id: 'a' });
  for (let i = 0; i < 5000; i++) m.set(`k${i}`, i);
  const scan = m.history();
  const seen: ModelUpdate[] = [];
  for (let i = 0; i < 10; i++) seen.push(scan.next().value as ModelUpdate);
  m.set('k3', 'again'); // scanned already: comes again
  m.set('k4999', 'late'); // not scanned yet: only its new update comes
  m.set('new', true);
  for (let next = scan.next(); !next.done; next = scan.next()) seen.push(next.value);
  const keys = seen.map((u) => u.key);
  t.equal(keys.length, 5000 + 1 + 1, 'every key once and the new one, k3 twice');
  t.deepEqual(keys.slice(-3), ['k3', 'k4999', 'new'], 'the keys written during the scan come last, in the order written');
  t.equal(keys.filter((k) => k === 'k4999').length, 1, 'k4999 comes once');
  t.equal(seen.at(-2)!.json, '"late"', 'with its new value');
  t.equal(seen[3].json, '3', 'k3 first came with the value it had then');
  t.equal(seen.at(-3)!.json, '"again"', 'and then with the new one');
  t.end();
});

test('model store: a value survives the page boundary and a key deleted and set again holds its latest write', (t) => {
  const m = new Model({ id: 'a' });
  for (let i = 0; i < 4097; i++) m.set(`k${i}`, { i });
  t.deepEqual(m.get('k4095'), { i: 4095 }, 'last slot of the first page');
  t.deepEqual(m.get('k4096'), { i: 4096 }, 'first slot of the second page');
  t.ok(m.delete('k0'));
  t.equal(m.get('k0'), undefined);
  t.equal(m.meta('k0')!.deleted, true, 'the delete marker is kept');
  m.set('k0', 'back');
  t.equal(m.get('k0'), 'back');
  t.equal(m.size, 4097);
  t.equal([...m.keys()].at(-1), 'k0', 'a key written again moves to the end of the order applied');
  t.end();
});
