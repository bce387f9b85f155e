import { HybridClock } from '../../clock/index.js';
import { type Dot, GCounter, GSet, LWWRegister, MVRegister, ORSet, PNCounter, TwoPSet } from '../../crdt/index.js';
import type { StructureUnderTest, Write } from '../structure.js';

type AnySet = GSet | ORSet | TwoPSet;

const setState = (set: AnySet) => set.values().map(String);

/** GSet: adds of unique values. */
export const gSetUnderTest: StructureUnderTest<GSet> = {
  name: 'gset',
  create: ({ id }) => new GSet({ id, name: 'sim' }),
  mutate(set, i) {
    set.add(`v${i}`);
    return { key: `v${i}` };
  },
  state: setState,
  holds: (set, write) => set.has(write.key),
  elements: setState,
};

/**
 * A set with removes (ORSet, TwoPSet): unique adds, and every fourth write
 * removes a random element this replica holds. Each value is added once, so
 * a remove always saw its add and must win everywhere. Holding is judged
 * by the causal context, which only grows: a replica holds an add once its
 * context has the add's dot (removed since or not), and a remove once it
 * has the add's dot and no longer the element.
 */
function removableSet<S extends ORSet | TwoPSet>(name: string, make: (id: string) => S): StructureUnderTest<S> {
  return {
    name,
    create: ({ id }) => make(id),
    mutate(set, i, random, run) {
      const dots = (run.dots ??= new Map<string, Dot>()) as Map<string, Dot>;
      const present = set.values().map(String);
      if (i % 4 === 3 && present.length > 0) {
        const value = random.pick(present);
        set.remove(value);
        return { key: `-${value}`, data: { value, dot: dots.get(value)!, remove: true } };
      }
      const value = `v${i}`;
      set.add(value);
      const dot = { replica: set.id, seq: set.context.max(set.id) };
      dots.set(value, dot);
      return { key: value, data: { value, dot, remove: false } };
    },
    state: setState,
    holds(set, write: Write) {
      const { value, dot, remove } = write.data as { value: string; dot: Dot; remove: boolean };
      // The context is the replica's record of every dot it has seen (internal, read-only here).
      const seen = set.context.has(dot.replica, dot.seq);
      return remove ? seen && !set.has(value) : seen;
    },
    elements: setState,
  };
}

export const orSetUnderTest = removableSet('orset', (id) => new ORSet({ id, name: 'sim' }));
export const twoPSetUnderTest = removableSet('2pset', (id) => new TwoPSet({ id, name: 'sim' }));

/** GCounter: increments of 1 to 5. A counter cannot say which increments it holds: the range checker decides. */
export const gCounterUnderTest: StructureUnderTest<GCounter> = {
  name: 'gcounter',
  create: ({ id }) => new GCounter({ id, name: 'sim' }),
  mutate(counter, i, random) {
    const delta = random.int(1, 5);
    counter.increment(delta);
    return { key: `+${i}`, delta };
  },
  state: (counter) => counter.value(),
  counter: (counter) => counter.value(),
};

/** PNCounter: increments and decrements of 1 to 5. */
export const pnCounterUnderTest: StructureUnderTest<PNCounter> = {
  name: 'pncounter',
  create: ({ id }) => new PNCounter({ id, name: 'sim' }),
  mutate(counter, i, random) {
    const amount = random.int(1, 5);
    if (random.chance(0.4)) {
      counter.decrement(amount);
      return { key: `-${i}`, delta: -amount };
    }
    counter.increment(amount);
    return { key: `+${i}`, delta: amount };
  },
  state: (counter) => counter.value(),
  counter: (counter) => counter.value(),
};

/** LWWRegister on the virtual clock: converges, and ends on a value someone wrote. */
export const lwwRegisterUnderTest: StructureUnderTest<LWWRegister> = {
  name: 'lww-register',
  create: ({ id, now }) => new LWWRegister({ id, name: 'sim', clock: new HybridClock({ now }) }),
  mutate(register, i) {
    register.set(`w${i}`);
    return { key: `w${i}` };
  },
  state: (register) => register.get() ?? null,
  elements: (register) => (register.get() === undefined ? [] : [String(register.get())]),
};

/** MVRegister: converges on the same set of concurrent values, each one someone wrote. */
export const mvRegisterUnderTest: StructureUnderTest<MVRegister> = {
  name: 'mv-register',
  create: ({ id }) => new MVRegister({ id, name: 'sim' }),
  mutate(register, i) {
    register.set(`w${i}`);
    return { key: `w${i}` };
  },
  state: (register) => register.get().map(String).sort(),
  elements: (register) => register.get().map(String),
};
