// Hostile peers against the delta-state CRDTs. Each structure gets the
// generic cases, the cases every delta-state type shares (below), and its own.
import { GCounter, GSet, HybridClock, LWWRegister, MVRegister, ORMap, ORSet, PNCounter, TwoPSet } from '../../lib/index.js';
import type { DeltaReplica } from '../../lib/crdt/delta-replica.js';
import type { Delta } from '../../lib/crdt/delta.js';
import { CausalContext } from '../../lib/crdt/causal-context.js';
import { dataFrame } from './attacker.js';
import { type HostileCase, type Subject, hostileSuite } from './suite.js';
import { RawJson, gcounter, gset, lwwregister, mvregister, ormap, orset, pncounter, rawJson, twopset } from './subjects.js';

type AnyDelta = DeltaReplica<any, any>;

/** The deltas `mutate` makes on `forger` (a replica the attacker controls), as one data frame in the forger's own encoding. */
function forged<R extends AnyDelta>(_server: AnyDelta, forger: R, mutate: (r: R) => void): Buffer {
  const deltas: Delta<any>[] = [];
  forger.tap = (delta) => deltas.push(delta);
  mutate(forger);
  return dataFrame(forger.messages, deltas.map((delta) => ({ type: 'delta', delta })));
}

const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

/** Cases every delta-state type shares; `make(id)` is an attacker's replica of the type, `touch` one change on it. */
function deltaCases<R extends AnyDelta>(make: (id: string) => R, touch: (r: R, i: number) => void): HostileCase<R>[] {
  return [
    // Defect 6's twin, which the delta engine already refuses.
    { name: 'delta with events in the server\'s own name', expect: 'ERR_INTEGRITY', plan: (s) => ({ frames: [forged(s, make(s.id), (r) => { for (let i = 1; i <= 100; i++) touch(r, i); })] }) },
    {
      name: 'delta whose context names more replicas than the limit',
      expect: 'ERR_LIMIT',
      plan: (s) => {
        const context = new CausalContext();
        for (let i = 0; i <= s.maxReplicas; i++) context.add(`r${i}`, 1);
        return { frames: [dataFrame(s.messages, [{ type: 'delta', delta: { store: s.storeKind.empty(), context } }])] };
      },
    },
    { name: 'second summary', expect: 'ERR_DECODE', plan: (s) => ({ frames: [dataFrame(s.messages, [{ type: 'summary', context: new CausalContext() }])] }) },
    { name: 'a valid delta from a new replica is taken', expect: 'accepted', plan: (s) => ({ frames: [forged(s, make('carol'), (r) => touch(r, 2))] }) },
  ];
}

/** Cases for a type whose values go through the JSON encoding (defect 2: values that change when re-encoded). */
function valueCases<R extends AnyDelta>(makeRaw: (id: string) => R, write: (r: R, value: unknown) => void): HostileCase<R>[] {
  return ['1e309', '-0', '{"a":1,"a":2}', '[1, 2]', '1.50'].map((text) => ({
    name: `value ${text} (changes when re-encoded)`,
    expect: 'ERR_DECODE' as const,
    plan: (s: R) => ({ frames: [forged(s, makeRaw('mallory'), (r) => write(r, new RawJson(text)))] }),
  }));
}

function run<R extends AnyDelta>(subject: Subject<R>, make: (id: string) => R, touch: (r: R, i: number) => void, extra: HostileCase<R>[] = []): void {
  hostileSuite(subject, [...deltaCases(make, touch), ...extra]);
}

run(gset, (id) => new GSet({ id }), (s, i) => void s.add({ attacker: i }), valueCases((id) => new GSet({ id, valueEncoding: rawJson }), (s, v) => void s.add(v)));
run(twopset, (id) => new TwoPSet({ id }), (s, i) => void s.add(`a${i}`), valueCases((id) => new TwoPSet({ id, valueEncoding: rawJson }), (s, v) => void s.add(v)));
run(orset, (id) => new ORSet({ id }), (s, i) => void s.add(`a${i}`), [
  ...valueCases((id) => new ORSet({ id, valueEncoding: rawJson }), (s, v) => void s.add(v)),
  // Defect 4a: valid, and it must cost what it hits (nothing here; test/crdt/engine.test.ts counts the dots looked at).
  ...[1, 2, 3].map((i) => ({
    name: `context-only delta naming 2^50 dots of an unknown replica (${i} of 3)`,
    expect: 'accepted' as const,
    plan: (s: ORSet) => ({ frames: [dataFrame(s.messages, [{ type: 'delta', delta: { store: s.storeKind.empty(), context: CausalContext.from([[`stranger-${i}`, [1, 2 ** 50]]]) } }])] }),
  })),
]);
/**
 * Defect 5, for counters: 'carol' (taken by the shared cases above) holds a
 * total on the server; a context that covers it without a newer entry would
 * delete it, and three made-up replicas near 2^53 would make sums unsafe.
 */
function counterCases<R extends AnyDelta>(near2to53: (replica: string) => unknown): HostileCase<R>[] {
  return [
    {
      name: 'context covering another replica\'s total without a newer entry (a counter going down)',
      expect: 'ERR_INTEGRITY',
      plan: (s) => ({ frames: [dataFrame(s.messages, [{ type: 'delta', delta: { store: s.storeKind.empty(), context: CausalContext.from([['carol', [1, 1]]]) } }])] }),
    },
    {
      name: 'three made-up replicas whose totals sum past 2^53',
      expect: 'ERR_INTEGRITY',
      plan: (s) => {
        const store = new Map(['f1', 'f2', 'f3'].map((replica) => [`1@${replica}`, { replica, seq: 1, value: near2to53(replica) }]));
        const context = CausalContext.from([['f1', [1, 1]], ['f2', [1, 1]], ['f3', [1, 1]]]);
        return { frames: [dataFrame(s.messages, [{ type: 'delta', delta: { store, context } }])] };
      },
    },
  ];
}

run(gcounter, (id) => new GCounter({ id }), (c, i) => void c.increment(i), counterCases(() => 2 ** 52));
run(pncounter, (id) => new PNCounter({ id }), (c, i) => void c.decrement(i), counterCases(() => ({ p: 2 ** 52, n: 0 })));
run(lwwregister, (id) => new LWWRegister({ id }), (r, i) => r.set({ attacker: i }), [
  ...valueCases((id) => new LWWRegister({ id, valueEncoding: rawJson }), (r, v) => r.set(v)),
  {
    name: 'write stamped 10 years ahead',
    expect: 'ERR_CLOCK_SKEW',
    plan: (s) => {
      const clock = new HybridClock({ now: () => Date.now() + TEN_YEARS_MS, maxDrift: Infinity });
      return { frames: [forged(s, new LWWRegister({ id: 'mallory', clock }), (r) => r.set('mine for ever'))] };
    },
  },
]);
run(mvregister, (id) => new MVRegister({ id }), (r, i) => r.set([i]), valueCases((id) => new MVRegister({ id, valueEncoding: rawJson }), (r, v) => r.set(v)));
run(ormap, (id) => new ORMap({ id, values: ORSet.embedded() }), (m, i) => void m.update(`a${i}`, (set) => set.add(i)), [
  {
    name: 'map value 1e309',
    expect: 'ERR_DECODE',
    plan: (s) => ({ frames: [forged(s, new ORMap({ id: 'mallory', values: ORSet.embedded({ valueEncoding: rawJson }) }), (m) => m.update('k', (set) => set.add(new RawJson('1e309'))))] }),
  },
]);
