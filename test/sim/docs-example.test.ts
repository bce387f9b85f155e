// The "In code" example of docs/sim.md, kept runnable.
import test from 'tape';
import { Model } from '../../lib/index.js';
import { ReplicaCluster, checkCluster, type StructureUnderTest } from '../../lib/sim/index.js';

test('docs example: a Model cluster on a ring under loss, a partition and a crash converges', (t) => {
  const model: StructureUnderTest<Model> = {
    name: 'model',
    create: ({ id, now }) => new Model({ id, clock: { now } }),
    mutate: (m, i) => (m.set(`k${i}`, i), { key: `k${i}` }),
    state: (m) => m.toJSON(),
    holds: (m, write) => m.has(write.key),
  };
  const cluster = new ReplicaCluster(model, 42, { nodes: 5, topology: 'ring', link: { latency: 20, jitter: 10, loss: 0.05 } });
  for (let i = 0; i < 100; i++) cluster.scheduler.at(i * 50, () => cluster.write(`n${i % 5}`));
  cluster.scheduler.at(1000, () => cluster.network.partition([['n0', 'n1'], ['n2', 'n3', 'n4']]));
  cluster.scheduler.at(3000, () => cluster.network.heal());
  cluster.scheduler.at(1500, () => cluster.crash('n2'));
  cluster.scheduler.at(2500, () => cluster.restart('n2', true));
  cluster.runUntil(15_000);
  const report = checkCluster(cluster);
  t.deepEqual(report.violations, []);
  t.ok(report.writes >= 80, `${report.writes} writes`);
  t.equal(report.latency.count, report.writes, 'every write reached every node');
  t.end();
});
