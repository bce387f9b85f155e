import type { Socket } from 'node:net';
import { type Limits, decode, decodeState, encode, uint } from '../codec/index.js';
import { ReplicationError, errors } from '../errors.js';
import { type VineMessage, vineMessageCodec } from './messages.js';

/** One message as a frame: its length as a varint, then its bytes (the framing of `length-prefixed-stream`). */
export function frame(message: VineMessage): Buffer {
  const body = encode(vineMessageCodec, message);
  return Buffer.concat([encode(uint, body.length), body]);
}

/** Decodes one frame's bytes; anything malformed is ERR_DECODE or ERR_LIMIT. */
export function decodeMessage(bytes: Uint8Array, limits?: Partial<Limits>): VineMessage {
  try {
    return decode(vineMessageCodec, bytes, limits);
  } catch (err) {
    throw err instanceof ReplicationError ? err : errors.decode('malformed vine message', err);
  }
}

/**
 * Reads exactly one frame from `socket` and gives back any bytes after it
 * (`unshift`), leaving the socket paused: the opening frame decides what the
 * rest of the connection is (requests, or a MerkleStore stream). Fails with
 * ERR_FRAME_TOO_LARGE past `limit`, ERR_CLOSED if the socket ends first, and
 * ERR_HANDSHAKE after `timeoutMs`.
 */
export function readFirstFrame(socket: Socket, limit: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const done = (err: Error | undefined, frameBytes?: Buffer, rest?: Buffer) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onClose);
      socket.pause();
      if (err) return reject(err);
      if (rest && rest.length > 0) socket.unshift(rest);
      resolve(frameBytes!);
    };
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const state = decodeState(buffered);
      let length: number;
      try {
        length = uint.decode(state);
      } catch (err) {
        // A truncated varint waits for more bytes; anything else is garbage.
        if (buffered.length < 8 && /truncated/.test(String((err as Error).message))) return;
        return done(errors.decode('malformed frame length', err));
      }
      if (length > limit) return done(errors.frameTooLarge(limit, length));
      if (buffered.length < state.offset + length) return;
      done(undefined, buffered.subarray(state.offset, state.offset + length), buffered.subarray(state.offset + length));
    };
    const onClose = () => done(errors.closed('the connection'));
    const timer = setTimeout(() => done(errors.handshake(`no opening frame within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onClose);
    socket.resume();
  });
}
