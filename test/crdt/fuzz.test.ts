import test from 'tape';
import { ORMap, ORSet, PNCounter, replicate } from '../../lib/index.js';
import type { Replication } from '../../lib/stream/replicate.js';
import { until } from '../helpers/compliance.js';
import { testRandom } from '../helpers/seed.js';

// Seeded convergence fuzzing over real streams: five replicas, links that
// come and go at random (partitions, reconnects), changes made all the
// while; at the end one chain joins everyone and all must agree.
const ROUNDS = 12 * Math.max(1, Number(process.env.NIGHTLY ?? 1) || 1);

for (const [name, make, mutate] of [
  ['orset', (id: string) => new ORSet({ id }), (r: any, n: number) => (n % 3 ? r.add(n % 17) : r.remove((n * 7) % 17))],
  ['ormap of pncounters', (id: string) => new ORMap({ id, values: PNCounter.embedded() }), (r: any, n: number) => (n % 5 ? r.update(`k${n % 4}`, (c: any) => c.increment((n % 7) - 3 || 1)) : r.remove(`k${n % 4}`))],
] as const) {
  test(`fuzz: ${name}: random links, partitions and reconnects converge`, async (t) => {
    const random = testRandom(`fuzz ${name}`);
    const replicas = ['a', 'b', 'c', 'd', 'e'].map((id) => make(id));
    const links = new Map<string, Replication>();
    let n = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Flip a few links: connect the unconnected, cut the connected.
      for (let k = 0; k < 3; k++) {
        const i = random.int(0, 4);
        const j = random.int(0, 4);
        if (i === j) continue;
        const key = `${Math.min(i, j)}-${Math.max(i, j)}`;
        const existing = links.get(key);
        if (existing) {
          links.delete(key);
          await existing.close();
        } else links.set(key, await replicate(replicas[i], replicas[j]));
      }
      for (let k = random.int(1, 8); k > 0; k--) mutate(replicas[random.int(0, 4)], n++);
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const link of links.values()) await link.close();
    const chain: Replication[] = [];
    for (let i = 0; i + 1 < replicas.length; i++) chain.push(await replicate(replicas[i], replicas[i + 1]));
    const state = (r: any) => JSON.stringify([r.value(), r.context.toJSON()]);
    await until(() => replicas.every((r) => state(r) === state(replicas[0])));
    t.pass(`${n} changes over ${ROUNDS} rounds converge: ${JSON.stringify(replicas[0].value()).slice(0, 80)}`);
    for (const link of chain) await link.close();
  });
}
