import test from 'tape';
import { MemoryLevel } from 'memory-level';
import { UpdateLog } from '../../lib/storage/update-log.js';

/** Counts the reads that reach the database's own private methods. */
function counted(db: MemoryLevel<string, Uint8Array>): { iterators: number; gets: number } {
  const calls = { iterators: 0, gets: 0 };
  const level = db as unknown as Record<string, (...args: unknown[]) => unknown>;
  const iterator = level._iterator.bind(db);
  const get = level._get.bind(db);
  const getMany = level._getMany.bind(db);
  level._iterator = (...args) => (calls.iterators++, iterator(...args));
  level._get = (...args) => (calls.gets++, get(...args));
  level._getMany = (...args) => (calls.gets++, getMany(...args));
  return calls;
}

const bytes = (text: string) => new Uint8Array(Buffer.from(text));
const text = (value: Uint8Array | undefined) => (value === undefined ? undefined : Buffer.from(value).toString());

test('an update log is read in one pass when opened: its meta values, snapshot and updates, in order', async (t) => {
  const db = new MemoryLevel<string, Uint8Array>({ valueEncoding: 'view' });
  const first = await UpdateLog.open(db, { sublevel: 'doc' });
  first.putMeta('kind', bytes('seq'));
  for (const update of ['a', 'b', 'c']) first.append(() => bytes(update));
  await first.flush();
  first.compact(() => [bytes('abc')]);
  await first.flush();
  first.append(() => bytes('d'));
  first.putMeta('reserve', bytes('7'));
  await first.close();
  // Another structure in the same database is not read.
  const other = await UpdateLog.open(db, { sublevel: 'other' });
  other.putMeta('kind', bytes('orset'));
  await other.close();

  const calls = counted(db);
  const log = await UpdateLog.open(db, { sublevel: 'doc' });
  t.deepEqual([text(await log.getMeta('kind')), text(await log.getMeta('reserve')), await log.getMeta('missing')], ['seq', '7', undefined], 'meta values as stored');
  const state = await log.read();
  t.deepEqual([state.snapshot.map(text), state.updates.map(text)], [['abc'], ['d']], 'the snapshot, then the update written after it');
  t.deepEqual([state.snapshotBytes, state.updateBytes], [3, 1], 'their sizes');
  t.deepEqual(calls, { iterators: 1, gets: 0 }, 'one iterator, no other read');
  log.putMeta('reserve', bytes('9'));
  t.equal(text(await log.getMeta('reserve')), '9', 'a meta value put since is what getMeta answers');
  log.append(() => bytes('e'));
  await log.close();
  const again = await UpdateLog.open(db, { sublevel: 'doc' });
  const after = await again.read();
  t.deepEqual([after.snapshot.map(text), after.updates.map(text), text(await again.getMeta('reserve'))], [['abc'], ['d', 'e'], '9'], 'appended after what was there');
  await again.close();
  await db.close();
});
