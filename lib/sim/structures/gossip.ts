import { Membership } from '../../gossip/membership.js';
import type { StructureUnderTest } from '../structure.js';

/**
 * The gossip membership as a replicated structure: every node publishes
 * keys, and every node must end up holding every node's latest keys. Driven
 * over the simulator's streams (live), with no ticks, so this checks the
 * reconciliation alone; the `membership` scenario runs the timing side.
 */
export const gossipUnderTest: StructureUnderTest<Membership> = {
  name: 'gossip',
  create: ({ id, now, random }) => new Membership({ id, now, random }),
  mutate(m, i) {
    const key = `k${i % 10}`;
    m.setLocalState(key, i);
    return { key: `${m.id}/${key}=${i}`, data: { id: m.id, key, value: i } };
  },
  state: (m) => m.view().map(({ id, generation, entries }) => ({ id, generation, entries })),
  holds(m, write) {
    const { id, key, value } = write.data as { id: string; key: string; value: number };
    const held = id === m.id ? m.getLocalState(key) : m.peerValue(id, key);
    // A later value of the same key from the same node supersedes it.
    return typeof held === 'number' && held >= value;
  },
};
