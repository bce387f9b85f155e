import test from 'tape';
import pump from 'pump';
import { encode, uint } from '../../lib/codec/index.js';
import { ReplicationError } from '../../lib/errors.js';
import { Membership } from '../../lib/gossip/membership.js';
import { type DigestEntry, type GossipMessage, gossipCodec } from '../../lib/gossip/messages.js';
import { replicate } from '../../lib/stream/replicate.js';
import { FrameType } from '../../lib/stream/frames.js';
import { handshakeFrame, wireFrame } from '../helpers/raw-peer.js';
import { FakeClock, node } from './helpers.js';

/** A data frame of gossip messages, as a raw peer would send it. */
function dataFrame(messages: GossipMessage[]): Buffer {
  const body = Buffer.concat(messages.map((m) => encode(gossipCodec, m)));
  return wireFrame(Buffer.concat([Buffer.from([FrameType.data]), encode(uint, messages.length), body]));
}

/** Sends `frames` after a handshake from a raw peer; resolves with the error the node's stream fails with. */
function rawPeer(m: Membership, frames: Buffer[], overrides: Record<string, unknown> = {}): Promise<ReplicationError | undefined> {
  const stream = m.createStream({ live: false });
  return new Promise((resolve) => {
    stream.once('error', (err) => resolve(err instanceof ReplicationError ? err : undefined));
    stream.once('close', () => setImmediate(() => resolve(undefined)));
    stream.once('end', () => setTimeout(() => resolve(undefined), 50));
    stream.resume();
    stream.write(handshakeFrame(m.descriptor, { cluster: m.cluster, live: false, id: 'raw-peer', ...overrides }));
    for (const f of frames) stream.write(f);
    stream.end();
  });
}

const digest = (nodes: DigestEntry[]): GossipMessage => ({ type: 'digest', windowBytes: 1 << 20, windowMembers: 1 << 20, nodes });
const deltas = (id: string, extra: Partial<Extract<GossipMessage, { type: 'deltas' }>> = {}): GossipMessage => ({
  type: 'deltas',
  id,
  generation: 1,
  address: `127.0.0.1:${1000 + (id.length % 50000)}`,
  from: 0,
  version: 1,
  entries: [],
  ...extra,
});

function setup() {
  const clock = new FakeClock();
  const m = node(clock, 9000, { cluster: 'blue', limits: { maxMembers: 100, maxNewMembersPerExchange: 20 } });
  const friend = node(clock, 9001, { cluster: 'blue' });
  friend.setLocalState('k', 'v');
  return { clock, m, friend };
}

async function learned(m: Membership, friend: Membership) {
  await replicate(m, friend, { live: false });
  return JSON.stringify(m.view());
}

test('another cluster\'s name is refused in the handshake', async (t) => {
  const clock = new FakeClock();
  const blue = node(clock, 9000, { cluster: 'blue' });
  const green = node(clock, 9001, { cluster: 'green' });
  const result = await replicate(blue, green).catch((err) => err);
  t.equal(result?.code, 'ERR_HANDSHAKE', result?.message);
  t.ok(/cluster/.test(result?.message), 'says cluster');
  t.deepEqual([blue.allPeers(), green.allPeers()], [[], []], 'neither learned anything');
});

test('a peer using our own id is refused', async (t) => {
  const { m, friend } = setup();
  const before = await learned(m, friend);
  const err = await rawPeer(m, [dataFrame([digest([])])], { id: m.id });
  t.equal(err?.code, 'ERR_HANDSHAKE', err?.message);
  t.equal(JSON.stringify(m.view()), before, 'membership unchanged');
});

test('a digest over the member limit is refused', async (t) => {
  const { m, friend } = setup();
  const before = await learned(m, friend);
  const nodes = Array.from({ length: 10_000 }, (_, i) => ({ ref: i, refCheck: 0, version: 1, keysGap: undefined, dead: false }));
  const err = await rawPeer(m, [dataFrame([digest(nodes)])]);
  t.equal(err?.code, 'ERR_LIMIT', err?.message);
  t.equal(JSON.stringify(m.view()), before, 'membership unchanged');
});

test('a flood of 10,000 invented members in one exchange: the per-exchange limit, undone', async (t) => {
  const { m, friend } = setup();
  const before = await learned(m, friend);
  const events: string[] = [];
  m.on('new_peer', (p) => events.push(p));
  const flood = Array.from({ length: 10_000 }, (_, i) => deltas(`ghost-${i}`));
  const frames = [dataFrame([digest([])])];
  for (let i = 0; i < flood.length; i += 500) frames.push(dataFrame(flood.slice(i, i + 500)));
  const err = await rawPeer(m, frames);
  t.equal(err?.code, 'ERR_LIMIT', err?.message);
  t.equal(JSON.stringify(m.view()), before, 'membership unchanged: what the flood introduced is undone');
  t.ok(events.length <= 21, `at most the window's worth was ever admitted (${events.length})`);
});

test('the total member limit holds across live streams', async (t) => {
  const { m, friend } = setup();
  const before = await learned(m, friend);
  const stream = m.createStream();
  const error = new Promise<ReplicationError | undefined>((resolve) => stream.once('error', resolve));
  stream.resume();
  stream.write(handshakeFrame(m.descriptor, { cluster: 'blue', id: 'raw-peer' }));
  stream.write(dataFrame([digest([])]));
  for (let i = 0; i < 200; i++) stream.write(dataFrame([deltas(`ghost-${i}`)]));
  const err = await error;
  t.equal(err?.code, 'ERR_LIMIT', err?.message);
  t.ok(m.allPeers().length <= 100, `never more than maxMembers (${m.allPeers().length})`);
  void before;
});

test('oversized values and keys, bad versions and malformed addresses are refused, and nothing is applied', async (t) => {
  const cases: [string, GossipMessage, string][] = [
    ['oversized value', deltas('p1', { entries: [{ key: 'k', value: 'x'.repeat(70_000), version: 1, expiresAt: undefined }] }), 'ERR_LIMIT'],
    ['oversized key', deltas('p1', { entries: [{ key: 'k'.repeat(300), value: 1, version: 1, expiresAt: undefined }] }), 'ERR_LIMIT'],
    ['oversized id', deltas('p'.repeat(200)), 'ERR_LIMIT'],
    ['entries out of order', deltas('p1', { version: 5, entries: [{ key: 'a', value: 1, version: 3, expiresAt: undefined }, { key: 'b', value: 1, version: 2, expiresAt: undefined }] }), 'ERR_DECODE'],
    ['entry beyond the run', deltas('p1', { version: 1, entries: [{ key: 'a', value: 1, version: 3, expiresAt: undefined }] }), 'ERR_DECODE'],
    ['malformed address', deltas('p1', { address: '::1:9000' }), 'ERR_DECODE'],
    ['address with a bad port', deltas('p1', { address: '127.0.0.1:99999' }), 'ERR_DECODE'],
    ['generation at the counter limit', deltas('p1', { generation: 2 ** 52 }), 'ERR_LIMIT'],
  ];
  for (const [what, message, code] of cases) {
    const { m, friend } = setup();
    const before = await learned(m, friend);
    const err = await rawPeer(m, [dataFrame([digest([]), message])]);
    t.equal(err?.code, code, `${what}: ${err?.message}`);
    t.equal(JSON.stringify(m.view()), before, `${what}: membership unchanged`);
  }
  const { m } = setup();
  const ok = await rawPeer(m, [dataFrame([digest([]), deltas('v6-peer', { address: '[::1]:9000' })])]);
  t.equal(ok, undefined, 'an IPv6 address in brackets is fine');
  t.equal(m.peerAddress('v6-peer'), '[::1]:9000');
});

test('deltas before the digest are refused', async (t) => {
  const { m } = setup();
  const err = await rawPeer(m, [dataFrame([deltas('p1')])]);
  t.equal(err?.code, 'ERR_DECODE', err?.message);
  t.deepEqual(m.allPeers(), []);
});

void pump;
