import { writeUint } from '../codec/primitives.js';

/**
 * A growable byte buffer with the varint writer the update codec needs.
 * One scratch writer is reused for every update, so encoding a keystroke
 * allocates only its result.
 */
export class Writer {
  buf: Buffer;
  pos = 0;

  constructor(size = 256) {
    this.buf = Buffer.allocUnsafe(size);
  }

  reset(): this {
    this.pos = 0;
    return this;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Unsigned LEB128 varint, 0 .. 2^53-1. */
  uint(n: number): void {
    this.ensure(8);
    this.pos = writeUint(this.buf, this.pos, n);
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /**
   * A length-prefixed UTF-8 string. Lone surrogates become U+FFFD, which is
   * also one UTF-16 unit, so the element count survives the trip.
   */
  utf8(s: string): void {
    if (s.length < 0x80 / 3) {
      // Short strings: the length fits one byte whatever the content.
      this.ensure(1 + s.length * 3);
      const written = this.buf.write(s, this.pos + 1, 'utf8');
      this.buf[this.pos] = written;
      this.pos += 1 + written;
      return;
    }
    const length = Buffer.byteLength(s, 'utf8');
    this.uint(length);
    this.ensure(length);
    this.pos += this.buf.write(s, this.pos, length, 'utf8');
  }

  /** UTF-8 with no length prefix (a column whose length is written once for all). */
  raw(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  append(other: Writer): void {
    const n = other.pos;
    this.ensure(n);
    const from = other.buf;
    const to = this.buf;
    let pos = this.pos;
    if (n < 64) for (let i = 0; i < n; i++) to[pos++] = from[i];
    else {
      to.set(from.subarray(0, n), pos);
      pos += n;
    }
    this.pos = pos;
  }

  /** A copy of what was written. */
  toBuffer(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    return out;
  }
}
