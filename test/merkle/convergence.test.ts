import test from 'tape';
import { MemoryLevel } from 'memory-level';
import { MerkleStore, replicate, type Replication } from '../../lib/index.js';
import type { Random } from '../../lib/random.js';
import { until } from '../helpers/compliance.js';
import { testRandom } from '../helpers/seed.js';

const STORES = 5;
const ROUNDS = 8;
const KEYS = 12;

/** Edges of a random connected topology over `n` nodes: a chain, a star, a ring or a random tree plus extra links. */
function topology(random: Random, n: number): Array<[number, number]> {
  const order = random.shuffle(Array.from({ length: n }, (_, i) => i));
  const kind = random.pick(['chain', 'star', 'ring', 'random'] as const);
  const edges: Array<[number, number]> = [];
  for (let i = 1; i < n; i++) {
    if (kind === 'star') edges.push([order[0], order[i]]);
    else if (kind === 'random') edges.push([order[random.int(0, i - 1)], order[i]]);
    else edges.push([order[i - 1], order[i]]);
  }
  if (kind === 'ring') edges.push([order[n - 1], order[0]]);
  if (kind === 'random') for (let extra = random.int(0, 2); extra > 0; extra--) {
    const a = random.int(0, n - 1);
    const b = random.int(0, n - 1);
    if (a !== b) edges.push([a, b]);
  }
  return edges;
}

/** One random write: a put or delete, with a context from an earlier read, a fresh one, or none. */
async function randomWrite(random: Random, store: MerkleStore<unknown>, stale: Map<string, string>, tag: string): Promise<void> {
  const key = `k${random.int(0, KEYS - 1)}`;
  const mode = random.int(0, 3);
  let context: string | undefined;
  if (mode === 1) context = (await store.get(key)).context;
  if (mode === 2) context = stale.get(key); // may be long out of date
  if (random.chance(0.15)) await store.del(key, { context });
  else await store.put(key, tag, { context });
  stale.set(key, (await store.get(key)).context);
}

test('five stores with concurrent writes converge through random topologies, siblings identical everywhere', async (t) => {
  const random = testRandom('merkle convergence');
  const stores = Array.from({ length: STORES }, (_, i) => new MerkleStore<unknown>({ db: new MemoryLevel(), id: `s${i}`, depth: 5 }));
  const stale = stores.map(() => new Map<string, string>());
  let conflictsSeen = 0;
  for (const store of stores) store.on('conflict', () => conflictsSeen++);
  let written = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // Partitioned: everyone writes the same small set of keys.
    for (let w = 0; w < 25; w++) {
      const i = random.int(0, STORES - 1);
      await randomWrite(random, stores[i], stale[i], `r${round}-s${i}-${written++}`);
    }
    // Connected through a random topology, writing while the links sync.
    const edges = topology(random, STORES);
    const links: Replication[] = [];
    const linking = edges.map(async ([a, b]) => links.push(await replicate(stores[a], stores[b])));
    for (let w = 0; w < 10; w++) {
      const i = random.int(0, STORES - 1);
      await randomWrite(random, stores[i], stale[i], `live-r${round}-s${i}-${written++}`);
    }
    await Promise.all(linking);
    await until(() => stores.every((s) => s.rootHash === stores[0].rootHash), 20_000);
    for (const link of links) await link.close();
    for (const store of stores) await store.flushed();
    t.ok(stores.every((s) => s.rootHash === stores[0].rootHash), `round ${round}: all roots equal after syncing over ${edges.map((e) => e.join('-')).join(' ')}`);
  }
  let keysWithSiblings = 0;
  for (let k = 0; k < KEYS; k++) {
    const key = `k${k}`;
    const views = await Promise.all(stores.map((s) => s.get(key)));
    const first = JSON.stringify(views[0]);
    if (!views.every((v) => JSON.stringify(v) === first)) t.fail(`${key} differs: ${views.map((v) => JSON.stringify(v.values)).join(' | ')}`);
    if (views[0].values.length > 1) keysWithSiblings++;
  }
  t.pass(`every key reads the same everywhere (values, siblings, writers, timestamps, context)`);
  t.ok(conflictsSeen > 0, `concurrent writes produced conflicts (${conflictsSeen} conflict events, ${keysWithSiblings} keys with siblings at the end)`);
  for (const store of stores) t.ok(await store.verifyTree(), `${store.id}: tree agrees with the data`);
  await Promise.all(stores.map((s) => s.close()));
});
