import test from 'tape';
import { Model, replicate } from '../../lib/index.js';
import { KeyTable } from '../../lib/scuttlebutt/key-table.js';
import { createFrameProtocol, type FrameProtocol } from '../../lib/stream/frame-protocol.js';
import { until } from '../helpers/compliance.js';
import { testRandom } from '../helpers/seed.js';

// A Model's session follows the key table with a cursor instead of queueing
// update objects: these check the cursor against the writes it must yield,
// the sessions across compactions of the table, and the hand-over to a queue
// when the replica starts storing before relaying (persistence).

test('key table: a cursor yields every write that is still the latest when reached, across compactions, and waits at the end', (t) => {
  const random = testRandom('key table cursor');
  const table = new KeyTable();
  const cursor = table.cursor();
  const writes: { key: string; version: number }[] = []; // every write, in order
  const latest = new Map<string, number>(); // key -> index of its latest write in `writes`
  let at = 0; // the reference cursor: the next write it will look at
  let mismatches = 0;
  let yielded = 0;
  let stamp = 0;
  const keys = Array.from({ length: 400 }, (_, i) => `key${i}`);
  for (let op = 0; op < 40_000; op++) {
    if (random.chance(0.8)) {
      const key = random.pick(keys);
      table.put(key, JSON.stringify(op), 'a', ++stamp, table.find(key));
      latest.set(key, writes.length);
      writes.push({ key, version: op });
    } else {
      for (let step = random.int(1, 300); step > 0; step--) {
        while (at < writes.length && latest.get(writes[at].key) !== at) at++;
        const slot = table.nextSlot(cursor);
        if (at === writes.length) {
          if (slot !== -1) mismatches++;
          break;
        }
        const expected = writes[at++];
        yielded++;
        if (slot < 0 || table.keyAt(slot) !== expected.key || table.jsonAt(slot) !== JSON.stringify(expected.version)) mismatches++;
      }
    }
  }
  t.equal(mismatches, 0, `the cursor agrees with the writes (${yielded} slots yielded over ${writes.length} writes to ${keys.length} keys, so many compactions)`);
  table.release(cursor);
  t.end();
});

test('model follow: a live peer gets every key with its latest value while the table is compacted under the session', async (t) => {
  const random = testRandom('model follow');
  const a = new Model({ id: 'a' });
  const b = new Model({ id: 'b' });
  const replication = await replicate(a, b);
  let seenByB = 0;
  b.on('update', () => seenByB++);
  for (let round = 0; round < 40; round++) {
    // Rewrites of a few keys, so holes outnumber keys and the table compacts while the session follows it.
    for (let n = random.int(100, 1500); n > 0; n--) a.set(`k${random.int(0, 60)}`, round * 10_000 + n);
    if (random.chance(0.3)) a.delete(`k${random.int(0, 60)}`);
    if (random.chance(0.3)) b.set(`b${round}`, round); // and writes the other way, which must not come back
    await new Promise((resolve) => setImmediate(resolve));
  }
  a.set('last', true);
  await until(() => b.has('last') && a.has(`b39`) === b.has('b39'));
  await until(() => JSON.stringify(a.toJSON()) === JSON.stringify(b.toJSON()));
  t.deepEqual(b.toJSON(), a.toJSON(), 'the replicas agree');
  let metaDiffers = 0;
  for (const key of a.keys()) if (JSON.stringify(a.meta(key)) !== JSON.stringify(b.meta(key))) metaDiffers++;
  t.equal(metaDiffers, 0, 'every key holds the same write on both');
  t.ok(seenByB < 40 * 1500, `b applied ${seenByB} updates: writes replaced before they were taken were not sent`);
  await replication.close();
});

test('model follow: sessions following the table hand over to a queue when the replica starts storing before relaying', async (t) => {
  const a = new Model({ id: 'a' });
  const b = new Model({ id: 'b' });
  const replication = await replicate(a, b);
  for (let i = 0; i < 100; i++) a.set(`before${i}`, i); // in the table, not yet taken by the session
  const release = a.holdUntilStored();
  for (let i = 0; i < 50; i++) a.set(`after${i}`, i); // not stored: never sent until released
  await until(() => b.size >= 100);
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(b.size, 100, 'the writes made before went out; those not yet stored did not');
  a.releaseStored(20);
  await until(() => b.size >= 120);
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(b.size, 120, 'the writes released went out, and only those');
  b.set('from-b', 1); // applied on a (storing first): objects for the session that now queues them
  await until(() => a.has('from-b'));
  release();
  await until(() => b.size === 151);
  t.deepEqual(b.toJSON(), a.toJSON(), 'the replicas agree once everything is released');
  a.set('later', 1);
  await until(() => b.has('later'));
  t.pass('live updates go on from the queue after the release');
  await replication.close();
});

test('model follow: updates applied from a run raise the same events as updates applied one by one', async (t) => {
  const a = new Model({ id: 'a' });
  for (let i = 0; i < 500; i++) a.set(`k${i}`, { i });
  a.delete('k7');
  const b = new Model({ id: 'b' });
  const events: string[] = [];
  b.on('update', (key, value, meta) => events.push(`${key}=${JSON.stringify(value)}:${meta.source}:${meta.local}`));
  const watched: unknown[] = [];
  b.watch('k3', (_key, value) => watched.push(value));
  const replication = await replicate(a, b);
  await until(() => events.length === 500); // 499 keys and the delete marker of k7 (which replaced its write)
  t.equal(events[0], 'k0={"i":0}:a:false', 'a remote update, with its value');
  t.equal(events[499], 'k7=undefined:a:false', 'the delete last, in the order applied');
  t.deepEqual(watched, [{ i: 3 }], 'a watcher of one key is called');
  t.equal(b.size, 499);
  await replication.close();
});

/** Moves frames both ways between two protocols until neither has any to send. */
function exchange(x: FrameProtocol, y: FrameProtocol): void {
  for (let moved = true; moved; ) {
    moved = false;
    for (let frame = x.nextFrame(); frame !== undefined; frame = x.nextFrame(), moved = true) y.receive(frame);
    for (let frame = y.nextFrame(); frame !== undefined; frame = y.nextFrame(), moved = true) x.receive(frame);
  }
}

test('model follow: messages taken from the table but not yet sent go into the queue when the replica starts storing first', (t) => {
  const a = new Model({ id: 'a' });
  const b = new Model({ id: 'b' });
  // Small frames: a frame fills before the messages of one take are all in it.
  const pa = createFrameProtocol(a, { maxFrameBytes: 512 });
  const pb = createFrameProtocol(b, { maxFrameBytes: 512 });
  exchange(pa, pb);
  t.ok(pa.synced && pb.synced, 'synced while empty');
  // Writes of four sources, interleaved: each take of the session makes a message per source.
  for (let i = 1; i <= 40; i++) {
    a.set(`a${i}`, i);
    for (const source of ['c', 'd', 'e']) a.ingestBatch([{ source, ts: i, key: `${source}${i}`, json: `"${source}"` }], undefined);
  }
  pb.receive(pa.nextFrame()!); // one frame: the rest of that take waits in the session
  const session = pa.session as unknown as { takenLive: unknown[] };
  t.ok(session.takenLive.length > 0, `${session.takenLive.length} messages taken and not yet sent`);
  const release = a.holdUntilStored();
  release();
  exchange(pa, pb);
  t.equal(b.size, 160, 'the peer has every key');
  t.deepEqual(b.toJSON(), a.toJSON(), 'with the same values');
  t.end();
});
