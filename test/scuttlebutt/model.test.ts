import test from 'tape';
import { Model, ReplicationError, replicate } from '../../lib/index.js';
import { decodeState, encode } from '../../lib/codec/index.js';
import { until } from '../helpers/compliance.js';

test('model: set, get, has, delete, keys, entries, size, toJSON', (t) => {
  const m = new Model({ id: 'a' });
  m.set('b', { n: 1 }).set('a', [1, 2]).set('c', 'three');
  t.deepEqual(m.get('b'), { n: 1 });
  t.ok(m.has('a'));
  t.equal(m.size, 3);
  t.ok(m.delete('c'));
  t.notOk(m.delete('c'), 'deleting an absent key returns false');
  t.notOk(m.has('c'));
  t.equal(m.get('c'), undefined);
  t.equal(m.size, 2);
  t.deepEqual([...m.keys()].sort(), ['a', 'b']);
  t.deepEqual(m.toJSON(), { a: [1, 2], b: { n: 1 } });
  t.deepEqual(Object.keys(m.toJSON()), ['a', 'b'], 'toJSON is in key order');
  t.end();
});

test('model: get returns a copy the caller cannot use to change the replica', (t) => {
  const m = new Model({ id: 'a' });
  const value = { list: [1] };
  m.set('k', value);
  value.list.push(2);
  (m.get('k') as { list: number[] }).list.push(3);
  t.deepEqual(m.get('k'), { list: [1] });
  t.end();
});

test('model: keys like __proto__ and constructor stay data', (t) => {
  const m = new Model({ id: 'a' });
  m.set('__proto__', { polluted: true });
  m.set('constructor', 1);
  const plain = m.toJSON();
  t.deepEqual(Object.keys(plain), ['__proto__', 'constructor']);
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
  t.deepEqual(m.get('__proto__'), { polluted: true });
  t.end();
});

test('model: refuses what it cannot replicate', (t) => {
  const m = new Model({ id: 'a' });
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return (err as ReplicationError).code;
    }
  };
  t.equal(codeOf(() => m.set('k', undefined)), 'ERR_INVALID_ARGUMENT');
  t.equal(codeOf(() => m.set('k', () => 1)), 'ERR_INVALID_ARGUMENT');
  t.equal(codeOf(() => m.set(1 as unknown as string, 1)), 'ERR_INVALID_ARGUMENT');
  t.equal(codeOf(() => m.set('x'.repeat(5000), 1)), 'ERR_INVALID_ARGUMENT');
  t.equal(m.size, 0, 'nothing changed');
  t.end();
});

test('model: update events for local and remote changes, and watching one key', async (t) => {
  const a = new Model({ id: 'a' });
  const b = new Model({ id: 'b' });
  const seen: unknown[] = [];
  b.on('update', (key, value, meta) => seen.push([key, value, meta.source, meta.local]));
  const watched: unknown[] = [];
  const stop = b.watch('w', (key, value) => watched.push(value));
  b.set('mine', 1);
  const replication = await replicate(a, b);
  // One write at a time: writes superseded before they are sent are coalesced.
  a.set('w', 'first');
  await until(() => b.get('w') === 'first');
  a.set('other', 2);
  await until(() => b.has('other'));
  a.delete('w');
  await until(() => !b.has('w'));
  stop();
  a.set('w', 'after stop');
  await until(() => b.get('w') === 'after stop');
  t.deepEqual(seen.slice(0, 4), [
    ['mine', 1, 'b', true],
    ['w', 'first', 'a', false],
    ['other', 2, 'a', false],
    ['w', undefined, 'a', false],
  ]);
  t.deepEqual(watched, ['first', undefined], 'the watcher saw its key only, until stopped');
  await replication.close();
});

test('model: a restarted replica keeps its id and never reuses a timestamp', (t) => {
  const a = new Model({ id: 'fixed' });
  a.set('k', 1);
  const ts = a.meta('k')!.ts;
  const again = new Model({ id: 'fixed', clock: { now: () => 0 } });
  again.restoreClock(a.clockDigest());
  again.set('k', 2);
  t.equal(again.id, 'fixed');
  t.ok(again.meta('k')!.ts > ts, 'the clock moved past the restored history');
  t.end();
});

test('model: a write replaced while queued for a peer is not sent, whether or not the queue ever emptied before', async (t) => {
  const a = new Model({ id: 'a' });
  const b = new Model({ id: 'b' });
  const replication = await replicate(a, b);
  const seen: [string, unknown][] = [];
  b.on('update', (key, value) => seen.push([key, value]));
  for (let i = 0; i < 10; i++) a.set(`new${i}`, i); // nothing replaced: sent without a lookup each
  await until(() => b.size === 10);
  t.equal(seen.length, 10, 'every write to a new key arrives');
  seen.length = 0;
  for (let i = 0; i < 100; i++) a.set('k', i);
  a.set('later', 1);
  await until(() => b.has('later'));
  t.deepEqual(seen, [['k', 99], ['later', 1]], 'of 100 writes queued in one tick, only the last is sent');
  await replication.close();
});

test('model: local writes with nobody listening (applied without objects) leave the state that listened-to writes leave', async (t) => {
  let now = 1_000;
  const quiet = new Model({ id: 'a', clock: { now: () => now } });
  const heard = new Model({ id: 'a', clock: { now: () => now } });
  const events: string[] = [];
  heard.on('update', (key) => events.push(key));
  const peers = [new Model({ id: 'p' }), new Model({ id: 'q' })];
  const replications = [await replicate(quiet, peers[0]), await replicate(heard, peers[1])];
  // Strings a quiet write takes as bytes as they stand, and strings it must not (escapes, control and non-ASCII characters, long ones).
  const strings = ['v', 'plain text ~!', '', 'a"quote', 'back\\slash', 'tab\t', 'del\x7f', 'é', '😀', 'x'.repeat(1019), 'x'.repeat(1020), 'y'.repeat(3000)];
  for (let i = 0; i < 300; i++) {
    if (i % 50 === 0) now++;
    for (const model of [quiet, heard]) {
      if (i % 7 === 3) model.delete(`k${i % 40}`);
      else model.set(i % 5 === 0 ? `ké${i % 30}` : `k${i % 60}`, i % 3 === 0 ? { i } : `${strings[i % strings.length]}${i}`);
    }
  }
  const state = (m: Model) => ({
    history: [...m.history()],
    clock: [...m.clockDigest()],
    retained: m.retainedAfter('a', 0),
    size: m.size,
    json: m.toJSON(),
  });
  t.deepEqual(state(quiet), state(heard), 'the same history, clock, retained count and values');
  t.ok(events.length > 250, `the listened-to replica raised its events (${events.length})`);
  await until(() => JSON.stringify(peers[0].toJSON()) === JSON.stringify(quiet.toJSON()) && JSON.stringify(peers[1].toJSON()) === JSON.stringify(heard.toJSON()));
  t.deepEqual([...peers[0].history()], [...peers[1].history()], 'and their peers got the same updates');
  for (const r of replications) await r.close();
  t.end();
});

test('model: a peer run that repeats updates already applied applies only the new ones, across the decoder steps', (t) => {
  const updates = Array.from({ length: 300 }, (_, i) => ({ source: 'a', ts: 1000 + 3 * i, key: `k${i % 250}`, json: `"v${i}"` }));
  const run = (from: number, to: number) => {
    const bytes = encode(new Model({ id: 'x' }).messageCodec, { type: 'updates', source: 'a', updates: updates.slice(from, to) });
    return quiet.wireCodec.decode(decodeState(bytes)) as Parameters<Model['ingestRun']>[0];
  };
  const quiet = new Model({ id: 'b' });
  // Observed (as persistence observes), a replica applies a peer's run as update objects, one by one.
  const heard = new Model({ id: 'c' });
  heard.observe({ applied: () => {}, superseded: () => {} });
  // The first 130, then 70 to 300 (60 of them repeated), then all again.
  for (const [from, to] of [[0, 130], [70, 300], [0, 300]]) {
    quiet.ingestRun(run(from, to), {});
    heard.ingestRun(run(from, to), {});
  }
  const state = (m: Model) => ({ history: [...m.history()].map(({ key, json, ts }) => [key, json, ts]), retained: m.retainedAfter('a', 0), clock: [...m.clockDigest()], json: m.toJSON() });
  t.equal(quiet.size, 250, 'every key');
  t.equal(quiet.retainedAfter('a', 0), 250, 'one retained update per key');
  t.deepEqual(state(quiet), state(heard), 'the same state as an observed replica');
  t.equal(quiet.get('k10'), 'v260', 'a key written twice holds the later value');
  t.end();
});
