import test from 'tape';
import { MemoryLevel } from 'memory-level';
import { MerkleStore, replicate } from '../../lib/index.js';
import { encode, uint } from '../../lib/codec/index.js';
import { type MerkleMessage, merkleMessageCodec } from '../../lib/merkle/messages.js';
import { encodeRecord } from '../../lib/merkle/record.js';
import { FrameType } from '../../lib/stream/frames.js';
import { handshakeFrame, wireFrame } from '../helpers/raw-peer.js';
import { errorOf } from '../helpers/compliance.js';

const DEPTH = 4;

/** A data frame carrying `messages`, encoded without any of the session's checks. */
function dataFrame(...messages: MerkleMessage[]): Buffer {
  const parts = [Buffer.from([FrameType.data]), encode(uint, messages.length), ...messages.map((m) => encode(merkleMessageCodec, m))];
  return wireFrame(Buffer.concat(parts));
}

const hashes = (level: number, parents: number[], bytes: number, last = true): MerkleMessage => ({ type: 'hashes', level, parents, hashes: new Uint8Array(bytes), last });

const cases: Array<[string, MerkleMessage[] | ((store: MerkleStore<unknown>) => MerkleMessage[]), RegExp]> = [
  ['a level beyond the tree depth (wrong depth)', [hashes(DEPTH + 1, [0], 32)], /beyond the tree depth/],
  ['a level out of turn', [hashes(2, [0], 32)], /expected level 1/],
  ['a wrong hash length', [hashes(1, [0], 31)], /hash bytes, expected 32/],
  ['an out-of-range prefix', [hashes(1, [1], 32)], /prefix 1 out of range/],
  [
    // Agree on the left half of level 1, so only node 1 differs and we are offered its children 2 and 3; then descend under node 0.
    'a prefix that was never offered',
    (store) => {
      const level1 = new Uint8Array(32);
      level1.set(store.tree!.hash(1, 0), 0);
      return [{ type: 'hashes', level: 1, parents: [0], hashes: level1, last: true }, hashes(3, [0], 32)];
    },
    /prefix 0 of level 2 was never offered/,
  ],
  ['a bucket out of range', [{ type: 'covered', buckets: [2 ** DEPTH], last: true }], /bucket 16 out of range/],
  ['an end before the walk', [{ type: 'end' }], /unexpected end/],
  [
    'a record whose sibling its context has not seen',
    [{ type: 'entry', key: 'evil', record: encodeRecord({ context: [], siblings: [{ id: 'x', n: 1, ts: 1, value: Buffer.from('\x011') }] }) }],
    /not covered/,
  ],
  [
    'a record whose value is not JSON',
    [{ type: 'entry', key: 'evil', record: encodeRecord({ context: [{ id: 'x', n: 1 }], siblings: [{ id: 'x', n: 1, ts: 1, value: Buffer.from('\x03{{{') }] }) }],
    /invalid JSON/,
  ],
];

for (const [name, messages, pattern] of cases) {
  test(`merkle: a peer sending ${name} gets ERR_DECODE and is disconnected; the store is unchanged`, async (t) => {
    const store = new MerkleStore<unknown>({ db: new MemoryLevel(), id: 'a', depth: DEPTH });
    for (let i = 0; i < 20; i++) await store.put(`k${i}`, i);
    const root = store.rootHash;
    const stream = store.createStream({ failGraceMs: 100 });
    const failed = errorOf(stream);
    stream.resume();
    stream.write(handshakeFrame(store.descriptor));
    await store.open();
    stream.write(dataFrame(...(typeof messages === 'function' ? messages(store) : messages)));
    const err = await failed;
    t.equal(err?.code, 'ERR_DECODE', `coded error: ${err?.message}`);
    t.match(err?.message ?? '', pattern, 'for the right reason');
    t.ok(stream.destroyed, 'disconnected');
    await store.flushed();
    t.equal(store.rootHash, root, 'tree unchanged');
    t.deepEqual((await store.get('evil')).values, [], 'nothing written');
    t.ok(await store.verifyTree(), 'tree agrees with the data');
    const healthy = new MerkleStore<unknown>({ db: new MemoryLevel(), id: 'b', depth: DEPTH });
    const link = await replicate(store, healthy, { live: false });
    await link.done;
    t.equal(healthy.rootHash, root, 'the store still replicates');
    await Promise.all([store.close(), healthy.close()]);
  });
}
