import test from 'tape';
import { GSet, ORSet, replicate } from '../../lib/index.js';
import { decode, encode } from '../../lib/codec/index.js';
import type { Delta } from '../../lib/crdt/delta.js';
import { until } from '../helpers/compliance.js';
import { codeOf } from '../helpers/error-code.js';
import { catchUp } from './properties.js';
import { canonical, deliver, record } from './harness.js';

test('orset: 100,000 add/remove cycles of distinct elements leave metadata bounded', async (t) => {
  const [a, b, c] = [new ORSet({ id: 'a' }), new ORSet({ id: 'b' }), new ORSet({ id: 'c' })];
  const links = [await replicate(a, b), await replicate(b, c)];
  // A steady set of 50 live elements, while 100,000 others come and go on two replicas.
  for (let i = 0; i < 50; i++) c.add(`keep-${i}`);
  for (let i = 0; i < 100_000; i++) {
    const writer = i % 2 ? a : b;
    writer.add(`e${i}`);
    writer.remove(`e${i}`);
    if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve)); // let the streams run
  }
  await until(() => [a, b, c].every((r) => r.context.dotCount() === 100_050), 30_000);
  for (const r of [a, b, c]) {
    t.deepEqual(r.metadata(), { elements: 50, dots: 50, contextRanges: 3 }, `${r.id}: 50 elements, 50 dots, one context range per replica`);
    t.equal(r.store.index.size, 50, `${r.id}: dot index holds live dots only`);
  }
  // A newcomer's catch-up is as small as the live set, not the history.
  const fresh = new ORSet({ id: 'fresh' });
  const sent: Delta<any>[] = [];
  const before = fresh.context.dotCount();
  catchUpInto(a, fresh, sent);
  t.equal(before, 0);
  t.deepEqual(fresh.value(), c.value(), 'newcomer has the live set');
  const bytes = sent.reduce((n, d) => n + a.messages.encodingLength({ type: 'delta', delta: d }), 0);
  t.ok(bytes < 1500, `newcomer catch-up is ${bytes} bytes for 50 live elements after 200,000 operations`);
  for (const link of links) await link.close();
});

function catchUpInto(from: ORSet, to: ORSet, sent: Delta<any>[]): void {
  const session = from.openSession({ live: false, readable: true, writable: false, maxMessageBytes: 1 << 16, limits: { maxBytes: 1 << 20, maxItems: 1 << 20, maxDepth: 64 } });
  session.start({ id: to.id, readable: false, writable: true, live: false });
  session.receive({ type: 'summary', context: to.context.clone() });
  for (let m = session.pull(); m !== undefined; m = session.pull()) if (m.type === 'delta') {
    sent.push(m.delta);
    deliver(to, m.delta);
  }
  session.close();
}

test('orset: concurrent add and remove -> present (add wins)', (t) => {
  const [a, b] = [new ORSet({ id: 'a' }), new ORSet({ id: 'b' })];
  a.add('x');
  catchUp(a, b);
  t.ok(b.has('x'));
  // Partitioned: a removes x, b adds it again concurrently.
  a.remove('x');
  b.add('x');
  catchUp(a, b);
  catchUp(b, a);
  t.ok(a.has('x') && b.has('x'), 'present on both');
  t.deepEqual(a.metadata(), b.metadata(), 'same metadata');
  t.equal(a.metadata().dots, 1, 'only the surviving add dot remains');
  t.end();
});

test('orset: a remove, then a stale add delivered late -> absent', (t) => {
  const deltas: Delta<any>[] = [];
  const a = record(new ORSet({ id: 'a' }), deltas);
  const [b, c] = [new ORSet({ id: 'b' }), new ORSet({ id: 'c' })];
  a.add('x');
  a.remove('x');
  const [add, remove] = deltas;
  deliver(b, remove);
  deliver(b, add);
  t.notOk(b.has('x'), 'remove first, add late: absent');
  deliver(c, add);
  deliver(c, remove);
  deliver(c, add);
  t.notOk(c.has('x'), 'add, remove, duplicate add: absent');
  t.deepEqual([b.metadata(), c.metadata()], [{ elements: 0, dots: 0, contextRanges: 1 }, { elements: 0, dots: 0, contextRanges: 1 }], 'no tombstones');
  t.end();
});

test('orset: concurrent adds keep one dot per adder, a remove that saw them all clears them', (t) => {
  const rs = ['a', 'b', 'c'].map((id) => new ORSet({ id }));
  for (const r of rs) r.add('shared');
  for (const x of rs) for (const y of rs) catchUp(x, y);
  t.equal(rs[0].metadata().dots, 3, 'three concurrent add dots');
  rs[1].remove('shared');
  for (const x of rs) for (const y of rs) catchUp(x, y);
  t.ok(rs.every((r) => !r.has('shared') && r.metadata().dots === 0), 'removed everywhere, no dots left');
  rs[2].add('y');
  rs[2].add('z');
  rs[2].clear();
  t.deepEqual(rs[2].value(), [], 'clear() empties the set');
  t.end();
});

test('orset: change events say what was added and removed', (t) => {
  const [a, b] = [new ORSet({ id: 'a' }), new ORSet({ id: 'b' })];
  const events: unknown[] = [];
  b.on('change', (change) => events.push(change));
  a.add(1);
  a.add({ two: 2 });
  catchUp(a, b);
  a.remove(1);
  catchUp(a, b);
  catchUp(a, b); // nothing new: no event
  t.deepEqual(events, [{ added: [1, { two: 2 }], removed: [] }, { added: [], removed: [1] }]);
  t.deepEqual(b.toJSON(), [{ two: 2 }]);
  t.end();
});

test('orset/gset: a peer delta naming one dot under two keys is refused as it is decoded, and nothing changes', (t) => {
  for (const make of [(id: string) => new ORSet({ id }), (id: string) => new GSet({ id })]) {
    const a = make('a');
    for (const v of ['x', 'y', 'z']) a.add(v);
    const b = make('b');
    b.add('kept');
    // y and z both carry x's dot; their own dots stay in the context, so the delta counts as many dots as it has seen.
    const entries = a.store.entries;
    const key = (v: string) => [...entries.keys()].find((k) => k.includes(v))!;
    const forged = a.storeKind.empty();
    forged.flat = { keys: [key('x'), key('y'), key('z')], values: [entries.get(key('x'))!, entries.get(key('x'))!, entries.get(key('x'))!], distinct: true };
    const bytes = encode(a.messages, { type: 'delta', delta: { store: forged, context: a.context.clone() } });
    const before = canonical(b);
    t.equal(codeOf(() => decode(b.messages, bytes)), 'ERR_DECODE', `${b.descriptor.kind}: a dot named twice is refused`);
    t.equal(canonical(b), before, `${b.descriptor.kind}: nothing changed`);
    // Out of order (a later dot first, then an earlier one twice) is caught too.
    const late = a.storeKind.empty();
    late.flat = { keys: [key('z'), key('x'), key('y')], values: [entries.get(key('z'))!, entries.get(key('x'))!, entries.get(key('x'))!], distinct: true };
    t.equal(codeOf(() => decode(b.messages, encode(a.messages, { type: 'delta', delta: { store: late, context: a.context.clone() } }))), 'ERR_DECODE', `${b.descriptor.kind}: out of order too`);
    // The same three keys with their own dots, in any order, are fine.
    const honest = a.storeKind.empty();
    honest.flat = { keys: [key('z'), key('x'), key('y')], values: [entries.get(key('z'))!, entries.get(key('x'))!, entries.get(key('y'))!], distinct: true };
    const message = decode(b.messages, encode(a.messages, { type: 'delta', delta: { store: honest, context: a.context.clone() } }));
    if (message.type !== 'delta') throw new Error('not a delta');
    b.receiveDelta(message.delta);
    t.deepEqual([...(b.value() as string[])].sort(), ['kept', 'x', 'y', 'z'], `${b.descriptor.kind}: distinct dots out of order join`);
  }
  t.end();
});

test('orset/gset: a peer delta naming a key twice is refused when joined, and the keys taken before it are undone', (t) => {
  for (const make of [(id: string) => new ORSet({ id }), (id: string) => new GSet({ id })]) {
    const a = make('a');
    for (const v of ['x', 'y', 'z', 'w']) a.add(v);
    const b = make('b');
    b.add('kept');
    // Keys x and y are new at b; z is named twice (two of a's dots), so the delta is forged.
    const entries = a.store.entries;
    const key = (v: string) => [...entries.keys()].find((k) => k.includes(v))!;
    const forged = a.storeKind.empty();
    forged.flat = { keys: [key('x'), key('y'), key('z'), key('z')], values: [entries.get(key('x'))!, entries.get(key('y'))!, entries.get(key('z'))!, entries.get(key('w'))!], distinct: true };
    const bytes = encode(a.messages, { type: 'delta', delta: { store: forged, context: a.context.clone() } });
    const message = decode(b.messages, bytes);
    if (message.type !== 'delta') throw new Error('not a delta');
    const before = canonical(b);
    let changes = 0;
    b.on('change', () => changes++);
    t.equal(codeOf(() => b.receiveDelta(message.delta)), 'ERR_DECODE', `${b.descriptor.kind}: duplicate key refused`);
    t.equal(canonical(b), before, `${b.descriptor.kind}: nothing changed (x and y taken, then undone)`);
    t.equal(changes, 0, `${b.descriptor.kind}: no change event`);
    // The store still works and its dot index agrees with it.
    deliver(b, a.state());
    t.deepEqual([...(b.value() as string[])].sort(), ['kept', 'w', 'x', 'y', 'z'], `${b.descriptor.kind}: a valid delta joins afterwards`);
    t.equal(b.store.index.size, 5, `${b.descriptor.kind}: dot index holds the live dots only`);
  }
  t.end();
});
