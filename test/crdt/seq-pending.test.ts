// Seq against a hostile or disordered peer: a remote delete never splits a
// surrogate pair, runs and deletions that can never apply are never looked
// at again, and out-of-order delivery costs each run a bounded number of looks.
import test from 'tape';
import { Seq, replicate } from '../../lib/index.js';
import { encodeDelta } from '../../lib/seq/update-codec.js';
import { testRandom } from '../helpers/seed.js';

test('seq: a remote delete of half a surrogate pair takes the whole pair, alike everywhere (defect 3)', (t) => {
  const a = new Seq({ clientId: 1 });
  a.insert(0, 'a😀b');
  for (const [clock, len, what] of [[1, 1, 'high half'], [2, 1, 'low half'], [0, 2, "'a' and the high half"], [2, 2, "the low half and 'b'"]] as const) {
    const b = new Seq({ clientId: 2 });
    b.applyUpdate(a.encodeState());
    const updates: Buffer[] = [];
    b.on('update', (u: Buffer) => updates.push(u));
    b.applyUpdate(encodeDelta(a.document, { items: [], deletes: [1, clock, len] }));
    t.ok(b.toString().isWellFormed(), `deleting the ${what}: no lone surrogate left (${JSON.stringify(b.toString())})`);
    const fresh = new Seq({ clientId: 3 });
    fresh.applyUpdate(b.encodeState());
    t.equal(fresh.toString(), b.toString(), `deleting the ${what}: a replica synced from it holds the same text`);
    const relayed = new Seq({ clientId: 4 });
    relayed.applyUpdate(a.encodeState());
    for (const u of updates) relayed.applyUpdate(u);
    t.equal(relayed.toString(), b.toString(), `deleting the ${what}: what it relays does the same`);
  }
  t.end();
});

test('seq: runs and deletions that can never apply are not looked at by later updates (defect 4b)', (t) => {
  const victim = new Seq({ clientId: 1 });
  const honest = new Seq({ clientId: 2 });
  // 2,000 runs of unknown clients hanging off an element that never comes, and 2,000 deletions of unknown elements.
  const hostile = new Seq({ clientId: 3 });
  hostile.insert(0, 'x');
  for (let c = 0; c < 2000; c++) {
    const ghost = new Seq({ clientId: 1000 + c });
    ghost.applyUpdate(hostile.encodeState());
    ghost.insert(1, 'y');
    // The ghost's run without hostile's 'x' it depends on.
    victim.applyUpdate(encodeDelta(ghost.document, { items: [1000 + c, 0, 1], deletes: [5000 + c, 0, 10] }));
  }
  t.equal(victim.toString(), '', 'nothing could apply');
  let looks = 0;
  const doc = victim.document as any;
  const nextClock = doc.nextClock.bind(doc);
  doc.nextClock = (client: number) => (looks++, nextClock(client));
  for (let i = 0; i < 100; i++) {
    honest.insert(honest.length, 'h');
    victim.applyUpdate(encodeDelta(honest.document, { items: [2, i, i + 1], deletes: [] }));
  }
  t.equal(victim.toString(), 'h'.repeat(100), 'honest updates apply');
  t.ok(looks < 100 * 10, `100 honest updates looked at ${looks} clocks, not the 4,000 waiting items each`);
  t.end();
});

test('seq: 20,000 one-character updates delivered shuffled converge with a bounded number of looks each', (t) => {
  const random = testRandom('seq shuffled');
  const writer = new Seq({ clientId: 1 });
  const updates: Buffer[] = [];
  writer.on('update', (u: Buffer) => updates.push(u));
  for (let i = 0; i < 20_000; i++) writer.insert(random.int(0, writer.length), 'abcdefgh'[i % 8]);
  const reader = new Seq({ clientId: 2, maxPending: 50_000 });
  let looks = 0;
  const doc = reader.document as any;
  const nextClock = doc.nextClock.bind(doc);
  doc.nextClock = (client: number) => (looks++, nextClock(client));
  for (const u of random.shuffle(updates)) reader.applyUpdate(u);
  t.equal(reader.toString(), writer.toString(), 'converged');
  t.ok(looks < 20_000 * 10, `${looks} clock looks for 20,000 runs delivered shuffled`);
  t.end();
});

test('seq: a full state with long deleted stretches respects a small frame limit (every record kind)', async (t) => {
  const random = testRandom('seq deleted stretches');
  const a = new Seq({ clientId: 1 });
  // Scattered one-character inserts make many separate runs; deleting almost all leaves long stretches of deleted records.
  for (let i = 0; i < 20_000; i++) a.insert(random.int(0, a.length), i % 3 ? 'x' : [i]);
  a.delete(5, a.length - 10);
  for (const maxFrameBytes of [1024, 4096]) {
    const b = new Seq({ clientId: 2 });
    const replication = await replicate(a, b, { maxFrameBytes });
    t.equal(replication.error, undefined, `${maxFrameBytes}-byte frames: no error`);
    t.deepEqual(b.toArray(), a.toArray(), `${maxFrameBytes}-byte frames: synced`);
    await replication.close();
  }
  t.end();
});
