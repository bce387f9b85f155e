import test from 'tape';
import { Model, replicate, type Replication } from '../../lib/index.js';
import { until } from '../helpers/compliance.js';
import { testRandom } from '../helpers/seed.js';

type Topology = 'chain' | 'star' | 'ring' | 'mesh';

function edges(topology: Topology, n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (topology === 'mesh') out.push([i, j]);
      else if (topology === 'star' && i === 0) out.push([i, j]);
      else if ((topology === 'chain' || topology === 'ring') && j === i + 1) out.push([i, j]);
    }
  }
  if (topology === 'ring') out.push([n - 1, 0]);
  return out;
}

/** Every replica's full state: values and the metadata of every key, deletes included. */
function fullState(m: Model): string {
  const keys = [...m.clockDigest().keys()].length; // sources seen
  const all: unknown[] = [];
  for (let i = 0; i < 60; i++) all.push([`k${i}`, m.get(`k${i}`), m.meta(`k${i}`)]);
  return JSON.stringify([keys, all]);
}

for (const topology of ['chain', 'star', 'ring', 'mesh'] as const) {
  test(`model: five replicas in a ${topology} converge under random concurrent writes`, async (t) => {
    const random = testRandom(`${topology} convergence`);
    // Every replica reads the same frozen wall clock, so many writes carry equal
    // wall times and only the counter and the replica id tell them apart.
    let wall = 1_700_000_000_000;
    const replicas = Array.from({ length: 5 }, (_, i) => new Model({ id: `r${i}`, clock: { now: () => wall } }));
    const links: Replication[] = [];
    for (const [i, j] of edges(topology, 5)) links.push(await replicate(replicas[i], replicas[j]));
    for (let round = 0; round < 20; round++) {
      for (let op = 0; op < 10; op++) {
        const replica = random.pick(replicas);
        const key = `k${random.int(0, 59)}`;
        if (random.chance(0.2)) replica.delete(key);
        else replica.set(key, { v: random.int(0, 1000), by: replica.id });
      }
      if (random.chance(0.3)) wall += random.int(0, 2);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const expected = () => fullState(replicas[0]);
    await until(() => replicas.every((r) => fullState(r) === expected()));
    t.pass(`all five hold identical state (${replicas[0].size} live keys)`);
    for (const link of links) await link.close();
  });
}

test('model: any delivery order of the same updates gives the same state', async (t) => {
  const random = testRandom('delivery order');
  let wall = 1_700_000_000_000;
  const writers = Array.from({ length: 3 }, (_, i) => new Model({ id: `w${i}`, clock: { now: () => wall } }));
  for (let i = 0; i < 200; i++) {
    const w = random.pick(writers);
    const key = `k${random.int(0, 19)}`;
    if (random.chance(0.25)) w.delete(key);
    else w.set(key, random.int(0, 99));
    if (random.chance(0.1)) wall++;
  }
  const states = new Set<string>();
  for (let trial = 0; trial < 6; trial++) {
    const reader = new Model({ id: `reader${trial}` });
    for (const w of random.shuffle([...writers])) {
      const replication = await replicate(w, reader, { live: false });
      await replication.done;
    }
    states.add(JSON.stringify([...Array(20).keys()].map((i) => [reader.get(`k${i}`), reader.meta(`k${i}`)])));
  }
  t.equal(states.size, 1, 'six readers, six orders, one state');
});
