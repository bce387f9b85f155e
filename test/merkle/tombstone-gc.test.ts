import test from 'tape';
import { MemoryLevel } from 'memory-level';
import { MerkleStore, replicate } from '../../lib/index.js';

// Fake time, started at real time: the skew guard compares timestamps with Date.now.
// The grace period is long in real time, so the stores' own sweep timers never run during a test.
const GRACE = 40_000;
let clockMs = Date.now();
const now = () => clockMs;
const store = (id: string, options: object = {}) => new MerkleStore<unknown>({ db: new MemoryLevel(), id, depth: 6, clock: { now }, tombstoneGrace: GRACE, ...options });

async function sync(a: MerkleStore<any>, b: MerkleStore<any>): Promise<void> {
  await (await replicate(a, b, { live: false })).done;
}

test('tombstone gc: a delete is dropped only past the grace period, and a replica that missed it does not bring the value back', async (t) => {
  clockMs = Date.now();
  const [a, b, c] = [store('a'), store('b'), store('c')];
  await a.put('k', 'x');
  await sync(a, b);
  await sync(a, c);
  await a.del('k'); // c is away and misses the delete
  await sync(a, b);

  t.equal(await a.collectTombstones(), 0, 'at once: nothing collected');
  clockMs += GRACE / 2;
  t.equal(await a.collectTombstones(), 0, 'half the grace later: nothing collected');
  t.ok(await a.getRecord('k'), 'the delete record is still there');

  // c comes back within the grace period: the delete reaches it, the old value does not come back.
  await sync(c, a);
  t.deepEqual((await c.get('k')).values, [], 'the replica that missed the delete applies it');
  t.deepEqual((await a.get('k')).values, [], 'and nothing comes back to the one that deleted');

  clockMs += GRACE / 2 + 1;
  t.equal(await a.collectTombstones(), 1, 'past the grace period: collected on a');
  t.equal(await b.collectTombstones(), 1, 'on b');
  t.equal(await c.collectTombstones(), 1, 'and on c');
  for (const s of [a, b, c]) t.equal(await s.getRecord('k'), undefined, `${s.id}: no record left`);
  t.equal(a.rootHash, b.rootHash, 'same roots');
  t.equal(a.rootHash, c.rootHash);
  t.ok(await a.verifyTree(), 'the tree agrees with the data');
  await sync(a, b);
  t.equal(await a.getRecord('k'), undefined, 'a sync after the collection brings nothing back');
  await Promise.all([a.close(), b.close(), c.close()]);
});

test('tombstone gc: a peer that has not collected yet does not hand the delete record back', async (t) => {
  clockMs = Date.now();
  const [a, b] = [store('a'), store('b')];
  await a.put('k', 'x');
  await a.del('k');
  await sync(a, b);
  clockMs += GRACE + 1;
  t.equal(await a.collectTombstones(), 1, 'a collected');
  t.ok(await b.getRecord('k'), 'b has not yet');
  await sync(a, b);
  t.equal(await a.getRecord('k'), undefined, 'a does not store the delete record b still sends');

  // A write after the collection: its version must not be one b's old record already covers.
  await a.put('k', 'again');
  await sync(a, b);
  t.deepEqual((await a.get('k')).values, ['again'], 'the new write stands on a');
  t.deepEqual((await b.get('k')).values, ['again'], 'and on b, whose old delete record saw an earlier version from a');
  t.equal(a.rootHash, b.rootHash, 'same roots');
  await Promise.all([a.close(), b.close()]);
});

test('tombstone gc: keys written again, and deletes with a concurrent write standing, are not collected', async (t) => {
  clockMs = Date.now();
  const [a, c] = [store('a'), store('c')];
  await a.put('rewritten', 1);
  await a.del('rewritten');
  await a.put('rewritten', 2);
  await a.put('concurrent', 'old');
  await sync(a, c);
  await a.del('concurrent');
  await c.put('concurrent', 'new', { context: (await c.get('nothing')).context }); // c's write did not see a's value: concurrent
  await sync(a, c);
  t.deepEqual((await a.get('concurrent')).values, ['new'], 'a delete that saw only the old value leaves the concurrent write standing');
  clockMs += GRACE + 1;
  t.equal(await a.collectTombstones(), 0, 'nothing to collect: both keys hold a value');
  t.deepEqual((await a.get('rewritten')).values, [2]);
  t.deepEqual((await a.get('concurrent')).values, ['new']);
  await Promise.all([a.close(), c.close()]);
});

test('tombstone gc: without a grace period deletes keep their record; stores must agree on it', async (t) => {
  clockMs = Date.now();
  const plain = new MerkleStore<unknown>({ db: new MemoryLevel(), id: 'p', depth: 6, clock: { now } });
  await plain.put('k', 1);
  await plain.del('k');
  clockMs += 10 * GRACE;
  t.equal(await plain.collectTombstones(), 0, 'nothing collected');
  t.ok(await plain.getRecord('k'), 'the record stays');
  const gc = store('g');
  await gc.open();
  t.notEqual(plain.descriptor.params, gc.descriptor.params, 'the grace period is part of what the handshake compares');
  t.throws(() => new MerkleStore({ db: new MemoryLevel(), tombstoneGrace: 0 }), /tombstoneGrace/, 'a grace period must be positive');
  await Promise.all([plain.close(), gc.close()]);
});
