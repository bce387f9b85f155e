import test from 'tape';
import { MemoryLevel } from 'memory-level';
import { type KeyRecord, decodeRecord, writeRecord, EMPTY_RECORD } from '../../lib/merkle/record.js';
import { HintStore } from '../../lib/vine/hints.js';
import { planRepair } from '../../lib/vine/read-repair.js';

const write = (base: KeyRecord, id: string, v: string, ts: number) => writeRecord(base, id, base.context, Buffer.from(v), ts);

test('hints: kept per owner, merged per key, removed only if unchanged, survive a reopen', async (t) => {
  const db = new MemoryLevel<string, Uint8Array>();
  const hints = new HintStore(db);
  const r1 = write(EMPTY_RECORD, 'x', '"1"', 1);
  const r2 = write(r1, 'x', '"2"', 2);
  await hints.add('owner-b', 4, 'k1', r1);
  await hints.add('owner-b', 4, 'k1', r2);
  await hints.add('owner-b', 9, 'k2', r1);
  await hints.add('owner-c', 4, 'k1', r1);
  t.deepEqual([...hints.backlog()], [['owner-b', 2], ['owner-c', 1]], 'two keys for b (one merged), one for c');
  const taken = await hints.take('owner-b', 10);
  t.deepEqual(taken.map((h) => [h.partition, h.key]), [[4, 'k1'], [9, 'k2']], 'take lists b\'s hints only');
  t.equal(decodeRecord(taken[0].record).siblings[0].value.toString(), '"2"', 'the merged hint holds the later write');
  // A write arrives for k2 while its handoff is in flight: that hint must stay.
  await hints.add('owner-b', 9, 'k2', write(r1, 'y', '"3"', 3));
  t.ok(await hints.remove(taken[0]), 'an unchanged hint is removed');
  t.notOk(await hints.remove(taken[1]), 'a hint that changed during the handoff stays');
  t.equal(hints.size, 2);
  const reopened = new HintStore(db);
  await reopened.load();
  t.deepEqual([...reopened.backlog()], [['owner-b', 1], ['owner-c', 1]], 'a new HintStore on the same db counts what is stored');
  t.equal(await reopened.forget('owner-c'), 1, 'forget drops an owner removed for good');
  t.equal(reopened.size, 1);
  await db.close();
});

test('read repair: merge the answers, repair only the replicas that differ', (t) => {
  const base = write(EMPTY_RECORD, 'a', '"v1"', 1);
  const newer = write(base, 'a', '"v2"', 2);
  const concurrent = write(base, 'b', '"v3"', 3);
  let plan = planRepair(new Map([['n1', newer], ['n2', newer], ['n3', newer]]));
  t.deepEqual(plan.stale, [], 'agreeing replicas: nothing to repair');
  plan = planRepair(new Map([['n1', newer], ['n2', base], ['n3', EMPTY_RECORD]]));
  t.deepEqual(plan.stale, ['n2', 'n3'], 'the stale and the empty replica are repaired');
  t.equal(plan.merged.siblings.length, 1, 'the newer write replaced the older');
  plan = planRepair(new Map([['n1', newer], ['n2', concurrent]]));
  t.equal(plan.merged.siblings.length, 2, 'concurrent writes come back as siblings');
  t.deepEqual(plan.stale, ['n1', 'n2'], 'both replicas receive the merge');
  t.end();
});
