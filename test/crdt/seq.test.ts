import test from 'tape';
import pump from 'pump';
import { Seq, ReplicationError, replicate } from '../../lib/index.js';
import { decodeUpdate } from '../../lib/seq/index.js';
import { decodeDeleteDigest, encodeDeleteDigest } from '../../lib/seq/delete-digest.js';
import { handshakeFrame, wireFrame } from '../helpers/raw-peer.js';
import { testRandom } from '../helpers/seed.js';
import { compliance, until } from '../helpers/compliance.js';
import { applyOps } from './seq-helpers.js';
import { encode, uint } from '../../lib/codec/index.js';
import { FrameType } from '../../lib/stream/frames.js';
import { seqMessageCodec } from '../../lib/seq/session.js';
import { codeOf } from '../helpers/error-code.js';


/** Exchanges everything between every pair, through encodeState / applyUpdate. */
function exchange(...replicas: Seq[]): void {
  for (const a of replicas) for (const b of replicas) if (a !== b) b.applyUpdate(a.encodeState(b.stateVector()));
}

test('seq: text editing on one replica', (t) => {
  const s = new Seq({ clientId: 1 });
  s.insert(0, 'hello world');
  s.insert(5, ',');
  s.delete(0, 1);
  s.insert(0, 'H');
  s.push('!');
  t.equal(s.toString(), 'Hello, world!');
  t.equal(s.length, 13);
  t.equal(s.get(4), 'o');
  t.equal(s.get(13), undefined);
  s.move(0, 12);
  t.equal(s.toString(), 'ello, world!H');
  t.deepEqual(s.toJSON(), [...'ello, world!H']);
  t.equal(codeOf(() => s.insert(99, 'x')), 'ERR_INVALID_ARGUMENT', 'insert out of range');
  t.equal(codeOf(() => s.delete(10, 5)), 'ERR_INVALID_ARGUMENT', 'delete out of range');
  t.end();
});

test('seq: thousands of random edits match a plain array (position cache under stress)', (t) => {
  const random = testRandom('seq long edit run');
  const s = new Seq({ clientId: 1 });
  const model: string[] = [];
  let ok = true;
  for (let i = 0; i < 6000 && ok; i++) {
    const roll = random.float();
    if (model.length > 0 && roll < 0.25) {
      const at = random.int(0, model.length - 1);
      const count = Math.min(random.int(1, 3), model.length - at);
      s.delete(at, count);
      model.splice(at, count);
    } else if (model.length > 1 && roll < 0.3) {
      const from = random.int(0, model.length - 1);
      const to = random.int(0, model.length - 1);
      s.move(from, to);
      model.splice(to, 0, ...model.splice(from, 1));
    } else {
      // Mostly typing near the last position, sometimes jumping anywhere.
      const at = random.chance(0.7) ? Math.min(model.length, Math.max(0, s.length - random.int(0, 20))) : random.int(0, model.length);
      const text = random.pick(['a', 'bc', 'def', 'ghij']);
      s.insert(at, text);
      model.splice(at, 0, ...text);
    }
    if (i % 500 === 0 || s.length !== model.length) ok = s.toString() === model.join('');
    if (i % 97 === 0 && model.length > 0) {
      const at = random.int(0, model.length - 1);
      ok &&= s.get(at) === model[at];
    }
  }
  t.ok(ok && s.toString() === model.join(''), `identical after 6000 edits (${model.length} elements, ${s.document.runCount} runs)`);
  t.end();
});

test('seq: a list of JSON values, copied on insert', (t) => {
  const s = new Seq({ clientId: 1 });
  const item = { title: 'milk', done: false };
  s.insert(0, [item, 2, 'three', null]);
  item.done = true;
  t.deepEqual(s.value(), [{ title: 'milk', done: false }, 2, 'three', null], 'later changes to the caller’s object do not leak in');
  s.move(3, 0);
  t.deepEqual(s.value(), [null, { title: 'milk', done: false }, 2, 'three']);
  const copy = new Seq({ clientId: 2 });
  copy.applyUpdate(s.encodeState());
  t.deepEqual(copy.value(), s.value(), 'values replicate');
  // A value JSON would silently change is refused: the replica must hold what its peers receive.
  t.equal(codeOf(() => s.insert(0, [() => 1] as unknown[])), 'ERR_INVALID_ARGUMENT', 'functions are refused (JSON would make them null)');
  t.equal(codeOf(() => s.insert(0, [1n] as unknown[])), 'ERR_INVALID_ARGUMENT', 'BigInt is refused with a coded error');
  t.end();
});

test('seq: surrogate pairs are never cut', (t) => {
  const s = new Seq({ clientId: 1 });
  s.insert(0, 'a😀b');
  t.equal(s.length, 4, 'UTF-16 units');
  t.equal(codeOf(() => s.insert(2, 'x')), 'ERR_INVALID_ARGUMENT', 'insert inside a pair');
  t.equal(codeOf(() => s.delete(2, 1)), 'ERR_INVALID_ARGUMENT', 'delete starting inside a pair');
  t.equal(codeOf(() => s.delete(0, 2)), 'ERR_INVALID_ARGUMENT', 'delete ending inside a pair');
  t.equal(codeOf(() => s.insert(0, '\ud800')), 'ERR_INVALID_ARGUMENT', 'lone surrogate refused');
  s.delete(1, 2);
  t.equal(s.toString(), 'ab');
  t.end();
});

test('seq: change events describe local and remote edits', (t) => {
  const a = new Seq({ clientId: 1 });
  const b = new Seq({ clientId: 2 });
  let mirror: unknown[] = [];
  const seen: boolean[] = [];
  b.on('change', (change) => {
    mirror = applyOps(mirror, change.delta);
    seen.push(change.local);
  });
  a.on('update', (update: Buffer) => b.applyUpdate(update));
  a.insert(0, 'abcdef');
  b.insert(3, 'XY');
  a.delete(1, 2);
  b.move(0, 4);
  exchange(a, b);
  t.equal(a.toString(), b.toString(), 'converged');
  t.deepEqual(mirror, b.toArray(), 'the deltas rebuild the text');
  t.ok(seen.includes(true) && seen.includes(false), 'both local and remote changes reported');
  t.end();
});

test('seq: concurrent typing at one place is not interleaved and ordered the same everywhere', (t) => {
  const base = new Seq({ clientId: 10 });
  base.insert(0, '[]');
  const replicas = [3, 1, 2].map((clientId) => new Seq({ clientId }));
  for (const r of replicas) r.applyUpdate(base.encodeState());
  const words = ['one', 'two', 'three'];
  replicas.forEach((r, i) => {
    for (let k = 0; k < words[i].length; k++) r.insert(1 + k, words[i][k]);
  });
  exchange(...replicas);
  const text = replicas[0].toString();
  t.ok(replicas.every((r) => r.toString() === text), text);
  t.equal(text, '[twothreeone]', 'ordered by client id, each word whole');
  t.end();
});

test('seq: updates apply in any order and any number of times', (t) => {
  const a = new Seq({ clientId: 1 });
  const updates: Buffer[] = [];
  a.on('update', (u: Buffer) => updates.push(u));
  a.insert(0, 'hello');
  a.insert(5, ' world');
  a.delete(0, 1);
  a.insert(0, 'J');
  a.delete(3, 4);
  const b = new Seq({ clientId: 2 });
  for (const u of [...updates].reverse()) b.applyUpdate(u);
  for (const u of updates) b.applyUpdate(u);
  t.equal(b.toString(), a.toString());
  t.equal(b.document.pendingRuns, 0, 'nothing left waiting');
  t.end();
});

test('seq: encoding round trip, fixed and seeded random documents', (t) => {
  const fixed = new Seq({ clientId: 7 });
  t.deepEqual([...fixed.encodeState()], [0, 0, 0], 'the empty document is three zero counts');
  fixed.insert(0, 'ab');
  // The column form: mark, client table, one group (client 0, clock 0, one record), then the info, length, origin, right, text and values columns, and no deleted ranges.
  t.deepEqual([...fixed.encodeState()], [0, 1, 1, 7, 1, 0, 0, 1, 1, 0, 1, 2, 0, 0, 2, 0x61, 0x62, 0, 0], 'one client, one group, one text run, in columns');
  const random = testRandom('seq encoding');
  for (let round = 0; round < 30; round++) {
    const replicas = [1, 2, 3].map((clientId) => new Seq({ clientId }));
    for (let i = 0; i < 40; i++) {
      const r = random.pick(replicas);
      if (r.length > 0 && random.chance(0.35)) r.delete(random.int(0, r.length - 1), 1);
      else if (random.chance(0.15)) r.insert(random.int(0, r.length), [random.int(0, 9), { k: 'é' }]);
      else r.insert(random.int(0, r.length), random.pick(['x', 'yz', 'été', '漢字', ' ']));
      if (random.chance(0.2)) exchange(...replicas);
    }
    exchange(...replicas);
    const whole = replicas[0].encodeState();
    const loaded = new Seq({ clientId: 9 });
    loaded.applyUpdate(whole);
    if (JSON.stringify(loaded.toArray()) !== JSON.stringify(replicas[0].toArray())) {
      t.fail(`round ${round}: loaded document differs`);
      return t.end();
    }
    const decoded = decodeUpdate(whole);
    t.equal(decoded.structs.reduce((n, s) => n + s.len, 0), [1, 2, 3].reduce((n, c) => n + replicas[0].document.nextClock(c), 0), `round ${round}: every element encoded once`);
  }
  t.end();
});

test('seq: malformed updates fail with a coded error and change nothing', (t) => {
  const s = new Seq({ clientId: 1 });
  s.insert(0, 'keep');
  const good = (() => {
    const o = new Seq({ clientId: 2 });
    o.insert(0, 'hello');
    o.delete(1, 1);
    return o.encodeState();
  })();
  const cases: [string, Uint8Array, string][] = [
    ['empty', Buffer.alloc(0), 'ERR_DECODE'],
    ['truncated', good.subarray(0, good.length - 2), 'ERR_DECODE'],
    ['trailing byte', Buffer.concat([good, Buffer.from([0])]), 'ERR_DECODE'],
    ['client index outside the table', Buffer.from([1, 2, 1, 5, 0, 1, 0, 1, 0x61, 0]), 'ERR_DECODE'],
    ['unknown info bits', Buffer.from([1, 2, 1, 0, 0, 1, 0x80, 0x01, 1, 0x61, 0]), 'ERR_DECODE'],
    ['invalid UTF-8', Buffer.from([1, 2, 1, 0, 0, 1, 0, 1, 0xff, 0]), 'ERR_DECODE'],
    ['empty run', Buffer.from([1, 2, 1, 0, 0, 1, 0, 0, 0]), 'ERR_DECODE'],
    ['a run pointing at its own future', Buffer.from([1, 2, 1, 0, 0, 1, 8 | 32, 5, 1, 0x61, 0]), 'ERR_INTEGRITY'],
    ['count beyond the bytes left', Buffer.from([0x80, 0x80, 0x04]), 'ERR_DECODE'],
    ['value run that is not an array', Buffer.from([1, 2, 1, 0, 0, 1, 1, 1, 0x31, 0]), 'ERR_DECODE'],
  ];
  for (const [name, bytes, code] of cases) t.equal(codeOf(() => s.applyUpdate(bytes)), code, name);
  t.equal(codeOf(() => s.applyUpdate(good, undefined, { maxItems: 0 })), 'ERR_LIMIT', 'item limit');
  t.equal(codeOf(() => s.applyUpdate(good, undefined, { maxBytes: 2 })), 'ERR_LIMIT', 'byte limit');
  const deep = Buffer.concat([Buffer.from([1, 2, 1, 0, 0, 1, 1, 0x14]), Buffer.from('[' + '['.repeat(9) + ']'.repeat(9) + ']')]);
  t.equal(codeOf(() => s.applyUpdate(Buffer.concat([deep, Buffer.from([0])]), undefined, { maxDepth: 4 })), 'ERR_LIMIT', 'depth limit');
  t.equal(s.toString(), 'keep', 'unchanged');
  s.applyUpdate(good);
  t.ok(s.toString().includes('keep') && s.length === 8, 'still works');
  t.end();
});

test('seq: delete digests round-trip and refuse malformed input', (t) => {
  const s = new Seq({ clientId: 1 });
  s.insert(0, 'x'.repeat(1000));
  for (let i = 0; i < 50; i++) s.delete(i * 13, 2);
  const digest = s.document.deleteDigest();
  const bytes = encodeDeleteDigest(digest);
  t.deepEqual(decodeDeleteDigest(bytes), digest, 'round trip');
  t.equal(codeOf(() => decodeDeleteDigest(bytes.subarray(0, bytes.length - 1))), 'ERR_DECODE', 'truncated');
  t.equal(codeOf(() => decodeDeleteDigest(Buffer.concat([bytes, Buffer.from([0])]))), 'ERR_DECODE', 'trailing byte');
  t.equal(codeOf(() => decodeDeleteDigest(bytes, { maxItems: 2 })), 'ERR_LIMIT', 'bucket limit');
  t.end();
});

test('seq: a delete digest larger than a message is cut short, and sync still completes', async (t) => {
  const a = new Seq({ clientId: 1 });
  a.insert(0, 'x'.repeat(40_000));
  for (let i = 0; i < 400; i++) a.delete(i * 99, 1);
  const b = new Seq({ clientId: 2 });
  b.applyUpdate(a.encodeState());
  a.delete(0, 1);
  b.delete(b.length - 1, 1);
  t.ok(encodeDeleteDigest(b.document.deleteDigest()).length > 1024, 'the whole digest would not fit');
  const replication = await replicate(a, b, { maxFrameBytes: 1024 });
  t.equal(a.toString(), b.toString(), 'converged');
  t.equal(a.length, 40_000 - 402, 'every deletion on both sides');
  await replication.close();
});

test('seq: a forged tombstone of 2^40 elements costs one digest entry', async (t) => {
  const a = new Seq({ clientId: 1 });
  const b = new Seq({ clientId: 2 });
  // client 7, clock 0, one deleted run of 2^40 elements
  const huge = Buffer.concat([Buffer.from([1, 7, 1, 0, 0, 1, 2]), encode(uint, 2 ** 40), Buffer.from([0])]);
  a.applyUpdate(huge);
  t.equal(a.document.deleteDigest().get(7)?.size, 1, 'one bucket');
  a.insert(0, 'ok');
  await measuredSync(a, b);
  t.equal(b.toString(), 'ok', 'syncs');
});

test('seq: concurrent moves of one element keep both copies (documented)', (t) => {
  const a = new Seq({ clientId: 1 });
  a.insert(0, ['a', 'b', 'c']);
  const b = new Seq({ clientId: 2 });
  b.applyUpdate(a.encodeState());
  a.move(0, 2);
  b.move(0, 1);
  exchange(a, b);
  t.deepEqual(a.value(), b.value(), 'converged');
  t.equal(a.value().filter((v) => v === 'a').length, 2, 'both moved copies survive');
  t.end();
});

test('seq: runs waiting for missing predecessors are bounded, and a full queue never stops the replica taking updates', async (t) => {
  const s = new Seq({ clientId: 1, maxPending: 3 });
  const gap = (clock: number) => Buffer.from([1, 2, 1, 0, clock, 1, 0, 1, 0x61, 0]);
  s.applyUpdate(gap(10));
  s.applyUpdate(gap(11));
  s.applyUpdate(gap(12));
  t.equal(s.document.pendingRuns, 3, 'three runs wait');
  s.applyUpdate(gap(13));
  t.ok(s.document.pendingRuns <= 3, `past the bound the waiting runs are dropped, not the update (${s.document.pendingRuns} wait)`);
  for (let i = 20; i < 40; i++) s.applyUpdate(gap(i));
  t.ok(s.document.pendingRuns <= 3, 'the bound holds however many come');
  // An honest writer's updates still apply, and one that had to wait and was dropped comes back with the next sync.
  const honest = new Seq({ clientId: 5 });
  honest.insert(0, 'ab');
  const first = honest.encodeState();
  const updates: Buffer[] = [];
  honest.on('update', (u: Buffer) => updates.push(u));
  honest.insert(2, 'cd');
  s.applyUpdate(updates[0]); // 'cd' before 'ab': it waits
  for (let i = 40; i < 44; i++) s.applyUpdate(gap(i)); // and is dropped with the junk
  s.applyUpdate(first);
  t.equal(s.toString(), 'ab', 'the honest update applies');
  const replication = await replicate(honest, s);
  t.equal(s.toString(), 'abcd', 'the dropped run came back with the next sync');
  await replication.close();
  t.equal(codeOf(() => s.applyUpdate(new Seq({ clientId: 9 }).encodeState())), undefined, 'an empty update is fine');
  const big = new Seq({ clientId: 7, maxPending: 3 });
  const many = new Seq({ clientId: 8 });
  for (let i = 0; i < 5; i++) many.insert(0, String(i)); // five runs in one update (each insert at the front is its own run)
  t.equal(codeOf(() => big.applyUpdate(many.encodeState())), 'ERR_LIMIT', 'one update with more runs than the bound is refused');
});

test('seq: replicates over createStream, live both ways', async (t) => {
  const a = new Seq({ clientId: 1 });
  const b = new Seq({ clientId: 2 });
  a.insert(0, 'from a');
  b.insert(0, 'from b');
  const replication = await replicate(a, b);
  t.equal(a.toString(), b.toString(), `synced: ${a.toString()}`);
  a.insert(0, '>');
  b.delete(b.length - 1, 1);
  await until(() => a.toString() === b.toString() && a.length === 12);
  t.pass('live edits arrive both ways');
  await replication.close();
});

test('seq: a burst of live typing goes out as one run', async (t) => {
  const a = new Seq({ clientId: 1 });
  const b = new Seq({ clientId: 2 });
  const replication = await replicate(a, b);
  let bytes = 0;
  replication.streams[0].on('data', (chunk: Buffer) => (bytes += chunk.length));
  let perKeystroke = 0;
  a.on('update', (u: Buffer) => (perKeystroke += u.length));
  for (let i = 0; i < 200; i++) a.insert(i, 'x');
  await until(() => b.length === 200);
  t.ok(bytes < 300, `200 keystrokes in one tick took ${bytes} bytes on the wire (${perKeystroke} as separate updates)`);
  await replication.close();
});

test('seq: one-way replication', async (t) => {
  const a = new Seq({ clientId: 1 });
  const b = new Seq({ clientId: 2 });
  a.insert(0, 'aaa');
  b.insert(0, 'bbb');
  const replication = await replicate(a, b, { readable: true, writable: false }, { readable: false, writable: true });
  t.equal(b.toString().length, 6, 'b received a');
  t.equal(a.toString(), 'aaa', 'a did not take b');
  await replication.close();
});

test('seq: a large document syncs in bounded messages', async (t) => {
  const a = new Seq({ clientId: 1 });
  const b = new Seq({ clientId: 2 });
  const random = testRandom('seq large sync');
  for (let i = 0; i < 3000; i++) a.insert(random.int(0, a.length), random.pick(['lorem ', 'ipsum ', 'dolor ', '€', '漢字']));
  for (let i = 0; i < 500; i++) a.delete(random.int(0, a.length - 3), random.int(1, 3));
  const replication = await replicate(a, b, { maxFrameBytes: 2048 });
  t.equal(b.toString(), a.toString(), `identical (${a.length} elements)`);
  await replication.close();
});

test('seq: after a reconnect only what is missing crosses the wire', async (t) => {
  const a = new Seq({ clientId: 1 });
  const b = new Seq({ clientId: 2 });
  for (let i = 0; i < 2000; i++) a.insert(Math.floor(a.length / 2), 'abcde'[i % 5]);
  for (let i = 0; i < 300; i++) a.delete((i * 37) % a.length, 1);
  const first = await measuredSync(a, b);
  t.equal(b.toString(), a.toString());
  a.insert(10, 'hi');
  b.insert(0, 'yo');
  b.delete(100, 3);
  const second = await measuredSync(a, b);
  t.equal(b.toString(), a.toString(), 'converged again');
  t.ok(first > 3_000, `first sync carried the document: ${first} bytes`);
  // The edits, the state vectors, the delete digests (about 10 bytes per 256
  // clocks with deletions) and the deleted ranges of the one bucket that differs.
  t.ok(second < 600 && second * 10 < first, `a reconnect after a few edits carried ${second} bytes`);
  const third = await measuredSync(a, b);
  t.ok(third < 400, `a reconnect with nothing new carried ${third} bytes (handshakes, state vectors, digests)`);
});

test('seq: deletions of the same count but different elements still cross on reconnect', async (t) => {
  const [origin, a, b] = [1, 2, 3].map((clientId) => new Seq({ clientId }));
  origin.insert(0, 'abcdefghij');
  a.applyUpdate(origin.encodeState());
  b.applyUpdate(origin.encodeState());
  a.delete(2, 1);
  b.delete(7, 1);
  await measuredSync(a, b);
  t.equal(a.toString(), 'abdefgij');
  t.equal(b.toString(), 'abdefgij');
});

async function measuredSync(a: Seq, b: Seq): Promise<number> {
  const sa = a.createStream({ live: false });
  const sb = b.createStream({ live: false });
  let bytes = 0;
  sa.on('data', (chunk: Buffer) => (bytes += chunk.length));
  sb.on('data', (chunk: Buffer) => (bytes += chunk.length));
  await new Promise((resolve) => pump(sa, sb, sa, resolve));
  return bytes;
}

test('seq: a bad update on one stream destroys only that stream', async (t) => {
  const a = new Seq({ clientId: 1, name: 'doc' });
  const c = new Seq({ clientId: 3, name: 'doc' });
  a.insert(0, 'safe');
  const healthy = await replicate(a, c);
  const bad = a.createStream();
  const failure = new Promise<unknown>((resolve) => bad.once('error', resolve));
  bad.resume();
  bad.write(handshakeFrame(a.descriptor));
  const message = encode(seqMessageCodec, { type: 'update', update: Buffer.from([1, 2, 1, 0, 0, 1, 8 | 32, 5, 1, 0x61, 0]) });
  bad.write(wireFrame(Buffer.concat([Buffer.from([FrameType.data]), encode(uint, 1), message])));
  const err = await failure;
  t.equal((err as ReplicationError).code, 'ERR_INTEGRITY', 'coded error');
  t.equal(a.toString(), 'safe', 'replica untouched');
  c.insert(0, '>');
  await until(() => a.toString() === '>safe');
  t.pass('the healthy stream carries on');
  await healthy.close();
});

test('seq: relays between streams without echo, through a chain', async (t) => {
  const [a, b, c] = [1, 2, 3].map((clientId) => new Seq({ clientId }));
  const ab = await replicate(a, b);
  const bc = await replicate(b, c);
  let updatesAtA = 0;
  a.on('update', (_u: Buffer, origin: unknown) => origin !== undefined && updatesAtA++);
  a.insert(0, 'x');
  c.insert(0, 'y');
  await until(() => a.toString() === c.toString() && a.length === 2);
  t.equal(updatesAtA, 1, 'a heard c once, and nothing of its own back');
  await ab.close();
  await bc.close();
});

compliance({
  name: 'Seq',
  create: (id, docName) => new Seq({ id, name: docName }),
  mutate: (seq, i) => {
    if (i % 4 === 3 && seq.length > 0) seq.delete(i % seq.length, 1);
    else seq.insert(i % (seq.length + 1), `${i}`);
  },
  state: (seq) => seq.toArray(),
});
