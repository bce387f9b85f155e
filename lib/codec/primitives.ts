import { errors } from '../errors.js';
import { type Codec, type DecodeState, need } from './codec.js';

/** Unsigned LEB128 varint for integers 0 .. 2^53-1, in its shortest form only. */
export const uint: Codec<number> = {
  encodingLength(n) {
    // Checked here too, not only in encode: the length loop never ends for Infinity.
    checkUint(n);
    return uintLength(n);
  },
  encode(n, state) {
    checkUint(n);
    state.offset = writeUint(state.buffer, state.offset, n);
  },
  decode(state) {
    const buf = state.buffer;
    let offset = state.offset;
    let result = 0;
    let scale = 1;
    // 8 bytes carry 56 bits, enough for 2^53; a ninth byte is always invalid.
    for (let i = 0; i < 8; i++) {
      if (offset >= state.end) throw errors.decode('truncated varint');
      const byte = buf[offset++];
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        // A final zero after continuation bytes adds nothing: refusing it
        // keeps one encoding per value, so re-encoding what we decoded gives
        // back the same bytes.
        if (byte === 0 && i > 0) throw errors.decode('overlong varint');
        if (result > Number.MAX_SAFE_INTEGER) throw errors.decode('varint exceeds 2^53-1');
        state.offset = offset;
        return result;
      }
      scale *= 0x80;
    }
    throw errors.decode('varint longer than 8 bytes');
  },
};

/** The bytes `n` (an unsigned safe integer, not checked) takes as a varint. */
export function uintLength(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let length = 4;
  n = Math.floor(n / 0x10000000);
  while (n > 0) {
    length++;
    n = Math.floor(n / 0x80);
  }
  return length;
}

/**
 * Writes `n` (an unsigned safe integer, not checked) as a varint at
 * `offset`; returns the offset after it. For writers that keep their own
 * buffer and have checked their numbers.
 */
export function writeUint(buf: Uint8Array, offset: number, n: number): number {
  while (n >= 0x80000000) {
    buf[offset++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  while (n >= 0x80) {
    buf[offset++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[offset++] = n;
  return offset;
}

function checkUint(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw errors.invalidArgument(`not an unsigned safe integer: ${n}`);
}

/** Smallest and largest `int`: zig-zag doubles a value, and the result must stay a safe `uint`. */
export const INT_MIN = -(2 ** 52);
export const INT_MAX = 2 ** 52 - 1;

/** Signed integers from -2^52 to 2^52-1, zig-zag mapped onto `uint`. */
export const int: Codec<number> = {
  encodingLength(n) {
    checkInt(n);
    return uint.encodingLength(zigzag(n));
  },
  encode(n, state) {
    checkInt(n);
    uint.encode(zigzag(n), state);
  },
  decode(state) {
    const z = uint.decode(state);
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  },
};

function checkInt(n: number): void {
  if (!Number.isInteger(n) || n < INT_MIN || n > INT_MAX) {
    throw errors.invalidArgument(`not an integer from -2^52 to 2^52-1: ${n}`);
  }
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

export const float64: Codec<number> = {
  encodingLength: () => 8,
  encode(n, state) {
    state.buffer.writeDoubleLE(n, state.offset);
    state.offset += 8;
  },
  decode(state) {
    need(state, 8);
    const n = state.buffer.readDoubleLE(state.offset);
    state.offset += 8;
    return n;
  },
};

export const bool: Codec<boolean> = {
  encodingLength: () => 1,
  encode(b, state) {
    state.buffer[state.offset++] = b ? 1 : 0;
  },
  decode(state) {
    need(state, 1);
    const byte = state.buffer[state.offset++];
    if (byte > 1) throw errors.decode(`invalid boolean byte ${byte}`);
    return byte === 1;
  },
};

/** Length-prefixed bytes. Decoding returns a view into the frame, not a copy. */
export const bytes: Codec<Uint8Array> = {
  encodingLength: (b) => uint.encodingLength(b.byteLength) + b.byteLength,
  encode(b, state) {
    uint.encode(b.byteLength, state);
    state.buffer.set(b, state.offset);
    state.offset += b.byteLength;
  },
  decode(state) {
    const length = readLength(state);
    const view = state.buffer.subarray(state.offset, state.offset + length);
    state.offset += length;
    return view;
  },
};

/** Exactly `size` bytes, no prefix: hashes and ids of fixed width. */
export function fixed(size: number): Codec<Uint8Array> {
  return {
    encodingLength: () => size,
    encode(b, state) {
      if (b.byteLength !== size) throw errors.invalidArgument(`expected ${size} bytes, got ${b.byteLength}`);
      state.buffer.set(b, state.offset);
      state.offset += size;
    },
    decode(state) {
      need(state, size);
      const view = state.buffer.subarray(state.offset, state.offset + size);
      state.offset += size;
      return view;
    },
  };
}

/** ASCII strings up to this many UTF-16 units are written byte by byte: cheaper than any call into the runtime. */
const SHORT_WRITE = 32;

/**
 * Node's Buffer, or a browser's (the `buffer` package: the same API in
 * plain JavaScript). The codec uses only public API on both: Node's
 * `write` and `toString` with an encoding, which beat TextEncoder and
 * TextDecoder there on the short strings that dominate (keys, ids, values);
 * in a browser, TextEncoder and TextDecoder, which beat the package's loops.
 * ASCII is written and read as latin1 (the same bytes), which skips the
 * UTF-8 scan.
 */
const nodeBuffers = typeof process === 'object' && typeof process.versions?.node === 'string';
const utf8Encoder = new TextEncoder();

/**
 * The UTF-8 byte length of `s` (a lone surrogate counts as the 3 bytes of
 * U+FFFD, as Buffer.byteLength counts it). Short ASCII strings, most keys
 * and values, are counted in a loop: cheaper than the call into the runtime.
 */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n > SHORT_WRITE) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  return n;
}

/** Writes `s` as UTF-8 at `offset` (`length` is its byte length); returns the bytes written. */
export function writeUtf8(buf: Buffer, s: string, offset: number, length: number): number {
  // A byte length equal to the length means ASCII: one byte per unit.
  if (length === s.length) {
    if (length <= SHORT_WRITE) {
      for (let i = 0; i < length; i++) buf[offset + i] = s.charCodeAt(i);
      return length;
    }
    if (nodeBuffers) return buf.write(s, offset, length, 'latin1');
  }
  if (nodeBuffers) return buf.write(s, offset, length, 'utf8');
  return utf8Encoder.encodeInto(s, buf.subarray(offset, offset + length)).written;
}

// ignoreBOM: a leading U+FEFF is part of the string, not a byte-order mark to
// strip; without it "\uFEFFx" would decode as "x".
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Length-prefixed UTF-8. Invalid UTF-8 on the wire is ERR_DECODE (never
 * U+FFFD), and a string with lone surrogates is refused on encode, so what
 * is read back is always what was written.
 */
export const string: Codec<string> = {
  encodingLength(s) {
    const length = utf8Length(s);
    return uint.encodingLength(length) + length;
  },
  encode(s, state) {
    const length = utf8Length(s);
    // As many bytes as units means ASCII, which has no surrogates to check.
    if (length !== s.length && !s.isWellFormed()) throw errors.invalidArgument('string has lone surrogates');
    uint.encode(length, state);
    state.offset += writeUtf8(state.buffer, s, state.offset, length);
  },
  decode(state) {
    const length = readLength(state);
    const start = state.offset;
    const end = start + length;
    state.offset = end;
    return decodeUtf8(state.buffer, start, end);
  },
};

export function decodeUtf8(buf: Buffer, start: number, end: number): string {
  // ASCII is by far the common case and needs no validation.
  if (end - start <= SHORT_READ) return decodeShort(buf, start, end);
  for (let i = start; i < end; i++) {
    if (buf[i]! > 0x7f) return decodeNonAscii(buf, start, end);
  }
  if (nodeBuffers) return buf.toString('latin1', start, end);
  return fatalUtf8.decode(buf.subarray(start, end));
}

/** ASCII strings up to this many bytes are read through `codes`: faster than a slice of the buffer. */
const SHORT_READ = 20;
/** One array of each length up to SHORT_READ, reused: the character codes of a short string. */
const codes: number[][] = Array.from({ length: SHORT_READ + 1 }, (_, n) => new Array<number>(n).fill(0));

/**
 * Most keys, ids and small values: the bytes are checked and copied into a
 * reused plain array, and one String.fromCharCode call makes the string in
 * one allocation. In Node this beats `toString` (whose argument checks cost
 * more than the copy) and even the internal `latin1Slice`.
 */
function decodeShort(buf: Buffer, start: number, end: number): string {
  const chars = codes[end - start]!;
  for (let i = start; i < end; i++) {
    const byte = buf[i]!;
    if (byte > 0x7f) return decodeNonAscii(buf, start, end);
    chars[i - start] = byte;
  }
  return String.fromCharCode.apply(null, chars);
}

function decodeNonAscii(buf: Buffer, start: number, end: number): string {
  try {
    return fatalUtf8.decode(buf.subarray(start, end));
  } catch (err) {
    throw errors.decode('invalid UTF-8', err);
  }
}

/** Reads a byte length, checked against maxBytes and the bytes left. */
export function readLength(state: DecodeState): number {
  const length = uint.decode(state);
  if (length > state.limits.maxBytes) throw errors.limit('byte length', length, state.limits.maxBytes);
  need(state, length);
  return length;
}

/** Reads an item count, checked against maxItems and the bytes left (each item takes at least one byte). */
export function readCount(state: DecodeState, minItemBytes = 1): number {
  const count = uint.decode(state);
  if (count > state.limits.maxItems) throw errors.limit('item count', count, state.limits.maxItems);
  if (count * minItemBytes > state.end - state.offset) throw errors.decode(`count ${count} exceeds the bytes left`);
  return count;
}
