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

/**
 * Splits a connection's bytes into frames (varint length, then that many
 * bytes) straight from its 'data' events: one buffer copy at most per
 * event, no stream objects in between (a busy connection carries many
 * small frames, and a Transform stream per connection cost more than the
 * frames' own decoding). A length over `limit` is ERR_FRAME_TOO_LARGE,
 * before any of that frame is buffered.
 */
const NO_BYTES = Buffer.alloc(0);

export class FrameReader {
  private pending: Buffer = NO_BYTES;

  constructor(private readonly limit: number) {}

  /** The whole frames `chunk` completes, in order; throws a coded error on a bad or oversized length. */
  push(chunk: Buffer): Buffer[] {
    const bytes = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      // The varint length: 7 bits a byte, low bits first.
      let length = 0;
      // The weight of the next byte's 7 bits, as a multiplier: 2 ** shift with a variable shift is a call to pow.
      let scale = 1;
      let at = offset;
      let complete = false;
      while (at < bytes.length) {
        const byte = bytes[at++];
        length += (byte & 0x7f) * scale;
        scale *= 0x80;
        if (byte < 0x80) {
          complete = true;
          break;
        }
        if (scale > 2 ** 49) throw errors.decode('malformed frame length');
      }
      if (!complete) break;
      if (length > this.limit) throw errors.frameTooLarge(this.limit, length);
      if (bytes.length - at < length) break;
      frames.push(bytes.subarray(at, at + length));
      offset = at + length;
    }
    // Keep the unfinished tail (copied, so the frames handed out do not pin a growing buffer).
    this.pending = offset === bytes.length ? NO_BYTES : Buffer.from(bytes.subarray(offset));
    return frames;
  }
}
