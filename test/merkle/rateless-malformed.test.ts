// Malformed rateless messages: each is ERR_DECODE, disconnects the peer
// and leaves the store unchanged.
import test, { type Test } from 'tape';
import { MemoryLevel } from 'memory-level';
import { MerkleStore, replicate } from '../../lib/index.js';
import { encode, uint } from '../../lib/codec/index.js';
import { type MerkleMessage, merkleMessageCodec } from '../../lib/merkle/messages.js';
import { CodedSymbols } from '../../lib/reconcile/index.js';
import { FrameType } from '../../lib/stream/frames.js';
import { handshakeFrame, wireFrame } from '../helpers/raw-peer.js';
import { errorOf } from '../helpers/compliance.js';

function dataFrame(...messages: MerkleMessage[]): Buffer {
  const parts = [Buffer.from([FrameType.data]), encode(uint, messages.length), ...messages.map((m) => encode(merkleMessageCodec, m))];
  return wireFrame(Buffer.concat(parts));
}

function symbols(first: number, count: number, budget = 1000): MerkleMessage {
  const batch = new CodedSymbols(count);
  for (let i = 0; i < count; i++) batch.counts[batch.push()] = 7; // seven items each: never pure, never done
  return { type: 'symbols', budget, batch: { first, symbols: batch } };
}

/** A rateless store of 20 keys and a raw stream to it whose error is awaited. */
async function storeUnderTest() {
  const store = new MerkleStore<unknown>({ db: new MemoryLevel(), id: 'a', depth: 4, reconcile: 'rateless', symbolPrefix: 64 });
  for (let i = 0; i < 20; i++) await store.put(`k${i}`, i);
  const stream = store.createStream({ failGraceMs: 100 });
  const failed = errorOf(stream);
  stream.resume();
  return { store, stream, failed, root: store.rootHash };
}

/** The peer got ERR_DECODE for `pattern` and was disconnected; the store's tree is as it was, and it still replicates. */
async function assertRefusedAndIntact(t: Test, { store, stream, failed, root }: Awaited<ReturnType<typeof storeUnderTest>>, pattern: RegExp): Promise<void> {
  const err = await failed;
  t.equal(err?.code, 'ERR_DECODE', `coded error: ${err?.message}`);
  t.match(err?.message ?? '', pattern, 'for the right reason');
  t.ok(stream.destroyed, 'disconnected');
  await store.flushed();
  t.equal(store.rootHash, root, 'tree unchanged');
  const healthy = new MerkleStore<unknown>({ db: new MemoryLevel(), id: 'b', depth: 4, reconcile: 'rateless' });
  const link = await replicate(store, healthy, { live: false });
  await link.done;
  t.equal(healthy.rootHash, root, 'the store still replicates');
  await Promise.all([store.close(), healthy.close()]);
}

// [name, the raw peer's id ('0' makes the store the decoder, else it sends the symbols), messages, reason]
const cases: Array<[string, string | undefined, MerkleMessage[], RegExp]> = [
  ['symbols to the side that sends them', undefined, [symbols(0, 1)], /the initiator sends them/],
  ['an acknowledgement of symbols never sent', undefined, [{ type: 'progress', received: 1e6, wanted: 1e6 }], /unexpected progress/],
  ['an end before anything was decoded', undefined, [{ type: 'end' }], /unexpected end/],
  ['symbols that do not start at index 0', '0', [symbols(3, 2)], /start at index 0/],
  ['a gap in the symbols', '0', [symbols(0, 2), symbols(5, 2)], /arrived, expected 2/],
  ['more symbols than budgeted', '0', [symbols(0, 3, 2)], /budgeted/],
  ['a fallback to the decoder', '0', [{ type: 'fallback' }], /unexpected fallback/],
  ['a decoded list to the decoder', '0', [{ type: 'decoded', positions: [1], last: true }], /unexpected decoded/],
  ['a tree level after symbols', '0', [symbols(0, 1), { type: 'hashes', level: 0, parents: [], hashes: new Uint8Array(16), last: true }], /unexpected tree message/],
  ['a sketch with too few counters', undefined, [{ type: 'sketch', items: 20, counts: new Uint8Array(127) }], /128 counters/],
  ['a second sketch', undefined, [{ type: 'sketch', items: 20, counts: new Uint8Array(128) }, { type: 'sketch', items: 20, counts: new Uint8Array(128) }], /unexpected sketch/],
  ['a sketch to the decoder', '0', [{ type: 'sketch', items: 20, counts: new Uint8Array(128) }], /unexpected sketch/],
  ['a window to the sender', undefined, [{ type: 'window', end: 10 }], /unexpected window/],
  ['an empty window', '0', [{ type: 'window', end: 0 }], /empty symbol window/],
];

for (const [name, peerId, messages, pattern] of cases) {
  test(`merkle rateless: a peer sending ${name} gets ERR_DECODE and is disconnected; the store is unchanged`, async (t) => {
    const subject = await storeUnderTest();
    subject.stream.write(handshakeFrame(subject.store.descriptor, peerId ? { id: peerId } : {}));
    await subject.store.symbols();
    subject.stream.write(dataFrame(...messages));
    await assertRefusedAndIntact(t, subject, pattern);
  });
}

// The sketch a rateless store puts in its handshake (the hello): anything
// but a sketch message of 64 counters is ERR_DECODE, checked when the
// session starts, before any symbol is read or sent.
const sketchHello = (counters: number) => encode(merkleMessageCodec, { type: 'sketch', items: 20, counts: new Uint8Array(counters) });
const hellos: Array<[string, Uint8Array, RegExp]> = [
  ['bytes that are no message', Uint8Array.of(0xff, 0xff, 0xff), /./],
  ['a sketch of 128 counters', sketchHello(128), /64 counters/],
  ['a window instead of a sketch', encode(merkleMessageCodec, { type: 'window', end: 5 }), /64 counters/],
  ['a sketch with a byte after it', Buffer.concat([sketchHello(64), Uint8Array.of(0)]), /trailing/],
];

for (const [name, hello, pattern] of hellos) {
  test(`merkle rateless: a handshake hello of ${name} gets ERR_DECODE and the peer is disconnected; the store is unchanged`, async (t) => {
    const subject = await storeUnderTest();
    await subject.store.symbols();
    subject.stream.write(handshakeFrame(subject.store.descriptor, { hello }));
    await assertRefusedAndIntact(t, subject, pattern);
  });
}
