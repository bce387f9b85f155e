// Writes made in the same tick as `replication.close()` are delivered (defect 10).
import test from 'tape';
import { Model, Seq, replicate } from '../../lib/index.js';

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
