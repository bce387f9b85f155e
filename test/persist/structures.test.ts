// persist() for every delta-state CRDT and Seq: load after restart,
// incremental writes, compaction, reconnect sends only what is missing.
import test from 'tape';
import { once } from 'node:events';
import { Transform } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryLevel } from 'memory-level';
import { GCounter, GSet, LWWRegister, MVRegister, ORMap, ORSet, PNCounter, Seq, TwoPSet, persist } from '../../lib/index.js';
import { canonical } from '../crdt/harness.js';

const kinds: { name: string; make: (id: string) => any; write: (r: any, i: number) => void }[] = [
  { name: 'ORSet', make: (id) => new ORSet({ id }), write: (r, i) => (i % 3 === 2 ? r.remove(`e${i - 1}`) : r.add(`e${i}`)) },
  { name: 'GSet', make: (id) => new GSet({ id }), write: (r, i) => r.add(`e${i}`) },
  { name: 'TwoPSet', make: (id) => new TwoPSet({ id }), write: (r, i) => (i % 3 === 2 ? r.remove(`e${i - 1}`) : r.add(`e${i}`)) },
  { name: 'GCounter', make: (id) => new GCounter({ id }), write: (r, i) => r.increment(i + 1) },
  { name: 'PNCounter', make: (id) => new PNCounter({ id }), write: (r, i) => (i % 2 ? r.decrement(i) : r.increment(2 * i + 1)) },
  { name: 'LWWRegister', make: (id) => new LWWRegister({ id }), write: (r, i) => r.set({ i }) },
  { name: 'MVRegister', make: (id) => new MVRegister({ id }), write: (r, i) => r.set(i) },
  { name: 'ORMap', make: (id) => new ORMap({ id, values: PNCounter.embedded() }), write: (r, i) => (i % 4 === 3 ? r.remove(`k${i % 3}`) : r.update(`k${i % 3}`, (c: any) => c.increment(i + 1))) },
];

test('persist: every CRDT comes back from disk as it was, with its causal context', async (t) => {
  for (const kind of kinds) {
    const db = new MemoryLevel();
    const a = kind.make('a');
    const stored = await persist(a, db);
    for (let i = 0; i < 200; i++) kind.write(a, i);
    await stored.close();
    const again = kind.make('a');
    const reopened = await persist(again, db);
    const [value, context, dots] = JSON.parse(canonical(again));
    const [value0, context0, dots0] = JSON.parse(canonical(a));
    t.ok(JSON.stringify([value, dots]) === JSON.stringify([value0, dots0]), `${kind.name}: value and dots restored`);
    // The context is restored too, and our own events run on past the numbers reserved before the restart.
    t.ok(again.context.includes(a.context) && context.a[0][1] >= 1 << 20 && Object.keys(context).length === Object.keys(context0).length, `${kind.name}: context restored, own numbers reserved`);
    kind.write(again, 1000);
    t.ok(again.context.max('a') > a.context.max('a'), `${kind.name}: the restarted replica's next event is past every stored one`);
    await reopened.close();
  }
  t.end();
});

test('persist: a restarted ORSet resyncs by sending only what is missing (bytes counted)', async (t) => {
  const db = new MemoryLevel();
  const server = new ORSet({ id: 'server' });
  let client = new ORSet({ id: 'client' });
  let stored = await persist(client, db);
  for (let i = 0; i < 5000; i++) server.add(`element-${i}`);
  const fullBytes = await countedSync(server, client);
  await stored.close();
  // Restart, while the server writes 10 more.
  for (let i = 0; i < 10; i++) server.add(`late-${i}`);
  client = new ORSet({ id: 'client' });
  stored = await persist(client, db);
  t.equal(client.size, 5000, 'the restarted client holds what it had');
  const resyncBytes = await countedSync(server, client);
  t.deepEqual(client.value(), server.value(), 'and converges');
  t.ok(resyncBytes < fullBytes / 20, `reconnect moved ${resyncBytes} bytes, the first sync ${fullBytes}`);
  await stored.close();
  t.end();
});

test('persist: writes are incremental and the log is compacted, so the stored size follows the state', async (t) => {
  const db = new MemoryLevel();
  const r = new ORSet({ id: 'r' });
  const stored = await persist(r, db);
  const sizes: number[] = [];
  // 40,000 add/remove cycles over a live set of 100 elements.
  for (let round = 0; round < 40; round++) {
    for (let i = 0; i < 1000; i++) {
      r.add(`live-${i % 100}`);
      r.add(`gone-${round}-${i}`);
      r.remove(`gone-${round}-${i}`);
    }
    await stored.flush();
    sizes.push(stored.storedBytes);
  }
  t.ok(Math.max(...sizes) < 300_000, `stored size stays bounded: at most ${Math.max(...sizes)} bytes over 120,000 operations`);
  await stored.close();
  const back = new ORSet({ id: 'r' });
  await (await persist(back, db)).close();
  t.deepEqual(back.value(), r.value(), 'the compacted store loads the same set');
  t.end();
});

test('persist: classic-level at a path, and a database holding another replica is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tendril-persist-'));
  try {
    const a = new ORSet({ id: 'a' });
    const stored = await persist(a, join(dir, 'db'));
    for (let i = 0; i < 1000; i++) a.add(i);
    await stored.close();
    const back = new ORSet({ id: 'a' });
    await (await persist(back, join(dir, 'db'))).close();
    t.deepEqual(back.value(), a.value(), 'loaded from classic-level');
    const other = new ORSet({ id: 'b' });
    await persist(other, join(dir, 'db')).then(
      () => t.fail('accepted'),
      (err) => t.equal(err.code, 'ERR_INVALID_ARGUMENT', 'another replica id: refused'),
    );
    const used = new ORSet({ id: 'c' });
    used.add(1);
    await persist(used, new MemoryLevel()).then(
      () => t.fail('accepted'),
      (err) => t.equal(err.code, 'ERR_INVALID_ARGUMENT', 'a replica that already holds state: refused'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.end();
});

test('persist: Seq comes back from disk, compacts, and resyncs with only what is missing', async (t) => {
  const db = new MemoryLevel();
  const server = new Seq({ clientId: 1 });
  let client = new Seq({ clientId: 2 });
  let stored = await persist(client, db);
  for (let i = 0; i < 15_000; i++) client.insert(client.length, 'abcdefghij'[i % 10]);
  for (let i = 0; i < 13_000; i++) client.delete(i % client.length, 1);
  const firstBytes = await countedSync(server, client);
  await stored.close();
  const snapshot = client.encodeState().length;
  t.ok(stored.storedBytes <= 2 * snapshot + 70_000, `compacted: ${stored.storedBytes} bytes stored (a full update is ${snapshot}) after 28,000 one-character edits`);
  server.insert(0, 'late ');
  client = new Seq({ clientId: 3 });
  stored = await persist(client, db);
  t.equal(client.length, 2000, 'the restarted Seq holds its text');
  t.equal(client.toString(), server.toString().slice('late '.length), 'its text as stored');
  const secondBytes = await countedSync(server, client);
  t.equal(client.toString(), server.toString(), 'converges');
  t.ok(secondBytes < firstBytes / 5, `reconnect moved ${secondBytes} bytes, the first sync ${firstBytes}`);
  client.insert(0, 'x');
  await stored.close();
  const reused = new Seq({ clientId: 3 });
  await persist(reused, db).then(
    () => t.fail('accepted'),
    (err) => t.equal(err.code, 'ERR_INVALID_ARGUMENT', 'a client id that wrote stored elements: refused'),
  );
  t.end();
});

/** A one-shot sync of `a` and `b` (live: false); resolves with the bytes that crossed in both directions. */
async function countedSync(a: { createStream(o?: object): any }, b: { createStream(o?: object): any }): Promise<number> {
  const sa = a.createStream({ live: false });
  const sb = b.createStream({ live: false });
  let bytes = 0;
  const count = () => new Transform({ transform: (chunk, _e, cb) => ((bytes += chunk.length), cb(null, chunk)) });
  sa.pipe(count()).pipe(sb).pipe(count()).pipe(sa);
  await Promise.all([once(sa, 'end'), once(sb, 'end')]);
  return bytes;
}

test('persist: tells the structures apart by what they hold, and refuses anything else', async (t) => {
  const kinds: [string, object, string][] = [
    ['an ORSet', new ORSet(), 'DeltaPersistence'],
    ['a Seq', new Seq(), 'SeqPersistence'],
  ];
  for (const [what, replica, expected] of kinds) {
    const store = await persist(replica as ORSet, new MemoryLevel());
    t.equal(store.constructor.name, expected, what);
    await store.close();
  }
  for (const [what, thing] of [
    ['a plain object', {}],
    ['null', null],
    ['an object that only looks like a Seq', { descriptor: { kind: 'seq' } }],
    ['an object that only looks like a CRDT', { storeKind: {}, context: {} }],
  ] as [string, unknown][]) {
    const error = await persist(thing as ORSet, new MemoryLevel()).then(() => undefined, (err: { code?: string }) => err);
    t.equal(error?.code, 'ERR_INVALID_ARGUMENT', `${what} is refused`);
  }
});
