// The delta engine's own behaviour: the fast path of local changes equals
// the generic one, batches of local changes respect the frame limit, and
// a peer's delta costs what it names, not what the replica holds.
import test from 'tape';
import { GCounter, GSet, LWWRegister, MVRegister, ORSet, PNCounter, Reduce, TwoPSet, replicate } from '../../lib/index.js';
import { HybridClock } from '../../lib/clock/index.js';
import { CausalContext } from '../../lib/crdt/causal-context.js';
import type { Delta } from '../../lib/crdt/delta.js';
import { DotMap } from '../../lib/crdt/dot-store.js';
import { until } from '../helpers/compliance.js';
import { testRandom } from '../helpers/seed.js';
import { canonical, deliver, record } from './harness.js';

test('engine: the fast path (no listener, no tap) leaves the same state as the generic one, and its batches rebuild it', async (t) => {
  const random = testRandom('fast path');
  const ops = Array.from({ length: 3000 }, () => ({ add: random.chance(0.6), element: `e${random.int(0, 399)}` }));
  const fast = new ORSet({ id: 'w' });
  const generic = record(new ORSet({ id: 'w' }), []);
  generic.on('change', () => {});
  // A live peer makes the fast path record its batches; the peer is what they rebuild.
  const peer = new ORSet({ id: 'peer' });
  const link = await replicate(fast, peer);
  for (const [i, op] of ops.entries()) {
    for (const r of [fast, generic]) op.add ? r.add(op.element) : r.remove(op.element);
    if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  t.equal(canonical(fast), canonical(generic), 'same value, context and dots');
  await until(() => JSON.stringify(peer.value()) === JSON.stringify(fast.value()) && peer.context.dotCount() === fast.context.dotCount());
  t.deepEqual(peer.value(), fast.value(), 'the peer rebuilt the state from the batches');
  await link.close();
  t.end();
});

test('engine: counters, registers, Reduce and TwoPSet: the fast path leaves the same state as the generic one, and its batches rebuild it on a peer', async (t) => {
  const random = testRandom('value fast path');
  // Registers stamp writes with a clock: one that stands still gives both replicas the same stamps.
  const clock = () => new HybridClock({ now: () => 1_700_000_000_000 });
  const types: Array<{ name: string; make: (id: string) => any; write: (r: any, i: number) => void }> = [
    { name: 'GCounter', make: (id) => new GCounter({ id }), write: (r, i) => r.increment(1 + (i % 5)) },
    { name: 'PNCounter', make: (id) => new PNCounter({ id }), write: (r, i) => (i % 3 === 0 ? r.decrement(1 + (i % 4)) : r.increment(i % 7 === 0 ? -2 : 3)) },
    { name: 'LWWRegister', make: (id) => new LWWRegister({ id, clock: clock() }), write: (r, i) => r.set({ i, tag: `v${i % 13}` }) },
    { name: 'MVRegister', make: (id) => new MVRegister({ id }), write: (r, i) => r.set([i, `v${i % 11}`]) },
    { name: 'TwoPSet', make: (id) => new TwoPSet({ id }), write: (r, i) => (i % 3 === 2 ? r.remove(`e${(i * 7) % 300}`) : r.add(`e${(i * 13) % 400}`)) },
    { name: 'Reduce', make: (id) => new Reduce<number, number>({ id, reduce: Math.max, initial: 0 }), write: (r, i) => r.update((i * 37) % 1000) },
  ];
  for (const { name, make, write } of types) {
    const fast = make('w');
    const generic = record(make('w'), []);
    generic.on('change', () => {});
    const peer = make('peer');
    const link = await replicate(fast, peer);
    const writes = random.int(500, 1500);
    for (let i = 0; i < writes; i++) {
      for (const r of [fast, generic]) write(r, i);
      if (random.chance(0.01)) await new Promise((resolve) => setImmediate(resolve));
    }
    t.equal(canonical(fast), canonical(generic), `${name}: same value, context and dots after ${writes} writes`);
    await until(() => JSON.stringify(peer.value()) === JSON.stringify(fast.value()) && peer.context.dotCount() === fast.context.dotCount());
    t.deepEqual(peer.value(), fast.value(), `${name}: the peer rebuilt the state from the batches`);
    if (name !== 'TwoPSet') t.equal(peer.store.size, 1, `${name}: the peer holds one entry, the newest`);
    else t.equal(canonical(peer), canonical(fast), 'TwoPSet: the peer holds the same marks and context');
    await link.close();
  }
  t.end();
});

test('engine: a burst of 50,000 local adds reaches a peer through a 4 KiB frame limit', async (t) => {
  for (const Type of [ORSet, GSet]) {
    const [a, b] = [new Type({ id: 'a' }), new Type({ id: 'b' })];
    const link = await replicate(a, b, { maxFrameBytes: 4096 });
    for (let i = 0; i < 50_000; i++) a.add(`element-${i}`);
    await until(() => b.size === 50_000, 60_000);
    t.equal(b.size, 50_000, `${Type.name}: every add arrived`);
    t.equal(link.error, undefined, `${Type.name}: no stream error`);
    await link.close();
  }
  t.end();
});

test('engine: a context-only delta naming a huge range costs what it hits (defect: CPU amplification)', (t) => {
  const r = new ORSet({ id: 'server' });
  const writer = new ORSet({ id: 'writer' });
  const deltas: Delta<any>[] = [];
  record(writer, deltas);
  for (let i = 0; i < 20_000; i++) writer.add(`x${i}`);
  for (const d of deltas) deliver(r, d);
  const index = r.store.index;
  let probes = 0;
  const original = index.forEachIn.bind(index);
  // Count the dots the join looks at, through the index it must use.
  index.forEachIn = (replica, ranges, fn) => original(replica, ranges, (seq, key) => (probes++, fn(seq, key)));
  const store = new DotMap<any>();
  // An unknown replica's range of 2^50 dots: nothing held, nothing to look at.
  deliver(r, { store, context: CausalContext.from([['stranger', [1, 2 ** 50]]]) });
  t.equal(probes, 0, 'unknown replica: no dot looked at');
  t.equal(r.size, 20_000, 'nothing removed');
  // A known replica's range beyond what it ever wrote hits nothing either.
  deliver(r, { store, context: CausalContext.from([['writer', [30_000, 2 ** 50]]]) });
  t.equal(probes, 0, 'range beyond the held dots: no dot looked at');
  // A real remove of 10 elements looks at those 10 dots.
  deliver(r, { store, context: CausalContext.from([['writer', [101, 110]]]) });
  t.equal(probes, 10, 'a 10-dot removal looks at 10 dots');
  t.equal(r.size, 19_990, 'and removes them');
  t.end();
});

test('engine: a counter delta cannot drop another replica\'s total, nor push sums past 2^53 (defect: a counter can go down)', (t) => {
  for (const Type of [GCounter, PNCounter]) {
    const owner: any = new Type({ id: 'owner' });
    const victim: any = new Type({ id: 'victim' });
    const deltas: Delta<any>[] = [];
    record(owner, deltas);
    owner.increment(5);
    for (const d of deltas) deliver(victim, d);
    t.equal(victim.value(), 5, `${Type.name}: the owner's total arrived`);
    const code = (f: () => void) => {
      try {
        f();
        return 'ok';
      } catch (err) {
        return (err as { code?: string }).code;
      }
    };
    // Context covering owner:1 without a newer owner entry.
    t.equal(code(() => deliver(victim, { store: new Map(), context: CausalContext.from([['owner', [1, 1]]]) })), 'ERR_INTEGRITY', `${Type.name}: a context-only drop of the owner's total is refused`);
    // Context naming owner events beyond its total.
    t.equal(code(() => deliver(victim, { store: new Map(), context: CausalContext.from([['owner', [2, 9]]]) })), 'ERR_INTEGRITY', `${Type.name}: owner events without their total are refused`);
    t.equal(victim.value(), 5, `${Type.name}: the total stands`);
    owner.increment(1);
    for (const d of deltas.slice(1)) deliver(victim, d);
    t.equal(victim.value(), 6, `${Type.name}: the owner's next increment still counts`);
    // Three fake replicas near 2^53.
    const big = 2 ** 52;
    const entry = (replica: string) => (Type === GCounter ? big : { p: big, n: 0 });
    const store = new Map(['f1', 'f2', 'f3'].map((replica) => [`1@${replica}`, { replica, seq: 1, value: entry(replica) }]));
    t.equal(code(() => deliver(victim, { store, context: CausalContext.from([['f1', [1, 1]], ['f2', [1, 1]], ['f3', [1, 1]]]) })), 'ERR_INTEGRITY', `${Type.name}: sums past 2^53 are refused`);
    t.equal(victim.value(), 6, `${Type.name}: untouched`);
    const local = new Type({ id: 'local' });
    local.increment(Number.MAX_SAFE_INTEGER - 1);
    t.equal(code(() => local.increment(5)), 'ERR_INVALID_ARGUMENT', `${Type.name}: a local increment past 2^53 is refused`);
  }
  t.end();
});
