/**
 * Frame buffers with room before them for their length prefix, which the
 * `FrameEncoder` then writes in place instead of copying the frame behind
 * a new prefix (a full sync's frames, copied once more, were a tenth of
 * its memory at the peak). Apart from the encoder, so that making a frame
 * needs no stream code.
 */

/** Room for a length prefix: a frame's length as a varint, up to 2^35 - 1. */
const HEADROOM = 5;
/** Frames made by `allocFrame`. Only their room is ever written: the bytes before any other buffer may be someone else's. */
const withHeadroom = new WeakSet<Buffer>();

/** A buffer for a frame of `length` bytes, with room before it for its length prefix. */
export function allocFrame(length: number): Buffer {
  const frame = Buffer.allocUnsafe(HEADROOM + length).subarray(HEADROOM);
  withHeadroom.add(frame);
  return frame;
}

/** Whether `frame` was made by `allocFrame`, so the bytes before it are its own. */
export function hasHeadroom(frame: Buffer): boolean {
  return withHeadroom.has(frame);
}
