import test from 'tape';
import { MemoryLevel } from 'memory-level';
import { MerkleStore, RecordCache } from '../../lib/merkle/index.js';
import { decodeRecord } from '../../lib/merkle/record.js';
import { dataKey } from '../../lib/merkle/store.js';
import { testRandom } from '../helpers/seed.js';

// A clock that stands still, so the stores with and without the cache stamp the same writes alike (their logical counters advance together).
const T0 = Date.now();
const now = () => T0;

test('a store with a record cache answers exactly as one without, through interleaved writes, merges and reads', async (t) => {
  const random = testRandom('record cache');
  // A tiny budget, so records are evicted and read again all the time; two stores share it.
  const cache = new RecordCache(600);
  const cached = new MerkleStore<number>({ db: new MemoryLevel(), id: 'a', depth: 4, clock: { now }, cache });
  const neighbour = new MerkleStore<number>({ db: new MemoryLevel(), id: 'n', depth: 4, clock: { now }, cache });
  const plain = new MerkleStore<number>({ db: new MemoryLevel(), id: 'a', depth: 4, clock: { now } });
  const other = new MerkleStore<number>({ db: new MemoryLevel(), id: 'b', depth: 4, clock: { now } });
  await Promise.all([cached.open(), neighbour.open(), plain.open(), other.open()]);
  const data = cached.db.sublevel<Uint8Array, Uint8Array>('d', { keyEncoding: 'view', valueEncoding: 'view' });
  const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
  let mismatches = 0;
  for (let round = 0; round < 60; round++) {
    // A burst of operations in flight together: writes, merges of another replica's records, and reads.
    const ops: Array<Promise<unknown>> = [];
    for (let i = 0; i < 8; i++) {
      const key = keys[random.int(0, keys.length - 1)];
      const choice = random.int(0, 3);
      if (choice === 0) {
        const value = random.int(0, 1000);
        ops.push(cached.put(key, value), plain.put(key, value), neighbour.put(key, value));
      } else if (choice === 1) {
        await other.put(key, random.int(0, 1000));
        const record = decodeRecord((await other.getRecord(key))!);
        ops.push(cached.merge(key, record, undefined), plain.merge(key, record, undefined));
      } else {
        ops.push(cached.getRecord(key), cached.get(key));
      }
    }
    await Promise.all(ops);
    // Once the burst settled, what the store answers (from its cache where it has the key) is what its database holds.
    for (const key of keys) {
      const answered = await cached.getRecord(key);
      const stored = await data.get(dataKey(key));
      if (Buffer.compare(Buffer.from(answered ?? []), Buffer.from(stored ?? [])) !== 0) mismatches++;
    }
  }
  t.equal(mismatches, 0, 'after every burst, every answer is what the database holds');
  for (const key of keys) {
    const [a, b] = [await cached.get(key), await plain.get(key)];
    if (JSON.stringify(a.values) !== JSON.stringify(b.values) || a.context !== b.context) mismatches++;
  }
  t.equal(mismatches, 0, 'every key ends the same as on the store without a cache');
  t.equal(cached.rootHash, plain.rootHash, 'and the trees agree');
  t.ok(cache.bytes <= cache.maxBytes, `the cache stays within its budget (${cache.bytes} of ${cache.maxBytes} bytes)`);
  await cached.close();
  const left = cache.size;
  await neighbour.close();
  t.ok(left > 0 && cache.size === 0, 'a closed store takes its records out of the shared cache');
  await Promise.all([plain.close(), other.close()]);
});

test('a read that missed the cache and returns after a write committed does not put the old record back', async (t) => {
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' });
  // Reads see the database when they are issued but answer late, after the write below has committed.
  const level = db as unknown as { _get: (...args: unknown[]) => Promise<unknown> };
  const get = level._get.bind(db);
  let slow = false;
  level._get = (...args) => get(...args).then((value) => (slow ? new Promise((resolve) => setTimeout(() => resolve(value), 30)) : value));
  const cache = new RecordCache(1 << 20);
  const store = new MerkleStore<number>({ db, id: 'a', depth: 4, clock: { now }, cache });
  await store.open();
  await store.put('k', 1);
  // Take 'k' out of the cache (stores are numbered spaces), so the next read misses it.
  for (let space = 0; space < 100; space++) cache.dropSpace(String(space));
  slow = true;
  const late = store.getRecord('k');
  await store.put('k', 2);
  await late;
  slow = false;
  t.deepEqual((await store.get('k')).values, [2], 'the read after both answers the new value');
  await store.close();
});
