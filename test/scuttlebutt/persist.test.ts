import test from 'tape';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import pump from 'pump';
import { MemoryLevel } from 'memory-level';
import { Log, Model, createSnapshotStream, loadSnapshot, persist } from '../../lib/index.js';
import { counter } from '../helpers/wire.js';

async function syncCounting(a: Model, b: Model): Promise<number> {
  const sa = a.createStream({ live: false });
  const sb = b.createStream({ live: false });
  const aToB = counter();
  await new Promise((resolve) => pump(sa, aToB, sb, sa, resolve));
  return aToB.bytes;
}

test('persist: a restarted model resumes from disk, then fetches only what it missed', async (t) => {
  const db = new MemoryLevel();
  const peer = new Model({ id: 'peer' });
  for (let i = 0; i < 500; i++) peer.set(`k${i}`, `value ${i}`);

  let local = new Model({ id: 'local' });
  let stored = await persist(local, db);
  const firstBytes = await syncCounting(peer, local);
  local.set('own', 'written before the restart');
  local.delete('k0');
  await stored.close();

  for (let i = 0; i < 5; i++) peer.set(`k${i + 1}`, `missed ${i}`);
  local = new Model({ id: 'local' });
  stored = await persist(local, db);
  t.equal(local.size, 500, 'state restored from disk (499 of the peer + 1 own)');
  t.equal(local.get('own'), 'written before the restart');
  t.notOk(local.has('k0'), 'the delete survived the restart');
  const resumeBytes = await syncCounting(peer, local);
  t.equal(local.get('k3'), 'missed 2');
  t.ok(resumeBytes < firstBytes / 20, `resume sent ${resumeBytes} bytes; the first sync sent ${firstBytes}`);
  await stored.close();
});

test('persist: the default store is classic-level at a path; a log survives a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tendril-persist-'));
  try {
    let log = new Log({ id: 'writer' });
    let stored = await persist(log, dir);
    log.append('one');
    log.append('two');
    await stored.close();
    log = new Log({ id: 'writer' });
    stored = await persist(log, dir);
    log.append('three');
    t.deepEqual(log.toJSON().map((r) => [r.seq, r.value]), [[1, 'one'], [2, 'two'], [3, 'three']], 'the chain continues');
    await stored.close();
    const wrongOwner = persist(new Log({ id: 'someone else' }), dir);
    t.equal(await wrongOwner.then(() => undefined, (err) => err.code), 'ERR_INVALID_ARGUMENT', 'a database remembers its replica');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('snapshot: a model written to a stream and read back', async (t) => {
  const a = new Model({ id: 'a' });
  for (let i = 0; i < 3000; i++) a.set(`k${i}`, { i });
  a.delete('k7');
  const file = new PassThrough();
  createSnapshotStream(a).pipe(file);
  const b = new Model({ id: 'b' });
  await loadSnapshot(b, file);
  t.deepEqual(b.toJSON(), a.toJSON());
  t.equal(b.meta('k7')?.deleted, true, 'delete markers travel too');
  t.deepEqual([...b.clockDigest()], [...a.clockDigest()], 'so does the clock');
  const garbage = new PassThrough();
  garbage.end(Buffer.from([3, 1, 2, 3]));
  t.equal(await loadSnapshot(new Model({ id: 'c' }), garbage).then(() => undefined, (err) => err.code), 'ERR_DECODE');
  const wrongKind = new PassThrough();
  createSnapshotStream(a).pipe(wrongKind);
  t.equal(await loadSnapshot(new Log({ id: 'l', name: 'model' }), wrongKind).then(() => undefined, (err) => err.code), 'ERR_HANDSHAKE');
});
