import test from 'tape';
import { decode, encode } from '../../lib/codec/index.js';
import { type DigestEntry, KEYS_GAP_CAP, MAX_VERSION, digestEntriesCodec, expandReply, relativeEntriesCodec } from '../../lib/gossip/digest-codec.js';
import { exchange } from '../../lib/gossip/exchange.js';
import { memberRef } from '../../lib/gossip/member-ref.js';
import { Membership } from '../../lib/gossip/membership.js';
import { NodeState } from '../../lib/gossip/node-state.js';
import { gossipCodec } from '../../lib/gossip/messages.js';
import { testRandom } from '../helpers/seed.js';
import { FakeClock, gossipRounds, node } from './helpers.js';

const entry = (ref: number, version: number, keysGap?: number, dead = false): DigestEntry => ({ ref: ref | 0, refCheck: ref & 0xffff, version, keysGap, dead });

test('digest entries: packed round trip, about seven bytes a member', (t) => {
  const entries = [entry(5, 0), entry(7, 3, 2), entry(-1, 3, undefined, true), entry(-(2 ** 31), 900, 0), entry(12, MAX_VERSION - 1)];
  const bytes = encode(digestEntriesCodec, entries);
  t.deepEqual(decode(digestEntriesCodec, bytes), entries, 'round trip, 32 + 16 bits of reference');
  const many = Array.from({ length: 1000 }, (_, i) => ({ ...memberRef(`10.0.${i >> 8}.${i & 255}:7946`, 1_700_000_000_000 + i), version: 3000 + i * 3, keysGap: undefined, dead: false }));
  const size = encode(digestEntriesCodec, many).length;
  t.ok(size <= 1000 * 7 + 3, `1,000 members in ${size} bytes`);
  t.throws(() => encode(digestEntriesCodec, [entry(1, 5), entry(2, 4)]), /version order/, 'the encoder refuses entries out of version order');
  t.end();
});

test('digest entries: the decoder refuses what no encoder writes', (t) => {
  const code = (f: () => unknown) => {
    try {
      f();
      return 'no error';
    } catch (err) {
      return (err as { code?: string }).code;
    }
  };
  const good = encode(digestEntriesCodec, [entry(1, 10, 3)]);
  t.equal(code(() => decode(digestEntriesCodec, good.subarray(0, good.length - 1))), 'ERR_DECODE', 'truncated');
  t.equal(code(() => decode(digestEntriesCodec, Buffer.from([200, 1, 0, 0, 0, 0, 0, 1]))), 'ERR_DECODE', 'a count the bytes cannot hold');
  // ref, then head = step x 4 + has-gap, then a gap past the cap.
  const badGap = Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 1]), Buffer.from([(200 * 4 + 1) & 0x7f | 0x80, (200 * 4 + 1) >> 7, KEYS_GAP_CAP])]);
  t.equal(code(() => decode(digestEntriesCodec, badGap)), 'ERR_DECODE', 'a keys gap past the cap');
  const tooFar = Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 1]), uintBytes(MAX_VERSION * 4)]);
  t.equal(code(() => decode(digestEntriesCodec, tooFar)), 'ERR_LIMIT', 'a version past the limit');
  t.end();
});

function uintBytes(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Buffer.from(out);
}

test('replies: relative round trip, and what a peer cannot make us accept', (t) => {
  const sent = [entry(1, 10), entry(2, 20, 1), entry(3, 30)];
  const relative = [{ diff: 2, keysGap: undefined, dead: false }, undefined, { diff: -30, keysGap: 0, dead: true }];
  const decoded = Array.from(decode(relativeEntriesCodec, encode(relativeEntriesCodec, relative)));
  t.deepEqual(decoded.map((r) => r ?? null), relative.map((r) => r ?? null), 'round trip');
  t.equal(encode(relativeEntriesCodec, relative).length, 1 + 1 + 1 + 2 + 1, 'count, then about a byte a member (-30 takes two, a gap one more)');
  t.deepEqual(expandReply(sent, decoded, [entry(9, 4)]), [entry(1, 12), entry(3, 0, 0, true), entry(9, 4)], 'expanded against our digest');
  t.throws(() => expandReply(sent, decoded.slice(1), []), /reply names/, 'a count that is not our digest\'s');
  t.throws(() => expandReply(sent, [{ diff: -11, keysGap: undefined, dead: false }, undefined, undefined], []), /out of range/, 'a version below zero');
  t.end();
});

test('heartbeats travel in the digests: no deltas once two nodes are in step', (t) => {
  const clock = new FakeClock();
  const a = node(clock, 9000);
  const b = node(clock, 9001);
  a.setLocalState('k', 'v');
  exchange(a, b);
  for (let i = 0; i < 5; i++) {
    clock.advance(1000);
    a.tick();
    b.tick();
  }
  const versionOfA = a.version;
  const r = exchange(a, b);
  t.equal(b.view().find((v) => v.id === a.id)!.version, versionOfA, 'b holds a\'s latest heartbeat');
  t.equal(a.view().find((v) => v.id === b.id)!.version, b.version, 'and a holds b\'s');
  t.deepEqual(r.messages, [2, 2], 'a digest and an aggregate share each way, no deltas');
  a.setLocalState('k', 'w');
  exchange(b, a);
  t.equal(b.peerValue(a.id, 'k'), 'w', 'a key change still travels as deltas');
  t.end();
});

test('the answering side replies relative to the other\'s digest', (t) => {
  const clock = new FakeClock();
  const random = testRandom('gossip reply');
  const nodes = Array.from({ length: 30 }, (_, i) => node(clock, 9000 + i, { seeds: ['127.0.0.1:9000'] }));
  for (const n of nodes.slice(1)) exchange(n, nodes[0]);
  gossipRounds(clock, nodes, 8, random);
  const [low, high] = [nodes[3], nodes[4]].sort((x, y) => (x.id < y.id ? -1 : 1));
  const r = exchange(high, low);
  const full = gossipCodec.encodingLength(high.digest());
  t.ok(r.bytes[0] < full / 2, `the greater id's digest is a reply: ${r.bytes[0]} bytes against ${full} for a full one`);
  t.end();
});

test('two lives that share a reference are sent whole, by id, and both are kept', (t) => {
  // A real collision takes about 2^16 tries to find on 32 bits and 2^24 on 48: give x and y colliding references by hand.
  const generation = 1_700_000_000_000;
  const x = new Membership({ id: 'x', now: () => clock.now(), generation });
  const y = new Membership({ id: 'y', now: () => clock.now(), generation });
  const clock = new FakeClock(generation);
  {
    const s = new Membership({ id: 's', now: clock.now, generation });
    const b = new Membership({ id: 'b', now: clock.now, generation });
    // Their 32-bit parts meet, which is all it takes to be ambiguous.
    Object.assign((x as unknown as { local: NodeState }).local, { ref: 42, refCheck: 1 });
    Object.assign((y as unknown as { local: NodeState }).local, { ref: 42, refCheck: 2 });
    x.setLocalState('who', 'x');
    y.setLocalState('who', 'y');
    // s holds both lives (however it came to): its digest names reference 42 twice.
    for (const m of [x, y]) s.applyDeltas({ type: 'deltas', id: m.id, generation, address: undefined, from: 0, version: m.version, entries: [{ key: 'who', value: m.id, version: 1, expiresAt: undefined }] }, undefined);
    const held = (s as unknown as { members: Map<string, { state: NodeState }> }).members;
    Object.assign(held.get('x')!.state, { ref: 42, refCheck: 1 });
    Object.assign(held.get('y')!.state, { ref: 42, refCheck: 2 });
    (s as unknown as { refIndex: unknown }).refIndex = undefined;
    t.equal(s.digest().nodes.filter((n) => n.ref === 42).length, 2, 'both are in the digest');
    exchange(s, b);
    t.deepEqual([b.peerValue('x', 'who'), b.peerValue('y', 'who')], ['x', 'y'], 'b learns both, by id');
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      for (const n of [x, y, s, b]) n.tick();
    }
    exchange(x, s);
    exchange(y, s);
    exchange(s, b);
    const versions = (m: Membership) => m.view().filter((v) => v.id === 'x' || v.id === 'y').map((v) => v.version);
    t.deepEqual(versions(s), [x.version, y.version], 'each one\'s heartbeat reaches s under its own id');
    t.deepEqual(versions(b), [x.version, y.version], 'and b');
  }
  t.end();
});
