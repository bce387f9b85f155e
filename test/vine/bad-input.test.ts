import { connect } from 'node:net';
import test from 'tape';
import { MemoryLevel } from 'memory-level';
import { decode, encode, json, uint } from '../../lib/codec/index.js';
import { encodeRecord, writeRecord, EMPTY_RECORD } from '../../lib/merkle/record.js';
import { decodeMessage, frame } from '../../lib/vine/frames.js';
import { LocalCluster } from '../../lib/vine/membership.js';
import { MAX_BATCH_ITEMS, type VineMessage, VINE_PROTOCOL_VERSION, membersCodec } from '../../lib/vine/messages.js';
import { VineNode } from '../../lib/vine/node.js';
import { partitionOf } from '../../lib/vine/ring.js';
import { readFirstFrame } from '../../lib/vine/frames.js';

/** A raw peer: sends frames as given, collects every frame it gets back until the node closes or `ms` pass. */
async function exchange(port: number, frames: Buffer[], ms = 500): Promise<{ messages: VineMessage[]; closed: boolean }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  for (const f of frames) socket.write(f);
  const messages: VineMessage[] = [];
  let closed = false;
  socket.on('close', () => (closed = true));
  const end = Date.now() + ms;
  while (Date.now() < end && !closed) {
    try {
      const message = decodeMessage(await readFirstFrame(socket, 1 << 20, Math.max(1, end - Date.now())));
      // The replies of one turn come in one batch frame: the items, in order.
      if (message.type === 'batch') messages.push(...message.items);
      else messages.push(message);
    } catch {
      break;
    }
  }
  socket.destroy();
  return { messages, closed };
}

const hello = (cluster = 'vine', version = VINE_PROTOCOL_VERSION): Buffer => frame({ type: 'hello', version, cluster, node: 'raw-peer', purpose: 'rpc', partition: 0 });

test('vine bad input: coded refusals, nothing stored, the node carries on', async (t) => {
  const local = new LocalCluster();
  const node = new VineNode<any>({ db: new MemoryLevel(), n: 1, r: 1, w: 1, maxValueBytes: 1000, membership: (self) => local.join(self) });
  await node.start();
  const port = node.address!.port;
  try {
    let out = await exchange(port, [hello('other-cluster')]);
    t.equal(out.messages[0]?.type === 'refused' && out.messages[0].code, 'ERR_HANDSHAKE', 'a peer of another cluster is refused with ERR_HANDSHAKE');
    t.ok(out.closed, 'and disconnected');
    out = await exchange(port, [hello('vine', 1)]);
    t.equal(out.messages[0]?.type === 'refused' && out.messages[0].code, 'ERR_PROTOCOL_VERSION', 'a peer of protocol version 1 is refused with ERR_PROTOCOL_VERSION');

    const key = 'k';
    const p = partitionOf(key);
    const big = encodeRecord(writeRecord(EMPTY_RECORD, 'x', [], encode(json, 'v'.repeat(2000)), 1));
    out = await exchange(port, [hello(), frame({ type: 'merge', id: 1, partition: p, key, record: big, hint: undefined })]);
    const reply = (id: number) => out.messages.find((m) => m.type === 'reply' && m.id === id) as Extract<VineMessage, { type: 'reply' }> | undefined;
    t.equal(reply(1)?.code, 'ERR_LIMIT', 'a record with a value over the size limit: ERR_LIMIT');

    out = await exchange(port, [hello(), frame({ type: 'write', id: 2, partition: p, key, value: encode(json, 'v'.repeat(2000)), context: undefined })]);
    t.equal(reply(2)?.code, 'ERR_LIMIT', 'a write with a value over the size limit: ERR_LIMIT');

    const small = encodeRecord(writeRecord(EMPTY_RECORD, 'x', [], encode(json, 'v'), 1));
    out = await exchange(port, [hello(), frame({ type: 'merge', id: 3, partition: p, key, record: small, hint: 'nobody-we-know' })]);
    t.equal(reply(3)?.code, 'ERR_INVALID_ARGUMENT', 'a hint for an unknown node: ERR_INVALID_ARGUMENT');
    t.match(reply(3)?.message ?? '', /unknown node/);

    out = await exchange(port, [hello(), frame({ type: 'merge', id: 4, partition: (p + 1) % 256, key, record: small, hint: undefined })]);
    t.equal(reply(4)?.code, 'ERR_INVALID_ARGUMENT', 'a key sent for another partition is refused');

    // A key that is not a string: the key field holds bytes that are not UTF-8.
    const body = Buffer.concat([encode(uint, 5), encode(uint, 5), encode(uint, p), encode(uint, 2), Buffer.from([0xff, 0xfe])]);
    out = await exchange(port, [hello(), Buffer.concat([encode(uint, body.length), body])]);
    const refused = out.messages.find((m) => m.type === 'refused') as Extract<VineMessage, { type: 'refused' }> | undefined;
    t.equal(refused?.code, 'ERR_DECODE', 'a key that is not a string (bad UTF-8): ERR_DECODE');
    t.ok(out.closed, 'and that peer is disconnected');

    out = await exchange(port, [hello(), Buffer.concat([encode(uint, 2 << 20)])]);
    t.equal((out.messages.find((m) => m.type === 'refused') as any)?.code, 'ERR_FRAME_TOO_LARGE', 'a frame over the limit: ERR_FRAME_TOO_LARGE');

    out = await exchange(port, [Buffer.from([3, 99, 1, 2])]);
    t.equal((out.messages.find((m) => m.type === 'refused') as any)?.code, 'ERR_DECODE', 'garbage instead of a hello: ERR_DECODE');

    // A batch: each item stands alone. A refused item gets its own coded reply; the others are answered.
    out = await exchange(port, [
      hello(),
      frame({
        type: 'batch',
        items: [
          { type: 'merge', id: 5, partition: p, key, record: big, hint: undefined },
          { type: 'read', id: 6, partition: p, key },
          { type: 'merge', id: 7, partition: p, key, record: small, hint: 'nobody-we-know' },
          { type: 'members', id: 8 },
        ],
      }),
    ]);
    t.equal(reply(5)?.code, 'ERR_LIMIT', 'in a batch, a record over the size limit is refused by itself: ERR_LIMIT');
    t.equal(reply(6)?.code, '', 'the read beside it is answered');
    t.equal(reply(7)?.code, 'ERR_INVALID_ARGUMENT', 'and a hint for an unknown node is refused by itself');
    t.ok(!out.closed, 'the peer stays connected');
    const ring = reply(8) && decode(membersCodec, reply(8)!.record);
    t.deepEqual(ring && ring.members.map((m) => [m.id, m.port, m.live]), [[node.id, port, true]], 'a members request answers the members, their addresses and liveness');

    // A malformed batch disconnects: another batch inside it, a hello inside it, a reply sent to a server, more items than allowed.
    const nested = Buffer.concat([encode(uint, 11), encode(uint, 2), encode(uint, 11), encode(uint, 0), encode(uint, 5), encode(uint, 1)]);
    for (const [what, bytes] of [
      ['a batch inside a batch', nested],
      ['a hello inside a batch', Buffer.concat([encode(uint, 11), encode(uint, 1), frame({ type: 'hello', version: 2, cluster: 'vine', node: 'x', purpose: 'rpc', partition: 0 }).subarray(1)])],
      ['a batch of more items than allowed', Buffer.concat([encode(uint, 11), encode(uint, MAX_BATCH_ITEMS + 1), Buffer.alloc(2 * (MAX_BATCH_ITEMS + 1), 0)])],
      ['a truncated batch', Buffer.concat([encode(uint, 11), encode(uint, 3), encode(uint, 10), encode(uint, 1)])],
    ] as const) {
      out = await exchange(port, [hello(), Buffer.concat([encode(uint, bytes.length), bytes])]);
      const refusal = out.messages.find((m) => m.type === 'refused') as Extract<VineMessage, { type: 'refused' }> | undefined;
      t.ok(refusal && /ERR_DECODE|ERR_LIMIT/.test(refusal.code), `${what}: ${refusal?.code}`);
      t.ok(out.closed, 'and that peer is disconnected');
    }
    out = await exchange(port, [hello(), frame({ type: 'batch', items: [{ type: 'read', id: 9, partition: p, key }, { type: 'reply', id: 1, code: '', message: '', record: new Uint8Array(0) }] })]);
    t.equal((out.messages.find((m) => m.type === 'refused') as any)?.code, 'ERR_DECODE', 'a reply sent to a server, in a batch: ERR_DECODE');
    t.equal(reply(9), undefined, 'and nothing of that batch is answered');

    t.deepEqual((await node.get(key, { r: 1 })).values, [], 'nothing was stored by any of it');
    t.equal(node.hintBacklog().size, 0, 'no hint was kept');
    await node.put(key, 'fine');
    t.equal((await node.get(key)).value, 'fine', 'the node carries on');
  } finally {
    await node.stop();
  }
});

/** A json-encoded value whose text is as given (the codec's length prefix, then the text), canonical or not. */
const jsonText = (text: string): Buffer => Buffer.concat([encode(uint, Buffer.byteLength(text)), Buffer.from(text)]);

test('vine bad input: a value that is not canonical JSON is refused at every door, nothing stored', async (t) => {
  const local = new LocalCluster();
  const nodes = [0, 1].map(() => new VineNode<any>({ db: new MemoryLevel(), n: 1, r: 1, w: 1, membership: (self) => local.join(self) }));
  await Promise.all(nodes.map((n) => n.start()));
  const [node] = nodes;
  const port = node.address!.port;
  try {
    // A key this node owns (n = 1), and one the other node owns.
    let own = '';
    let other = '';
    for (let i = 0; !own || !other; i++) {
      const key = `key${i}`;
      const owner = node.ring.preferenceList(partitionOf(key), 1)[0];
      if (owner === node.id) own ||= key;
      else other ||= key;
    }
    const p = partitionOf(own);
    const reply = (out: { messages: VineMessage[] }, id: number) => (out.messages.find((m) => m.type === 'reply' && m.id === id) as Extract<VineMessage, { type: 'reply' }> | undefined)?.code;
    let out = await exchange(port, [hello(), frame({ type: 'write', id: 1, partition: p, key: own, value: jsonText('{"a":1.0}'), context: undefined })]);
    t.equal(reply(out, 1), 'ERR_DECODE', 'a write from the wire with a value not in canonical form: ERR_DECODE');
    const record = encodeRecord(writeRecord(EMPTY_RECORD, 'x', [], jsonText('[1, 2]'), 1));
    out = await exchange(port, [hello(), frame({ type: 'merge', id: 2, partition: p, key: own, record, hint: undefined })]);
    t.equal(reply(out, 2), 'ERR_DECODE', 'a merge from the wire with a value not in canonical form: ERR_DECODE');
    for (const [id, key] of [[3, own], [4, other]] as const) {
      out = await exchange(port, [hello(), frame({ type: 'coordinate', id, op: 'put', key, value: jsonText('"\\u0061"'), context: undefined, n: 1, r: 1, w: 1, timeout: 2000 })]);
      t.equal(reply(out, id), 'ERR_DECODE', `a client's put with a value not in canonical form, for a key ${key === own ? 'the coordinator' : 'another node'} holds: ERR_DECODE`);
    }
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    for (const key of [own, other]) {
      const err = await node.put(key, deep).then(() => undefined, (e) => e);
      t.equal(err?.code, 'ERR_LIMIT', `the API refuses a value nested too deep for a key ${key === own ? 'it' : 'another node'} holds: ERR_LIMIT`);
    }
    for (const key of [own, other]) t.deepEqual((await node.get(key)).values, [], `nothing was stored for ${key === own ? 'the own' : 'the other'} key`);
    await node.put(own, { a: 1 });
    await node.put(other, [1, 2]);
    t.deepEqual([(await nodes[1].get(own)).value, (await nodes[1].get(other)).value], [{ a: 1 }, [1, 2]], 'the canonical values are stored, read from either node');
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});
