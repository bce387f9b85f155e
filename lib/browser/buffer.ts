// The browser's Buffer: a Uint8Array with only the parts of Node's Buffer
// that the library calls, on TextEncoder, TextDecoder and DataView. The
// `buffer` package is the whole of Node's API and was the largest part of a
// page's bundle; this is a small fraction of it. Node never loads this file
// (the browser entry installs it as the global `Buffer` where none exists),
// so Node keeps its own, faster Buffer. test/browser/buffer.test.ts checks
// each method against Node's, and that the browser build calls no other.

const encoder = new TextEncoder();
// ignoreBOM: Node's toString keeps a leading U+FEFF, so must we.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

type Encoding = 'utf8' | 'latin1' | 'hex';

/** Node's spellings of the encodings supported here; anything else is refused, as Node refuses an unknown one. */
function encodingOf(name: string | undefined): Encoding {
  switch (name === undefined ? 'utf8' : name.toLowerCase()) {
    case 'utf8':
    case 'utf-8':
      return 'utf8';
    case 'latin1':
    case 'binary':
      return 'latin1';
    case 'hex':
      return 'hex';
    default:
      throw new TypeError(`Unknown encoding: ${name}`);
  }
}

/** UTF-8 bytes of `s`, counting a lone surrogate as U+FFFD (3 bytes), as Node and TextEncoder write it. */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c < 0xdc00 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a pair: 4 bytes for 2 units
      i++;
    } else n += 2;
  }
  return n;
}

/** Whole leading pairs of hex digits, as Node reads them: it stops at the first pair that is not hex. */
function hexBytes(s: string): BrowserBuffer {
  const out = new BrowserBuffer(s.length >>> 1);
  let n = 0;
  for (; n < out.length; n++) {
    const pair = s.slice(2 * n, 2 * n + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(pair)) break;
    out[n] = parseInt(pair, 16);
  }
  return out.subarray(0, n) as BrowserBuffer;
}

export class BrowserBuffer extends Uint8Array {
  /** A string in an encoding, a copy of an array or view, or a view of an ArrayBuffer (as Node's Buffer.from). */
  static override from(value: any, encodingOrOffset?: any, length?: number): BrowserBuffer {
    if (typeof value === 'string') {
      const encoding = encodingOf(encodingOrOffset);
      if (encoding === 'hex') return hexBytes(value);
      const out = new BrowserBuffer(encoding === 'utf8' ? utf8Length(value) : value.length);
      out.write(value, 0, out.length, encoding);
      return out;
    }
    if (value instanceof ArrayBuffer) return new BrowserBuffer(value, encodingOrOffset, length);
    if (value === null || typeof value !== 'object' || typeof value.length !== 'number') {
      throw new TypeError('Buffer.from takes a string, an ArrayBuffer, an array or a typed array');
    }
    const out = new BrowserBuffer(value.length);
    out.set(value);
    return out;
  }

  static alloc(size: number): BrowserBuffer {
    return new BrowserBuffer(size);
  }

  /** Zeroed like alloc: a browser has no pool of unzeroed memory to hand out. */
  static allocUnsafe(size: number): BrowserBuffer {
    return new BrowserBuffer(size);
  }

  static isBuffer(value: unknown): value is BrowserBuffer {
    return value instanceof BrowserBuffer;
  }

  static byteLength(value: string | ArrayBufferView | ArrayBuffer, encoding?: string): number {
    if (typeof value !== 'string') return value.byteLength;
    const kind = encodingOf(encoding);
    return kind === 'utf8' ? utf8Length(value) : kind === 'latin1' ? value.length : value.length >>> 1;
  }

  static concat(list: readonly Uint8Array[], totalLength?: number): BrowserBuffer {
    const out = new BrowserBuffer(list.length === 0 ? 0 : (totalLength ?? list.reduce((sum, part) => sum + part.length, 0)));
    let offset = 0;
    for (const part of list) {
      if (offset >= out.length) break;
      out.set(part.length > out.length - offset ? part.subarray(0, out.length - offset) : part, offset);
      offset += part.length;
    }
    return out;
  }

  /** `write(string[, offset[, length]][, encoding])`: the bytes written; never a partial character. */
  write(s: string, offset?: number | string, length?: number | string, encoding?: string): number {
    if (typeof offset === 'string') [encoding, offset, length] = [offset, 0, undefined];
    else if (typeof length === 'string') [encoding, length] = [length, undefined];
    offset = this.inRange(offset ?? 0, 'offset');
    const target = this.subarray(offset, offset + Math.min(length === undefined ? Infinity : this.inRange(length, 'length'), this.length - offset));
    const kind = encodingOf(encoding);
    if (kind === 'utf8') return encoder.encodeInto(s, target).written;
    const bytes = kind === 'hex' ? hexBytes(s) : s;
    const n = Math.min(bytes.length, target.length);
    for (let i = 0; i < n; i++) target[i] = typeof bytes === 'string' ? bytes.charCodeAt(i) : bytes[i];
    return n;
  }

  override toString(encoding?: string, start = 0, end = this.length): string {
    start = Math.max(0, start);
    end = Math.min(end, this.length);
    const bytes = end > start ? this.subarray(start, end) : this.subarray(0, 0);
    const kind = encodingOf(encoding);
    if (kind === 'utf8') return decoder.decode(bytes);
    let out = '';
    if (kind === 'hex') for (const byte of bytes) out += (byte < 16 ? '0' : '') + byte.toString(16);
    else for (let i = 0; i < bytes.length; i += 4096) out += String.fromCharCode(...bytes.subarray(i, i + 4096));
    return out;
  }

  /** Node's slice is a view, not a copy. */
  override slice(start?: number, end?: number): BrowserBuffer {
    return this.subarray(start, end) as BrowserBuffer;
  }

  /** Copies `[sourceStart, sourceEnd)` into `target` at `targetStart`, as much as fits; the bytes copied. */
  copy(target: Uint8Array, targetStart = 0, sourceStart = 0, sourceEnd = this.length): number {
    const part = this.subarray(sourceStart, Math.min(sourceEnd, sourceStart + target.length - targetStart));
    target.set(part, targetStart);
    return part.length;
  }

  /** As Node's, so JSON.stringify and the canonical check see a Buffer alike in both. */
  toJSON(): { type: 'Buffer'; data: number[] } {
    return { type: 'Buffer', data: Array.from(this) };
  }

  // Fixed-width numbers; out of range throws a RangeError, as in Node.
  readUInt32LE(offset = 0): number {
    return this.view().getUint32(offset, true);
  }

  readDoubleLE(offset = 0): number {
    return this.view().getFloat64(offset, true);
  }

  /** Returns the offset after the value, as Node's write methods do. */
  writeUInt32LE(value: number, offset = 0): number {
    if (!(value >= 0 && value <= 0xffffffff)) throw new RangeError(`${value} is not an unsigned 32-bit integer`);
    this.view().setUint32(offset, value, true);
    return offset + 4;
  }

  writeDoubleLE(value: number, offset = 0): number {
    this.view().setFloat64(offset, value, true);
    return offset + 8;
  }

  /** Node's check of a write's offset and length: whole, and within the buffer. */
  private inRange(n: number, name: string): number {
    if (!Number.isInteger(n) || n < 0 || n > this.length) throw new RangeError(`${name} ${n} is out of range`);
    return n;
  }

  private view(): DataView {
    return new DataView(this.buffer, this.byteOffset, this.byteLength);
  }
}
