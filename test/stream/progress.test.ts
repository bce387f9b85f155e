// Progress with a total: the sender announces how many updates its catch-up
// carries (a catch-up frame, before the catch-up), the receiver counts them
// as it applies them, and the stream emits 'progress' { done, total }. Each
// structure counts in its own unit; the last progress before 'synced' must
// have reached the announced total, from the receiver's own count.
import test from 'tape';
import { Doc } from '../../lib/mux/index.js';
import { GCounter, GSet, Log, MVRegister, MerkleStore, Model, ORSet, Seq } from '../../lib/index.js';
import { MemoryLevel } from 'memory-level';
import { replicate } from '../../lib/stream/index.js';
import type { Replicable } from '../../lib/session/contract.js';
import { encode, uint } from '../../lib/codec/index.js';
import { FrameType } from '../../lib/stream/frames.js';
import { handshakeFrame, wireFrame } from '../helpers/raw-peer.js';

type Streamable = Replicable & { createStream(options?: object): import('../../lib/stream/index.js').ReplicationStream };
type Counts = { done: number; total: number };

/** Syncs `from` into `to` one way, recording the receiving stream's progress; resolves with the events seen up to 'synced'. */
async function syncOneWay(from: Streamable, to: Streamable): Promise<Counts[]> {
  const events: Counts[] = [];
  const source = from.createStream({ live: false, writable: false });
  const sink = to.createStream({ live: false, readable: false });
  sink.on('progress', (p: Counts) => events.push(p));
  const synced = new Promise<void>((resolve, reject) => {
    sink.once('synced', () => resolve());
    sink.once('error', reject);
    source.once('error', reject);
  });
  source.pipe(sink).pipe(source);
  await synced;
  return events;
}

/** The last event reached `total`; the total was known from the first event on, or (`grows`) grew as the catch-up found updates. */
function check(t: test.Test, events: Counts[], total: number, what: string, grows = false): void {
  const last = events.at(-1);
  t.deepEqual(last, { done: total, total }, `${what}: ${events.length} progress events, the last ${JSON.stringify(last)}`);
  if (grows) t.ok(events.every((p, i) => i === 0 || p.total >= events[i - 1]!.total), 'the total only grows');
  else t.ok(events.every((p) => p.total === total), 'the total is known from the first event on');
  t.ok(events.every((p) => p.done <= p.total), 'done never passes the total: each count is announced before its updates');
  t.ok(events.every((p, i) => i === 0 || p.done >= events[i - 1]!.done), 'done only grows');
}

test('progress: a Model counts updates; a peer that has some is sent, and counts, only the rest', async (t) => {
  const a = new Model({ id: 'a' });
  for (let i = 0; i < 20_000; i++) a.set(`k${i}`, `v${i}`);
  const b = new Model({ id: 'b' });
  let events = await syncOneWay(a, b);
  check(t, events, 20_000, 'fresh replica');
  t.ok(events.length > 2, 'several steps on the way (one per frame)');
  for (let i = 0; i < 300; i++) a.set(`k${i}`, `w${i}`);
  for (let i = 20_000; i < 20_100; i++) a.set(`k${i}`, `v${i}`);
  events = await syncOneWay(a, b);
  // b has a's updates in part: they are counted as the catch-up takes them, not by a scan before it.
  check(t, events, 400, 'replica that had the first sync', true);
  t.equal(b.get('k0'), 'w0');
  // Overwritten keys count once: the count per source follows what is replaced.
  check(t, await syncOneWay(a, new Model({ id: 'c' })), 20_100, 'fresh replica after 300 overwrites');
});

test('progress: a Model counts sources a peer lacks, or has in full, without a scan; one it has in part as it sends', async (t) => {
  const a = new Model({ id: 'a' });
  const b = new Model({ id: 'b' });
  for (let i = 0; i < 5000; i++) a.set(`a${i}`, i);
  await (await replicate(a, b)).close();
  for (let i = 0; i < 3000; i++) b.set(`b${i}`, i); // a lacks source b entirely
  for (let i = 0; i < 1000; i++) a.set(`a${i}`, -i); // and has source a in part
  const c = new Model({ id: 'c' });
  await (await replicate(b, c)).close(); // c has all of a and b up to here
  c.set('c', 1);
  for (let i = 0; i < 200; i++) a.set(`x${i}`, i);
  const events = await syncOneWay(b, a);
  t.equal(events[0]!.total, 3000, 'the first announcement is exact for the source the peer lacks: 3,000 of b');
  check(t, events, 3000, 'nothing of a goes back to a', false);
  const reverse = await syncOneWay(a, c);
  check(t, reverse, 1200, 'c had a in part (1,000 overwrites and 200 new keys are sent) and b in full', true);
  t.ok(reverse[0]!.total < 1200, `the first announcement (${reverse[0]!.total}) is before the scan found them`);
  t.equal(c.get('a1'), -1);
});

test('progress: a persisted Model with everything stored counts without a scan', async (t) => {
  const { persist } = await import('../../lib/persist.js');
  const a = new Model({ id: 'a' });
  const stored = await persist(a, new MemoryLevel());
  for (let i = 0; i < 3000; i++) a.set(`k${i}`, i);
  await stored.flush();
  check(t, await syncOneWay(a, new Model({ id: 'b' })), 3000, 'every update stored');
  for (let i = 0; i < 50; i++) a.set(`k${i}`, -1);
  // Not yet stored: the catch-up is what the disk holds, counted as it is sent.
  const events = await syncOneWay(a, new Model({ id: 'c' }));
  t.deepEqual(events.at(-1), { done: 3000, total: 3000 }, `some updates not yet stored: ${JSON.stringify(events.at(-1))}`);
  t.ok(events.every((p) => p.done <= p.total), 'done never passes the total');
  await stored.close();
});

test('progress: a Log counts entries', async (t) => {
  const a = new Log({ id: 'a' });
  for (let i = 0; i < 1200; i++) a.append({ n: i });
  check(t, await syncOneWay(a, new Log({ id: 'b' })), 1200, 'log');
});

test('progress: the CRDTs count dots (a removal travels as context, uncounted)', async (t) => {
  const set = new ORSet({ id: 'a' });
  for (let i = 0; i < 3000; i++) set.add(`e${i}`);
  for (let i = 0; i < 1000; i++) set.remove(`e${i}`);
  const copy = new ORSet({ id: 'b' });
  check(t, await syncOneWay(set, copy), 2000, 'ORSet');
  t.equal(copy.size, 2000);
  for (let i = 3000; i < 3050; i++) set.add(`e${i}`);
  check(t, await syncOneWay(set, copy), 50, 'ORSet, second sync');

  const gset = new GSet({ id: 'a' });
  for (let i = 0; i < 700; i++) gset.add(i);
  check(t, await syncOneWay(gset, new GSet({ id: 'b' })), 700, 'GSet');

  const counter = new GCounter({ id: 'a' });
  counter.increment(5);
  check(t, await syncOneWay(counter, new GCounter({ id: 'b' })), 1, 'GCounter');

  const register = new MVRegister({ id: 'a' });
  register.set('x');
  check(t, await syncOneWay(register, new MVRegister({ id: 'b' })), 1, 'MVRegister');
});

test('progress: a Seq counts elements', async (t) => {
  const a = new Seq({ name: 'text' });
  const text = 'tendril '.repeat(4000);
  for (let i = 0; i < text.length; i += 100) a.insert(i, text.slice(i, i + 100));
  const b = new Seq({ name: 'text' });
  check(t, await syncOneWay(a, b), text.length, 'fresh Seq');
  a.insert(0, 'hello ');
  a.delete(10, 5);
  check(t, await syncOneWay(a, b), 6, 'second sync: the insert; the deletion is not an element');
  t.equal(b.toString(), a.toString());
});

test('progress: a MerkleStore counts records, announced batch by batch as its walk finds them', async (t) => {
  for (const reconcile of ['merkle', 'rateless'] as const) {
    const a = new MerkleStore({ db: new MemoryLevel(), id: 'a', depth: 8, reconcile });
    const b = new MerkleStore({ db: new MemoryLevel(), id: 'b', depth: 8, reconcile });
    for (let i = 0; i < 3000; i++) await a.put(`k${i}`, i);
    let events = await syncOneWay(a, b);
    t.deepEqual(events.at(-1), { done: 3000, total: 3000 }, `${reconcile}: all 3,000 records into an empty store, ${events.length} progress events`);
    t.ok(events.every((p, i) => p.done <= p.total && (i === 0 || p.total >= events[i - 1]!.total)), `${reconcile}: the total grows with the walk, done never passes it`);
    for (let i = 0; i < 10; i++) await a.put(`k${i}`, -i);
    events = await syncOneWay(a, b);
    const last = events.at(-1)!;
    t.equal(last.done, last.total, `${reconcile}: after 10 changes, the records of the differing buckets only: ${last.total}`);
    t.ok(last.total >= 10 && last.total < 3000, `${reconcile}: between the 10 changed and the 3,000 held`);
    await Promise.all([a.close(), b.close()]);
  }
});

test('progress: a Doc sums its channels, and a two-way sync counts each way', async (t) => {
  const one = new Doc({ name: 'd' });
  const two = new Doc({ name: 'd' });
  const model = one.get('m', Model);
  for (let i = 0; i < 2000; i++) model.set(`k${i}`, i);
  one.get('s', Seq).insert(0, 'hello');
  two.get('m', Model).set('x', 1);
  two.get('s', Seq);
  const a = one.createStream();
  const b = two.createStream();
  const seen: { a: Counts[]; b: Counts[] } = { a: [], b: [] };
  a.on('progress', (p: Counts) => seen.a.push(p));
  b.on('progress', (p: Counts) => seen.b.push(p));
  const synced = Promise.all([new Promise((r) => a.once('synced', r)), new Promise((r) => b.once('synced', r))]);
  a.pipe(b).pipe(a);
  await synced;
  t.deepEqual(seen.b.at(-1), { done: 2005, total: 2005 }, 'the Doc that was empty received 2,000 updates and 5 elements');
  t.deepEqual(seen.a.at(-1), { done: 1, total: 1 }, 'the other received 1 update');
  a.destroy();
  b.destroy();
});

test('progress: live replication keeps the total of the initial exchange', async (t) => {
  const a = new Model({ id: 'a' });
  for (let i = 0; i < 100; i++) a.set(`k${i}`, i);
  const b = new Model({ id: 'b' });
  const events: Counts[] = [];
  const replication = await replicate(a, b);
  // replicate() made the streams: record on a fresh pair instead, so the events are ours from the start.
  await replication.close();
  const sa = a.createStream();
  const sb = b.createStream();
  sb.on('progress', (p: Counts) => events.push(p));
  const synced = new Promise((r) => sb.once('synced', r));
  a.set('late', 1);
  sa.pipe(sb).pipe(sa);
  await synced;
  t.deepEqual(events.at(-1), { done: 1, total: 1 }, 'only the update written since the last sync');
  sa.destroy();
  sb.destroy();
});

test('progress: the catch-up frame is checked like any other', async (t) => {
  const cases: [string, Buffer[], string][] = [
    ['before the handshake', [wireFrame(Buffer.concat([Buffer.from([FrameType.catchUp]), encode(uint, 5)]))], 'ERR_HANDSHAKE'],
    ['a truncated count', [handshakeFrame(new Model({ id: 'x' }).descriptor), wireFrame(Buffer.from([FrameType.catchUp, 0x80]))], 'ERR_DECODE'],
    ['trailing bytes', [handshakeFrame(new Model({ id: 'x' }).descriptor), wireFrame(Buffer.from([FrameType.catchUp, 1, 2]))], 'ERR_DECODE'],
    ['a count past 2^53', [handshakeFrame(new Model({ id: 'x' }).descriptor), wireFrame(Buffer.from([FrameType.catchUp, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))], 'ERR_DECODE'],
  ];
  for (const [what, frames, code] of cases) {
    const model = new Model({ id: 'x' });
    const stream = model.createStream({ failGraceMs: 10 });
    const error = new Promise<{ code?: string }>((resolve) => stream.once('error', resolve));
    stream.resume();
    for (const frame of frames) stream.write(frame);
    t.equal((await error).code, code, what);
    t.equal(model.size, 0, `${what}: the replica is untouched`);
  }
});
