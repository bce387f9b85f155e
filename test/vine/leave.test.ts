import test from 'tape';
import { MemoryLevel } from 'memory-level';
import { VineNode } from '../../lib/vine/node.js';
import { PARTITIONS } from '../../lib/vine/ring.js';
import { testRandom } from '../helpers/seed.js';
import { freePorts } from './free-ports.js';

const until = async (what: () => boolean | Promise<boolean>, ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
};

test('vine on gossip: a node that leaves is taken off the ring at once, not after failure detection and removal', async (t) => {
  const random = testRandom('vine leave');
  const base = await freePorts(6, random);
  // Removal of a dead member only after 60 s: within the wait below, only a leave can take it off the ring.
  const options = { n: 2, r: 2, w: 2, antiEntropyMs: 300, handoffMs: 200, gossip: { intervalMs: 200, removeAfterMs: 60_000 } };
  const nodes: VineNode<number>[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const node = new VineNode<number>({ ...options, db: new MemoryLevel(), port: base + 2 * i });
      await node.start(i === 0 ? [] : [{ host: '127.0.0.1', port: base }]);
      nodes.push(node);
    }
    const [a, b, leaver] = nodes;
    t.ok(await until(() => nodes.every((n) => n.membership!.members().length === 3), 20_000), 'three members know each other');
    for (let i = 0; i < 100; i++) await nodes[i % 3].put(`k${i}`, i);
    await leaver.leave();
    const offRing = () => [a, b].every((n) => [...Array(PARTITIONS).keys()].every((p) => !n.replicasOf(p).includes(leaver.id)));
    t.ok(offRing(), 'once leave() returned, neither remaining node places any partition on it');
    t.ok([a, b].every((n) => !n.membership!.members().some((m) => m.id === leaver.id)), 'and it is no member of theirs');
    let lost = 0;
    for (let i = 0; i < 100; i++) if ((await nodes[i % 2].get(`k${i}`, { r: 2 })).value !== i) lost++;
    t.equal(lost, 0, 'all 100 keys read back with R = N = 2 from the two that remain');
  } finally {
    for (const node of nodes) await node.stop().catch(() => undefined);
  }
});
