import test from 'tape';
import { HybridClock } from '../../lib/clock/index.js';
import { GCounter, GSet, LWWRegister, MVRegister, ORMap, ORSet, PNCounter, Reduce, TwoPSet, checkReducer } from '../../lib/index.js';
import { catchUp } from './properties.js';

const events = (r: NodeJS.EventEmitter) => {
  const seen: unknown[] = [];
  r.on('change', (c) => seen.push(c));
  return seen;
};

test('gset and twopset: values and change events', (t) => {
  const [a, b] = [new GSet({ id: 'a' }), new GSet({ id: 'b' })];
  const seen = events(b);
  a.add('x');
  t.notOk(a.add('x'), 'adding twice is a no-op');
  catchUp(a, b);
  t.deepEqual(seen, [{ added: ['x'], removed: [] }]);
  const [p, q] = [new TwoPSet({ id: 'p' }), new TwoPSet({ id: 'q' })];
  const seenQ = events(q);
  p.add(1);
  catchUp(p, q);
  q.remove(1);
  catchUp(q, p);
  t.notOk(p.add(1), 'a removed element cannot come back');
  t.ok(p.removed(1) && !p.has(1), 'removed for good');
  t.deepEqual(seenQ, [{ added: [1], removed: [] }, { added: [], removed: [1] }]);
  t.end();
});

test('counters: exact values and change events', (t) => {
  const [a, b] = [new PNCounter({ id: 'a' }), new PNCounter({ id: 'b' })];
  const seen = events(b);
  a.increment(5);
  a.decrement(2);
  b.increment(1);
  catchUp(a, b);
  catchUp(a, b);
  catchUp(b, a);
  t.deepEqual([a.value(), b.value()], [4, 4]);
  t.deepEqual(seen, [{ value: 1, previous: 0 }, { value: 4, previous: 1 }], 'duplicate delivery changes nothing');
  const g = new GCounter({ id: 'g' });
  t.equal(g.increment(3), 3, 'increment returns the new value');
  t.end();
});

test('lwwregister: the highest (timestamp, replica id) wins; skewed clocks are refused', (t) => {
  let now = 1_700_000_000_000;
  const clock = () => new HybridClock({ now: () => now });
  const [a, b] = [new LWWRegister({ id: 'a', clock: clock() }), new LWWRegister({ id: 'b', clock: clock() })];
  const seen = events(a);
  a.set('from a');
  b.set('from b'); // same millisecond: the tie goes to the higher replica id
  catchUp(a, b);
  catchUp(b, a);
  t.deepEqual([a.get(), b.get()], ['from b', 'from b'], 'tie broken by replica id');
  now += 5;
  a.set({ later: true });
  catchUp(a, b);
  t.deepEqual(b.get(), { later: true }, 'a later write wins');
  t.deepEqual(seen, [{ value: 'from a', previous: undefined }, { value: 'from b', previous: 'from a' }, { value: { later: true }, previous: 'from b' }]);
  t.end();
});

test('mvregister: concurrent writes are kept together until a write that saw them', (t) => {
  const [a, b] = [new MVRegister({ id: 'a' }), new MVRegister({ id: 'b' })];
  a.set('apple');
  b.set('banana');
  catchUp(a, b);
  catchUp(b, a);
  t.deepEqual(a.get(), ['apple', 'banana'], 'both concurrent values');
  t.deepEqual(b.get(), a.get(), 'same on both, same order');
  const seen = events(a);
  b.set('cherry');
  catchUp(b, a);
  t.deepEqual(a.get(), ['cherry'], 'a write that saw both replaces both');
  t.deepEqual(seen, [{ value: ['cherry'], previous: ['apple', 'banana'] }]);
  t.end();
});

test('ormap: nested values merge; remove vs concurrent update is add-wins', (t) => {
  const [a, b] = [new ORMap({ id: 'a', values: ORSet.embedded() }), new ORMap({ id: 'b', values: ORSet.embedded() })];
  a.update('fruit', (s) => s.add('apple'));
  catchUp(a, b);
  b.update('fruit', (s) => s.add('banana'));
  a.update('fruit', (s) => s.add('cherry'));
  catchUp(a, b);
  catchUp(b, a);
  t.deepEqual(a.get('fruit'), ['apple', 'banana', 'cherry'], 'concurrent updates merge');
  const seen = events(b);
  a.remove('fruit'); // saw apple, banana, cherry
  b.update('fruit', (s) => s.add('damson')); // concurrently
  catchUp(a, b);
  catchUp(b, a);
  t.deepEqual(a.value(), { fruit: ['damson'] }, 'the concurrent update survives, what the remove saw is gone');
  t.deepEqual(b.value(), a.value());
  t.deepEqual(seen, [
    { changes: [{ key: 'fruit', value: ['apple', 'banana', 'cherry', 'damson'], previous: ['apple', 'banana', 'cherry'] }] },
    { changes: [{ key: 'fruit', value: ['damson'], previous: ['apple', 'banana', 'cherry', 'damson'] }] },
  ]);
  const m = new ORMap({ id: 'm', values: LWWRegister.embedded() });
  m.update('__proto__', (r) => r.set(1));
  t.equal(Object.getPrototypeOf(m.value()), Object.prototype, 'a "__proto__" key is a plain own key');
  t.deepEqual(Object.keys(m.value()), ['__proto__']);
  t.end();
});

test('ormap of counters: a remove resets what it saw, a concurrent increment keeps its writer total', (t) => {
  const [a, b] = [new ORMap({ id: 'a', values: PNCounter.embedded() }), new ORMap({ id: 'b', values: PNCounter.embedded() })];
  a.update('hits', (c) => c.increment(5));
  catchUp(a, b);
  a.remove('hits');
  a.update('hits', (c) => c.increment(1)); // after its own remove: restarts from zero
  catchUp(a, b);
  t.deepEqual([a.get('hits'), b.get('hits')], [1, 1]);
  t.end();
});

test('reduce: a user merge, replicated; checkReducer tells good reducers from bad', (t) => {
  const union = (x: string[], y: string[]) => [...new Set([...x, ...y])].sort();
  const [a, b] = ['a', 'b'].map((id) => new Reduce<string, string[]>({ id, reduce: union, initial: [], map: (tag) => [tag] }));
  const seen = events(b);
  a.update('red');
  b.update('blue');
  a.update('green');
  catchUp(a, b);
  catchUp(b, a);
  t.deepEqual(a.value(), ['blue', 'green', 'red']);
  t.deepEqual(b.value(), a.value());
  t.deepEqual(seen, [{ value: ['blue'], previous: [] }, { value: ['blue', 'green', 'red'], previous: ['blue'] }]);

  t.ok(checkReducer({ reduce: Math.max, initial: -Infinity }).ok, 'max passes');
  t.ok(checkReducer({ reduce: union, initial: [], map: (n: number) => [String(n % 7)] }).ok, 'set union passes');
  const sum = checkReducer({ reduce: (x: number, y: number) => x + y, initial: 0 });
  t.deepEqual(sum.failures.map((f) => f.law), ['idempotent'], 'sum is not idempotent');
  const first = checkReducer({ reduce: (x: number) => x, initial: 0 });
  t.ok(first.failures.some((f) => f.law === 'commutative'), 'keep-first is not commutative');
  const mean = checkReducer({ reduce: (x: number, y: number) => (x + y) / 2, initial: 0 });
  t.ok(mean.failures.some((f) => f.law === 'associative'), 'the mean is not associative');
  t.equal(checkReducer({ reduce: Math.max, initial: 0 }, { seed: 7, runs: 50 }).seed, 7, 'the seed is reported');
  t.end();
});

test('reduce: a peer accumulator that does not absorb the older one is ERR_INTEGRITY', (t) => {
  const a = new Reduce<number, number>({ id: 'a', reduce: Math.max, initial: 0 });
  const b = new Reduce<number, number>({ id: 'b', reduce: Math.max, initial: 0 });
  a.update(10);
  catchUp(a, b);
  const delta = { store: new Map([['2@a', { replica: 'a', seq: 2, value: 3 }]]), context: b.context.clone() };
  delta.context.add('a', 2);
  t.throws(() => b.receiveDelta(delta), (err: any) => err.code === 'ERR_INTEGRITY');
  t.equal(b.value(), 10, 'untouched');
  t.end();
});
