// Primitive codecs: uint, int, float64, bool, bytes, fixed, string.
// Fixed cases at the edges, then seeded random cases (fast-check).
import fc from 'fast-check';
import test from 'tape';
import { INT_MAX, INT_MIN, bool, bytes, decode, encode, fixed, float64, int, string, struct, uint } from '../../lib/codec/index.js';
import { ReplicationError } from '../../lib/errors.js';
import { checkProperty, propertySeed } from '../helpers/property.js';
import { hex, rejects, roundTrip, sameBytes, survives, throwsCode, unicodeString } from './round-trip.js';

const seed = propertySeed(0x5eed_c0de);

// An independent LEB128 written with BigInt, to compare the codec against.
function leb128(n: bigint): Buffer {
  const out: number[] = [];
  do {
    const low = Number(n & 0x7fn);
    n >>= 7n;
    out.push(n > 0n ? low | 0x80 : low);
  } while (n > 0n);
  return Buffer.from(out);
}

/** What the uint decoder must accept: at most 8 bytes, shortest form, at most 2^53-1, nothing left over. */
function referenceUint(bytes: Uint8Array): number | undefined {
  let value = 0n;
  for (let i = 0; i < bytes.length && i < 8; i++) {
    value |= BigInt(bytes[i] & 0x7f) << BigInt(7 * i);
    if (bytes[i] < 0x80) {
      const shortest = i === 0 || bytes[i] !== 0;
      const whole = i === bytes.length - 1;
      return shortest && whole && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
    }
  }
  return undefined;
}

const VARINT_EDGES = [0, 1, 127, 128, 255, 300, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35, 2 ** 42, 2 ** 49 - 1, 2 ** 49, 2 ** 52, 2 ** 53 - 1];

test('uint: known encodings', (t) => {
  const known: [number, string][] = [
    [0, '00'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [2 ** 31, '8080808008'],
    [2 ** 32, '8080808010'],
    [2 ** 53 - 1, 'ffffffffffffff0f'],
  ];
  for (const [n, expected] of known) t.equal(hex(encode(uint, n)), expected, `${n} -> ${expected}`);
  t.end();
});

test('uint: edge values round-trip and match the reference encoding', (t) => {
  for (const n of VARINT_EDGES) {
    roundTrip(t, uint, n, String(n));
    t.equal(hex(encode(uint, n)), hex(leb128(BigInt(n))), `${n} encodes as the reference LEB128`);
    t.equal(uint.encodingLength(n), leb128(BigInt(n)).length, `${n} takes ${leb128(BigInt(n)).length} bytes`);
  }
  t.end();
});

test('uint: random values (seeded)', (t) => {
  const values = fc.oneof(fc.nat(), fc.maxSafeNat(), fc.constantFrom(...VARINT_EDGES));
  checkProperty(t, 'decode(encode(n)) === n, bytes match the reference', fc.property(values, (n) => survives(uint, n) && encode(uint, n).equals(leb128(BigInt(n)))), { seed, numRuns: 1000 });
  t.end();
});

test('uint: values that cannot be encoded', (t) => {
  for (const n of [-1, 1.5, Number.NaN, Infinity, -Infinity, 2 ** 53, Number.MAX_VALUE]) {
    throwsCode(t, () => uint.encodingLength(n), 'ERR_INVALID_ARGUMENT', `encodingLength(${n})`);
    throwsCode(t, () => encode(uint, n), 'ERR_INVALID_ARGUMENT', `encode(${n})`);
  }
  t.end();
});

test('uint: malformed varints', (t) => {
  rejects(t, uint, [], 'ERR_DECODE', 'empty input');
  rejects(t, uint, [0x80], 'ERR_DECODE', 'continuation bit on the last byte');
  rejects(t, uint, [0xff, 0xff, 0xff], 'ERR_DECODE', 'truncated after three bytes');
  rejects(t, uint, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], 'ERR_DECODE', 'nine bytes');
  rejects(t, uint, new Array(10_000).fill(0x80), 'ERR_DECODE', 'endless 0x80 bytes');
  rejects(t, uint, leb128(2n ** 53n), 'ERR_DECODE', '2^53');
  rejects(t, uint, leb128(2n ** 56n - 1n), 'ERR_DECODE', '2^56-1 (the most 8 bytes hold)');
  rejects(t, uint, [0x80, 0x00], 'ERR_DECODE', 'overlong 0');
  rejects(t, uint, [0xff, 0x80, 0x00], 'ERR_DECODE', 'overlong 127');
  rejects(t, uint, [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 'ERR_DECODE', 'overlong 1 in eight bytes');
  rejects(t, uint, [0x05, 0x00], 'ERR_DECODE', 'trailing byte');
  t.end();
});

test('uint: random bytes decode exactly as the reference says (seeded)', (t) => {
  const varintish = fc.uint8Array({ minLength: 0, maxLength: 10 });
  checkProperty(
    t,
    'decode accepts exactly the canonical varints up to 2^53-1',
    fc.property(varintish, (input) => {
      const expected = referenceUint(input);
      try {
        return decode(uint, input) === expected;
      } catch (err) {
        return expected === undefined && err instanceof ReplicationError && err.code === 'ERR_DECODE';
      }
    }),
    { seed, numRuns: 2000 },
  );
  t.end();
});

test('int: known encodings and edges', (t) => {
  const known: [number, string][] = [
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [-64, '7f'],
    [64, '8001'],
  ];
  for (const [n, expected] of known) t.equal(hex(encode(int, n)), expected, `${n} -> ${expected}`);
  for (const n of [0, 1, -1, 63, -64, 64, -65, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 32, -(2 ** 32), INT_MAX, INT_MIN]) roundTrip(t, int, n, String(n));
  t.equal(decode(int, encode(int, -0)), 0, '-0 is written as 0');
  t.end();
});

test('int: random values (seeded)', (t) => {
  const values = fc.oneof(fc.integer(), fc.bigInt({ min: BigInt(INT_MIN), max: BigInt(INT_MAX) }).map(Number));
  checkProperty(t, 'decode(encode(n)) === n', fc.property(values, (n) => survives(int, n)), { seed, numRuns: 1000 });
  t.end();
});

test('int: values out of range', (t) => {
  for (const n of [INT_MAX + 1, INT_MIN - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 0.5, Number.NaN, Infinity, -Infinity]) {
    throwsCode(t, () => encode(int, n), 'ERR_INVALID_ARGUMENT', `encode(${n})`);
  }
  t.end();
});

test('float64: edge values, and random doubles (seeded)', (t) => {
  const edges = [0, -0, 1, -1.5, Math.PI, Number.EPSILON, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MAX_SAFE_INTEGER + 2, Infinity, -Infinity, Number.NaN];
  for (const n of edges) roundTrip(t, float64, n, String(Object.is(n, -0) ? '-0' : n));
  t.equal(encode(float64, 1).length, 8, 'always 8 bytes');
  checkProperty(t, 'decode(encode(x)) is x (Object.is)', fc.property(fc.double(), (x) => Object.is(decode(float64, encode(float64, x)), x)), { seed, numRuns: 1000 });
  rejects(t, float64, new Array(7).fill(0), 'ERR_DECODE', 'seven bytes');
  t.end();
});

test('bool: both values, and flag bytes other than 0 and 1', (t) => {
  t.equal(hex(encode(bool, false)), '00', 'false -> 00');
  t.equal(hex(encode(bool, true)), '01', 'true -> 01');
  checkProperty(t, 'decode(encode(b)) === b', fc.property(fc.boolean(), (b) => survives(bool, b)), { seed, numRuns: 200 });
  rejects(t, bool, [2], 'ERR_DECODE', 'flag 2');
  rejects(t, bool, [0xff], 'ERR_DECODE', 'flag 0xff');
  rejects(t, bool, [], 'ERR_DECODE', 'no byte');
  t.end();
});

test('bytes: fixed cases', (t) => {
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['one zero byte', Uint8Array.of(0)],
    ['127 bytes (one-byte prefix)', new Uint8Array(127).fill(0xab)],
    ['128 bytes (two-byte prefix)', new Uint8Array(128).fill(0xcd)],
    ['exactly the default maxBytes (1 MiB)', new Uint8Array(1 << 20).fill(7)],
  ];
  for (const [name, value] of cases) roundTrip(t, bytes, value, name, sameBytes);
  t.equal(hex(encode(bytes, Uint8Array.of(1, 2, 3))), '03010203', 'length prefix, then the bytes');
  const frame = Buffer.from('0201020304', 'hex');
  const view = decode(struct({ a: bytes, b: fixed(2) }), frame).a;
  t.equal(view.buffer, frame.buffer, 'decoding returns a view into the input, not a copy');
  t.end();
});

test('bytes: random byte strings (seeded)', (t) => {
  checkProperty(t, 'decode(encode(b)) has the same bytes', fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => survives(bytes, b, sameBytes)), { seed, numRuns: 300 });
  t.end();
});

test('bytes: maxBytes and truncation', (t) => {
  const ten = encode(bytes, new Uint8Array(10));
  t.equal(decode(bytes, ten, { maxBytes: 10 }).length, 10, 'a length equal to maxBytes is accepted');
  rejects(t, bytes, encode(bytes, new Uint8Array(11)), 'ERR_LIMIT', '11 bytes over maxBytes 10', { maxBytes: 10 });
  rejects(t, bytes, encode(bytes, new Uint8Array((1 << 20) + 1)), 'ERR_LIMIT', 'one byte over the default maxBytes');
  rejects(t, bytes, [...leb128(2n ** 53n - 1n)], 'ERR_LIMIT', 'a length of 2^53-1 is refused before reading on');
  rejects(t, bytes, [5, 1, 2, 3, 4], 'ERR_DECODE', 'length 5 with 4 bytes left');
  t.end();
});

test('fixed: exact sizes only', (t) => {
  roundTrip(t, fixed(0), new Uint8Array(0), 'fixed(0)', sameBytes);
  roundTrip(t, fixed(32), new Uint8Array(32).fill(0xee), 'fixed(32)', sameBytes);
  t.equal(encode(fixed(4), Uint8Array.of(1, 2, 3, 4)).length, 4, 'no length prefix');
  checkProperty(t, 'random 32-byte values round-trip', fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (b) => survives(fixed(32), b, sameBytes)), { seed, numRuns: 200 });
  throwsCode(t, () => encode(fixed(32), new Uint8Array(31)), 'ERR_INVALID_ARGUMENT', 'encoding 31 bytes as fixed(32)');
  throwsCode(t, () => encode(fixed(32), new Uint8Array(33)), 'ERR_INVALID_ARGUMENT', 'encoding 33 bytes as fixed(32)');
  rejects(t, fixed(32), new Uint8Array(31), 'ERR_DECODE', '31 bytes for fixed(32)');
  rejects(t, fixed(32), new Uint8Array(33), 'ERR_DECODE', '33 bytes for fixed(32) (trailing byte)');
  t.end();
});

test('string: fixed cases', (t) => {
  const cases: [string, string][] = [
    ['empty', ''],
    ['ASCII', 'hello'],
    ['NUL', '\u0000'],
    ['127 ASCII characters', 'x'.repeat(127)],
    ['128 ASCII characters', 'y'.repeat(128)],
    ['two-byte UTF-8', 'é'],
    ['three-byte UTF-8', '€'],
    ['four-byte UTF-8 (emoji, a surrogate pair)', '😀'],
    ['mixed', 'héllo wörld € 😀 日本語'],
    ['emoji sequence (ZWJ, skin tone)', '👩🏽‍💻'],
    ['a leading U+FEFF is kept', '\uFEFFbom'],
    ['U+FFFD itself', '\uFFFD'],
    ['last code point before the surrogates', '\uD7FF'],
    ['first code point after the surrogates', '\uE000'],
    ['highest code point', '\u{10FFFF}'],
    ['exactly the default maxBytes of ASCII', 'a'.repeat(1 << 20)],
    ['huge multi-byte string (400 KB of emoji)', '😀'.repeat(100_000)],
  ];
  for (const [name, value] of cases) roundTrip(t, string, value, name);
  t.equal(hex(encode(string, '€')), '03e282ac', 'the prefix counts bytes, not characters');
  t.end();
});

test('string: random strings (seeded)', (t) => {
  checkProperty(t, 'any Unicode scalar values round-trip', fc.property(unicodeString({ maxLength: 100 }), (s) => survives(string, s)), { seed, numRuns: 500 });
  checkProperty(t, 'grapheme strings round-trip', fc.property(fc.string({ unit: 'grapheme', maxLength: 100 }), (s) => survives(string, s)), { seed, numRuns: 300 });
  t.end();
});

test('string: invalid UTF-8 is ERR_DECODE, never U+FFFD', (t) => {
  const invalid: [string, number[]][] = [
    ['lone continuation byte', [0x80]],
    ['overlong NUL (C0 80)', [0xc0, 0x80]],
    ['overlong slash (C1 AF)', [0xc1, 0xaf]],
    ['overlong three-byte (E0 80 80)', [0xe0, 0x80, 0x80]],
    ['overlong four-byte (F0 80 80 80)', [0xf0, 0x80, 0x80, 0x80]],
    ['high surrogate encoded in UTF-8 (ED A0 80)', [0xed, 0xa0, 0x80]],
    ['low surrogate encoded in UTF-8 (ED BF BF)', [0xed, 0xbf, 0xbf]],
    ['surrogate pair encoded as two sequences (CESU-8)', [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]],
    ['above U+10FFFF (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]],
    ['F5 lead byte', [0xf5, 0x80, 0x80, 0x80]],
    ['FF byte', [0xff]],
    ['truncated two-byte sequence', [0xc3]],
    ['truncated three-byte sequence', [0xe2, 0x82]],
    ['truncated four-byte sequence', [0xf0, 0x9f, 0x98]],
    ['truncated sequence before ASCII', [0xe2, 0x41]],
  ];
  for (const [name, body] of invalid) rejects(t, string, [body.length, ...body], 'ERR_DECODE', name);
  // The sequence is cut by the length prefix even though the next field holds its last byte.
  rejects(t, struct({ s: string, b: fixed(1) }), [1, 0xc3, 0xa9], 'ERR_DECODE', 'sequence split across the string end');
  checkProperty(
    t,
    'random bytes either fail with ERR_DECODE or decode to a string with exactly those bytes',
    fc.property(fc.uint8Array({ maxLength: 12 }), (body) => {
      try {
        return Buffer.from(decode(string, Buffer.concat([leb128(BigInt(body.length)), body])), 'utf8').equals(body);
      } catch (err) {
        return err instanceof ReplicationError && err.code === 'ERR_DECODE';
      }
    }),
    { seed, numRuns: 3000 },
  );
  t.end();
});

test('string: lone surrogates are refused on encode', (t) => {
  const lone: [string, string][] = [
    ['lone high surrogate', '\uD800'],
    ['lone low surrogate', '\uDC00'],
    ['low before high', '\uDC00\uD800'],
    ['high surrogate at the end', 'abc\uD83D'],
    ['low surrogate in the middle', 'a\uDE00b'],
  ];
  for (const [name, s] of lone) throwsCode(t, () => encode(string, s), 'ERR_INVALID_ARGUMENT', name);
  roundTrip(t, string, '\uD83D\uDE00', 'a proper pair is fine');
  t.end();
});

test('string: maxBytes counts bytes, not characters', (t) => {
  const euros = encode(string, '€€€€'); // 12 bytes
  t.equal(decode(string, euros, { maxBytes: 12 }), '€€€€', '12 bytes with maxBytes 12');
  rejects(t, string, euros, 'ERR_LIMIT', '12 bytes with maxBytes 11', { maxBytes: 11 });
  rejects(t, string, encode(string, 'a'.repeat((1 << 20) + 1)), 'ERR_LIMIT', 'one byte over the default maxBytes');
  rejects(t, string, [3, 0x61, 0x62], 'ERR_DECODE', 'length 3 with 2 bytes left');
  t.end();
});
