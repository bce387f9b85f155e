import test from 'tape';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { MemoryLevel } from 'memory-level';
import { batchByTurn } from '../../lib/storage/turn-batching.js';

/** Counts the round trips that reach the wrapped database's own private methods. */
function counted<D extends object>(db: D): { db: D; calls: { getMany: number; batch: number } } {
  const calls = { getMany: 0, batch: 0 };
  const level = db as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const getMany = level._getMany.bind(db);
  const batch = level._batch.bind(db);
  level._getMany = (...args) => (calls.getMany++, getMany(...args));
  level._batch = (...args) => (calls.batch++, batch(...args));
  return { db, calls };
}

test('the reads and writes of one turn, across sublevels and encodings, go in one round trip each', async (t) => {
  const { db: raw, calls } = counted(new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' }));
  const db = batchByTurn(raw);
  await db.open();
  const a = db.sublevel<string, string>('a', { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  const b = db.sublevel<string, string>('b', { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await Promise.all([a.put('x', '1'), b.put('x', '2'), a.batch([{ type: 'put', key: 'y', value: '3' }, { type: 'del', key: 'gone' }]), b.del('nothing')]);
  t.equal(calls.batch, 1, 'four writes of one turn: one batch');
  const [ax, bx, many, none] = await Promise.all([a.get('x'), b.get('x'), a.getMany(['y', 'x', 'z']), b.get('z')]);
  t.deepEqual([ax, bx, many, none], ['1', '2', ['3', '1', undefined], undefined], 'each caller gets its own answers');
  t.equal(calls.getMany, 1, 'four reads of one turn: one getMany');
  await db.close();
});

test('a failed batch fails every write that was in it; later turns carry on', async (t) => {
  const raw = new MemoryLevel<string, string>();
  const level = raw as unknown as { _batch: (...args: unknown[]) => Promise<void> };
  const batch = level._batch.bind(raw);
  let fail = true;
  level._batch = (...args) => (fail ? Promise.reject(new Error('disk full')) : batch(...args));
  const db = batchByTurn(raw);
  await db.open();
  const results = await Promise.allSettled([db.put('a', '1'), db.put('b', '2')]);
  t.deepEqual(results.map((r) => r.status), ['rejected', 'rejected'], 'both writes of the failed batch fail');
  fail = false;
  await db.put('c', '3');
  t.equal(await db.get('c'), '3', 'the next turn writes');
  t.equal(await db.get('a'), undefined, 'nothing of the failed batch was stored');
  await db.close();
});

test('on LevelDB: writes of one turn (one of them with sync) are read back, and close waits for a pending turn', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tendril-turn-'));
  try {
    const db = batchByTurn(new ClassicLevel<string, string>(dir));
    await db.open();
    const writes = Array.from({ length: 200 }, (_, i) => db.put(`k${i}`, `v${i}`, i === 7 ? { sync: true } : {}));
    await Promise.all(writes);
    const values = await Promise.all(Array.from({ length: 200 }, (_, i) => db.get(`k${i}`)));
    t.ok(values.every((v, i) => v === `v${i}`), 'all 200 read back');
    void db.put('last', 'x');
    await db.close();
    const again = new ClassicLevel<string, string>(dir);
    await again.open();
    t.equal(await again.get('last'), 'x', 'a write issued just before close was stored');
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rawWriter: prefixed bytes into the turn\'s batch, a callback once written or failed; a callback that throws stops no other', async (t) => {
  const { rawWriter } = await import('../../lib/storage/turn-batching.js');
  const raw = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' });
  t.equal(rawWriter(raw), undefined, 'a database not batched by turn has none');
  const level = raw as unknown as { _batch: (...args: unknown[]) => Promise<void> };
  const batch = level._batch.bind(raw);
  let fail = false;
  let batches = 0;
  level._batch = (...args) => (batches++, fail ? Promise.reject(new Error('disk full')) : batch(...args));
  const db = batchByTurn(raw);
  t.equal(rawWriter(db), undefined, 'none before the database is open');
  await db.open();
  const write = rawWriter(db)!;
  const sub = db.sublevel<Uint8Array, Uint8Array>('s', { keyEncoding: 'view', valueEncoding: 'view' });
  const key = sub.prefixKey(new Uint8Array([1, 2]), 'view') as Uint8Array;
  const written = () => new Promise<unknown>((resolve) => write([{ type: 'put', key, value: new Uint8Array([7]) }], resolve));
  const thrown: unknown[] = [];
  const onUncaught = (err: unknown) => thrown.push(err);
  process.on('uncaughtException', onUncaught);
  const outcomes = await Promise.all([
    written(),
    new Promise<unknown>((resolve) =>
      write([{ type: 'put', key: sub.prefixKey(new Uint8Array([3]), 'view') as Uint8Array, value: new Uint8Array([9]) }], () => {
        resolve('called');
        throw new Error('a callback that throws');
      }),
    ),
    db.put(new Uint8Array([5]), new Uint8Array([5])),
  ]);
  await new Promise((resolve) => setImmediate(resolve));
  process.off('uncaughtException', onUncaught);
  t.equal(outcomes[0], undefined, 'called back with no error once written');
  t.equal(outcomes[1], 'called', 'the throwing callback was called');
  t.equal(thrown.length, 1, 'its error is reported on its own');
  t.equal(batches, 1, 'raw writes and a put of one turn: one batch');
  t.deepEqual(await sub.get(new Uint8Array([1, 2])), new Uint8Array([7]), 'read back through the sublevel');
  fail = true;
  const err = await new Promise<unknown>((resolve) => write([{ type: 'del', key }], resolve));
  t.equal((err as Error)?.message, 'disk full', 'a failed batch calls back with its error');
  fail = false;
  t.deepEqual(await sub.get(new Uint8Array([1, 2])), new Uint8Array([7]), 'and wrote nothing');
  await db.close();
});
