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

test('syncReader: on LevelDB, a prefixed key\'s bytes at once, with no round trip; none where the database cannot read synchronously', async (t) => {
  const { syncReader } = await import('../../lib/storage/turn-batching.js');
  const { ForwardingLevel } = await import('../../lib/storage/forwarding-level.js');
  const dir = mkdtempSync(join(tmpdir(), 'tendril-turn-sync-'));
  try {
    const leveldb = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    const { db, calls } = counted(batchByTurn(leveldb));
    t.equal(syncReader(db), undefined, 'none before the database is open');
    await db.open();
    const read = syncReader(db)!;
    t.equal(typeof read, 'function', 'classic-level reads synchronously');
    const sub = db.sublevel<Uint8Array, Uint8Array>('s', { keyEncoding: 'view', valueEncoding: 'view' });
    const key = sub.prefixKey(new Uint8Array([1, 2]), 'view') as Uint8Array;
    t.equal(read(key), undefined, 'a key with no value: undefined');
    const pending = sub.put(new Uint8Array([1, 2]), new Uint8Array([7]));
    t.equal(read(key), undefined, 'a write not yet written is not seen');
    await pending;
    t.deepEqual(new Uint8Array(read(key)!), new Uint8Array([7]), 'once written, its bytes');
    t.equal(calls.getMany, 0, 'no getMany went to the database');
    const forwarding = batchByTurn(new ForwardingLevel(new MemoryLevel()) as never) as InstanceType<typeof ForwardingLevel>;
    await forwarding.open();
    t.equal(syncReader(forwarding as never), undefined, 'a database that cannot read synchronously has none');
    await forwarding.close();
    t.equal(syncReader(leveldb.sublevel('x') as never), undefined, 'nor one not batched by turn');
    await db.close();
    t.equal(syncReader(db), undefined, 'nor a closed one');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('on LevelDB: a turn goes to the database\'s own chained batch (puts, deletes, raw bytes and encodings alike); a failed one fails its writers', async (t) => {
  const { rawWriter } = await import('../../lib/storage/turn-batching.js');
  const dir = mkdtempSync(join(tmpdir(), 'tendril-turn-'));
  try {
    const leveldb = new ClassicLevel<string, string>(dir);
    const level = leveldb as unknown as { _batch: (...args: unknown[]) => Promise<void>; _chainedBatch: () => { _write: (options: object) => Promise<void> } };
    const chainedBatch = level._chainedBatch.bind(leveldb);
    const arrayBatch = level._batch.bind(leveldb);
    let chained = 0;
    let arrays = 0;
    let fail = false;
    level._batch = (...args) => (arrays++, arrayBatch(...args));
    level._chainedBatch = () => {
      chained++;
      const batch = chainedBatch();
      if (fail) batch._write = () => Promise.reject(new Error('disk full'));
      return batch;
    };
    const db = batchByTurn(leveldb);
    await db.open();
    await db.put('gone', 'soon');
    const bytes = db.sublevel<Uint8Array, Uint8Array>('b', { keyEncoding: 'view', valueEncoding: 'view' });
    const json = db.sublevel<string, { n: number }>('j', { valueEncoding: 'json' });
    const raw = await new Promise<unknown>((resolve) => {
      rawWriter(db)!([{ type: 'put', key: bytes.prefixKey(new Uint8Array([1]), 'view') as Uint8Array, value: new Uint8Array([2, 3]) }], resolve);
      void db.del('gone');
      void json.put('x', { n: 1 });
      void db.batch([{ type: 'put', key: 'a', value: 'A' }, { type: 'del', key: 'nothing' }]);
    });
    t.equal(raw, undefined, 'the raw write was called back with no error');
    t.deepEqual([...(await bytes.get(new Uint8Array([1])))!], [2, 3], 'raw bytes read back');
    t.deepEqual([await db.get('gone'), await json.get('x'), await db.get('a')], [undefined, { n: 1 }, 'A'], 'the delete, the json value and the batch took');
    t.equal(chained, 2, 'each turn of writes was one chained batch');
    t.equal(arrays, 0, 'and no array batch');
    fail = true;
    const results = await Promise.allSettled([db.put('b', 'B'), db.put('c', 'C')]);
    t.deepEqual(results.map((r) => r.status), ['rejected', 'rejected'], 'both writes of a failed chained batch fail');
    fail = false;
    await db.put('d', 'D');
    t.deepEqual([await db.get('b'), await db.get('d')], [undefined, 'D'], 'nothing of it was stored; the next turn writes');
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one batch in flight at a time: writes of later turns wait for it and go together as the next; close writes them first', async (t) => {
  const raw = new MemoryLevel<string, string>();
  const level = raw as unknown as { _batch: (...args: unknown[]) => Promise<void> };
  const batch = level._batch.bind(raw);
  const sizes: number[] = [];
  const held: Array<() => void> = [];
  level._batch = (operations, ...rest) => {
    sizes.push((operations as unknown[]).length);
    return new Promise<void>((resolve) => held.push(resolve)).then(() => batch(operations, ...rest));
  };
  const db = batchByTurn(raw);
  await db.open();
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  const settled: string[] = [];
  const put = (key: string) => db.put(key, key).then(() => void settled.push(key));
  const first = put('a');
  await turn();
  const later = [put('b'), put('c')];
  await turn();
  later.push(put('d'));
  await turn();
  await turn();
  t.deepEqual(sizes, [1], 'while the first batch is in flight, no other starts');
  held.shift()!();
  await first;
  await turn();
  t.deepEqual(sizes, [1, 3], 'the three writes of the next turns went as one batch');
  t.deepEqual(settled, ['a'], 'and none settled before it is written');
  held.shift()!();
  await Promise.all(later);
  t.deepEqual(settled, ['a', 'b', 'c', 'd'], 'then all of them settled');
  const last = put('e');
  await turn();
  void put('f');
  const closing = db.close();
  await turn();
  held.shift()!();
  await turn();
  held.shift()!();
  await closing;
  await last;
  t.deepEqual(sizes, [1, 3, 1, 1], 'close waited for the batch in flight, then wrote what waited behind it');
  t.deepEqual(settled, ['a', 'b', 'c', 'd', 'e', 'f'], 'every write settled before close');
});
