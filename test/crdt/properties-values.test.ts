import fc from 'fast-check';
import { GCounter, LWWRegister, MVRegister, ORMap, ORSet, PNCounter, Reduce } from '../../lib/index.js';
import { ElementKeys } from '../../lib/crdt/element-keys.js';
import type { SetHandle } from '../../lib/crdt/set-replica.js';
import type { PNCounterHandle } from '../../lib/crdt/pn-counter.js';
import { stepClock } from './harness.js';
import { properties } from './properties.js';

const value = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('s', null, [1], { v: true }));
const keys = new ElementKeys();
const listed = (values: Iterable<unknown>) => ElementKeys.sorted([...values].map((v) => keys.keyOf(v))).map((k) => keys.valueOf(k));

properties<GCounter, number>({
  name: 'gcounter',
  make: (id) => new GCounter({ id }),
  op: fc.integer({ min: 1, max: 5 }),
  apply: (c, n) => void c.increment(n),
  model: { init: () => 0, apply: (m, n) => m + n, read: (m) => m },
});

properties<PNCounter, number>({
  name: 'pncounter',
  make: (id) => new PNCounter({ id }),
  op: fc.integer({ min: -5, max: 5 }).filter((n) => n !== 0),
  apply: (c, n) => void c.increment(n),
  model: { init: () => 0, apply: (m, n) => m + n, read: (m) => m },
});

properties<LWWRegister, unknown>({
  name: 'lwwregister',
  make: (id) => new LWWRegister({ id, clock: stepClock() }),
  op: value,
  apply: (r, v) => r.set(v),
  model: { init: () => undefined, apply: (_m, v) => v, read: (m) => m },
});

properties<MVRegister, unknown>({
  name: 'mvregister',
  make: (id) => new MVRegister({ id }),
  op: value,
  apply: (r, v) => r.set(v),
  model: { init: () => [], apply: (_m, v) => [v], read: (m) => m },
});

type MapOp = { key: string; op: 'add' | 'remove' | 'delete'; value: number };
const mapOp = fc.record({ key: fc.constantFrom('a', 'b', '__proto__'), op: fc.constantFrom('add', 'remove', 'delete'), value: fc.integer({ min: 0, max: 3 }) }) as fc.Arbitrary<MapOp>;

properties<ORMap<SetHandle>, MapOp>({
  name: 'ormap of orsets',
  make: (id) => new ORMap({ id, values: ORSet.embedded() }),
  op: mapOp,
  apply: (m, { key, op, value }) => {
    if (op === 'delete') m.remove(key);
    else m.update(key, (s) => (op === 'add' ? s.add(value) : s.remove(value)));
  },
  model: {
    init: () => new Map<string, Set<number>>(),
    apply: (m, { key, op, value }) => {
      if (op === 'delete') m.delete(key);
      else if (op === 'add') m.set(key, (m.get(key) ?? new Set()).add(value));
      else if (m.has(key)) {
        m.get(key).delete(value);
        if (m.get(key).size === 0) m.delete(key);
      }
      return m;
    },
    read: (m) => Object.fromEntries(ElementKeys.sorted(m.keys()).map((k) => [k, listed(m.get(k))])),
  },
});

properties<ORMap<PNCounterHandle>, { key: string; n: number; remove: boolean }>({
  name: 'ormap of pncounters',
  make: (id) => new ORMap({ id, values: PNCounter.embedded() }),
  op: fc.record({ key: fc.constantFrom('x', 'y'), n: fc.integer({ min: -3, max: 3 }).filter((n) => n !== 0), remove: fc.boolean() }),
  apply: (m, { key, n, remove }) => void (remove ? m.remove(key) : m.update(key, (c) => c.increment(n))),
});

properties<ORMap<any>, { key: string; v: unknown; remove: boolean }>({
  name: 'ormap of mvregisters',
  make: (id) => new ORMap({ id, values: MVRegister.embedded() }),
  op: fc.record({ key: fc.constantFrom('x', 'y'), v: value, remove: fc.boolean() }),
  apply: (m, { key, v, remove }) => void (remove ? m.remove(key) : m.update(key, (r) => r.set(v))),
});

properties<Reduce<number, number>, number>({
  name: 'reduce (max)',
  make: (id) => new Reduce<number, number>({ id, reduce: Math.max, initial: 0, map: (x) => x * 10 }),
  op: fc.integer({ min: 0, max: 100 }),
  apply: (r, n) => void r.update(n),
  model: { init: () => 0, apply: (m, n) => Math.max(m, n * 10), read: (m) => m },
});
