import fc from 'fast-check';
import test from 'tape';
import { decode, encode } from '../../lib/codec/index.js';
import { CausalContext, contextCodec } from '../../lib/crdt/causal-context.js';
import { deltaCodec } from '../../lib/crdt/delta.js';
import { DotMap, dotMap, dotSet } from '../../lib/crdt/dot-store.js';
import { string } from '../../lib/codec/index.js';
import { holds } from './harness.js';

const dots = fc.array(fc.record({ replica: fc.constantFrom('a', 'b', 'long-replica-id'), seq: fc.integer({ min: 1, max: 40 }) }), { maxLength: 40 });
const model = (ds: { replica: string; seq: number }[]) => new Set(ds.map((d) => `${d.seq}@${d.replica}`));

test('causal context: has, union and subtract agree with a set of dots', (t) => {
  holds(
    t,
    fc.property(dots, dots, (xs, ys) => {
      const x = CausalContext.ofDots(xs);
      const y = CausalContext.ofDots(ys);
      const u = x.clone();
      u.union(y);
      const expected = new Set([...model(xs), ...model(ys)]);
      for (const r of ['a', 'b', 'long-replica-id']) {
        for (let s = 1; s <= 41; s++) if (u.has(r, s) !== expected.has(`${s}@${r}`)) return false;
      }
      if (u.dotCount() !== expected.size) return false;
      if (!u.includes(x) || !u.includes(y) || (x.includes(u) && x.dotCount() !== u.dotCount())) return false;
      const holes = new Map<string, number[]>();
      for (const d of ys) holes.set(d.replica, [...new Set([...(holes.get(d.replica) ?? []), d.seq])].sort((p, q) => p - q));
      const diff = u.subtract(holes);
      for (const k of expected) {
        const [s, r] = k.split('@');
        if (diff.has(r, Number(s)) === model(ys).has(k)) return false;
      }
      return true;
    }),
    'context operations match the model',
  );
  t.end();
});

test('causal context codec: fixed cases and random round trips', (t) => {
  const codec = contextCodec();
  const vv = CausalContext.from([['a', [1, 5]], ['b', [1, 1, 3, 9]]]);
  const bytes = encode(codec, vv);
  t.deepEqual([...bytes], [2, 1, 0x61, 1, 0, 4, 1, 0x62, 2, 0, 0, 1, 6], 'a version vector is a few bytes per replica');
  t.deepEqual(decode(codec, bytes).toJSON(), vv.toJSON(), 'round trip');
  t.equal(encode(codec, new CausalContext()).length, 1, 'empty context: one byte');
  holds(
    t,
    fc.property(dots, (ds) => {
      const ctx = CausalContext.ofDots(ds);
      return JSON.stringify(decode(codec, encode(codec, ctx)).toJSON()) === JSON.stringify(ctx.toJSON());
    }),
    'random contexts round-trip',
  );
  t.end();
});

test('causal context codec: limits', (t) => {
  const code = (fn: () => unknown) => {
    try {
      fn();
      return 'ok';
    } catch (err) {
      return (err as { code: string }).code;
    }
  };
  const three = encode(contextCodec(), CausalContext.from([['a', [1, 1]], ['b', [1, 1]], ['c', [1, 1]]]));
  t.equal(code(() => decode(contextCodec(2), three)), 'ERR_LIMIT', 'more replicas than maxReplicas');
  t.equal(code(() => decode(contextCodec(), three, { maxItems: 2 })), 'ERR_LIMIT', 'more items than maxItems');
  t.equal(code(() => decode(contextCodec(), Buffer.from([1, 1, 0x61, 0]))), 'ERR_DECODE', 'empty range list');
  t.equal(code(() => decode(contextCodec(), Buffer.from([2, 1, 0x61, 1, 0, 0, 1, 0x61, 1, 0, 0]))), 'ERR_DECODE', 'duplicate replica');
  t.equal(code(() => decode(contextCodec(), Buffer.from([1, 1, 0x61, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]))), 'ERR_DECODE', 'sequence numbers beyond 2^53');
  t.equal(code(() => decode(contextCodec(), Buffer.from([200]))), 'ERR_DECODE', 'a count larger than the bytes left');
  t.end();
});

test('delta codec: round trip, and entries must lie inside the context', (t) => {
  const codec = deltaCodec(dotMap(string, dotSet));
  const store = new DotMap<any>();
  store.entries.set('x', [{ replica: 'b', seq: 3 }]);
  store.entries.set('y', [{ replica: 'a', seq: 1 }, { replica: 'b', seq: 4 }]);
  const context = CausalContext.from([['a', [1, 2]], ['b', [3, 4]]]);
  const bytes = encode(codec, { store, context });
  const back = decode(codec, bytes);
  t.deepEqual([...back.store.entries], [...store.entries], 'entries');
  t.deepEqual(back.context.toJSON(), context.toJSON(), 'context');
  // Dot b:5 in a context that ends at b:4.
  store.entries.set('z', [{ replica: 'b', seq: 5 }]);
  t.throws(() => decode(codec, encode(codec, { store, context })), /outside its context/, 'ERR_DECODE');
  t.end();
});

test('delta codec: limits and malformed stores', (t) => {
  const codec = deltaCodec(dotMap(string, dotSet));
  const ctx = encode(contextCodec(), CausalContext.from([['a', [1, 3]]]));
  const code = (store: number[]) => {
    try {
      decode(codec, Buffer.concat([ctx, Buffer.from(store)]));
      return 'ok';
    } catch (err) {
      return (err as { code: string }).code;
    }
  };
  t.equal(code([1, 1, 0x78, 1, 0, 2]), 'ok', 'one entry: key "x", dot a:1');
  t.equal(code([1, 1, 0x78, 1, 1, 2]), 'ERR_DECODE', 'a dot naming a replica outside the table');
  t.equal(code([1, 1, 0x78, 1, 0, 0]), 'ERR_DECODE', 'a dot with sequence number 0');
  t.equal(code([1, 1, 0x78, 1, 0, 1]), 'ERR_DECODE', 'a dot with a negative sequence number');
  t.equal(code([1, 1, 0x78, 2, 0, 2, 0, 0]), 'ERR_DECODE', 'a duplicate dot');
  t.equal(code([1, 1, 0x78, 0]), 'ERR_DECODE', 'an empty entry');
  t.equal(code([2, 1, 0x78, 1, 0, 2, 1, 0x78, 1, 0, 2]), 'ERR_DECODE', 'a duplicate key');
  t.equal(code([1, 1, 0x78, 1, 0, 2, 9]), 'ERR_DECODE', 'trailing bytes');
  t.equal(code([0x80, 0x01]), 'ERR_DECODE', 'a count beyond the bytes left');
  t.equal(code([0x80, 0x80, 0x80, 0x01]), 'ERR_LIMIT', 'a count beyond maxItems');
  t.end();
});

test('causal context: intersects says whether two contexts share a dot', (t) => {
  const ctx = (entries: [string, number[]][]) => CausalContext.from(entries);
  const ours = ctx([['a', [1, 5, 9, 12]], ['b', [3, 3]]]);
  t.equal(ours.intersects(ctx([['a', [6, 8]]])), false, 'in the gap between two ranges');
  t.equal(ours.intersects(ctx([['a', [13, 20]], ['b', [1, 2, 4, 9]]])), false, 'past the end, and around a single dot');
  t.equal(ours.intersects(ctx([['a', [8, 9]]])), true, 'touching the start of a range');
  t.equal(ours.intersects(ctx([['b', [1, 4]]])), true, 'spanning a single dot');
  t.equal(ours.intersects(ctx([['c', [1, 100]]])), false, 'a replica we have not seen');
  t.equal(ours.intersects(new CausalContext()), false, 'an empty context');
  t.end();
});

test('causal context: union and intersects agree with a set of dots, for a long context and a short one', (t) => {
  // Many scattered dots against few, most of them past the long one's end: the paths that merge onto its end and search it.
  const many = fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 40, maxLength: 200 });
  const few = fc.array(fc.integer({ min: 350, max: 450 }), { maxLength: 4 });
  holds(
    t,
    fc.property(many, few, (xs, ys) => {
      const x = CausalContext.ofDots(xs.map((seq) => ({ replica: 'a', seq })));
      const y = CausalContext.ofDots(ys.map((seq) => ({ replica: 'a', seq })));
      const overlap = ys.some((q) => xs.includes(q));
      if (x.intersects(y) !== overlap || y.intersects(x) !== overlap) return false;
      const u = x.clone();
      const grew = u.union(y);
      const expected = new Set([...xs, ...ys]);
      if (grew !== ys.some((q) => !xs.includes(q))) return false;
      if (u.dotCount() !== expected.size) return false;
      for (let q = 1; q <= 500; q++) if (u.has('a', q) !== expected.has(q)) return false;
      // Ranges stay sorted, disjoint and not touching.
      const r = u.ranges.get('a')!;
      for (let i = 2; i < r.length; i += 2) if (r[i] <= r[i - 1] + 1) return false;
      return true;
    }),
    'union and intersects as sets',
  );
  t.end();
});
