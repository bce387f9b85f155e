import fc from 'fast-check';
import { GSet, ORSet, TwoPSet } from '../../lib/index.js';
import { ElementKeys } from '../../lib/crdt/element-keys.js';
import { properties } from './properties.js';

const element = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom('a', 'b', { x: 1 }));
const keys = new ElementKeys();
/** A model set's elements in the order the CRDT lists them (by encoded bytes). */
const listed = (values: Iterable<unknown>) => ElementKeys.sorted([...values].map((v) => keys.keyOf(v))).map((k) => keys.valueOf(k));
const keyed = (v: unknown) => keys.keyOf(v);

type SetOp = { add: boolean; value: unknown };
const setOp = fc.record({ add: fc.boolean(), value: element });

properties<GSet, unknown>({
  name: 'gset',
  make: (id) => new GSet({ id }),
  op: element,
  apply: (s, v) => void s.add(v),
  model: {
    init: () => new Map<string, unknown>(),
    apply: (m, v) => m.set(keyed(v), v),
    read: (m) => listed(m.values()),
  },
});

properties<TwoPSet, SetOp>({
  name: 'twopset',
  make: (id) => new TwoPSet({ id }),
  op: setOp,
  apply: (s, op) => void (op.add ? s.add(op.value) : s.remove(op.value)),
  model: {
    init: () => ({ added: new Map<string, unknown>(), removed: new Set<string>() }),
    apply: (m, op) => {
      const k = keyed(op.value);
      if (op.add && !m.removed.has(k)) m.added.set(k, op.value);
      if (!op.add && m.added.has(k)) m.removed.add(k);
      return m;
    },
    read: (m) => listed([...m.added].filter(([k]) => !m.removed.has(k)).map(([, v]) => v)),
  },
});

properties<ORSet, SetOp>({
  name: 'orset',
  make: (id) => new ORSet({ id }),
  op: setOp,
  apply: (s, op) => void (op.add ? s.add(op.value) : s.remove(op.value)),
  model: {
    init: () => new Map<string, unknown>(),
    apply: (m, op) => {
      if (op.add) m.set(keyed(op.value), op.value);
      else m.delete(keyed(op.value));
      return m;
    },
    read: (m) => listed(m.values()),
  },
});
