import test from 'tape';
import { MemoryLevel } from 'memory-level';
import { ForwardingLevel } from '../../lib/storage/forwarding-level.js';
import { batchByTurn } from '../../lib/storage/turn-batching.js';
import { CountingLevel } from '../helpers/counting-level.js';

test('a forwarding database: the same keys and values land in the inner one, read back through either', async (t) => {
  const inner = new MemoryLevel<string, string>();
  await inner.open();
  const outer = new ForwardingLevel(inner);
  await outer.open();
  const a = outer.sublevel<string, string>('a', { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await a.batch([{ type: 'put', key: 'x', value: '1' }, { type: 'put', key: 'y', value: '2' }, { type: 'put', key: 'z', value: '3' }]);
  await a.put('w', '0');
  await a.del('y');
  t.equal(await inner.sublevel<string, string>('a', {}).get('x'), '1', 'written through: where a sublevel of the inner database reads it');
  t.deepEqual(await a.getMany(['x', 'y', 'w']), ['1', undefined, '0'], 'getMany through it');
  t.deepEqual(await a.keys().all(), ['w', 'x', 'z'], 'keys in order');
  t.deepEqual(await a.iterator({ gt: 'w', lte: 'z' }).all({}), [['x', '1'], ['z', '3']], 'ranges');
  t.deepEqual(await a.values({ reverse: true, limit: 2 }).all({}), ['3', '1'], 'reverse with a limit');
  const it = a.iterator();
  it.seek('x');
  t.deepEqual(await it.nextv(5), [['x', '1'], ['z', '3']], 'seek and nextv');
  await it.close();
  await a.clear({ lt: 'z' });
  t.deepEqual(await inner.sublevel<string, string>('a', {}).keys().all(), ['z'], 'clear of a range reaches the inner database');
  await outer.close();
  t.equal(inner.status, 'open', 'closing it leaves the inner database open');
  await inner.close();
});

test('turn batching on a forwarding database: one batch for the writes of a turn, the inner object untouched', async (t) => {
  const inner = new CountingLevel({ keyEncoding: 'view', valueEncoding: 'view' });
  await inner.open();
  const ownKeys = Reflect.ownKeys(inner);
  const outer = batchByTurn(new ForwardingLevel(inner));
  await outer.open();
  const s = outer.sublevel<string, string>('s', { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await Promise.all(Array.from({ length: 50 }, (_, i) => s.put(`k${i}`, String(i))));
  t.equal(inner.batches, 1, '50 writes of one turn: one batch reaches the inner database');
  t.equal(await s.get('k7'), '7', 'written');
  t.deepEqual(Reflect.ownKeys(inner), ownKeys, 'no property added to the inner database');
  t.equal((inner as unknown as { _batch: unknown })._batch, CountingLevel.prototype._batch, 'its methods are its own');
  await outer.close();
  await inner.close();
});
