import test from 'tape';
import { Seq, replicate, type Replication } from '../../lib/index.js';
import { testRandom } from '../helpers/seed.js';
import { until } from '../helpers/compliance.js';

const ROUNDS = process.env.NIGHTLY ? 60 : 12;

/** Edges of a random topology over `n` nodes: a chain, a star, a ring or a random connected graph. */
function topology(random: ReturnType<typeof testRandom>, n: number): [number, number][] {
  const order = random.shuffle([...Array(n).keys()]);
  const shape = random.pick(['chain', 'star', 'ring', 'random'] as const);
  const edges: [number, number][] = [];
  for (let i = 1; i < n; i++) {
    if (shape === 'star') edges.push([order[0], order[i]]);
    else if (shape === 'random') edges.push([order[random.int(0, i - 1)], order[i]]);
    else edges.push([order[i - 1], order[i]]);
  }
  if (shape === 'ring') edges.push([order[n - 1], order[0]]);
  if (shape === 'random' && random.chance(0.5)) edges.push([order[0], order[n - 1]]);
  return edges;
}

function edit(random: ReturnType<typeof testRandom>, seq: Seq): void {
  const length = seq.length;
  if (length > 0 && random.chance(0.3)) {
    const at = random.int(0, length - 1);
    seq.delete(at, Math.min(random.int(1, 3), length - at));
  } else if (length > 0 && random.chance(0.05)) {
    seq.move(random.int(0, length - 1), random.int(0, length - 1));
  } else {
    const at = random.int(0, length);
    const word = random.pick(['a', 'bc', 'def', ' ', 'é', '漢']);
    // Half the time type the word one character at a time, as a user would.
    if (random.chance(0.5)) for (let k = 0; k < word.length; k++) seq.insert(at + k, word[k]);
    else seq.insert(at, word);
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('seq: five replicas typing concurrently through random topologies converge', async (t) => {
  const random = testRandom('seq topologies');
  for (let round = 0; round < ROUNDS; round++) {
    const replicas = [0, 1, 2, 3, 4].map((i) => new Seq({ id: `r${i}`, random: () => random.float() }));
    for (let phase = 0; phase < 4; phase++) {
      const links: Replication[] = [];
      for (const [a, b] of topology(random, 5)) links.push(await replicate(replicas[a], replicas[b], { maxFrameBytes: random.pick([512, 4096, 1 << 20]) }));
      for (let k = 0; k < 40; k++) {
        edit(random, random.pick(replicas));
        if (random.chance(0.3)) await tick();
        // Partitions: drop a link now and then; the next phase reconnects.
        if (links.length > 0 && random.chance(0.03)) await links.splice(random.int(0, links.length - 1), 1)[0].close();
      }
      // Offline edits while nothing is connected.
      for (const link of links) await link.close();
      for (let k = 0; k < 5; k++) edit(random, random.pick(replicas));
    }
    const chain: Replication[] = [];
    for (let i = 1; i < 5; i++) chain.push(await replicate(replicas[i - 1], replicas[i]));
    await until(() => replicas.every((r) => r.toString() === replicas[0].toString()));
    t.pass(`round ${round}: converged on ${replicas[0].length} elements (${replicas.reduce((n, r) => n + r.document.pendingRuns, 0)} runs pending)`);
    for (const link of chain) await link.close();
  }
});
