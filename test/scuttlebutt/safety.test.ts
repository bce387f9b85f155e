import test from 'tape';
import pump from 'pump';
import { Log, Model, ReplicationError, replicate } from '../../lib/index.js';

test('model: a delete never resurrects, whatever the delivery order', async (t) => {
  let wall = 1_000_000;
  const now = () => wall;
  const writer = new Model({ id: 'writer', clock: { now } });
  const deleter = new Model({ id: 'deleter', clock: { now } });
  writer.set('k', 'old'); // the older write
  await (await replicate(writer, deleter, { live: false })).done;
  wall += 10;
  deleter.delete('k'); // a later delete
  // A third replica hears the delete first and the old write last.
  const late = new Model({ id: 'late' });
  await (await replicate(deleter, late, { live: false })).done;
  const stale = new Model({ id: 'stale' });
  await (await replicate(writer, stale, { live: false })).done; // holds only the old write
  await (await replicate(stale, late, { live: false })).done;
  t.notOk(late.has('k'), 'the old write arriving late does not bring the key back');
  await (await replicate(late, stale, { live: false })).done;
  t.notOk(stale.has('k'), 'the delete reaches the replica that held the old write');
  t.equal(stale.meta('k')?.deleted, true);
});

test('model: a remote timestamp beyond the allowed drift is refused and changes nothing', async (t) => {
  const ahead = new Model({ id: 'ahead', clock: { now: () => Date.now() + 3_600_000 } });
  const honest = new Model({ id: 'honest' });
  honest.set('k', 'mine');
  ahead.set('k', 'from the future');
  const sa = ahead.createStream();
  const sh = honest.createStream();
  const error = new Promise<ReplicationError>((resolve) => sh.once('error', resolve));
  sa.on('error', () => {});
  pump(sa, sh, sa);
  t.equal((await error).code, 'ERR_CLOCK_SKEW');
  t.equal(honest.get('k'), 'mine', 'untouched');
  t.notOk(honest.clockDigest().has('ahead'), 'no trace of the skewed source');
});

test('a Model stream piped into a Log stream is refused at the handshake', async (t) => {
  const model = new Model({ id: 'm', name: 'doc' });
  const log = new Log({ id: 'l', name: 'doc' });
  model.set('k', 1);
  log.append('entry');
  const sm = model.createStream();
  const sl = log.createStream();
  const errors = Promise.all([sm, sl].map((s) => new Promise<ReplicationError>((resolve) => s.once('error', resolve))));
  pump(sm, sl, sm);
  t.deepEqual((await errors).map((e) => e.code), ['ERR_HANDSHAKE', 'ERR_HANDSHAKE']);
  t.equal(log.length, 1);
  t.equal(model.size, 1);
});
