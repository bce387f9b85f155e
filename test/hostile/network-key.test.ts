// A network key (item 15): keyed streams pass the compliance suite; a peer
// with the wrong key, or none, is refused with ERR_AUTH having been sent
// nothing of the data; a recorded proof cannot be replayed.
import test from 'tape';
import pump from 'pump';
import { PassThrough } from 'node:stream';
import type { AddressInfo } from 'node:net';
import * as lps from 'length-prefixed-stream';
import { Log, MerkleStore, Model, ReplicationError, connect, listen } from '../../lib/index.js';
import { MemoryLevel } from 'memory-level';
import type { Replica } from '../../lib/session/replica.js';
import type { StreamOptions } from '../../lib/stream/duplex.js';
import { FrameType, PROTOCOL_VERSION, handshakeCodec } from '../../lib/stream/frames.js';
import { decodeState } from '../../lib/codec/index.js';
import { type AttackPlan, attack } from './attacker.js';
import { compliance } from '../helpers/compliance.js';
import { merkle, model, orset, seq } from '../helpers/compliance-subjects.js';
import { wireFrame } from '../helpers/raw-peer.js';

const KEY = 'correct horse battery staple';

const keyed = { streamOptions: { key: KEY }, garbageCode: 'ERR_AUTH' };
compliance({ ...model, ...keyed, name: 'keyed model' });
compliance({
  name: 'keyed log',
  create: (id, name) => new Log({ id, name }),
  mutate: (l, i) => void l.append(i),
  state: (l) => l.toJSON(),
  streamOptions: { key: new TextEncoder().encode('0123456789abcdef0123456789abcdef') },
  garbageCode: 'ERR_AUTH',
});
compliance({ ...orset, ...keyed, name: 'keyed orset' });
compliance({ ...seq, ...keyed, name: 'keyed seq' });
compliance({ ...merkle, ...keyed, name: 'keyed merkle' });

interface Outcome {
  errors: (string | undefined)[];
  /** Frame types each side sent the other. */
  sent: [number[], number[]];
}

/** Pipes a stream of `a` and one of `b` together, recording every frame each sends. */
function run(a: Replica, optionsA: StreamOptions, b: Replica, optionsB: StreamOptions): Promise<Outcome> {
  const sa = a.createStream(optionsA);
  const sb = b.createStream(optionsB);
  const sent: [number[], number[]] = [[], []];
  const tap = (into: number[]) => {
    const through = new PassThrough();
    const decoder = lps.decode();
    through.pipe(decoder);
    decoder.on('data', (frame: Buffer) => into.push(frame[0]));
    return through;
  };
  const errors: (string | undefined)[] = [undefined, undefined];
  sa.on('error', (err) => (errors[0] ??= err instanceof ReplicationError ? err.code : `uncoded ${err.message}`));
  sb.on('error', (err) => (errors[1] ??= err instanceof ReplicationError ? err.code : `uncoded ${err.message}`));
  return new Promise((resolve) => pump(sa, tap(sent[0]), sb, tap(sent[1]), sa, () => setImmediate(() => resolve({ errors, sent }))));
}

const DATA_FRAMES = new Set<number>([FrameType.data, FrameType.synced]);

test('network key: peers with the same key sync; both prove it before any data frame', async (t) => {
  const [a, b] = [new Model({ id: 'a' }), new Model({ id: 'b' })];
  a.set('secret', 1);
  b.set('other', 2);
  const outcome = await run(a, { key: KEY, live: false }, b, { key: KEY, live: false });
  t.deepEqual(outcome.errors, [undefined, undefined], 'no error');
  t.deepEqual(b.toJSON(), { other: 2, secret: 1 }, 'synced');
  for (const sent of outcome.sent) {
    const firstData = sent.findIndex((type) => DATA_FRAMES.has(type));
    t.deepEqual(sent.slice(0, firstData), [FrameType.handshake, FrameType.challenge, FrameType.proof], 'handshake, challenge and proof come first');
  }
});

test('network key: a peer with the wrong key is refused with ERR_AUTH and sent nothing of the data', async (t) => {
  const [a, b] = [new Model({ id: 'a' }), new Model({ id: 'b' })];
  a.set('secret', 1);
  b.set('other', 2);
  const outcome = await run(a, { key: KEY }, b, { key: 'another key of enough bytes' });
  t.deepEqual(outcome.errors, ['ERR_AUTH', 'ERR_AUTH'], 'both sides fail with ERR_AUTH');
  t.notOk(outcome.sent[0].some((type) => DATA_FRAMES.has(type)), `a sent no data (${outcome.sent[0]})`);
  t.notOk(outcome.sent[1].some((type) => DATA_FRAMES.has(type)), `b sent no data (${outcome.sent[1]})`);
  t.deepEqual([a.toJSON(), b.toJSON()], [{ secret: 1 }, { other: 2 }], 'both untouched');
});

test('network key: a peer without a key is refused with ERR_AUTH and sent nothing of the data', async (t) => {
  const [a, b] = [new Model({ id: 'a' }), new Model({ id: 'b' })];
  a.set('secret', 1);
  const outcome = await run(a, { key: KEY }, b, {});
  t.equal(outcome.errors[0], 'ERR_AUTH', `the keyed side refuses (${outcome.errors[0]})`);
  t.ok(outcome.errors[1] === 'ERR_AUTH', `the unkeyed side is told ERR_AUTH (${outcome.errors[1]})`);
  t.notOk(outcome.sent[0].some((type) => DATA_FRAMES.has(type)), `the keyed side sent no data (${outcome.sent[0]})`);
  t.deepEqual(b.toJSON(), {}, 'the unkeyed peer learnt nothing');
  t.deepEqual(a.toJSON(), { secret: 1 }, 'the keyed replica is untouched');
});

test('network key: a recorded proof replayed on a new connection is refused (fresh challenges)', async (t) => {
  const [a, b] = [new Model({ id: 'a' }), new Model({ id: 'b' })];
  a.set('secret', 1);
  // Record what b sends a in an honest keyed session.
  const recorded: Buffer[] = [];
  const sa = a.createStream({ key: KEY, live: false });
  const sb = b.createStream({ key: KEY, live: false });
  const through = new PassThrough();
  const decoder = lps.decode();
  through.pipe(decoder);
  decoder.on('data', (frame: Buffer) => recorded.push(Buffer.from(frame)));
  await new Promise((resolve) => pump(sb, through, sa, sb, resolve));
  // Replay it, frame for frame, into a new stream of a.
  const replayed = a.createStream({ key: KEY });
  const code = new Promise<string | undefined>((resolve) => {
    replayed.once('error', (err) => resolve((err as ReplicationError).code));
    replayed.once('close', () => setImmediate(() => resolve(undefined)));
  });
  const out: number[] = [];
  const outDecoder = lps.decode();
  outDecoder.on('data', (frame: Buffer) => out.push(frame[0]));
  replayed.on('data', (chunk: Buffer) => outDecoder.write(chunk));
  for (const frame of recorded) replayed.write(wireFrame(frame));
  t.equal(await code, 'ERR_AUTH', 'refused');
  t.notOk(out.some((type) => DATA_FRAMES.has(type)), 'the replayer was sent no data');
});

test('network key: listen() and connect() take it', async (t) => {
  const [server, client, stranger] = [new Model({ id: 'server' }), new Model({ id: 'client' }), new Model({ id: 'stranger' })];
  server.set('k', 'v');
  const tcp = await listen(server, 0, '127.0.0.1', { key: KEY });
  const port = (tcp.address() as AddressInfo).port;
  const good = connect(client, { port, key: KEY, reconnect: false });
  await new Promise((resolve) => good.once('synced', resolve));
  t.equal(client.get('k'), 'v', 'a client with the key syncs');
  const bad = connect(stranger, { port, reconnect: false });
  const error = await new Promise<ReplicationError>((resolve) => bad.once('peerError', resolve));
  t.equal(error.code, 'ERR_AUTH', 'a client without it is refused');
  t.equal(stranger.get('k'), undefined, 'and learnt nothing');
  good.close();
  bad.close();
  await new Promise((resolve) => tcp.close(resolve));
});

test('network key: too short a key is refused at createStream', (t) => {
  t.throws(() => new Model().createStream({ key: 'short' }), /at least 16 bytes/);
  t.end();
});

// Item 15 and the threat model: what a peer without the key learns. The
// handshake travels in clear before any proof; everything after it waits
// for the peer's proof. A raw TCP peer that tries every order of frames
// receives the handshake, our challenge, perhaps our proof and the error,
// and not one byte of state.
test('network key: a raw peer without the key receives the handshake, a challenge, a proof at most and the error, and no byte of state', async (t) => {
  const server = new Model({ id: 'server-id', name: 'doc-name' });
  server.set('secret-key-name', 'secret value');
  const tcp = await listen(server, 0, '127.0.0.1', { key: KEY, cluster: 'cluster-name' });
  const port = (tcp.address() as AddressInfo).port;
  const challenge = Buffer.concat([Buffer.from([FrameType.challenge]), Buffer.alloc(32, 7)]);
  const bogusProof = Buffer.concat([Buffer.from([FrameType.proof]), Buffer.alloc(32, 9)]);
  // The last peer hangs up instead of proving: the server just closes (no error frame is owed to a peer that left).
  const plans: [string, AttackPlan, string | undefined][] = [
    ['a handshake, then a data frame', { handshake: { cluster: 'cluster-name' }, frames: [Buffer.from([FrameType.data, 0])] }, 'ERR_AUTH'],
    ['a handshake, then a synced marker', { handshake: { cluster: 'cluster-name' }, frames: [Buffer.from([FrameType.synced])] }, 'ERR_AUTH'],
    ['a handshake, a challenge and a made-up proof', { handshake: { cluster: 'cluster-name' }, frames: [challenge, bogusProof] }, 'ERR_AUTH'],
    ['a handshake and a challenge, then it hangs up', { handshake: { cluster: 'cluster-name' }, frames: [challenge], end: true }, undefined],
  ];
  for (const [name, plan, expected] of plans) {
    const { received, code } = await attack(port, server.descriptor, plan);
    const types = received.map((frame) => frame[0]);
    t.equal(code, expected, `${name}: ${expected ? `refused with ${expected}` : 'closed'}`);
    t.ok(types.every((type) => [FrameType.handshake, FrameType.challenge, FrameType.proof, FrameType.error].includes(type as 0)), `${name}: only key-exchange frames came back (${types})`);
    const all = Buffer.concat(received);
    t.notOk(all.includes(Buffer.from('secret')), `${name}: no key or value of the state`);
    // Exactly what the threat model lists as learnt from the handshake.
    const state = decodeState(received[0].subarray(1));
    const handshake = handshakeCodec.decode(state);
    t.deepEqual(handshake, { protocol: 'tendril', version: PROTOCOL_VERSION, kind: 'model', name: 'doc-name', id: 'server-id', cluster: 'cluster-name', params: '', readable: true, writable: true, live: true }, `${name}: the handshake holds protocol, version, kind, document name, replica id, cluster, params and the three flags`);
  }
  await new Promise((resolve) => tcp.close(resolve));
});

// A rateless MerkleStore puts its difference sketch in its handshake (the
// hello) only without a key: under one, a peer without the key learns the
// same fields as from any structure, and not the sketch.
test('network key: a rateless MerkleStore sends no hello (its difference sketch) under a key, and does without one', async (t) => {
  const server = new MerkleStore<unknown>({ db: new MemoryLevel(), id: 'server-id', name: 'doc-name', reconcile: 'rateless' });
  for (let i = 0; i < 10; i++) await server.put(`secret-${i}`, i);
  await server.symbols(); // loaded: a hello would be sent if it could be
  for (const key of [KEY, undefined]) {
    const tcp = await listen(server, 0, '127.0.0.1', { key, cluster: 'cluster-name' });
    const port = (tcp.address() as AddressInfo).port;
    // With the key: a data frame before any proof, refused. Without: a peer that takes nothing and hangs up.
    const handshake = { cluster: 'cluster-name', readable: false, writable: false };
    const { received } = await attack(port, server.descriptor, key ? { handshake, frames: [Buffer.from([FrameType.data, 0])] } : { handshake, end: true });
    const theirs = handshakeCodec.decode(decodeState(received[0].subarray(1)));
    if (key) {
      t.deepEqual(theirs, { protocol: 'tendril', version: PROTOCOL_VERSION, kind: 'merkle', name: 'doc-name', id: 'server-id', cluster: 'cluster-name', params: server.descriptor.params, readable: true, writable: true, live: true }, 'with a key: exactly the fields of every handshake, no hello');
    } else {
      t.ok(theirs.hello !== undefined && theirs.hello.length <= 70, 'without a key: the hello, a sketch of at most 70 bytes');
    }
    await new Promise((resolve) => tcp.close(resolve));
  }
  await server.close();
});
