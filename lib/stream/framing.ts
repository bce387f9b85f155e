import type { TransformCallback } from 'node:stream';
import { createRequire } from 'node:module';
const { Transform } = createRequire(import.meta.url)('readable-stream') as typeof import('node:stream');
import { encode, uint } from '../codec/index.js';

/**
 * Length-prefixes each frame and passes it on as one buffer: prefix and
 * frame in one chunk become one socket write, so a frame never goes out as
 * two packets (with Nagle's algorithm, the second would wait for an ACK).
 *
 * Destroying it only stops it, as length-prefixed-stream's encoder does:
 * frames written after that are dropped, and its readable side is never
 * torn down under a pipe that is still draining it.
 */
export class FrameEncoder extends Transform {
  private stopped = false;

  override _transform(frame: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.stopped) return callback();
    callback(null, Buffer.concat([encode(uint, frame.length), frame]));
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
