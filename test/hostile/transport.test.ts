// The transport and the stream shell under hostile or careless use:
// latency (defect 13), failing streams that must end what they are piped to
// (defect 8), and peers that hold connections open (defect 7).
import test from 'tape';
import { type AddressInfo, Socket, connect as netConnect, createServer } from 'node:net';
import * as lps from 'length-prefixed-stream';
import { Model, ORSet, ReplicationError, Seq, connect, listen } from '../../lib/index.js';
import type { Replica } from '../../lib/session/replica.js';
import { FrameType } from '../../lib/stream/frames.js';
import { encode, uint } from '../../lib/codec/index.js';
import { handshakeFrame, wireFrame } from '../helpers/raw-peer.js';
import { until } from '../helpers/compliance.js';

const portOf = (server: { address(): unknown }) => (server.address() as AddressInfo).port;

test('listen() and connect() turn Nagle off on their sockets', async (t) => {
  const calls: boolean[] = [];
  const original = Socket.prototype.setNoDelay;
  Socket.prototype.setNoDelay = function (this: Socket, noDelay?: boolean) {
    calls.push(noDelay !== false);
    return original.call(this, noDelay);
  };
  try {
    const [a, b] = [new Model({ id: 'a' }), new Model({ id: 'b' })];
    const server = await listen(a, 0);
    const client = connect(b, { port: portOf(server), reconnect: false });
    await new Promise((resolve) => client.once('synced', resolve));
    t.ok(calls.filter(Boolean).length >= 2, `setNoDelay(true) on both ends (${calls.length} calls)`);
    client.close();
    await new Promise((resolve) => server.close(resolve));
  } finally {
    Socket.prototype.setNoDelay = original;
  }
});

test('every frame leaves the stream as one chunk (one socket write), prefix included', async (t) => {
  const a = new Model({ id: 'a' });
  for (let i = 0; i < 50; i++) a.set(`k${i}`, i);
  const stream = a.createStream();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.write(handshakeFrame(a.descriptor, { id: 'peer' }));
  stream.write(wireFrame(Buffer.concat([Buffer.from([FrameType.data, 1, 0]), encode(uint, 0)])));
  await until(() => chunks.length >= 3);
  for (const chunk of chunks) {
    const decoder = lps.decode();
    const frames: Buffer[] = [];
    decoder.on('data', (f: Buffer) => frames.push(f));
    decoder.write(chunk);
    t.equal(frames.length, 1, `a chunk of ${chunk.length} bytes is exactly one frame`);
  }
  stream.destroy();
});

test('the peer\'s error frame ends the readable side, so socket.pipe(stream).pipe(socket) closes the socket', async (t) => {
  const model = new Model({ id: 'server' });
  const errors: unknown[] = [];
  const server = createServer((socket) => {
    const stream = model.createStream();
    stream.on('error', (err) => errors.push(err));
    socket.pipe(stream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = netConnect(portOf(server), '127.0.0.1');
  socket.on('error', () => {});
  socket.write(handshakeFrame(model.descriptor, { id: 'peer' }));
  socket.write(wireFrame(Buffer.concat([Buffer.from([FrameType.error]), encode(uint, 3), Buffer.from('ERR'), encode(uint, 2), Buffer.from('no')])));
  socket.resume();
  const ended = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 10_000);
    socket.once('end', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  t.ok(ended, 'the server ended our socket');
  await until(() => errors.length > 0);
  t.ok(errors[0] instanceof ReplicationError, `the stream then failed with a coded error (${(errors[0] as ReplicationError).code})`);
  socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

test('listen() bounds open connections, and peers that never speak are dropped', async (t) => {
  const model = new Model({ id: 'server' });
  const server = await listen(model, 0, '127.0.0.1', { maxConnections: 2, handshakeTimeoutMs: 2000 });
  const open = () => {
    const socket = netConnect(portOf(server), '127.0.0.1');
    socket.on('error', () => {});
    socket.resume();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    return { socket, closed };
  };
  const count = () => new Promise<number>((resolve) => server.getConnections((_err, n) => resolve(n)));
  const [first, second] = [open(), open()];
  let connections = 0;
  while ((connections = await count()) < 2) await new Promise((resolve) => setTimeout(resolve, 10));
  t.equal(connections, 2, 'two silent peers connected');
  const third = open();
  await third.closed;
  t.ok(!first.socket.destroyed && !second.socket.destroyed, 'the connection over the bound was closed, the others were not');
  await Promise.all([first.closed, second.closed]);
  t.pass('the silent peers were then dropped by the handshake timeout');
  await new Promise((resolve) => server.close(resolve));
});

test('\'synced\' on a connect() client means the server holds the client\'s initial state', async (t) => {
  const [server, client] = [new Model({ id: 'server' }), new Model({ id: 'client' })];
  for (let i = 0; i < 1000; i++) client.set(`k${i}`, i);
  server.set('from-server', true);
  const tcp = await listen(server, 0, '127.0.0.1');
  const link = connect(client, { port: portOf(tcp), reconnect: false });
  const sizes = await new Promise<[number, boolean]>((resolve) => link.once('synced', () => resolve([server.size, client.has('from-server')])));
  t.deepEqual(sizes, [1001, true], 'at the moment of \'synced\', both sides hold each other\'s initial state');
  link.close();
  await new Promise((resolve) => tcp.close(resolve));
});

// Defect 7: a stream whose peer has not sent its handshake holds nothing for it.
test('streams queue nothing for a peer that has not sent its handshake, whatever is written meanwhile', async (t) => {
  const subjects: [string, Replica, (i: number) => void][] = [];
  const model = new Model({ id: 'model' });
  subjects.push(['Model', model, (i) => model.set(`k${i % 100}`, i)]);
  const set = new ORSet({ id: 'orset' });
  subjects.push(['ORSet', set, (i) => void set.add(i)]);
  const text = new Seq({ id: 'seq' });
  subjects.push(['Seq', text, (i) => text.insert(i % (text.length + 1), 'x')]);
  for (const [name, replica, write] of subjects) {
    const silent = Array.from({ length: 200 }, () => replica.createStream({ handshakeTimeoutMs: 0 }));
    for (const stream of silent) stream.resume();
    for (let i = 0; i < 1000; i++) write(i);
    await new Promise((resolve) => setImmediate(resolve));
    const queued = silent.reduce((n, stream) => n + (stream.protocol.session?.queued ?? 0), 0);
    t.equal(queued, 0, `${name}: 200 silent streams hold no queued write after 1,000 writes`);
    for (const stream of silent) stream.destroy();
  }
});

test('an honest peer with nothing to say is kept open by keepalives past the idle timeout', async (t) => {
  const [a, b] = [new Model({ id: 'a' }), new Model({ id: 'b' })];
  const options = { idleTimeoutMs: 1500, keepaliveMs: 100 };
  const [sa, sb] = [a.createStream(options), b.createStream(options)];
  const errors: unknown[] = [];
  sa.on('error', (err) => errors.push(err));
  sb.on('error', (err) => errors.push(err));
  sa.pipe(sb).pipe(sa);
  await until(() => sa.synced && sb.synced);
  await new Promise((resolve) => setTimeout(resolve, 4000)); // quiet for well over the idle timeout
  t.deepEqual(errors, [], 'no timeout');
  t.ok(!sa.destroyed && !sb.destroyed, 'both streams are open');
  a.set('after', 'the quiet');
  await until(() => b.get('after') === 'the quiet');
  t.pass('and still replicate');
  sa.destroy();
  sb.destroy();
});

test('a peer that stops sending (no keepalives) is dropped with ERR_TIMEOUT after the idle timeout', async (t) => {
  const a = new Model({ id: 'a' });
  const stream = a.createStream({ idleTimeoutMs: 300 });
  const error = new Promise<ReplicationError>((resolve) => stream.once('error', resolve));
  stream.resume();
  stream.write(handshakeFrame(a.descriptor, { id: 'quiet' }));
  // The stream's timers do not hold the process open (a socket would): this does, until the error.
  const hold = setInterval(() => {}, 1000);
  const err = await error;
  clearInterval(hold);
  t.ok(err instanceof ReplicationError && err.code === 'ERR_TIMEOUT', `dropped with ${err.code}`);
});
