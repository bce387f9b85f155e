// Writes made in the same tick as `replication.close()` are delivered (defect 10).
import test from 'tape';
import { Model, ORSet, Seq, type Undelivered, replicate } from '../../lib/index.js';
import type { Replica } from '../../lib/session/replica.js';
import { until } from '../helpers/compliance.js';

test('writes made in the same tick as close() reach the peer', async (t) => {
  const [a, b] = [new Model({ id: 'a' }), new Model({ id: 'b' })];
  const replication = await replicate(a, b);
  a.set('count', 1);
  b.set('other', 2);
  a.delete('count');
  a.set('last', 'word');
  await replication.close();
  t.equal(replication.error, undefined, 'closed without error');
  t.deepEqual(b.toJSON(), { last: 'word', other: 2 }, 'b has every write a made before the close');
  t.deepEqual(a.toJSON(), { last: 'word', other: 2 }, 'and a has b\'s');
});

test('Seq: an edit in the same tick as close() reaches the peer', async (t) => {
  const [a, b] = [new Seq({ clientId: 1 }), new Seq({ clientId: 2 })];
  const replication = await replicate(a, b);
  a.insert(0, 'hello');
  b.push(' world');
  await replication.close();
  t.equal(a.toString(), b.toString(), `both read ${JSON.stringify(a.toString())}`);
  t.equal(b.toString().length, 11, 'with both edits');
});

test('a burst of writes then close() delivers all of them', async (t) => {
  const [a, b] = [new Model({ id: 'a' }), new Model({ id: 'b' })];
  const replication = await replicate(a, b, { maxFrameBytes: 4096 });
  for (let i = 0; i < 2000; i++) a.set(`k${i}`, i);
  await replication.close();
  t.equal(b.size, 2000, 'all 2,000 arrived');
});

// A write accepted before a stream is cut (not closed gracefully) is either
// delivered or reported: the cut stream emits 'undelivered' (on itself and
// on its replica) naming the peer, and the write, which the replica still
// holds, reaches that peer on the next connection.
interface CutCase<R extends Replica> {
  name: string;
  create(id: string): R;
  write(replica: R, i: number): void;
  has(replica: R, i: number): boolean;
}

const cutCases: CutCase<any>[] = [
  { name: 'Model', create: (id) => new Model({ id }), write: (m: Model, i) => m.set(`k${i}`, i), has: (m: Model, i) => m.get(`k${i}`) === i },
  { name: 'ORSet', create: (id) => new ORSet({ id }), write: (s: ORSet, i) => void s.add(`e${i}`), has: (s: ORSet, i) => s.has(`e${i}`) },
  { name: 'Seq', create: (id) => new Seq({ id }), write: (s: Seq, i) => s.insert(s.length, `<${i}>`), has: (s: Seq, i) => s.toString().includes(`<${i}>`) },
];

for (const c of cutCases) {
  test(`${c.name}: a write made just before its stream is destroyed is reported undelivered, then delivered on the next sync`, async (t) => {
    const [a, b] = [c.create('a'), c.create('b')];
    const [sa, sb] = [a.createStream(), b.createStream()];
    sa.on('error', () => {});
    sb.on('error', () => {});
    sa.pipe(sb).pipe(sa);
    await until(() => sa.synced && sb.synced);
    const heard: { stream?: Undelivered; replica?: Undelivered } = {};
    sa.once('undelivered', (report: Undelivered) => (heard.stream = report));
    a.once('undelivered', (report: Undelivered) => (heard.replica = report));
    c.write(a, 1); // accepted, queued for b, and then the connection is cut in the same tick
    sa.destroy();
    await new Promise((resolve) => sa.once('close', resolve));
    t.ok(heard.stream && heard.stream.peer === 'b' && heard.stream.items >= 1, `the stream reports it: ${JSON.stringify(heard.stream)}`);
    t.deepEqual(heard.replica, heard.stream, 'and so does the replica');
    t.equal(sa.undelivered, heard.stream, 'and it stays readable on the stream');
    t.notOk(c.has(b, 1), 'b did not get it over the cut connection');
    t.ok(c.has(a, 1), 'a still holds it');
    const again = await replicate(a, b);
    t.ok(c.has(b, 1), 'the next sync delivers it');
    await again.close();
  });

  test(`${c.name}: close() on a replica whose peer stopped reading reports what it could not hand over, before it resolves`, async (t) => {
    const [a, b] = [c.create('a'), c.create('b')];
    const [sa, sb] = [a.createStream(), b.createStream()];
    sb.on('error', () => {});
    sa.pipe(sb).pipe(sa);
    await until(() => sa.synced && sb.synced);
    sa.unpipe(sb); // b stops reading: what a sends from now on stays in a's buffers
    const reports: Undelivered[] = [];
    a.on('undelivered', (report: Undelivered) => reports.push(report));
    for (let i = 0; i < 50; i++) c.write(a, i);
    await a.close(50);
    t.equal(reports.length, 1, 'one report, heard before close() resolved');
    t.ok(reports[0]?.peer === 'b' && reports[0].items + reports[0].bytes > 0, `it names b and what was owed: ${JSON.stringify(reports[0])}`);
    t.notOk(c.has(b, 49), 'b never got the last write');
    t.ok(c.has(a, 49), 'a holds it, for its next connection');
  });
}

test('a graceful close reports nothing undelivered', async (t) => {
  const [a, b] = [new Model({ id: 'a' }), new Model({ id: 'b' })];
  const replication = await replicate(a, b);
  let reports = 0;
  a.on('undelivered', () => reports++);
  b.on('undelivered', () => reports++);
  for (let i = 0; i < 100; i++) a.set(`k${i}`, i);
  await replication.close();
  t.equal(b.size, 100, 'everything arrived');
  t.equal(reports, 0, 'and nothing was reported');
});
