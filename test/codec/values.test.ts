// Value encodings: json (the default) and binary.
import fc from 'fast-check';
import test from 'tape';
import { array, binary, decode, encode, json, string, valueEncodings } from '../../lib/codec/index.js';
import { canonicalText, canonicalValue } from '../../lib/codec/canonical.js';
import { checkProperty, propertySeed } from '../helpers/property.js';
import { rejects, roundTrip, sameBytes, survives, throwsCode } from './round-trip.js';

const seed = propertySeed(0x0150_0b1e);

/** The json encoding of raw JSON text: the same layout as a string (length, then UTF-8). */
const jsonText = (text: string) => encode(string, text);

test('json: fixed cases', (t) => {
  const cases: [string, unknown][] = [
    ['null', null],
    ['true', true],
    ['false', false],
    ['zero', 0],
    ['negative', -1],
    ['fraction', 1.5],
    ['large number', 1e308],
    ['2^53-1', 2 ** 53 - 1],
    ['empty string', ''],
    ['multi-byte string', 'héllo € 😀'],
    ['leading U+FEFF', '\uFEFFx'],
    ['empty array', []],
    ['empty object', {}],
    ['nested', { a: [1, { b: null, c: 'd' }], e: { f: { g: [] } } }],
    ['unicode keys', { 'ключ': 1, '😀': 2, '': 3 }],
    ['huge string (500 KB)', 'z'.repeat(500_000)],
  ];
  for (const [name, value] of cases) roundTrip(t, json, value, name);
  t.ok(Object.is(decode(json, encode(json, -0)), 0), '-0 comes back as 0, as in JSON');
  t.equal(json.name, 'json', 'named json');
  t.end();
});

test('json: lone surrogates survive as JSON escapes', (t) => {
  roundTrip(t, json, '\uD800', 'a lone high surrogate');
  roundTrip(t, json, { 'k\uDC00': ['a\uDBFFb'] }, 'lone surrogates in keys and nested values');
  t.ok(encode(json, '\uD800').includes(Buffer.from('\\ud800')), 'written as the escape \\ud800, so the bytes stay valid UTF-8');
  t.end();
});

test('json: random JSON values (seeded)', (t) => {
  // JSON has no -0 (it is written as 0), the one value fc.jsonValue makes that JSON cannot carry.
  const values = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);
  checkProperty(t, 'decode(encode(v)) deep-equals v', fc.property(values, (v) => survives(json, v)), { seed, numRuns: 500 });
  t.end();
});

test('json: values JSON cannot carry', (t) => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  throwsCode(t, () => encode(json, undefined), 'ERR_INVALID_ARGUMENT', 'undefined');
  throwsCode(t, () => encode(json, () => 1), 'ERR_INVALID_ARGUMENT', 'a function');
  throwsCode(t, () => encode(json, Symbol('s')), 'ERR_INVALID_ARGUMENT', 'a symbol');
  throwsCode(t, () => encode(json, 1n), 'ERR_INVALID_ARGUMENT', 'a BigInt');
  throwsCode(t, () => encode(json, { n: 1n }), 'ERR_INVALID_ARGUMENT', 'a nested BigInt');
  throwsCode(t, () => encode(json, cyclic), 'ERR_INVALID_ARGUMENT', 'a cycle');
  throwsCode(t, () => encode(json, { toJSON: () => { throw new Error('no'); } }), 'ERR_INVALID_ARGUMENT', 'a throwing toJSON');
  t.end();
});

test('json: malformed input', (t) => {
  for (const text of ['', '{', '[1,]', "{'a':1}", 'undefined', 'NaN', '1 2', '\uFEFF1', '{"a":1,"a"}']) {
    rejects(t, json, jsonText(text), 'ERR_DECODE', `text ${JSON.stringify(text)}`);
  }
  rejects(t, json, [3, 0x22, 0xc0, 0x22], 'ERR_DECODE', 'invalid UTF-8 inside a JSON string');
  rejects(t, json, [5, 0x31], 'ERR_DECODE', 'truncated text');
  t.end();
});

test('json: maxDepth, including 10,000-deep text', (t) => {
  rejects(t, json, jsonText('['.repeat(10_000) + ']'.repeat(10_000)), 'ERR_LIMIT', '10,000 nested arrays');
  rejects(t, json, jsonText('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)), 'ERR_LIMIT', '10,000 nested objects');
  rejects(t, json, jsonText('[{"a":'.repeat(5_000) + '1' + '}]'.repeat(5_000)), 'ERR_LIMIT', '10,000 levels alternating arrays and objects');
  rejects(t, json, jsonText('['.repeat(10_000)), 'ERR_LIMIT', '10,000 unclosed brackets: the limit comes before the syntax error');
  rejects(t, json, jsonText('['.repeat(10_000) + ']'.repeat(10_000)), 'ERR_LIMIT', 'an undefined maxDepth keeps the default', { maxDepth: undefined });
  t.deepEqual(decode(json, jsonText('['.repeat(64) + ']'.repeat(64))), JSON.parse('['.repeat(64) + ']'.repeat(64)), '64 levels with the default maxDepth of 64');
  rejects(t, json, jsonText('['.repeat(65) + ']'.repeat(65)), 'ERR_LIMIT', '65 levels');
  t.deepEqual(decode(json, jsonText('[[1],[2],{"a":[3]}]'), { maxDepth: 3 }), [[1], [2], { a: [3] }], 'siblings do not add up');
  t.end();
});

test('json: brackets inside strings do not count toward the depth', (t) => {
  t.equal(decode(json, jsonText(JSON.stringify('['.repeat(10_000)))), '['.repeat(10_000), '10,000 brackets in a string');
  t.equal(decode(json, jsonText(JSON.stringify('"[[[[' + '{'.repeat(100))), { maxDepth: 1 }), '"[[[[' + '{'.repeat(100), 'brackets after an escaped quote');
  // A string ending in an escaped backslash must close there: the brackets after it are real.
  const afterBackslash = '["\\\\",' + '['.repeat(70) + ']'.repeat(70) + ']';
  rejects(t, json, jsonText(afterBackslash), 'ERR_LIMIT', '71 levels after a string ending in a backslash');
  t.end();
});

test('json: a value has the whole depth budget, wherever it sits (as at the API)', (t) => {
  const values = array(json);
  t.doesNotThrow(() => decode(values, encode(values, [[[[1]]]]), { maxDepth: 3 }), 'an array of JSON [[[1]]]: 3 levels of JSON');
  rejects(t, values, encode(values, [[[[[1]]]]]), 'ERR_LIMIT', 'an array of JSON [[[[1]]]]: 4 levels over maxDepth 3', { maxDepth: 3 });
  t.end();
});

test('json: only canonical text is accepted, so what is relayed is what was received', (t) => {
  for (const text of ['1e309', '-0', '1.0', '{"a":1,"a":2}', ' 1', '{"\\u005f_proto__":1}', '{"b":1,"1":2}', '1E3']) {
    rejects(t, json, jsonText(text), 'ERR_DECODE', `${text} is refused`);
  }
  for (const text of ['0', '1e+21', '{"1":2,"b":1}', '"\\ud800"', '{"__proto__":{"polluted":1}}']) {
    t.equal(JSON.stringify(decode(json, jsonText(text))), text, `${text} is taken`);
  }
  t.end();
});

test('json: maxBytes applies to the text', (t) => {
  const text = jsonText(JSON.stringify('x'.repeat(100))); // 102 bytes of JSON
  t.equal((decode(json, text, { maxBytes: 102 }) as string).length, 100, '102 bytes with maxBytes 102');
  rejects(t, json, text, 'ERR_LIMIT', '102 bytes with maxBytes 101', { maxBytes: 101 });
  t.end();
});

/** Asserts that decoding left Object.prototype alone and that `key` is a plain own data property of `value`. */
function assertPlainKey(t: test.Test, value: unknown, key: string, expected: unknown, name: string): void {
  t.equal(({} as Record<string, unknown>).polluted, undefined, `${name}: ({}).polluted is still undefined`);
  t.notOk(Object.hasOwn(Object.prototype, 'polluted'), `${name}: Object.prototype has no "polluted"`);
  t.equal(Object.getPrototypeOf(value), Object.prototype, `${name}: the result's prototype is Object.prototype`);
  const descriptor = Object.getOwnPropertyDescriptor(value, key);
  t.ok(descriptor && 'value' in descriptor && descriptor.enumerable && descriptor.writable, `${name}: "${key}" is an own, enumerable, writable data property`);
  t.deepEqual(descriptor?.value, expected, `${name}: "${key}" holds the decoded data`);
  t.deepEqual(Object.keys(value as object), [key], `${name}: "${key}" is listed by Object.keys`);
}

test('json: __proto__ and constructor stay plain data', (t) => {
  const proto = decode(json, jsonText('{"__proto__":{"polluted":true}}'));
  assertPlainKey(t, proto, '__proto__', { polluted: true }, '__proto__');
  t.equal((proto as { polluted?: unknown }).polluted, undefined, '__proto__: the result itself did not inherit "polluted"');

  const ctor = decode(json, jsonText('{"constructor":{"prototype":{"polluted":true}}}'));
  assertPlainKey(t, ctor, 'constructor', { prototype: { polluted: true } }, 'constructor');
  t.equal(({}).constructor, Object, 'constructor: ({}).constructor is still Object');

  // Escaped, it is not canonical text: refused, as the canonical-form test shows.

  const nested = decode(json, jsonText('{"a":[{"__proto__":{"polluted":true}}]}')) as { a: object[] };
  assertPlainKey(t, nested.a[0], '__proto__', { polluted: true }, 'nested in an array');

  t.equal(encode(json, proto).toString('utf8', 1), '{"__proto__":{"polluted":true}}', 're-encoding keeps the "__proto__" key');
  t.end();
});

test('binary: raw bytes with a length prefix', (t) => {
  t.equal(binary.name, 'binary', 'named binary');
  roundTrip(t, binary, new Uint8Array(0), 'empty', sameBytes);
  roundTrip(t, binary, Uint8Array.of(0, 0x80, 0xff), 'bytes that are not UTF-8', sameBytes);
  roundTrip(t, binary, new Uint8Array(200_000).fill(9), '200 KB', sameBytes);
  checkProperty(t, 'random byte strings round-trip', fc.property(fc.uint8Array({ maxLength: 1000 }), (b) => survives(binary, b, sameBytes)), { seed, numRuns: 300 });
  rejects(t, binary, encode(binary, new Uint8Array(11)), 'ERR_LIMIT', '11 bytes over maxBytes 10', { maxBytes: 10 });
  rejects(t, binary, [4, 1, 2], 'ERR_DECODE', 'truncated');
  t.end();
});

test('valueEncodings: a frozen registry by name', (t) => {
  t.equal(valueEncodings.json, json, 'json');
  t.equal(valueEncodings.binary, binary, 'binary');
  t.ok(Object.isFrozen(valueEncodings), 'frozen');
  t.end();
});

test('canonicalText: the text canonicalValue gives, and the same refusals', (t) => {
  for (const value of ['x', 0, -0, 1.5, true, null, [1, 'a'], { b: 1, a: [null] }, '\ud800']) {
    t.equal(canonicalText(value), canonicalValue(value).text, JSON.stringify(value));
  }
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (const bad of [undefined, Infinity, 1n, new Date(0), cyclic, [1, , 2], { f: () => 1 }]) {
    throwsCode(t, () => canonicalText(bad), 'ERR_INVALID_ARGUMENT', String(typeof bad));
  }
  throwsCode(t, () => canonicalText('x'.repeat(10), { maxBytes: 8 }), 'ERR_INVALID_ARGUMENT', 'over maxBytes');
  t.end();
});

test('canonicalText: strings, short and long, plain and not, come out as JSON.stringify writes them', (t) => {
  // Every unit the short-string path looks at, alone and around plain text, at the lengths around its cut-off.
  const units = [0x00, 0x1f, 0x20, 0x21, 0x22, 0x5c, 0x7e, 0x7f, 0x80, 0xe9, 0x2028, 0xd800, 0xdc00, 0xfeff].map((u) => String.fromCharCode(u));
  let checked = 0;
  for (const length of [0, 1, 9, 10, 11, 12, 40]) {
    for (const unit of units) {
      for (const at of [0, Math.floor(length / 2), length - 1]) {
        if (at < 0 && length > 0) continue;
        const s = 'a'.repeat(length).split('').map((c, i) => (i === at ? unit : c)).join('');
        if (canonicalText(s) !== JSON.stringify(s)) t.fail(`${JSON.stringify(s)} comes out as ${canonicalText(s)}`);
        checked++;
      }
    }
  }
  t.pass(`${checked} strings around the cut-off and every unit that matters`);
  checkProperty(t, 'any string: the text of JSON.stringify', fc.property(fc.string({ unit: 'binary', maxLength: 14 }), (s) => canonicalText(s) === JSON.stringify(s)), { seed, numRuns: 2000 });
  checkProperty(t, 'any ASCII string: the same', fc.property(fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 14 }), (s) => canonicalText(s) === JSON.stringify(s)), { seed, numRuns: 2000 });
  t.end();
});
