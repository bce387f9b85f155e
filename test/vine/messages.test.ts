import test from 'tape';
import { decode, encode } from '../../lib/codec/index.js';
import { type VineMessage, vineMessageCodec } from '../../lib/vine/messages.js';
import { FrameReader, decodeMessage, frame } from '../../lib/vine/frames.js';
import { MAX_BATCH_ITEMS, type BatchItem, membersCodec } from '../../lib/vine/messages.js';
import { encodeFrames } from '../../lib/vine/send-queue.js';
import { routingOf } from '../../lib/vine/remote.js';
import { testRandom } from '../helpers/seed.js';

/** Plain data with byte arrays as hex, so Buffers and Uint8Arrays compare equal. */
const plain = (m: object): string => JSON.stringify(m, (_, v) => (v instanceof Uint8Array || (v && v.type === 'Buffer') ? Buffer.from(v.data ?? v).toString('hex') : v));

test('vine messages round-trip, fixed and seeded random', (t) => {
  const fixed: VineMessage[] = [
    { type: 'hello', version: 1, cluster: 'vine', node: 'abc', purpose: 'rpc', partition: 0 },
    { type: 'hello', version: 1, cluster: 'prod', node: '', purpose: 'sync', partition: 255 },
    { type: 'welcome', node: 'n1' },
    { type: 'refused', code: 'ERR_HANDSHAKE', message: 'another cluster' },
    { type: 'write', id: 1, partition: 7, key: 'clé', value: Buffer.from('"v"'), context: 'AA' },
    { type: 'write', id: 2, partition: 7, key: 'k', value: undefined, context: undefined },
    { type: 'merge', id: 3, partition: 9, key: 'k', record: Buffer.from([1, 2, 3]), hint: 'owner' },
    { type: 'merge', id: 4, partition: 9, key: 'k', record: Buffer.alloc(0), hint: undefined },
    { type: 'read', id: 5, partition: 0, key: '' },
    { type: 'notify', id: 6, key: 'foo', record: Buffer.from([9]) },
    { type: 'coordinate', id: 7, op: 'put', key: 'foo', value: Buffer.from('1'), context: undefined, n: 3, r: 2, w: 2, timeout: 2000 },
    { type: 'reply', id: 8, code: '', message: '', record: Buffer.from([4, 5]) },
    { type: 'roots', id: 9, partitions: [0, 1, 255] },
    { type: 'members', id: 10 },
    { type: 'batch', items: [] },
    {
      type: 'batch',
      items: [
        { type: 'read', id: 11, partition: 3, key: 'a' },
        { type: 'reply', id: 12, code: 'ERR_LIMIT', message: 'too big', record: Buffer.alloc(0) },
        { type: 'members', id: 13 },
      ],
    },
  ];
  for (const m of fixed) t.equal(plain(decode(vineMessageCodec, encode(vineMessageCodec, m))), plain(m), `${m.type} round-trips`);
  const random = testRandom('vine messages');
  const text = () => String.fromCharCode(...Array.from({ length: random.int(0, 12) }, () => random.int(32, 0x2fff)));
  const bytes = () => Buffer.from(Array.from({ length: random.int(0, 40) }, () => random.int(0, 255)));
  for (let i = 0; i < 300; i++) {
    const m: VineMessage = random.chance(0.5)
      ? { type: 'merge', id: random.int(0, 2 ** 40), partition: random.int(0, 255), key: text(), record: bytes(), hint: random.chance(0.5) ? text() : undefined }
      : { type: 'write', id: random.int(0, 2 ** 40), partition: random.int(0, 255), key: text(), value: random.chance(0.5) ? bytes() : undefined, context: random.chance(0.5) ? text() : undefined };
    const framed = frame(m);
    const back = decodeMessage(framed.subarray(framed.length - encode(vineMessageCodec, m).length));
    if (plain(back) !== plain(m)) t.fail(`random message ${i} differs`);
  }
  t.pass('300 random requests round-trip through frames');
  t.throws(() => decodeMessage(Buffer.from([99])), /unknown message tag/, 'an unknown tag is ERR_DECODE');
  t.throws(() => decodeMessage(Buffer.from([5, 1, 0, 5, 0x61])), /ERR_DECODE|need|truncated|end of input/i, 'a truncated request is ERR_DECODE');
  t.throws(() => decodeMessage(encode(vineMessageCodec, { type: 'notify', id: 1, key: 'k'.repeat(100), record: Buffer.alloc(0) }), { maxBytes: 10 }), /limit|exceeds/, 'a key over the byte limit is ERR_LIMIT');
  t.end();
});

test('FrameReader: frames split at every byte, several in one chunk, a length over the limit refused before its bytes come', (t) => {
  const messages = [
    { type: 'welcome' as const, node: 'a' },
    { type: 'reply' as const, id: 7, code: '', message: '', record: new Uint8Array(300).fill(9) },
    { type: 'welcome' as const, node: 'b'.repeat(200) },
  ];
  const wire = Buffer.concat(messages.map((m) => frame(m)));
  for (let cut = 0; cut <= wire.length; cut++) {
    const reader = new FrameReader(1 << 20);
    const frames = [...reader.push(wire.subarray(0, cut)), ...reader.push(wire.subarray(cut))];
    if (frames.length !== 3 || frames.some((f, i) => plain(decodeMessage(f)) !== plain(messages[i]))) {
      t.fail(`split at ${cut}`);
      return t.end();
    }
  }
  const bytewise = new FrameReader(1 << 20);
  let count = 0;
  for (const byte of wire) count += bytewise.push(Buffer.from([byte])).length;
  t.equal(count, 3, 'split at every byte boundary, and fed a byte at a time, the three frames come out whole');
  const small = new FrameReader(100);
  t.throws(() => small.push(frame(messages[1]).subarray(0, 3)), (err: { code?: string }) => err.code === 'ERR_FRAME_TOO_LARGE', 'a declared length over the limit is refused from the length alone');
  t.throws(() => new FrameReader(100).push(Buffer.alloc(9, 0xff)), (err: { code?: string }) => err.code === 'ERR_DECODE', 'a length that never ends is ERR_DECODE');
  t.end();
});

test('encodeFrames: a lone item as a plain frame, more as batches within the frame size and the item count', (t) => {
  const reply = (id: number, size: number): BatchItem => ({ type: 'reply', id, code: '', message: '', record: Buffer.alloc(size, 7) });
  const framesOf = (bytes: Buffer, limit: number) => new FrameReader(limit).push(bytes).map((f) => decodeMessage(f));
  const lone = framesOf(encodeFrames([reply(1, 5)], 1 << 20), 1 << 20);
  t.deepEqual(lone.map((m) => m.type), ['reply'], 'one item: one plain frame');
  const items = Array.from({ length: 50 }, (_, i) => reply(i, 100));
  const small = framesOf(encodeFrames(items, 1000), 1000);
  t.ok(small.length > 1 && small.every((m) => m.type === 'batch' || m.type === 'reply'), `50 items of ~110 bytes under a 1,000-byte limit: ${small.length} frames`);
  const ids = small.flatMap((m) => (m.type === 'batch' ? m.items : [m])).map((m) => (m as { id: number }).id);
  t.deepEqual(ids, items.map((_, i) => i), 'every item arrives once, in order');
  const many = framesOf(encodeFrames(Array.from({ length: MAX_BATCH_ITEMS + 5 }, (_, i) => reply(i, 0)), 1 << 20), 1 << 20);
  t.deepEqual(many.map((m) => (m.type === 'batch' ? m.items.length : 1)), [MAX_BATCH_ITEMS, 5], 'no batch holds more than MAX_BATCH_ITEMS');
  t.throws(() => new FrameReader(500).push(encodeFrames([reply(1, 10), reply(2, 600)], 500)), (err: { code?: string }) => err.code === 'ERR_FRAME_TOO_LARGE', 'an item too large for any frame goes alone, and the peer refuses it');
  t.equal(encodeFrames([], 100).length, 0, 'nothing to send: no bytes');
  t.end();
});

test('members replies decode within limits', (t) => {
  const reply = { vnodes: 64, members: [{ id: 'a', host: '127.0.0.1', port: 7000, live: true }, { id: 'b', host: '127.0.0.1', port: 7002, live: false }] };
  t.deepEqual(decode(membersCodec, encode(membersCodec, reply)), reply, 'round-trips');
  t.throws(() => decode(membersCodec, encode(membersCodec, reply), { maxItems: 1 }), (err: { code?: string }) => err.code === 'ERR_LIMIT', 'more members than the limit: ERR_LIMIT');
  t.end();
});

test('a client refuses a members reply past its limits before building a ring', (t) => {
  const member = (i: number) => ({ id: `n${i}`, host: '127.0.0.1', port: 7000 + i, live: true });
  const isLimit = (err: { code?: string }) => err.code === 'ERR_LIMIT';
  const routing = routingOf(encode(membersCodec, { vnodes: 64, members: [member(0), member(1)] }));
  t.deepEqual([...routing.members.keys()], ['n0', 'n1'], 'a reply within the limits gives its members');
  t.throws(() => routingOf(encode(membersCodec, { vnodes: 64, members: Array.from({ length: 1025 }, (_, i) => member(i)) })), isLimit, '1,025 members: ERR_LIMIT');
  t.throws(() => routingOf(encode(membersCodec, { vnodes: 4097, members: [member(0)] })), isLimit, '4,097 virtual nodes: ERR_LIMIT');
  t.throws(() => routingOf(encode(membersCodec, { vnodes: 0, members: [member(0)] })), isLimit, 'no virtual nodes: ERR_LIMIT');
  t.end();
});
