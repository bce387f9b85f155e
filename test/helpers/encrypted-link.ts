import { type AddressInfo, type Socket, connect, createServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { type EncryptOptions, encrypt } from '../../lib/transport/encrypt.js';
import { PROTOCOL } from '../../lib/stream/frames.js';

const PROTOCOL_NAME = Buffer.from(PROTOCOL);

/**
 * A `link` for the compliance suite: one TCP connection on 127.0.0.1, each
 * end inside a Noise channel (`encrypt`, as `listen` and `connect` run it),
 * resolved with the two plaintext ends once both handshakes are done. The
 * first end is the initiator unless `initiator` is 'second'.
 */
export function encryptedLink(options: { initiator?: 'first' | 'second'; first?: EncryptOptions; second?: EncryptOptions } = {}): () => Promise<[Duplex, Duplex]> {
  return async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const dialled = connect((server.address() as AddressInfo).port, '127.0.0.1');
    const answered = await accepted;
    server.close(); // no more connections; this one stays open
    for (const socket of [dialled, answered]) {
      socket.setNoDelay(true);
      // The suite is worthless if replication bypassed the channel: the protocol's name never crosses in clear.
      // Read at `push`, so the tap neither reads nor changes the socket's flow.
      const push = socket.push.bind(socket);
      socket.push = (chunk: any, encoding?: BufferEncoding) => {
        if (Buffer.isBuffer(chunk) && chunk.includes(PROTOCOL_NAME)) throw new Error('plaintext tendril frames on an encrypted link');
        return push(chunk, encoding);
      };
    }
    const firstInitiates = options.initiator !== 'second';
    const secure = (raw: Socket, isInitiator: boolean, encryptOptions: EncryptOptions = {}) =>
      new Promise<Duplex>((resolve, reject) => encrypt(raw, isInitiator, encryptOptions, (plaintext) => resolve(plaintext), reject));
    return Promise.all([secure(dialled, firstInitiates, options.first), secure(answered, !firstInitiates, options.second)]);
  };
}
