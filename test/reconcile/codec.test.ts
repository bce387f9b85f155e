// The wire form of coded symbols: round trips and limits.
import test from 'tape';
import { decode, encode, int } from '../../lib/codec/index.js';
import { ReplicationError } from '../../lib/errors.js';
import { CodedSymbols, Encoder, symbolBatchCodec } from '../../lib/reconcile/index.js';
import { Random } from '../../lib/random.js';
import { propertySeed } from '../helpers/property.js';
import { randomItems } from './items.js';

const seed = propertySeed(0xc0dec);

function batch(count: number, items: number) {
  const encoder = new Encoder();
  for (const item of randomItems(new Random(seed), items)) encoder.add(item, items % 2 ? 1 : -1);
  const symbols = new CodedSymbols(count);
  for (let i = 0; i < count; i++) encoder.next(symbols);
  return { first: 0, symbols };
}

function code(t: test.Test, fn: () => unknown, expected: string, message: string) {
  try {
    fn();
    t.fail(message);
  } catch (err) {
    t.ok(err instanceof ReplicationError && err.code === expected, `${message} (${(err as ReplicationError).code})`);
  }
}

test('reconcile codec: symbols round-trip, negative counts included', (t) => {
  for (const [count, items] of [[0, 0], [1, 1], [50, 1001], [300, 40]]) {
    const value = batch(count, items);
    const bytes = encode(symbolBatchCodec, value);
    t.equal(bytes.length, symbolBatchCodec.encodingLength(value), `${count} symbols: length as computed (${bytes.length} bytes)`);
    const back = decode(symbolBatchCodec, bytes);
    t.ok(back.symbols.equals(value.symbols, count) && back.symbols.length === count && back.first === 0, `${count} symbols of ${items} items round-trip`);
  }
  const value = { first: 12345, symbols: batch(3, 10).symbols };
  t.equal(decode(symbolBatchCodec, encode(symbolBatchCodec, value)).first, 12345, 'first index kept');
  t.end();
});

test('reconcile codec: limits', (t) => {
  const bytes = encode(symbolBatchCodec, batch(10, 20));
  code(t, () => decode(symbolBatchCodec, bytes, { maxItems: 9 }), 'ERR_LIMIT', 'more symbols than maxItems');
  code(t, () => decode(symbolBatchCodec, bytes.subarray(0, bytes.length - 5)), 'ERR_DECODE', 'truncated batch');
  code(t, () => decode(symbolBatchCodec, Buffer.from([0, 0xff, 0x7f])), 'ERR_DECODE', 'a count the bytes cannot hold');
  // First index 2^32 - 1 and two symbols reach past the last index.
  const far = encode(symbolBatchCodec, { first: 2 ** 32 - 1, symbols: batch(2, 3).symbols });
  code(t, () => decode(symbolBatchCodec, far), 'ERR_DECODE', 'a batch past index 2^32');
  // A count of 2^31 does not fit a symbol.
  const huge = Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(24), encode(int, 2 ** 31)]);
  code(t, () => decode(symbolBatchCodec, huge), 'ERR_DECODE', 'a count of 2^31');
  t.ok(decode(symbolBatchCodec, Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(24), encode(int, -(2 ** 31 - 1))])).symbols.counts[0] === -(2 ** 31 - 1), 'a count of -(2^31 - 1) is fine');
  t.end();
});
