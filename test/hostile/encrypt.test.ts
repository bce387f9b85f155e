// Encryption (item 16): replication inside a Noise channel over TCP. Peers'
// static keys are readable and can be allow-listed; a plaintext peer, a
// peer not on the list, and a flipped byte on the wire are each refused
// with a coded error.
import test from 'tape';
import { type AddressInfo, connect as netConnect, createServer } from 'node:net';
import { Model, ReplicationError, connect, encryptionKeyPair, listen } from '../../lib/index.js';
import { handshakeFrame } from '../helpers/raw-peer.js';
import { until } from '../helpers/compliance.js';

const portOf = (server: { address(): unknown }) => (server.address() as AddressInfo).port;
const firstError = (emitter: NodeJS.EventEmitter) => new Promise<ReplicationError>((resolve) => emitter.once('peerError', resolve));

test('encrypt: two replicas sync and replicate live inside a Noise channel, with the allow-list honoured', async (t) => {
  const [serverKeys, clientKeys] = [encryptionKeyPair(), encryptionKeyPair()];
  const [server, client] = [new Model({ id: 'server' }), new Model({ id: 'client' })];
  server.set('secret', 'only for the allowed');
  let seen: Uint8Array | undefined;
  const tcp = await listen(server, 0, '127.0.0.1', { encrypt: { keyPair: serverKeys, allow: (key) => ((seen = key), Buffer.compare(Buffer.from(key), Buffer.from(clientKeys.publicKey)) === 0) } });
  const link = connect(client, { port: portOf(tcp), reconnect: false, encrypt: { keyPair: clientKeys, allow: [serverKeys.publicKey] } });
  await new Promise((resolve) => link.once('synced', resolve));
  t.equal(client.get('secret'), 'only for the allowed', 'synced');
  t.ok(seen && Buffer.compare(Buffer.from(seen), Buffer.from(clientKeys.publicKey)) === 0, 'the server read the client\'s static public key');
  client.set('live', 1);
  await until(() => server.get('live') === 1);
  t.pass('live updates flow');
  link.close();
  await new Promise((resolve) => tcp.close(resolve));
});

test('encrypt: a peer not on the allow-list is refused with ERR_AUTH and learns nothing', async (t) => {
  const server = new Model({ id: 'server' });
  server.set('secret', 1);
  const tcp = await listen(server, 0, '127.0.0.1', { encrypt: { allow: [encryptionKeyPair().publicKey] } });
  const stranger = new Model({ id: 'stranger' });
  const serverError = firstError(tcp);
  const link = connect(stranger, { port: portOf(tcp), reconnect: false, encrypt: {} });
  t.equal((await serverError).code, 'ERR_AUTH', 'the server refuses it');
  await new Promise((resolve) => link.once('disconnect', resolve));
  t.equal(stranger.get('secret'), undefined, 'it learnt nothing');
  await new Promise((resolve) => tcp.close(resolve));
});

test('encrypt: a plaintext peer where encryption is required is refused with a coded error', async (t) => {
  const server = new Model({ id: 'server' });
  server.set('secret', 1);
  const tcp = await listen(server, 0, '127.0.0.1', { encrypt: {} });
  const serverError = firstError(tcp);
  const socket = netConnect(portOf(tcp), '127.0.0.1');
  socket.on('error', () => {});
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  socket.write(handshakeFrame(server.descriptor, { id: 'plain' }));
  const error = await serverError;
  t.ok(error instanceof ReplicationError && error.code === 'ERR_AUTH', `refused with ${error.code}`);
  await new Promise((resolve) => (socket.destroyed ? resolve(null) : socket.once('close', resolve)));
  t.notOk(Buffer.concat(received).includes(Buffer.from('secret')), 'nothing readable was sent');
  await new Promise((resolve) => tcp.close(resolve));
});

for (const direction of ['client to server', 'server to client'] as const) {
  test(`encrypt: a flipped byte in an encrypted frame (${direction}) is refused with a coded error`, async (t) => {
    const server = new Model({ id: 'server' });
    for (let i = 0; i < 20; i++) server.set(`k${i}`, i);
    const tcp = await listen(server, 0, '127.0.0.1', { encrypt: {} });
    // A man in the middle that flips one bit of one direction's traffic once the handshake is over.
    let forwarded = 0;
    const tamper = (chunk: Buffer) => {
      forwarded += chunk.length;
      // Past the Noise handshake (a few hundred bytes): flip a bit in a ciphertext.
      if (forwarded > 400 && chunk.length > 8) chunk[chunk.length - 3] ^= 0x10;
      return chunk;
    };
    const relay = createServer((inbound) => {
      const outbound = netConnect(portOf(tcp), '127.0.0.1');
      inbound.on('error', () => {});
      outbound.on('error', () => {});
      if (direction === 'client to server') {
        outbound.pipe(inbound);
        inbound.on('data', (chunk: Buffer) => outbound.write(tamper(chunk)));
      } else {
        inbound.pipe(outbound);
        outbound.on('data', (chunk: Buffer) => inbound.write(tamper(chunk)));
      }
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const client = new Model({ id: 'client' });
    const link = connect(client, { port: portOf(relay), reconnect: false, encrypt: {} });
    // The side that reads the tampered direction refuses it: the responder (server) or the initiator (client).
    const detected = firstError(direction === 'client to server' ? tcp : link);
    // Enough traffic in the tampered direction to pass the handshake and reach the flip.
    link.once('connect', () => {
      const writer = direction === 'client to server' ? client : server;
      for (let i = 0; i < 200; i++) writer.set(`w${i}`, 'x'.repeat(20));
    });
    const error = await detected;
    t.equal(error.code, 'ERR_AUTH', `the tampered message is refused (${error.message})`);
    link.close();
    await new Promise((resolve) => relay.close(resolve));
    await new Promise((resolve) => tcp.close(resolve));
  });
}

test('encrypt: an encrypting client that reaches a plaintext server is refused with a coded error, both sides', async (t) => {
  const server = new Model({ id: 'server' });
  server.set('secret', 1);
  const tcp = await listen(server, 0, '127.0.0.1', { handshakeTimeoutMs: 2000 });
  const serverError = firstError(tcp);
  const client = new Model({ id: 'client' });
  const link = connect(client, { port: portOf(tcp), reconnect: false, encrypt: { handshakeTimeoutMs: 2000 } });
  const clientError = await firstError(link);
  t.ok(clientError instanceof ReplicationError && clientError.code === 'ERR_AUTH', `the client is refused with ERR_AUTH (${clientError.message})`);
  const error = await serverError;
  t.ok(error instanceof ReplicationError, `the plaintext server refuses the Noise bytes with a coded error (${error.code})`);
  t.equal(client.get('secret'), undefined, 'the client learnt nothing');
  link.close();
  await new Promise((resolve) => tcp.close(resolve));
});
