import { Seq } from '../../seq/index.js';
import type { StructureUnderTest } from '../structure.js';

/** Each Seq's elements as a set, rebuilt only after a change (scanning per check would be quadratic). */
const live = new WeakMap<Seq, { dirty: boolean; values: Set<string> }>();

function elementsOf(seq: Seq): Set<string> {
  const entry = live.get(seq)!;
  if (entry.dirty) {
    entry.values = new Set(seq.toArray().map(String));
    entry.dirty = false;
  }
  return entry.values;
}

/**
 * Seq (the list CRDT): unique elements inserted at random positions, and
 * every fifth write deletes a random element. An insert is held by a
 * replica that has the element, or once it was deleted (a list cannot say
 * whether it saw an insert that is gone); deletes are checked by
 * convergence: every replica must end with the same list, in the same order.
 */
export const seqUnderTest: StructureUnderTest<Seq> = {
  name: 'seq',
  create({ id, random }) {
    const seq = new Seq({ id, name: 'sim', random: () => random.float() });
    const entry = { dirty: true, values: new Set<string>() };
    live.set(seq, entry);
    seq.on('change', () => (entry.dirty = true));
    return seq;
  },
  mutate(seq, i, random, run) {
    const deleted = (run.deleted ??= new Set<string>()) as Set<string>;
    if (i % 5 === 4 && seq.length > 0) {
      const at = random.int(0, seq.length - 1);
      const value = String(seq.get(at));
      seq.delete(at);
      deleted.add(value);
      return { key: `-${value}`, data: { deleted, remove: true } };
    }
    const value = `e${i}`;
    seq.insert(random.int(0, seq.length), [value]);
    return { key: value, data: { deleted, remove: false } };
  },
  state: (seq) => seq.toArray(),
  holds(seq, write) {
    const { deleted, remove } = write.data as { deleted: Set<string>; remove: boolean };
    return remove || elementsOf(seq).has(write.key) || deleted.has(write.key);
  },
  elements: (seq) => seq.toArray().map(String),
};
