import test from 'tape';
import { LocalCluster } from '../../lib/vine/membership.js';
import { VineNode } from '../../lib/vine/node.js';
import { CountingLevel } from '../helpers/counting-level.js';

test("a node on the caller's database batches its writes by turn, and leaves the caller's object as it was", async (t) => {
  const db = new CountingLevel({ keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  const ownKeys = Reflect.ownKeys(db);
  const local = new LocalCluster();
  const node = new VineNode<number>({ db, n: 1, r: 1, w: 1, antiEntropyMs: 60_000, membership: (self) => local.join(self) });
  await node.start();
  const keys = Array.from({ length: 64 }, (_, i) => `key-${i}`);
  // The first write to a partition opens its store (its own writes); the measured round writes keys already there.
  for (const key of keys) await node.put(key, 0);
  const before = db.batches;
  await Promise.all(keys.map((key, i) => node.put(key, i + 1)));
  const batches = db.batches - before;
  t.ok(batches <= 4, `64 writes issued in one turn: ${batches} batch(es) reached the database (one per write before)`);
  t.deepEqual((await node.get('key-9')).values, [10], 'written');
  await node.stop();
  t.equal(db.status, 'open', "stopping the node leaves the caller's database open");
  t.deepEqual(Reflect.ownKeys(db), ownKeys, "no property added to the caller's database");
  t.equal((db as unknown as { _batch: unknown })._batch, CountingLevel.prototype._batch, 'its methods are its own');
  // Another node on the same database finds what the first wrote.
  const again = new VineNode<number>({ db, n: 1, r: 1, w: 1, antiEntropyMs: 60_000, membership: (self) => new LocalCluster().join(self) });
  await again.start();
  t.equal(again.id, node.id, 'the same node id, kept in the database');
  t.deepEqual((await again.get('key-63')).values, [64], 'and the same data');
  await again.stop();
  await db.close();
});
