import test from 'tape';
import { runConvergenceAsync } from '../../lib/sim/convergence.js';
import { GrowSet, type GrowSetMessage } from './fixtures/grow-set.js';
import type { Session, SessionOptions } from '../../lib/session/contract.js';
import type { StructureUnderTest } from '../../lib/sim/structure.js';

/**
 * A grow-only set that finishes its work on promises, like one backed by a
 * database: local adds resolve later, and received messages are applied in
 * order on a promise chain, a few microtask hops after they arrive.
 */
class SlowSet extends GrowSet {
  override openSession(options: SessionOptions): Session<GrowSetMessage> {
    const inner = super.openSession(options);
    let chain = Promise.resolve();
    const hops = async () => {
      for (let i = 0; i < 3; i++) await Promise.resolve();
    };
    return {
      codec: inner.codec,
      start: (peer) => inner.start(peer),
      receive: (message) => {
        chain = chain.then(hops).then(() => inner.receive(message));
      },
      pull: () => inner.pull(),
      get initialSent() {
        return inner.initialSent;
      },
      set onWake(wake) {
        inner.onWake = wake;
      },
      get onWake() {
        return inner.onWake;
      },
      close: () => inner.close(),
    };
  }
}

const slowSet: StructureUnderTest<SlowSet> = {
  name: 'slow-set',
  async: true,
  create: ({ id }) => new SlowSet(id),
  async mutate(set, i) {
    await Promise.resolve();
    set.add(`v${i}`);
    return { key: `v${i}` };
  },
  state: (set) => set.values(),
  holds: (set, write) => set.has(write.key),
  elements: (set) => set.values(),
};

test('a structure that works on promises converges under faults, and the same seed replays event for event', async (t) => {
  for (const seed of [1, 2, 3]) {
    const a = await runConvergenceAsync(slowSet, seed, { ops: 100, duration: 10_000 });
    const b = await runConvergenceAsync(slowSet, seed, { ops: 100, duration: 10_000 });
    t.deepEqual(a.report.violations, [], `seed ${seed}: ${a.report.writes} writes, no violation`);
    t.ok(a.report.writes > 50, 'the async writes were recorded');
    t.equal(a.traceHash, b.traceHash, `seed ${seed}: trace ${a.traceHash} twice`);
  }
  t.end();
});

test('MerkleStore: a crash that keeps its database reopens a store that replays its tree journal and still holds the writes', async (t) => {
  const { ReplicaCluster } = await import('../../lib/sim/cluster.js');
  const { checkCluster } = await import('../../lib/sim/checkers.js');
  const { merkleUnderTest } = await import('../../lib/sim/structures/merkle.js');
  const cluster = new ReplicaCluster(merkleUnderTest, 9, { nodes: 3, link: { latency: 10 } });
  for (let i = 0; i < 30; i++) cluster.scheduler.at(100 + i * 20, () => void cluster.write(`n${i % 3}`));
  await cluster.runUntilAsync(1000);
  const before = cluster.replica('n1');
  cluster.crash('n1');
  for (let i = 0; i < 10; i++) cluster.scheduler.at(1100 + i * 20, () => void cluster.write('n0'));
  await cluster.runUntilAsync(1500);
  cluster.restart('n1', true);
  await cluster.runUntilAsync(6000);
  const after = cluster.replica('n1');
  t.notEqual(after, before, 'a new store object');
  t.equal(after.id, before.id, 'with the same replica id');
  t.equal(after.openedFrom, 'journal', 'its stored tree loaded and the journal replayed, as after a crash');
  t.ok(await after.verifyTree(), 'and that tree agrees with the data');
  t.deepEqual(checkCluster(cluster).violations, [], 'converged, nothing lost');
  t.end();
});
