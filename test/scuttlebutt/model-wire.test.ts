import test from 'tape';
import { decodeState, encode } from '../../lib/codec/index.js';
import { ReplicationError } from '../../lib/errors.js';
import { Model } from '../../lib/scuttlebutt/model.js';
import { KeyTable } from '../../lib/scuttlebutt/key-table.js';
import { type ModelColumns, type ModelUpdate, type WrittenColumns, MAX_KEY_BYTES, columnsJson, columnsKey, entryLength, writtenUpdates } from '../../lib/scuttlebutt/model-wire.js';
import type { ScuttlebuttMessage } from '../../lib/scuttlebutt/messages.js';
import type { Random } from '../../lib/random.js';
import { testRandom } from '../helpers/seed.js';

// The Model's sessions encode and decode updates in columns; the engine's
// codec for update objects (messages.ts with the Model's update codec) is
// the reference. Both must give the same bytes, read the same updates back,
// and refuse the same malformed input with the same error.

const model = new Model({ id: 'wire' });
const reference = model.messageCodec;
const fast = model.wireCodec;

function randomText(random: Random): string {
  const pieces = ['a', 'k', '0', ' ', 'é', '€', '😀', '"', '\\', '\n', 'x'.repeat(30)];
  let text = '';
  for (let n = random.int(0, 12); n > 0; n--) text += random.pick(pieces);
  return text;
}

function randomJson(random: Random): string | undefined {
  switch (random.int(0, 5)) {
    case 0:
      return undefined; // a delete
    case 1:
      return JSON.stringify(`v${random.int(0, 1e6)}`);
    case 2:
      return JSON.stringify(randomText(random));
    case 3:
      return JSON.stringify(random.int(-1e9, 1e9) / 7);
    case 4:
      return JSON.stringify({ a: [1, randomText(random), null, { b: true }], c: 'x'.repeat(random.int(0, 300)) });
    default:
      return JSON.stringify([randomText(random), random.chance(0.5)]);
  }
}

function randomUpdates(random: Random, source: string): ModelUpdate[] {
  const updates: ModelUpdate[] = [];
  let ts = 0;
  for (let n = random.int(1, 300); n > 0; n--) {
    ts += random.chance(0.1) ? random.int(1, 2 ** 40) : random.int(1, 300);
    updates.push({ source, ts, key: randomText(random) || `k${n}`, json: randomJson(random) });
  }
  return updates;
}

function decodeWith(codec: typeof reference | typeof fast, bytes: Buffer): unknown {
  const state = decodeState(bytes);
  const message = codec.decode(state);
  if (state.offset !== state.end) throw new Error('trailing bytes');
  return message;
}

function asUpdates(message: unknown): ModelUpdate[] {
  const m = message as ScuttlebuttMessage<ModelUpdate> | ModelColumns;
  if (m.type === 'digest') throw new Error('a digest');
  if (m.type === 'updates') return m.updates;
  // The decoder's arrays may be longer than the message: its first `count` entries are the updates.
  return Array.from(m.stamps.subarray(0, m.count), (ts, i) => ({ source: m.source, ts, key: columnsKey(m, i), json: columnsJson(m, i) }));
}

test('model wire: updates decode into columns as the reference codec reads them, and encode back to the same bytes', (t) => {
  const random = testRandom('model wire');
  let differences = 0;
  let bytes = 0;
  for (let round = 0; round < 200; round++) {
    const source = round % 3 === 0 ? 'é-source' : `s${round}`;
    const updates = randomUpdates(random, source);
    const expected = encode(reference, { type: 'updates', source, updates });
    const objects = encode(fast, { type: 'updates', source, updates });
    if (!expected.equals(objects)) differences++;
    const decoded = asUpdates(decodeWith(fast, expected));
    const decodedByReference = asUpdates(decodeWith(reference, expected));
    if (JSON.stringify(decoded) !== JSON.stringify(updates) || JSON.stringify(decodedByReference) !== JSON.stringify(updates)) differences++;
    // A decoded run encodes back to the same bytes, with the size it was decoded at.
    if (!encode(fast, decodeWith(fast, expected) as ModelColumns).equals(expected)) differences++;
    bytes += expected.length;
  }
  t.equal(differences, 0, `200 messages (${bytes} bytes) alike both ways`);
  const digest = { type: 'digest' as const, clock: [{ source: 'a', ts: 5 }] };
  t.deepEqual(decodeWith(fast, encode(reference, digest)), digest, 'a digest goes through the reference codec');
  t.end();
});

/** `updates` (all of one source) through a writer of the codec, as a session writes them from the key table. */
function written(source: string, updates: ModelUpdate[]): { message: WrittenColumns; lengths: number[] } {
  const writer = fast.writer(source);
  const lengths = updates.map((u) => writer.add([u.ts], 0, u.key, u.json));
  return { message: writer.finish(), lengths };
}

test('model wire: updates written as taken encode to the bytes of the reference codec', (t) => {
  const random = testRandom('model wire written');
  let differences = 0;
  let bytes = 0;
  for (let round = 0; round < 200; round++) {
    const source = round % 3 === 0 ? 'é-source' : `s${round}`;
    // Now and then a long value, past the writer's first buffer.
    const updates = randomUpdates(random, source);
    if (random.chance(0.1)) {
      const at = random.int(0, updates.length - 1);
      updates[at] = { ...updates[at], json: JSON.stringify('x'.repeat(random.int(5000, 20000))) };
    }
    const { message, lengths } = written(source, updates);
    if (lengths.some((length, i) => length !== entryLength(updates[i].key, updates[i].json))) differences++;
    if (message.last[0] !== updates[updates.length - 1].ts || message.count !== updates.length) differences++;
    if (JSON.stringify(writtenUpdates(message)) !== JSON.stringify(updates)) differences++;
    const expected = encode(reference, { type: 'updates', source, updates });
    if (!encode(fast, message).equals(expected)) differences++;
    bytes += expected.length;
  }
  t.equal(differences, 0, `200 messages (${bytes} bytes) written alike, measured alike, read back alike`);
  t.end();
});

test('model wire: updates written from the key table are the bytes of the same updates written as text', (t) => {
  const random = testRandom('model wire from table');
  let differences = 0;
  for (let round = 0; round < 50; round++) {
    const updates = randomUpdates(random, 'a');
    if (random.chance(0.3)) {
      const at = random.int(0, updates.length - 1);
      updates[at] = { ...updates[at], json: JSON.stringify('é'.repeat(random.int(1000, 5000))) };
    }
    // The table holds each key's latest update: write distinct keys, as a session takes them from it.
    const latest = [...new Map(updates.map((u) => [u.key, u])).values()].sort((x, y) => x.ts - y.ts);
    const table = new KeyTable();
    const slots = latest.map((u) => table.put(u.key, u.json, u.source, u.ts, table.find(u.key)));
    const fromTable = fast.writer('a');
    const lengths = slots.map((slot) => fromTable.addFrom(table, slot));
    const asText = written('a', latest);
    if (lengths.some((length, i) => length !== asText.lengths[i])) differences++;
    if (!encode(fast, fromTable.finish()).equals(encode(fast, asText.message))) differences++;
  }
  t.equal(differences, 0, '50 messages alike, measured alike');
  t.end();
});

test('model wire: a written message is spent once encoded, and its buffer serves the next writer', (t) => {
  const updates: ModelUpdate[] = [1, 2, 3].map((ts) => ({ source: 'a', ts, key: `k${ts}`, json: `"v${ts}"` }));
  const { message } = written('a', updates);
  const buffer = message.entries;
  t.ok(encode(fast, message).equals(encode(reference, { type: 'updates', source: 'a', updates })), 'encoded as the reference encodes the updates');
  t.throws(() => encode(fast, message), /already encoded/, 'a second encode of the spent message throws instead of writing what its buffer holds by then');
  t.equal(written('b', updates).message.entries, buffer, 'the next writer takes the buffer');
  t.end();
});

/** Bytes of an updates message for `source`, its updates given as raw entries: [ts delta, key bytes, value marker + bytes]. */
function rawUpdates(source: string, entries: { delta: number; key: Buffer; value: Buffer | undefined }[]): Buffer {
  const parts: Buffer[] = [Buffer.from([1]), varintString(Buffer.from(source)), varint(entries.length)];
  for (const { delta, key, value } of entries) {
    parts.push(varint(delta), varintString(key));
    parts.push(value === undefined ? Buffer.from([0]) : Buffer.concat([varint(value.length + 1), value]));
  }
  return Buffer.concat(parts);
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

const varintString = (bytes: Buffer) => Buffer.concat([varint(bytes.length), bytes]);

const plain = (key: string, json: string | undefined, delta = 1) => ({ delta, key: Buffer.from(key), value: json === undefined ? undefined : Buffer.from(json) });

test('model wire: the columns decoder refuses what the reference refuses, with the same error', (t) => {
  const deep = '['.repeat(70) + ']'.repeat(70);
  const cases: [string, Buffer][] = [
    ['a first timestamp of 0', rawUpdates('a', [plain('k', '"v"', 0)])],
    ['timestamps that do not increase', rawUpdates('a', [plain('k', '"v"'), plain('j', '"v"', 0)])],
    ["a timestamp that does not increase, past the first 64 entries (the columns decoder's first step)", rawUpdates('a', Array.from({ length: 100 }, (_, i) => plain(`k${i}`, '"v"', i === 90 ? 0 : 1)))],
    ["a bad value past the first 64 entries (the columns decoder's first step)", rawUpdates('a', Array.from({ length: 100 }, (_, i) => plain(`k${i}`, i === 70 ? '1.0' : '"v"')))],
    ['a timestamp past 2^53', rawUpdates('a', [plain('k', '"v"', 2 ** 52), plain('j', '"v"', 2 ** 52)])],
    ['a key over the limit', rawUpdates('a', [plain('k'.repeat(MAX_KEY_BYTES + 1), '"v"')])],
    ['a key that is not UTF-8', rawUpdates('a', [{ delta: 1, key: Buffer.from([0x6b, 0xff]), value: Buffer.from('"v"') }])],
    ['a value that is not JSON', rawUpdates('a', [plain('k', 'v')])],
    ['a number that is not canonical', rawUpdates('a', [plain('k', '1.0')])],
    ['an escape that is not canonical', rawUpdates('a', [plain('k', '"\\u0061"')])],
    ['JSON with spaces', rawUpdates('a', [plain('k', '[1, 2]')])],
    ['JSON nested too deep', rawUpdates('a', [plain('k', deep)])],
    ['a value that is not UTF-8', rawUpdates('a', [{ delta: 1, key: Buffer.from('k'), value: Buffer.from([0x22, 0xc3, 0x22]) }])],
    ['a count beyond the bytes', Buffer.concat([Buffer.from([1]), varintString(Buffer.from('a')), varint(1000), Buffer.from([1, 1, 0x6b, 0])])],
    ['a value longer than the frame', Buffer.concat([rawUpdates('a', [plain('k', undefined)]).subarray(0, -1), varint(50), Buffer.from('"ab')])],
    ['a truncated message', rawUpdates('a', [plain('k', '"v"'), plain('j', '"w"')]).subarray(0, -2)],
    ['an overlong varint', Buffer.concat([Buffer.from([1]), varintString(Buffer.from('a')), Buffer.from([0x81, 0x00]), Buffer.from([1, 1, 0x6b, 0])])],
  ];
  for (const [what, bytes] of cases) {
    const outcome = (codec: typeof reference | typeof fast) => {
      try {
        decodeWith(codec, bytes);
        return 'accepted';
      } catch (err) {
        return err instanceof ReplicationError ? `${err.code}: ${err.message}` : `not coded: ${String(err)}`;
      }
    };
    const expected = outcome(reference);
    t.ok(expected.startsWith('ERR_'), `${what}: the reference refuses it (${expected})`);
    t.equal(outcome(fast), expected, `${what}: the columns decoder refuses it alike`);
  }
  // A value over the limit the stream sets.
  const big = rawUpdates('a', [plain('k', JSON.stringify('x'.repeat(200)))]);
  const limited = (codec: typeof reference | typeof fast) => {
    try {
      codec.decode(decodeState(big, { maxBytes: 100 }));
      return 'accepted';
    } catch (err) {
      return (err as ReplicationError).code;
    }
  };
  t.equal(limited(fast), limited(reference), `a value over maxBytes: ${limited(reference)} both ways`);
  t.equal(limited(fast), 'ERR_LIMIT', 'refused as over the limit');
  t.end();
});

test('model wire: on damaged messages the columns decoder and the reference agree, byte for byte and error for error', (t) => {
  const random = testRandom('model wire damaged');
  const outcome = (codec: typeof reference | typeof fast, bytes: Buffer, maxBytes: number) => {
    try {
      const state = decodeState(bytes, { maxBytes });
      const updates = asUpdates(codec.decode(state));
      return `${state.offset}: ${JSON.stringify(updates)}`;
    } catch (err) {
      return err instanceof ReplicationError ? `${err.code}: ${err.message}` : `not coded: ${String(err)}`;
    }
  };
  let differences = 0;
  let refused = 0;
  const rounds = 2000;
  for (let round = 0; round < rounds; round++) {
    // Short plain entries mostly (the decoder's fast path), some of every other kind.
    const updates = randomUpdates(random, 's').slice(0, random.int(1, 8));
    for (const u of updates) if (random.chance(0.6)) Object.assign(u, { key: `k${random.int(0, 999)}`, json: JSON.stringify(`v${random.int(0, 99)}`) });
    const bytes = Buffer.from(encode(reference, { type: 'updates', source: 's', updates }));
    // Damage: bytes changed (to quotes, backslashes, controls, high bytes, lengths), cut, or extended.
    for (let n = random.int(1, 3); n > 0; n--) {
      const at = random.int(1, bytes.length - 1);
      bytes[at] = random.pick([0x00, 0x01, 0x02, 0x05, 0x14, 0x15, 0x16, 0x1f, 0x22, 0x5c, 0x7e, 0x7f, 0x80, 0xc3, 0xff, random.int(0, 255)]);
    }
    const damaged = random.chance(0.2) ? bytes.subarray(0, random.int(1, bytes.length)) : bytes;
    const maxBytes = random.chance(0.2) ? random.int(0, 8) : 1 << 20;
    const expected = outcome(reference, damaged, maxBytes);
    if (!expected.startsWith('ERR_') && !/^\d+: /.test(expected)) differences++;
    if (expected.startsWith('ERR_')) refused++;
    if (outcome(fast, damaged, maxBytes) !== expected) differences++;
  }
  t.equal(differences, 0, `${rounds} damaged messages (${refused} refused) read alike both ways`);
  t.ok(refused > rounds / 4 && refused < rounds, 'some refused, some read');
  t.end();
});
