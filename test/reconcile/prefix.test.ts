// The maintained symbol prefix equals a fresh encoding after random edits,
// and symbols past it are computed on demand.
import fc from 'fast-check';
import test from 'tape';
import { CodedSymbols, Encoder, SymbolPrefix } from '../../lib/reconcile/index.js';
import { Random } from '../../lib/random.js';
import { checkProperty, propertySeed } from '../helpers/property.js';
import { randomItems } from './items.js';

const seed = propertySeed(0x9e_f1c5);

function fresh(items: Iterable<Uint8Array>, count: number): CodedSymbols {
  const encoder = new Encoder();
  for (const item of items) encoder.add(item);
  const out = new CodedSymbols(count);
  for (let i = 0; i < count; i++) encoder.next(out);
  return out;
}

test('reconcile prefix: after random adds and removes it equals a fresh encoding', (t) => {
  checkProperty(
    t,
    'maintained prefix == encoding of the current set',
    fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(400), fc.integer(), (size, edits, s) => {
      const random = new Random(s);
      const pool = randomItems(random, 200);
      const prefix = new SymbolPrefix(size);
      const present = new Map<number, Uint8Array>();
      for (let e = 0; e < edits; e++) {
        const i = random.int(0, pool.length - 1);
        if (present.has(i)) {
          prefix.remove(pool[i]);
          present.delete(i);
        } else {
          prefix.add(pool[i]);
          present.set(i, pool[i]);
        }
      }
      return prefix.symbols.equals(fresh(present.values(), size), size);
    }),
    { seed, numRuns: 100 },
  );
  t.end();
});

test('reconcile prefix: a source reads the snapshot, then encodes past it from the items', (t) => {
  const random = new Random(seed);
  const items = randomItems(random, 500);
  const prefix = new SymbolPrefix(64);
  for (const item of items) prefix.add(item);
  const source = prefix.source(() => items);
  prefix.add(randomItems(random, 1)[0]); // a later write does not change the snapshot
  const out = new CodedSymbols(200);
  for (let i = 0; i < 200; i++) source.next(out, out.push());
  t.ok(out.equals(fresh(items, 200), 200), '200 symbols equal a fresh encoding (64 from the prefix, 136 computed)');
  const bare = new SymbolPrefix(4).source();
  const scratch = new CodedSymbols(1);
  scratch.push();
  for (let i = 0; i < 4; i++) bare.next(scratch, 0);
  t.throws(() => bare.next(scratch, 0), /past the prefix/, 'without items, past the prefix throws');
  t.end();
});
