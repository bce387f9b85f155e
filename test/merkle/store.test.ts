import test from 'tape';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryLevel } from 'memory-level';
import { ClassicLevel } from 'classic-level';
import { MerkleStore, replicate, type ChangeEvent } from '../../lib/index.js';
import { uint } from '../../lib/codec/index.js';
import { decodeState } from '../../lib/codec/index.js';
import { type MerkleMessage, merkleMessageCodec } from '../../lib/merkle/messages.js';
import { FrameType } from '../../lib/stream/frames.js';

// A deterministic clock that stays near real time (the skew guard compares it with Date.now-stamped stores).
let clockMs = Date.now();
const now = () => clockMs++;
const memoryStore = (id: string, options: object = {}) => new MerkleStore<unknown>({ db: new MemoryLevel(), id, depth: 6, clock: { now }, ...options });

async function sync(a: MerkleStore<any>, b: MerkleStore<any>): Promise<void> {
  const replication = await replicate(a, b, { live: false });
  await replication.done;
}

test('concurrent writes become siblings, identical on both replicas', async (t) => {
  const [a, b] = [memoryStore('a'), memoryStore('b')];
  await a.put('k', 'from a');
  await b.put('k', 'from b');
  await sync(a, b);
  const [va, vb] = [await a.get('k'), await b.get('k')];
  t.deepEqual(va.values, ['from a', 'from b'], 'both writes kept, ordered by writer');
  t.deepEqual(vb.values, va.values, 'same siblings on b');
  t.equal(va.context, vb.context, 'same context');
  t.ok(va.conflict, 'flagged as a conflict');
  t.equal(va.value, undefined, 'no single value without a resolver');
  t.equal(a.rootHash, b.rootHash, 'same root');
  await Promise.all([a.close(), b.close()]);
});

test('a write with a context replaces exactly the siblings that context saw', async (t) => {
  const [a, b, c] = [memoryStore('a'), memoryStore('b'), memoryStore('c')];
  await a.put('k', 'a1');
  await b.put('k', 'b1');
  await sync(a, b);
  const seen = await a.get('k');
  t.deepEqual(seen.values, ['a1', 'b1'], 'a reads two siblings');
  await c.put('k', 'c1'); // concurrent with everything a has seen
  await sync(a, c);
  t.deepEqual((await a.get('k')).values, ['a1', 'b1', 'c1'], 'a now holds three');
  await a.put('k', 'merged', { context: seen.context });
  t.deepEqual((await a.get('k')).values, ['merged', 'c1'], 'a1 and b1 replaced, c1 (unseen) kept');
  await sync(a, b);
  await sync(b, c);
  for (const store of [a, b, c]) t.deepEqual((await store.get('k')).values, ['merged', 'c1'], `${store.id} agrees`);
  const all = await c.get('k');
  await c.put('k', 'final', { context: all.context });
  await sync(c, a);
  await sync(a, b);
  for (const store of [a, b, c]) t.deepEqual((await store.get('k')).values, ['final'], `${store.id}: one value once a write saw both`);
  t.ok(a.rootHash === b.rootHash && b.rootHash === c.rootHash, 'roots agree');
  await Promise.all([a.close(), b.close(), c.close()]);
});

test('putRecord and delRecord resolve with the record as stored, the bytes getRecord reads', async (t) => {
  const a = memoryStore('a');
  const [first, second] = await Promise.all([a.putRecord('k', 'one'), a.putRecord('j', 'two')]);
  t.deepEqual(Buffer.from(first), Buffer.from((await a.getRecord('k'))!), 'the put record is what was stored');
  t.deepEqual(Buffer.from(second), Buffer.from((await a.getRecord('j'))!), 'each write of a group gets its own key');
  const deleted = await a.delRecord('k');
  t.deepEqual(Buffer.from(deleted), Buffer.from((await a.getRecord('k'))!), 'the delete record (a tombstone) is what was stored');
  t.deepEqual((await a.get('k')).values, [], 'and reads as deleted');
  const refused = await a.putRecord('k', Infinity as unknown).then(() => undefined, (err: { code?: string }) => err.code);
  t.equal(refused, 'ERR_INVALID_ARGUMENT', 'the value is checked as put checks it');
  await a.close();
});

test('a put without a context replaces every version this replica holds', async (t) => {
  const [a, b] = [memoryStore('a'), memoryStore('b')];
  await a.put('k', 1);
  await b.put('k', 2);
  await sync(a, b);
  await a.put('k', 3);
  t.deepEqual((await a.get('k')).values, [3]);
  await sync(a, b);
  t.deepEqual((await b.get('k')).values, [3], 'b takes it: a had seen b\'s write');
  await Promise.all([a.close(), b.close()]);
});

test('delete versus a concurrent put: the put survives, the deleted value never returns', async (t) => {
  const [a, b, stale] = [memoryStore('a'), memoryStore('b'), memoryStore('stale')];
  await a.put('k', 'v0');
  await a.put('gone', 'old');
  await sync(a, b);
  await sync(a, stale); // stale holds v0 and 'old', then goes away
  await a.del('k');
  await b.put('k', 'v1'); // has not seen the delete
  await a.del('gone');
  await sync(a, b);
  t.deepEqual((await a.get('k')).values, ['v1'], 'a: the concurrent put survives');
  t.deepEqual((await b.get('k')).values, ['v1'], 'b: same');
  t.deepEqual((await b.get('gone')).values, [], 'the delete replicated');
  await sync(stale, b);
  t.deepEqual((await b.get('gone')).values, [], 'the stale copy does not resurrect it');
  t.deepEqual((await stale.get('gone')).values, [], 'and the stale replica learns the delete');
  t.deepEqual((await stale.get('k')).values, ['v1'], 'v0 is gone everywhere');
  const keys: string[] = [];
  for await (const entry of b.entries()) keys.push(entry.key);
  t.deepEqual(keys, ['k'], 'entries() skips deleted keys');
  t.equal(stale.rootHash, b.rootHash, 'roots agree');
  await Promise.all([a.close(), b.close(), stale.close()]);
});

test('resolvers: last writer wins, or a merge function', async (t) => {
  const lww = [memoryStore('a', { resolve: 'lww' }), memoryStore('b', { resolve: 'lww' })];
  await lww[0].put('k', 'older');
  await lww[1].put('k', 'newer');
  await sync(lww[0], lww[1]);
  const got = await lww[0].get('k');
  t.deepEqual(got.values, ['older', 'newer'], 'siblings are still kept');
  t.equal(got.value, 'newer', 'lww resolves to the later write');
  const sum = (siblings: { value: unknown }[]) => siblings.reduce((n: number, s) => n + (s.value as number), 0);
  const [x, y] = [memoryStore('x', { resolve: sum }), memoryStore('y', { resolve: sum })];
  await x.put('n', 2);
  await y.put('n', 5);
  await sync(x, y);
  t.equal((await y.get('n')).value, 7, 'a user merge function');
  await Promise.all([...lww, x, y].map((s) => s.close()));
});

test('events for local and remote changes and for new conflicts', async (t) => {
  const [a, b] = [memoryStore('a'), memoryStore('b')];
  const changes: ChangeEvent<unknown>[] = [];
  const conflicts: unknown[] = [];
  a.on('change', (e) => changes.push(e));
  a.on('conflict', (e) => conflicts.push(e));
  await a.put('k', 1);
  await b.put('k', 2);
  await b.put('other', 3);
  await sync(a, b);
  t.deepEqual(changes[0], { key: 'k', values: [1], local: true }, 'local change');
  t.deepEqual(changes.slice(1).sort((p, q) => p.key.localeCompare(q.key)), [
    { key: 'k', values: [1, 2], local: false },
    { key: 'other', values: [3], local: false },
  ], 'remote changes');
  t.deepEqual(conflicts, [{ key: 'k', values: [1, 2] }], 'one new conflict');
  await sync(a, b);
  t.equal(changes.length, 3, 'a second sync changes nothing');
  await Promise.all([a.close(), b.close()]);
});

test('bad arguments are coded errors', async (t) => {
  const a = memoryStore('a');
  await a.put('k', 1);
  await a.put('k', 2, { context: 'not a context!' }).then(
    () => t.fail('accepted'),
    (err) => t.equal(err.code, 'ERR_INVALID_ARGUMENT', 'a context not from get()'),
  );
  await a.put(42 as unknown as string, 1).then(
    () => t.fail('accepted'),
    (err) => t.equal(err.code, 'ERR_INVALID_ARGUMENT', 'a key that is not a string'),
  );
  t.throws(() => new MerkleStore({ db: new MemoryLevel(), depth: 40 }), /depth/, 'a depth out of range');
  t.deepEqual((await a.get('k')).values, [1], 'nothing written');
  await a.close();
});

test('reopen after close loads the saved tree; reopen after a crash loads it and replays the journal', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tendril-merkle-'));
  try {
    const path = join(dir, 'db');
    const first = new MerkleStore<unknown>({ path, depth: 10 });
    const other = memoryStore('other', { depth: 10 });
    for (let i = 0; i < 300; i++) await first.put(`key-${i}`, { i });
    for (let i = 0; i < 300; i += 3) await other.put(`key-${i}`, 'other');
    await sync(first, other);
    await first.del('key-1');
    const id = first.id;
    const root = first.rootHash;
    await first.close();

    const second = new MerkleStore<unknown>({ path, depth: 10 });
    await second.open();
    t.equal(second.openedFrom, 'snapshot', 'clean close: tree loaded');
    t.equal(second.id, id, 'the replica id persists');
    t.equal(second.rootHash, root, 'same root');
    t.deepEqual((await second.get('key-3')).values, [{ i: 3 }, 'other'], 'siblings persist');
    t.deepEqual((await second.get('key-1')).values, [], 'deletes persist');
    t.ok(await second.verifyTree(), 'tree agrees with the data');
    await second.put('key-new', 'after reopen');
    const rootAfter = second.rootHash;
    await second.db.close(); // no clean close: as if the process died

    const third = new MerkleStore<unknown>({ path, depth: 10 });
    await third.open();
    t.equal(third.openedFrom, 'journal', 'no clean close: stored tree loaded and the journal replayed, no rebuild');
    t.equal(third.replayedBatches, 1, 'the one write batch since the open was replayed');
    t.equal(third.rootHash, rootAfter, 'same root after the replay');
    t.ok(await third.verifyTree(), 'the replayed tree agrees with the data');
    t.deepEqual((await third.get('key-new')).values, ['after reopen']);
    await third.close();

    const deeper = new MerkleStore<unknown>({ path, depth: 12 });
    await deeper.open();
    t.equal(deeper.openedFrom, 'rebuild', 'another depth rebuilds instead of misreading the snapshot');
    t.ok(await deeper.verifyTree());
    await deeper.close();

    const given = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' });
    const borrowed = new MerkleStore<unknown>({ db: given, depth: 12 });
    t.deepEqual((await borrowed.get('key-new')).values, ['after reopen'], 'works on a database it was given');
    await borrowed.close();
    t.equal(given.status, 'open', 'and leaves that database open');
    await given.close();
    await other.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one-way replication: the reader takes, the writer keeps its own', async (t) => {
  const [a, b] = [memoryStore('a'), memoryStore('b')];
  await a.put('from-a', 1);
  await b.put('from-b', 2);
  // a only sends, b only receives.
  const link = await replicate(a, b, { live: false, readable: true, writable: false }, { live: false, readable: false, writable: true });
  await link.done;
  t.deepEqual((await b.get('from-a')).values, [1], 'b received a\'s write');
  t.deepEqual((await a.get('from-b')).values, [], 'a did not take b\'s');
  await Promise.all([a.close(), b.close()]);
});

test('a full sync over small frames: tree levels split over many messages', async (t) => {
  const [a, b] = [memoryStore('a', { depth: 12 }), memoryStore('b', { depth: 12 })];
  for (let i = 0; i < 3000; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => a.put(`key-${i + j}`, i + j)));
  for (let i = 0; i < 40; i++) await b.put(`key-${i * 50}`, 'b');
  const link = await replicate(a, b, { live: false, maxFrameBytes: 1024 });
  await link.done;
  t.equal(a.rootHash, b.rootHash, 'roots agree');
  t.deepEqual((await b.get('key-2999')).values, [2999]);
  t.deepEqual((await a.get('key-50')).values, [50, 'b'], 'siblings both ways');
  t.ok((await a.verifyTree()) && (await b.verifyTree()), 'trees agree with the data');
  await Promise.all([a.close(), b.close()]);
});

test('live writes go straight to connected peers, without a tree walk', async (t) => {
  const [a, b] = [memoryStore('a'), memoryStore('b')];
  await a.put('before', 0);
  const link = await replicate(a, b);
  // Tap what reaches b from now on and decode it.
  let wire = Buffer.alloc(0);
  const original = link.streams[1].write.bind(link.streams[1]) as (chunk: Buffer, ...rest: unknown[]) => boolean;
  (link.streams[1] as unknown as { write: typeof original }).write = (chunk, ...rest) => {
    wire = Buffer.concat([wire, chunk]);
    return original(chunk, ...rest);
  };
  const arrived = new Promise<void>((resolve) => b.once('change', () => resolve()));
  await a.put('live', 'now');
  await arrived;
  t.deepEqual((await b.get('live')).values, ['now'], 'arrived');
  const messages: MerkleMessage[] = [];
  for (let state = decodeState(wire); state.offset < state.end; ) {
    const length = uint.decode(state);
    const frame = wire.subarray(state.offset, state.offset + length);
    state.offset += length;
    if (frame[0] !== FrameType.data) continue;
    const body = decodeState(frame.subarray(1));
    for (let count = uint.decode(body); count > 0; count--) messages.push(merkleMessageCodec.decode(body));
  }
  t.deepEqual(messages.map((m) => m.type), ['entry'], 'one entry message, no tree messages');
  t.equal((messages[0] as { key: string }).key, 'live');
  await link.close();
  await Promise.all([a.close(), b.close()]);
});

test('store: a stored key handed in (putCheckedRecord, delRecord, merge) lands where the store would put it', async (t) => {
  const { dataKey } = await import('../../lib/merkle/stored-keys.js');
  const { encode, json } = await import('../../lib/codec/index.js');
  const { decodeRecord } = await import('../../lib/merkle/record.js');
  const a = new MerkleStore({ db: new MemoryLevel(), id: 'a' });
  const b = new MerkleStore({ db: new MemoryLevel(), id: 'a' });
  const c = new MerkleStore({ db: new MemoryLevel(), id: 'c' });
  await Promise.all([a.open(), b.open(), c.open()]);
  try {
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}-é`);
    for (const key of keys) {
      const value = encode(json, { key });
      const record = decodeRecord(await a.putCheckedRecord(key, value, {}, dataKey(key)));
      await b.merge(key, record, undefined);
      await c.merge(key, record, undefined, dataKey(key));
    }
    await a.delRecord(keys[0], {}, dataKey(keys[0]));
    const deleted = decodeRecord((await a.getRecord(keys[0]))!);
    await b.merge(keys[0], deleted, undefined);
    await c.merge(keys[0], deleted, undefined, dataKey(keys[0]));
    t.equal(c.rootHash, b.rootHash, 'merged with the stored key handed in: the same tree as without it');
    t.equal(a.rootHash, b.rootHash, 'written with it: the same tree too');
    t.deepEqual((await a.get(keys[1])).value, { key: keys[1] }, 'read back by key');
    t.deepEqual((await c.get(keys[1])).value, { key: keys[1] }, 'read back by key where merged');
    t.ok((await a.verifyTree()) && (await c.verifyTree()), 'the trees match the data');
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});

test('store: mergeEncoded holds exactly what merge holds, storing the bytes that came when the merge leaves that record', async (t) => {
  const { encode, json } = await import('../../lib/codec/index.js');
  const { decodeRecord, encodeRecord } = await import('../../lib/merkle/record.js');
  const { batchByTurn } = await import('../../lib/storage/turn-batching.js');
  const writers = [new MerkleStore({ db: new MemoryLevel(), id: 'a' }), new MerkleStore({ db: new MemoryLevel(), id: 'b' })];
  const plain = new MerkleStore({ db: new MemoryLevel(), id: 'p' });
  // On a turn-batched database, as a cluster node's stores are: its writes take the raw path.
  const encoded = new MerkleStore({ db: batchByTurn(new MemoryLevel({ keyEncoding: 'view', valueEncoding: 'view' })), id: 'e' });
  const stores = [...writers, plain, encoded];
  await Promise.all(stores.map((s) => s.open()));
  try {
    const keys = Array.from({ length: 30 }, (_, i) => `key-${i}`);
    for (let round = 0; round < 3; round++) {
      for (const [i, key] of keys.entries()) {
        // Both writers write some keys without seeing each other: siblings, so a merge may leave a record that did not come.
        const made = [];
        for (const writer of writers) if ((i + round) % (writers.indexOf(writer) + 2) !== 0) made.push(await writer.putCheckedRecord(key, encode(json, { key, round, by: writer.id })));
        if (i % 7 === 0) made.push(await writers[0].delRecord(key));
        for (const bytes of made) {
          const record = decodeRecord(bytes);
          await plain.merge(key, record, undefined);
          await encoded.mergeEncoded(key, decodeRecord(bytes), bytes);
        }
      }
    }
    t.equal(encoded.rootHash, plain.rootHash, 'the same tree');
    for (const key of keys) {
      const [p, e] = [await plain.getRecord(key), await encoded.getRecord(key)];
      t.ok(p !== undefined && e !== undefined && Buffer.compare(p, e) === 0, `${key}: the same bytes`);
      t.ok(Buffer.compare(e!, encodeRecord(decodeRecord(e!))) === 0, `${key}: bytes that re-encode as they are`);
    }
    t.ok(await encoded.verifyTree(), 'the tree matches the data');
    t.equal(await encoded.mergeEncoded(keys[0], decodeRecord((await plain.getRecord(keys[0]))!), (await plain.getRecord(keys[0]))!), undefined, 'settles with nothing');
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
});

test('store: on a turn-batched database, a write group whose batch fails fails its writes and merges; the queue carries on', async (t) => {
  const { encode, json } = await import('../../lib/codec/index.js');
  const { decodeRecord } = await import('../../lib/merkle/record.js');
  const { batchByTurn } = await import('../../lib/storage/turn-batching.js');
  const { RecordCache } = await import('../../lib/index.js');
  const raw = new MemoryLevel({ keyEncoding: 'view', valueEncoding: 'view' });
  const level = raw as unknown as { _batch: (...args: unknown[]) => Promise<void> };
  const batch = level._batch.bind(raw);
  let fail = false;
  level._batch = (...args) => (fail ? Promise.reject(new Error('disk full')) : batch(...args));
  const store = new MerkleStore({ db: batchByTurn(raw), id: 'a', recordCache: new RecordCache(1 << 20) });
  const other = new MerkleStore({ db: new MemoryLevel(), id: 'b' });
  await Promise.all([store.open(), other.open()]);
  try {
    await store.putCheckedRecord('k', encode(json, 1));
    const theirs = await other.putCheckedRecord('m', encode(json, 'm'));
    fail = true;
    const outcomes = await Promise.allSettled([store.putCheckedRecord('k', encode(json, 2)), store.mergeEncoded('m', decodeRecord(theirs), theirs), store.delRecord('k')]);
    t.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected', 'rejected'], 'every operation of the failed batch fails');
    fail = false;
    t.deepEqual((await store.get('k')).values, [1], 'the value before the failed writes is still there');
    t.equal(await store.getRecord('m'), undefined, 'the failed merge stored nothing');
    await store.mergeEncoded('m', decodeRecord(theirs), theirs);
    await store.putCheckedRecord('k', encode(json, 3));
    t.deepEqual((await store.get('k')).values, [3], 'later writes go through');
    t.deepEqual((await store.get('m')).values, ['m'], 'and merges');
    t.ok(await store.verifyTree(), 'the tree matches the data');
  } finally {
    await Promise.all([store.close(), other.close()]);
  }
});
