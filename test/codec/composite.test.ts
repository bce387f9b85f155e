// Composite codecs: array, map, struct, constant, optional, union, lazy.
import fc from 'fast-check';
import test from 'tape';
import { type Codec, array, bool, bytes, constant, decode, encode, int, lazy, map, optional, string, struct, uint, union } from '../../lib/codec/index.js';
import { checkProperty, propertySeed } from '../helpers/property.js';
import { hex, rejects, roundTrip, survives, throwsCode, unicodeString } from './round-trip.js';

const seed = propertySeed(0xc0_3305);

test('array: fixed cases', (t) => {
  const numbers = array(uint);
  roundTrip(t, numbers, [], 'empty');
  roundTrip(t, numbers, [0], 'one zero');
  roundTrip(t, numbers, [0, 127, 128, 2 ** 31, 2 ** 32, 2 ** 53 - 1], 'varint edges');
  roundTrip(t, numbers, Array.from({ length: 100_000 }, (_, i) => i), '100,000 items');
  roundTrip(t, array(string), ['', 'é', '😀', 'x'.repeat(300)], 'strings');
  roundTrip(t, array(array(int)), [[], [-1], [1, -2, 3]], 'arrays of arrays');
  t.equal(hex(encode(numbers, [1, 2, 3])), '03010203', 'count, then the items');
  t.end();
});

test('array: random arrays (seeded)', (t) => {
  checkProperty(t, 'arrays of uint', fc.property(fc.array(fc.maxSafeNat(), { maxLength: 50 }), (v) => survives(array(uint), v)), { seed, numRuns: 300 });
  const nested = array(array(string));
  checkProperty(t, 'arrays of arrays of strings', fc.property(fc.array(fc.array(unicodeString({ maxLength: 20 }), { maxLength: 5 }), { maxLength: 10 }), (v) => survives(nested, v)), { seed, numRuns: 300 });
  t.end();
});

test('array: maxItems and counts the bytes cannot hold', (t) => {
  const numbers = array(uint);
  const five = encode(numbers, [1, 2, 3, 4, 5]);
  t.deepEqual(decode(numbers, five, { maxItems: 5 }), [1, 2, 3, 4, 5], 'a count equal to maxItems is accepted');
  rejects(t, numbers, five, 'ERR_LIMIT', '5 items over maxItems 4', { maxItems: 4 });
  rejects(t, numbers, [0xff, 0xff, 0xff, 0xff, 0x0f], 'ERR_LIMIT', 'a count of 2^32-1 over the default maxItems');
  rejects(t, numbers, [0x80, 0x80, 0x40], 'ERR_DECODE', 'a count of 2^20 with no bytes left (refused before allocating)');
  rejects(t, numbers, [3, 1, 2], 'ERR_DECODE', 'three items announced, two present');
  t.end();
});

test('array: items that take no bytes need minItemBytes 0', (t) => {
  const units = array(constant('unit'), 0);
  roundTrip(t, units, ['unit', 'unit', 'unit'], 'three zero-byte items');
  t.equal(hex(encode(units, ['unit', 'unit'])), '02', 'only the count is written');
  throwsCode(t, () => encode(array(constant('unit')), ['unit']), 'ERR_INVALID_ARGUMENT', 'the default minimum of 1 byte refuses to write what it could not read');
  const pairs = array(uint, 2);
  throwsCode(t, () => encode(pairs, [5]), 'ERR_INVALID_ARGUMENT', 'a one-byte item under minItemBytes 2');
  rejects(t, pairs, [2, 0x80, 0x01, 0x05], 'ERR_DECODE', 'two items of at least 2 bytes cannot fit in 3');
  t.end();
});

test('map: fixed cases', (t) => {
  const scores = map(string, int);
  roundTrip(t, scores, new Map(), 'empty');
  roundTrip(t, scores, new Map([['alice', 3], ['', -1], ['😀', 2 ** 40]]), 'string keys, including the empty string');
  roundTrip(t, scores, new Map([['__proto__', 1], ['constructor', 2], ['toString', 3]]), 'keys named after Object.prototype members');
  const decoded = decode(scores, encode(scores, new Map([['__proto__', 1]])));
  t.ok(decoded instanceof Map, 'decodes into a Map');
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
  const set = map(uint, constant(true));
  roundTrip(t, set, new Map([[0, true], [1, true], [2, true]]), 'a set with one-byte entries');
  roundTrip(t, map(string, constant(true)), new Map([['', true]]), 'a set holding the empty string');
  t.end();
});

test('map: random maps (seeded)', (t) => {
  const codec = map(string, array(uint));
  const maps = fc.uniqueArray(fc.tuple(unicodeString(), fc.array(fc.nat(), { maxLength: 4 })), { selector: ([k]) => k, maxLength: 20 }).map((entries) => new Map(entries));
  checkProperty(t, 'maps of string to array of uint', fc.property(maps, (m) => survives(codec, m)), { seed, numRuns: 300 });
  t.end();
});

test('map: duplicate keys, maxItems, truncation', (t) => {
  const codec = map(string, uint);
  rejects(t, codec, [2, 1, 0x61, 1, 1, 0x61, 2], 'ERR_DECODE', 'the key "a" twice');
  rejects(t, map(uint, bool), [2, 7, 1, 7, 0], 'ERR_DECODE', 'the key 7 twice');
  const three = encode(codec, new Map([['a', 1], ['b', 2], ['c', 3]]));
  t.equal(decode(codec, three, { maxItems: 3 }).size, 3, 'a count equal to maxItems is accepted');
  rejects(t, codec, three, 'ERR_LIMIT', '3 entries over maxItems 2', { maxItems: 2 });
  rejects(t, codec, [2, 1, 0x61, 1], 'ERR_DECODE', 'second entry missing');
  t.end();
});

test('struct: fixed cases', (t) => {
  const person = struct({ name: string, age: uint, tags: array(string), nick: optional(string) });
  roundTrip(t, person, { name: 'Zoë', age: 0, tags: [], nick: undefined }, 'zero and empty fields');
  roundTrip(t, person, { name: '', age: 2 ** 53 - 1, tags: ['a', '😀'], nick: 'z' }, 'edge fields');
  roundTrip(t, struct({}), {}, 'an empty struct (no bytes)');
  t.equal(hex(encode(struct({ a: uint, b: bool }), { a: 1, b: true })), '0101', 'fields in declaration order, no names on the wire');
  const decoded = decode(person, encode(person, { name: 'n', age: 1, tags: [], nick: undefined }));
  t.deepEqual(Object.keys(decoded), ['name', 'age', 'tags', 'nick'], 'decoded fields in declaration order');
  rejects(t, person, [1, 0x6e], 'ERR_DECODE', 'missing fields');
  t.end();
});

test('struct: random records (seeded)', (t) => {
  const codec = struct({ id: uint, delta: int, label: string, flag: bool, extra: optional(array(uint)) });
  const records = fc.record({
    id: fc.maxSafeNat(),
    delta: fc.integer(),
    label: unicodeString(),
    flag: fc.boolean(),
    extra: fc.option(fc.array(fc.nat()), { nil: undefined }),
  }, { noNullPrototype: true });
  checkProperty(t, 'records round-trip', fc.property(records, (r) => survives(codec, r)), { seed, numRuns: 300 });
  t.end();
});

test('constant: takes no bytes and decodes to its value', (t) => {
  const marker = constant('hello');
  t.equal(encode(marker, 'hello').length, 0, 'no bytes');
  t.equal(decode(marker, new Uint8Array(0)), 'hello', 'decodes from nothing');
  roundTrip(t, constant(42), 42, 'a number constant');
  checkProperty(t, 'any constant decodes from no bytes', fc.property(fc.jsonValue(), (v) => decode(constant(v), new Uint8Array(0)) === v), { seed, numRuns: 200 });
  rejects(t, marker, [0], 'ERR_DECODE', 'a byte after a constant is trailing');
  t.end();
});

test('optional: present, absent, and bad flags', (t) => {
  const maybe = optional(uint);
  roundTrip(t, maybe, undefined, 'absent');
  roundTrip(t, maybe, 0, 'present zero');
  roundTrip(t, maybe, 2 ** 53 - 1, 'present 2^53-1');
  t.equal(hex(encode(maybe, undefined)), '00', 'absent -> 00');
  t.equal(hex(encode(maybe, 5)), '0105', 'present -> 01, then the value');
  checkProperty(t, 'random optional strings', fc.property(fc.option(unicodeString(), { nil: undefined }), (v) => survives(optional(string), v)), { seed, numRuns: 200 });
  rejects(t, maybe, [2, 5], 'ERR_DECODE', 'flag 2');
  rejects(t, maybe, [0xff, 5], 'ERR_DECODE', 'flag 0xff');
  rejects(t, maybe, [], 'ERR_DECODE', 'no flag byte');
  rejects(t, maybe, [1], 'ERR_DECODE', 'flag 1 and no value');
  t.end();
});

type Message = { type: 'hello'; name: string } | { type: 'ping'; seq: number } | { type: 'bye' };
const message = union<Message>({
  hello: [0, struct({ type: constant('hello' as const), name: string })],
  ping: [1, struct({ type: constant('ping' as const), seq: uint })],
  // A tag that needs two bytes, to check the tag is a varint.
  bye: [200, struct({ type: constant('bye' as const) })],
});

test('union: each case round-trips, tagged by a varint', (t) => {
  roundTrip(t, message, { type: 'hello', name: 'ada' }, 'hello');
  roundTrip(t, message, { type: 'ping', seq: 2 ** 32 }, 'ping');
  roundTrip(t, message, { type: 'bye' }, 'bye (tag 200, no body)');
  t.equal(hex(encode(message, { type: 'ping', seq: 7 })), '0107', 'tag 1, then the body');
  t.equal(hex(encode(message, { type: 'bye' })), 'c801', 'tag 200 as a two-byte varint');
  const messages = fc.oneof(
    fc.record({ type: fc.constant('hello' as const), name: unicodeString() }, { noNullPrototype: true }),
    fc.record({ type: fc.constant('ping' as const), seq: fc.maxSafeNat() }, { noNullPrototype: true }),
    fc.constant({ type: 'bye' as const }),
  );
  checkProperty(t, 'random messages round-trip', fc.property(messages, (m) => survives(message, m)), { seed, numRuns: 300 });
  t.end();
});

test('union: unknown tags and types', (t) => {
  rejects(t, message, [2], 'ERR_DECODE', 'unknown tag 2');
  rejects(t, message, [0x80, 0x01], 'ERR_DECODE', 'unknown tag 128');
  rejects(t, message, [], 'ERR_DECODE', 'no tag');
  throwsCode(t, () => encode(message, { type: 'nope' } as unknown as Message), 'ERR_INVALID_ARGUMENT', 'encoding an unknown type');
  throwsCode(t, () => encode(message, { type: '__proto__' } as unknown as Message), 'ERR_INVALID_ARGUMENT', 'encoding the type "__proto__"');
  t.throws(
    () => union<{ type: 'a' } | { type: 'b' }>({ a: [1, struct({ type: constant('a' as const) })], b: [1, struct({ type: constant('b' as const) })] }),
    /duplicate union tag 1/,
    'two cases with one tag are a programming error',
  );
  t.end();
});

// A recursive type: a tree of labelled nodes.
interface Tree {
  label: string;
  children: Tree[];
}
const tree: Codec<Tree> = lazy(() => struct({ label: string, children: array(tree) }));

test('lazy: recursive types round-trip', (t) => {
  roundTrip(t, tree, { label: 'leaf', children: [] }, 'a leaf');
  roundTrip(t, tree, { label: 'root', children: [{ label: 'a', children: [{ label: 'a1', children: [] }] }, { label: 'b', children: [] }] }, 'a small tree');
  const trees = fc.letrec<{ tree: Tree }>((tie) => ({
    tree: fc.record(
      {
        label: fc.string({ maxLength: 3 }),
        children: fc.oneof({ maxDepth: 4, depthIdentifier: 'tree' }, fc.constant<Tree[]>([]), fc.array(tie('tree'), { maxLength: 3 })),
      },
      { noNullPrototype: true },
    ),
  })).tree;
  checkProperty(t, 'random trees round-trip', fc.property(trees, (v) => survives(tree, v)), { seed, numRuns: 200 });
  let built = 0;
  const counted = lazy(() => (built++, uint));
  decode(counted, Uint8Array.of(1));
  decode(counted, Uint8Array.of(2));
  t.equal(built, 1, 'the codec is built once, on first use');
  t.end();
});

test('maxDepth: 10,000-deep nesting fails with ERR_LIMIT, not a stack overflow', (t) => {
  type Nested = Nested[];
  const nested: Codec<Nested> = lazy(() => array(nested));
  // [[[...]]]: a count of 1 at every level, the innermost array empty.
  const deepArrays = [...new Array(9_999).fill(1), 0];
  rejects(t, nested, deepArrays, 'ERR_LIMIT', '10,000 nested arrays');

  type Chain = { next: Chain | undefined };
  const chain: Codec<Chain> = lazy(() => struct({ next: optional(chain) }));
  const deepStructs = [...new Array(9_999).fill(1), 0];
  rejects(t, chain, deepStructs, 'ERR_LIMIT', '10,000 nested structs');

  rejects(t, tree, [...new Array(10_000).fill([0, 1]).flat(), 0, 0], 'ERR_LIMIT', '10,000-deep tree');
  t.end();
});

test('maxDepth: the limit is exact', (t) => {
  type Nested = Nested[];
  const nested: Codec<Nested> = lazy(() => array(nested));
  const depth = (n: number) => [...new Array(n - 1).fill(1), 0];
  t.deepEqual(decode(nested, Uint8Array.from(depth(64))).length, 1, '64 levels with the default maxDepth of 64');
  rejects(t, nested, depth(65), 'ERR_LIMIT', '65 levels with the default maxDepth');
  t.doesNotThrow(() => decode(nested, Uint8Array.from(depth(3)), { maxDepth: 3 }), '3 levels with maxDepth 3');
  rejects(t, nested, depth(4), 'ERR_LIMIT', '4 levels with maxDepth 3', { maxDepth: 3 });
  rejects(t, nested, [0], 'ERR_LIMIT', 'even one level with maxDepth 0', { maxDepth: 0 });
  t.doesNotThrow(() => decode(array(uint), encode(array(uint), [1, 2]), { maxDepth: 1 }), 'siblings do not add up: depth is nesting, not count');
  t.doesNotThrow(() => decode(array(array(uint)), encode(array(array(uint)), [[1], [2], [3]]), { maxDepth: 2 }), 'three sibling arrays at depth 2');
  t.end();
});
