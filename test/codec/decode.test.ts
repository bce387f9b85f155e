// decode(): whole-input rules shared by every codec (truncation, trailing
// bytes, limits defaults), and a mutation fuzz over a message union.
import fc from 'fast-check';
import test from 'tape';
import {
  type Codec,
  DEFAULT_LIMITS,
  array,
  binary,
  bool,
  bytes,
  constant,
  decode,
  encode,
  fixed,
  float64,
  int,
  json,
  lazy,
  map,
  optional,
  string,
  struct,
  uint,
  union,
} from '../../lib/codec/index.js';
import { ReplicationError } from '../../lib/errors.js';
import { checkProperty, propertySeed } from '../helpers/property.js';
import { rejects, same, unicodeString } from './round-trip.js';

const seed = propertySeed(0xdec0de);

type Tree = { label: string; children: Tree[] };
const tree: Codec<Tree> = lazy(() => struct({ label: string, children: array(tree) }));

// One sample per codec, each with a value that takes several bytes.
const samples: [string, Codec<any>, unknown][] = [
  ['uint', uint, 2 ** 53 - 1],
  ['int', int, -(2 ** 40)],
  ['float64', float64, Math.PI],
  ['bool', bool, true],
  ['bytes', bytes, Uint8Array.of(1, 2, 3)],
  ['fixed(4)', fixed(4), Uint8Array.of(9, 8, 7, 6)],
  ['string', string, 'é😀x'],
  ['array', array(uint), [1, 300, 70_000]],
  ['map', map(string, uint), new Map([['a', 1], ['€', 2]])],
  ['struct', struct({ a: uint, b: string }), { a: 5, b: 'bee' }],
  ['constant in a struct', struct({ type: constant('x'), n: uint }), { type: 'x', n: 128 }],
  ['optional', optional(string), 'present'],
  ['union', union<{ type: 'a'; n: number }>({ a: [3, struct({ type: constant('a' as const), n: uint })] }), { type: 'a', n: 99 }],
  ['lazy', tree, { label: 'r', children: [{ label: 'c', children: [] }] }],
  ['json', json, { a: [1, 'é'], b: null }],
  ['binary', binary, Uint8Array.of(0xff, 0x00)],
];

test('every proper prefix of an encoding is ERR_DECODE', (t) => {
  for (const [name, codec, value] of samples) {
    const full = encode(codec, value);
    const wrong: number[] = [];
    for (let length = 0; length < full.length; length++) {
      try {
        decode(codec, full.subarray(0, length));
        wrong.push(length);
      } catch (err) {
        if (!(err instanceof ReplicationError && err.code === 'ERR_DECODE')) wrong.push(length);
      }
    }
    t.deepEqual(wrong, [], `${name}: all ${full.length} prefixes fail with ERR_DECODE`);
  }
  t.end();
});

test('a trailing byte after any encoding is ERR_DECODE', (t) => {
  for (const [name, codec, value] of samples) {
    rejects(t, codec, [...encode(codec, value), 0], 'ERR_DECODE', `${name} + one byte`);
  }
  t.end();
});

test('decode reads a Uint8Array view at any offset', (t) => {
  for (const [name, codec, value] of samples) {
    const bytes = encode(codec, value);
    const backing = new Uint8Array(bytes.length + 7).fill(0xee);
    backing.set(bytes, 3);
    const view = new Uint8Array(backing.buffer, 3, bytes.length);
    const back = decode(codec, view);
    t.ok(same(encode(codec, back), bytes), `${name}: decoded from a plain Uint8Array view`);
  }
  t.end();
});

test('limits: defaults, and undefined means the default', (t) => {
  t.deepEqual({ ...DEFAULT_LIMITS }, { maxBytes: 1 << 20, maxItems: 1 << 20, maxDepth: 64 }, '1 MiB, 1,048,576 items, 64 levels');
  t.ok(Object.isFrozen(DEFAULT_LIMITS), 'the defaults are frozen');
  const bigString = encode(string, 'a'.repeat((1 << 20) + 1));
  rejects(t, string, bigString, 'ERR_LIMIT', 'maxBytes: undefined', { maxBytes: undefined });
  const manyItems = encode(array(bool), new Array((1 << 20) + 1).fill(false));
  rejects(t, array(bool), manyItems, 'ERR_LIMIT', 'maxItems: undefined', { maxItems: undefined });
  type Nested = Nested[];
  const nested: Codec<Nested> = lazy(() => array(nested));
  rejects(t, nested, [...new Array(99).fill(1), 0], 'ERR_LIMIT', 'maxDepth: undefined', { maxDepth: undefined });
  t.equal(decode(string, encode(string, 'abc'), { maxItems: 0 }), 'abc', 'a limit given alone leaves the others at their defaults');
  t.end();
});

// A message union that touches every codec, for the mutation fuzz.
type Message =
  | { type: 'numbers'; u: number; i: number; f: number; b: boolean }
  | { type: 'blobs'; raw: Uint8Array; id: Uint8Array; text: string; value: Uint8Array }
  | { type: 'lists'; items: string[]; index: Map<string, number>; note: string | undefined }
  | { type: 'value'; value: unknown; tree: Tree };

const numbersMessage = struct({ type: constant('numbers' as const), u: uint, i: int, f: float64, b: bool });
const blobsMessage = struct({ type: constant('blobs' as const), raw: bytes, id: fixed(4), text: string, value: binary });
const listsMessage = struct({ type: constant('lists' as const), items: array(string), index: map(string, uint), note: optional(string) });
const valueMessage = struct({ type: constant('value' as const), value: json, tree });
const message = union<Message>({ numbers: [0, numbersMessage], blobs: [1, blobsMessage], lists: [2, listsMessage], value: [3, valueMessage] });

const trees = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.record(
    { label: fc.string({ maxLength: 3 }), children: fc.oneof({ maxDepth: 3, depthIdentifier: 'tree' }, fc.constant<Tree[]>([]), fc.array(tie('tree'), { maxLength: 3 })) },
    { noNullPrototype: true },
  ),
})).tree;

const text = unicodeString({ maxLength: 12 });
const messages: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant('numbers' as const), u: fc.maxSafeNat(), i: fc.integer(), f: fc.double(), b: fc.boolean() }, { noNullPrototype: true }),
  fc.record(
    { type: fc.constant('blobs' as const), raw: fc.uint8Array({ maxLength: 20 }), id: fc.uint8Array({ minLength: 4, maxLength: 4 }), text, value: fc.uint8Array({ maxLength: 20 }) },
    { noNullPrototype: true },
  ),
  fc.record(
    {
      type: fc.constant('lists' as const),
      items: fc.array(text, { maxLength: 6 }),
      index: fc.uniqueArray(fc.tuple(text, fc.nat()), { selector: ([k]) => k, maxLength: 5 }).map((e) => new Map(e)),
      note: fc.option(text, { nil: undefined }),
    },
    { noNullPrototype: true },
  ),
  fc.record({ type: fc.constant('value' as const), value: fc.jsonValue({ maxDepth: 3 }), tree: trees }, { noNullPrototype: true }),
);

type Mutation = { kind: 'flip'; at: number; mask: number } | { kind: 'set'; at: number; byte: number } | { kind: 'insert'; at: number; byte: number } | { kind: 'delete'; at: number } | { kind: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  // Bytes that mean something to the decoders: zero, continuation bits, invalid UTF-8 leads.
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.constantFrom(0x00, 0x01, 0x02, 0x7f, 0x80, 0xc0, 0xed, 0xff) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(input: Buffer, mutations: Mutation[]): Buffer {
  let bytes = [...input];
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : m.at % bytes.length;
    if (m.kind === 'flip' && bytes.length > 0) bytes[at] ^= m.mask;
    else if (m.kind === 'set' && bytes.length > 0) bytes[at] = m.byte;
    else if (m.kind === 'insert') bytes.splice(m.at % (bytes.length + 1), 0, m.byte);
    else if (m.kind === 'delete') bytes.splice(at, 1);
    else if (m.kind === 'truncate') bytes = bytes.slice(0, at);
  }
  return Buffer.from(bytes);
}

test('mutation fuzz: damaged encodings fail only with ERR_DECODE or ERR_LIMIT (seeded)', (t) => {
  const limits = { maxBytes: 64, maxItems: 16, maxDepth: 8 };
  const unexpected: string[] = [];
  checkProperty(
    t,
    'decoding a mutated message returns or throws a coded ReplicationError',
    fc.property(messages, fc.array(mutation, { minLength: 1, maxLength: 4 }), (value, mutations) => {
      const damaged = mutate(encode(message, value), mutations);
      for (const options of [undefined, limits]) {
        try {
          decode(message, damaged, options);
        } catch (err) {
          if (!(err instanceof ReplicationError) || (err.code !== 'ERR_DECODE' && err.code !== 'ERR_LIMIT')) {
            unexpected.push(String(err));
            return false;
          }
        }
      }
      return true;
    }),
    { seed, numRuns: 5000 },
  );
  t.deepEqual(unexpected.slice(0, 1), [], 'no other error escaped');
  t.end();
});

test('mutation fuzz: whatever decodes re-encodes to the same bytes (seeded)', (t) => {
  // float64 (NaN payloads) and json (free-form text) have many spellings per
  // value, so this union leaves out the cases that hold them; every other codec has one.
  type Canonical = Extract<Message, { type: 'blobs' | 'lists' }>;
  const canonical = union<Canonical>({ blobs: [1, blobsMessage], lists: [2, listsMessage] });
  const values = messages.filter((m): m is Canonical => m.type === 'blobs' || m.type === 'lists');
  checkProperty(
    t,
    'one encoding per value: encode(decode(bytes)) equals bytes',
    fc.property(values, fc.array(mutation, { minLength: 1, maxLength: 3 }), (value, mutations) => {
      const damaged = mutate(encode(canonical, value), mutations);
      let decoded: Canonical;
      try {
        decoded = decode(canonical, damaged);
      } catch {
        return true;
      }
      return encode(canonical, decoded).equals(damaged);
    }),
    { seed, numRuns: 2000 },
  );
  t.end();
});
