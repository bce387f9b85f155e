import type { TransformCallback } from 'node:stream';
import { createRequire } from 'node:module';
const { Transform } = createRequire(import.meta.url)('readable-stream') as typeof import('node:stream');
import { encode, uint } from '../codec/index.js';
import { hasHeadroom } from './frame-buffer.js';

/**
 * Length-prefixes each frame and passes it on as one buffer: prefix and
 * frame in one chunk become one socket write, so a frame never goes out as
 * two packets (with Nagle's algorithm, the second would wait for an ACK).
 * A frame made with room for its prefix (`allocFrame`) gets it written in
 * place; any other is copied behind a new one.
 *
 * Destroying it only stops it, as length-prefixed-stream's encoder does:
 * frames written after that are dropped, and its readable side is never
 * torn down under a pipe that is still draining it.
 */
export class FrameEncoder extends Transform {
  private stopped = false;

  override _transform(frame: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.stopped) return callback();
    if (!hasHeadroom(frame)) return callback(null, Buffer.concat([encode(uint, frame.length), frame]));
    const start = frame.byteOffset - uint.encodingLength(frame.length);
    const framed = Buffer.from(frame.buffer, start, frame.byteOffset + frame.length - start);
    uint.encode(frame.length, { buffer: framed, offset: 0 });
    callback(null, framed);
  }

  override destroy(err?: Error): this {
    if (this.stopped) return this;
    this.stopped = true;
    if (err) this.emit('error', err);
    this.emit('close');
    return this;
  }
}

export function frameEncoder(): import('node:stream').Transform {
  return new FrameEncoder();
}
