import test from 'tape';
import pump from 'pump';
import * as lps from 'length-prefixed-stream';
import { Transform } from 'node:stream';
import { Model, ORSet, ReplicationError, Seq, replicate } from '../../lib/index.js';
import { Doc, type ChannelEvent } from '../../lib/mux/index.js';
import { FrameType } from '../../lib/stream/frames.js';
import { until } from '../helpers/compliance.js';

/** Collects a doc's channel events as `type name [code]` strings. */
function events(doc: Doc): string[] {
  const seen: string[] = [];
  doc.on('channel', (e: ChannelEvent) => seen.push(`${e.type} ${e.name}${e.type === 'close' && e.error ? ` ${e.error.code}` : ''}`));
  return seen;
}

test('mux: structures of any kind replicate over one stream', async (t) => {
  const [a, b] = [new Doc({ name: 'd' }), new Doc({ name: 'd' })];
  a.get('todos', ORSet).add('milk');
  a.get('text', Seq).insert(0, 'hello');
  a.get('config', Model).set('theme', 'dark');
  b.get('todos', ORSet).add('eggs');
  b.get('text', Seq);
  b.get('config', Model).set('lang', 'en');
  const replication = await replicate(a, b);
  t.deepEqual(b.get('todos', ORSet).values().sort(), ['eggs', 'milk'], 'set');
  t.equal(b.get('text', Seq).toString(), 'hello', 'text');
  t.deepEqual(a.get('config', Model).toJSON(), { theme: 'dark', lang: 'en' }, 'model');
  b.get('text', Seq).insert(5, ' world');
  await until(() => a.get('text', Seq).toString() === 'hello world');
  t.pass('live edits flow after the sync');
  await replication.close();
  t.equal(replication.error, undefined, 'closed cleanly');
});

test('mux: a kind mismatch on one channel closes that channel only', async (t) => {
  const [a, b] = [new Doc(), new Doc()];
  a.add('x', new ORSet({ name: 'x' })).add(1);
  b.add('x', new Model({ name: 'x' })).set('k', 1);
  a.get('text', Seq).insert(0, 'abc');
  b.get('text', Seq);
  const [seenA, seenB] = [events(a), events(b)];
  const replication = await replicate(a, b);
  t.equal(b.get('text', Seq).toString(), 'abc', 'the other channel synced');
  await until(() => seenA.some((e) => e.startsWith('close x')) && seenB.some((e) => e.startsWith('close x')));
  t.ok(seenA.includes('close x ERR_HANDSHAKE'), `a: ${seenA.join(', ')}`);
  t.ok(seenB.includes('close x ERR_HANDSHAKE'), `b: ${seenB.join(', ')}`);
  t.deepEqual(a.get('x', ORSet).values(), [1], 'a untouched');
  t.deepEqual(b.get('x', Model).toJSON(), { k: 1 }, 'b untouched');
  a.get('text', Seq).insert(3, 'd');
  await until(() => b.get('text', Seq).toString() === 'abcd');
  t.pass('the connection carries on');
  await replication.close();
  t.equal(replication.error, undefined, 'no connection error');
});

test('mux: garbage on one channel fails that channel, the rest carry on', async (t) => {
  const [a, b] = [new Doc(), new Doc()];
  a.get('x', ORSet).add('a');
  b.get('x', ORSet).add('b'); // b's first channel: number 1
  a.get('y', ORSet).add('a');
  b.get('y', ORSet).add('b');
  const [seenA, seenB] = [events(a), events(b)];
  const sa = a.createStream();
  const sb = b.createStream();
  let corrupted = 0;
  // Between b and a: b's first data frame on channel 1 becomes garbage.
  const corrupt = new Transform({
    transform(frame: Buffer, _encoding, callback) {
      const channelData = frame[0] === FrameType.channel && frame[1] === 1 && frame[2] === FrameType.data;
      if (channelData && corrupted++ === 0) frame = Buffer.from([FrameType.channel, 1, FrameType.data, 3, 0xff, 0xfe, 0xfd, 0x00]);
      callback(null, frame);
    },
  });
  const errors: Error[] = [];
  sa.on('error', (e) => errors.push(e));
  sb.on('error', (e) => errors.push(e));
  const done = new Promise((resolve) => pump(sa, sb, lps.decode(), corrupt, lps.encode(), sa, resolve));
  await until(() => seenA.includes('close x ERR_DECODE') && seenB.includes('close x ERR_DECODE'));
  t.pass(`x failed on both sides: ${seenA.join(', ')} / ${seenB.join(', ')}`);
  await until(() => a.get('y', ORSet).values().length === 2 && b.get('y', ORSet).values().length === 2);
  t.pass('y synced');
  t.deepEqual(a.get('x', ORSet).values(), ['a'], 'a\'s x untouched');
  b.get('y', ORSet).add('later');
  await until(() => a.get('y', ORSet).has('later'));
  t.pass('y replicates live');
  sa.end();
  await done;
  t.deepEqual(errors, [], 'no connection error');
});

test('mux: structures added and removed while connected open and close their channels', async (t) => {
  const [a, b] = [new Doc(), new Doc()];
  a.get('first', ORSet).add(1);
  b.get('first', ORSet);
  const [seenA, seenB] = [events(a), events(b)];
  const replication = await replicate(a, b);
  a.get('later', Seq).insert(0, 'late');
  b.get('later', Seq);
  await until(() => b.get('later', Seq).toString() === 'late');
  t.pass('a structure added on both sides after the sync replicates');
  a.remove('first');
  await until(() => seenB.includes('close first'));
  t.ok(seenA.includes('close first'), 'both sides saw the channel close');
  b.get('first', ORSet).add(2);
  t.notOk(a.has('first'), 'a forgot it');
  a.get('first', ORSet).add(3);
  await until(() => a.get('first', ORSet).values().length === 3);
  t.deepEqual(b.get('first', ORSet).values().sort(), [1, 2, 3], 're-added: the channel reopens and syncs');
  t.ok(b.get('later', Seq).toString() === 'late' && replication.error === undefined, 'the connection stayed up throughout');
  await replication.close();
});

test('mux: a server doc creates structures its clients bring (create)', async (t) => {
  const made: string[] = [];
  const server = new Doc({
    create: (name, kind) => {
      made.push(`${name}:${kind}`);
      return kind === 'orset' ? new ORSet({ name }) : undefined;
    },
  });
  const [c1, c2] = [new Doc(), new Doc()];
  c1.get('todos', ORSet).add('from c1');
  c1.get('secret', Model).set('k', 1);
  const r1 = await replicate(c1, server);
  c2.get('todos', ORSet).add('from c2');
  const r2 = await replicate(c2, server);
  await until(() => c1.get('todos', ORSet).values().length === 2 && c2.get('todos', ORSet).values().length === 2);
  t.pass('two clients meet through structures the server made on demand');
  t.deepEqual(made, ['todos:orset', 'secret:model'], 'asked once per name');
  t.notOk(server.has('secret'), 'a kind the server declines stays out');
  await r1.close();
  await r2.close();
});

test('mux: one-way and non-live streams', async (t) => {
  const [a, b] = [new Doc(), new Doc()];
  a.get('s', ORSet).add('a');
  b.get('s', ORSet).add('b');
  const replication = await replicate(a, b, { live: false, readable: true, writable: false }, { live: false, readable: false, writable: true });
  await replication.done;
  t.deepEqual(b.get('s', ORSet).values().sort(), ['a', 'b'], 'b received');
  t.deepEqual(a.get('s', ORSet).values(), ['a'], 'a sent only');
  t.equal(replication.error, undefined, 'ended cleanly');
});

test('mux: a doc name mismatch fails the connection with ERR_HANDSHAKE', async (t) => {
  const [a, b] = [new Doc({ name: 'one' }), new Doc({ name: 'two' })];
  a.get('s', ORSet).add(1);
  const error = await replicate(a, b).then(
    () => undefined,
    (err) => err,
  );
  t.ok(error instanceof ReplicationError && error.code === 'ERR_HANDSHAKE', error?.message);
  t.deepEqual(b.names(), [], 'b untouched');
});

test('mux: a single structure and a doc refuse each other', async (t) => {
  const doc = new Doc({ name: 'm' });
  doc.get('m', Model);
  const error = await replicate(doc, new Model({ name: 'm' })).then(
    () => undefined,
    (err) => err,
  );
  t.equal(error?.code, 'ERR_HANDSHAKE', error?.message);
});

test('mux: doc.get checks the class, names are checked, close ends every stream', async (t) => {
  const doc = new Doc();
  doc.get('s', ORSet);
  t.throws(() => doc.get('s', Model), /orset, not a Model/, 'another class under the same name');
  t.throws(() => doc.add('s', new ORSet()), /already holds/);
  t.throws(() => doc.add('', new ORSet()), /structure name/);
  t.throws(() => doc.add('n'.repeat(257), new ORSet()), /structure name/);
  const other = new Doc();
  other.get('s', ORSet).add(1);
  const replication = await replicate(doc, other);
  doc.close();
  await replication.done;
  t.pass('close() ended the stream');
  t.throws(() => doc.createStream(), /closed/);
});
