import test from 'tape';
import { MemoryLevel } from 'memory-level';
import { MerkleStore, RecordCache } from '../../lib/index.js';
import { EMPTY_RECORD, decodeRecord, encodeRecord } from '../../lib/merkle/record.js';
import { testRandom } from '../helpers/seed.js';

test('a record cache forgets the least recently used entries past its bytes, and keeps stores apart', (t) => {
  const cache = new RecordCache(2000);
  const [a, b] = [cache.newTag(), cache.newTag()];
  const entry = (bytes: number) => ({ bytes: new Uint8Array(bytes), record: EMPTY_RECORD, leaf: undefined });
  cache.set(a, 'k', entry(10));
  t.equal(cache.get(b, 'k'), undefined, "one store's key is not another's");
  t.equal(cache.get(a, 'k')?.bytes?.length, 10, 'found under its own tag');
  for (let i = 0; i < 20; i++) cache.set(b, `x${i}`, entry(100));
  t.ok(cache.usedBytes <= 2000, `within its bytes (${cache.usedBytes})`);
  t.equal(cache.get(b, 'x0'), undefined, 'the oldest went first');
  t.ok(cache.get(b, 'x19'), 'the newest stayed');
  cache.set(a, 'big', entry(5000));
  t.equal(cache.get(a, 'big'), undefined, 'an entry larger than the whole budget is not kept');
  cache.set(b, 'x19', entry(1));
  cache.delete(b, 'x19');
  t.equal(cache.get(b, 'x19'), undefined, 'deleted');
  t.throws(() => new RecordCache(-1), /whole number/, 'a negative budget is refused');
  t.end();
});

// Two stores sharing a cache against two without one, under the same random writes, deletes and merges.
test('stores sharing a record cache hold exactly what stores without one hold', async (t) => {
  const random = testRandom('record cache');
  const cache = new RecordCache(6000); // small: entries are evicted all the time
  const make = (id: string, recordCache?: RecordCache) => new MerkleStore<unknown>({ db: new MemoryLevel(), id, depth: 6, recordCache, clock: { now: () => 1_700_000_000_000 } });
  const cached = [make('a', cache), make('b', cache)];
  const plain = [make('a'), make('b')];
  await Promise.all([...cached, ...plain].map((s) => s.open())); // merge() is for open stores (sessions)
  const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
  for (let round = 0; round < 60; round++) {
    const ops: Array<() => [Promise<unknown>, Promise<unknown>]> = [];
    for (let n = random.int(1, 30); n > 0; n--) {
      const which = random.int(0, 1);
      const key = random.pick(keys);
      const kind = random.int(0, 9);
      const value = random.int(0, 1000);
      if (kind < 6) ops.push(() => [cached[which].put(key, value), plain[which].put(key, value)]);
      else if (kind < 8) ops.push(() => [cached[which].del(key), plain[which].del(key)]);
      else {
        // A record another replica made, merged in.
        const record = decodeRecord(encodeRecord({ context: [{ id: 'z', n: value + 1 }], siblings: [{ id: 'z', n: value + 1, ts: value, value: Buffer.from([0x01, 0x31]) }] }));
        ops.push(() => [cached[which].merge(key, record, undefined), plain[which].merge(key, record, undefined)]);
      }
    }
    // Issued in one turn, so they share groups as a busy store's writes do.
    await Promise.all(ops.flatMap((op) => op()));
  }
  for (const i of [0, 1]) {
    t.equal(cached[i].rootHash, plain[i].rootHash, `store ${i}: the same root`);
    let differ = 0;
    for (const key of keys) if (Buffer.compare((await cached[i].getRecord(key)) ?? Buffer.alloc(0), (await plain[i].getRecord(key)) ?? Buffer.alloc(0)) !== 0) differ++;
    t.equal(differ, 0, `store ${i}: every record the same`);
    t.ok(await cached[i].verifyTree(), `store ${i}: the tree matches the data`);
  }
  t.ok(cache.size > 0 && cache.usedBytes <= 6000, `the cache was used and kept its budget (${cache.size} entries, ${cache.usedBytes} bytes)`);
  await Promise.all([...cached, ...plain].map((s) => s.close()));
});

test('a key written again is not read back from the database; a failed batch leaves the store as it was', async (t) => {
  const db = new MemoryLevel();
  const store = new MerkleStore<unknown>({ db, id: 'a', depth: 4, recordCache: new RecordCache(1 << 20) });
  await store.open();
  let reads = 0;
  const getMany = db.getMany.bind(db);
  db.getMany = ((keys: unknown[], options: unknown) => {
    reads++;
    return getMany(keys as never, options as never);
  }) as typeof db.getMany;
  await store.put('k', 1);
  t.equal(reads, 1, 'the first write reads the old record');
  await store.put('k', 2);
  await store.put('k', 3);
  t.equal(reads, 1, 'the next writes of the key read nothing');
  let gets = 0;
  const get = db.get.bind(db);
  db.get = ((key: unknown, options: unknown) => {
    gets++;
    return get(key as never, options as never);
  }) as typeof db.get;
  t.deepEqual((await store.get('k')).values, [3], 'a read sees the last write');
  t.ok(await store.getRecord('k'), 'and its record');
  t.equal(gets, 0, 'both answered from the cache');
  t.equal(await store.getRecord('other'), undefined, 'a key never written is read from the database');
  t.equal(gets, 1, 'once');
  await store.getRecord('other');
  t.equal(gets, 2, 'and again: a read does not fill the cache (it could race a write)');
  const batch = db.batch.bind(db);
  db.batch = (() => Promise.reject(new Error('disk full'))) as unknown as typeof db.batch;
  await store.put('k', 4).then(
    () => t.fail('a write whose batch fails must fail'),
    (err: Error) => t.equal(err.message, 'disk full', 'the write fails with the batch'),
  );
  db.batch = batch;
  const after = await store.get('k');
  t.deepEqual(after.values, [3], 'the value before the failed write is still there');
  await store.put('k', 5);
  t.equal(decodeRecord((await store.getRecord('k'))!).context[0].n, 4, 'the next write counts on from the stored record, not the failed one');
  t.ok(await store.verifyTree(), 'the tree matches the data');
  await store.close();
});
