import test from 'tape';
import { FrameEncoder } from '../../lib/stream/framing.js';
import { allocFrame } from '../../lib/stream/frame-buffer.js';
import { encode, uint } from '../../lib/codec/index.js';

/** What the encoder passes on for `frame`, one chunk per frame. */
function framed(frame: Buffer): Buffer[] {
  const encoder = new FrameEncoder();
  const out: Buffer[] = [];
  encoder.on('data', (chunk: Buffer) => out.push(chunk));
  encoder.write(frame);
  return out;
}

// Lengths on each side of the varint's byte boundaries.
const LENGTHS = [0, 1, 127, 128, 16_383, 16_384, 70_000];

test('framing: a frame with room for its prefix is framed in place, to the same bytes as a copied one', (t) => {
  for (const length of LENGTHS) {
    const plain = Buffer.alloc(length, 7);
    const roomy = allocFrame(length);
    roomy.fill(7);
    const expected = Buffer.concat([encode(uint, length), plain]);
    const [fromPlain, ...restPlain] = framed(plain);
    const [fromRoomy, ...restRoomy] = framed(roomy);
    t.deepEqual([restPlain.length, restRoomy.length], [0, 0], `${length} bytes: one chunk each`);
    t.ok(fromPlain.equals(expected) && fromRoomy.equals(expected), `${length} bytes: prefix and frame`);
    const inPlace = fromRoomy!.buffer === roomy.buffer && fromRoomy!.byteOffset + uint.encodingLength(length) === roomy.byteOffset;
    t.ok(inPlace, `${length} bytes: the roomy frame was not copied`);
  }
  t.end();
});

test('framing: the bytes before any other buffer are left alone', (t) => {
  const whole = Buffer.alloc(64, 0xaa);
  const frame = whole.subarray(8);
  const [out] = framed(frame);
  t.ok(whole.subarray(0, 8).equals(Buffer.alloc(8, 0xaa)), 'the bytes before the frame are unchanged');
  t.notEqual(out!.buffer, whole.buffer, 'the frame was copied behind a new prefix');
  t.ok(out!.equals(Buffer.concat([encode(uint, 56), frame])), 'prefix and frame');
  t.end();
});
