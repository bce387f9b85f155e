import type { SimRandom } from './random.js';

/**
 * The shapes of partition the nemesis applies.
 * - `halves`: two random halves that cannot talk to each other.
 * - `isolate`: one node cut off from all others.
 * - `bridge`: two halves that talk only through one node that sees both
 *   (the bridge is in neither cut), as in Jepsen's bridge nemesis.
 * - `clog`: a few random links, cut one by one and restored in random order
 *   (FoundationDB's swizzle-clog); see `Nemesis`.
 */
export type PartitionKind = 'halves' | 'isolate' | 'bridge' | 'clog';

export const PARTITION_KINDS: readonly PartitionKind[] = ['halves', 'isolate', 'bridge', 'clog'];

export type Pair = [string, string];

/** A partition as groups of nodes that can talk among themselves (see `Network.partition`). */
export interface Split {
  groups: string[][];
  detail: string;
}

export function randomHalves(nodes: readonly string[], random: SimRandom): Split {
  const shuffled = random.shuffle([...nodes]);
  const half = Math.floor(shuffled.length / 2);
  const left = shuffled.slice(0, half).sort();
  const right = shuffled.slice(half).sort();
  return { groups: [left, right], detail: `${brief(left)} | ${brief(right)}` };
}

export function isolateOne(nodes: readonly string[], random: SimRandom): Split {
  const node = random.pick(nodes);
  return { groups: [[node], nodes.filter((n) => n !== node)], detail: `${node} alone` };
}

/** Two halves that share one node: it talks to both, they do not talk to each other. */
export function bridge(nodes: readonly string[], random: SimRandom): Split {
  const shuffled = random.shuffle([...nodes]);
  const bridgeNode = shuffled.pop()!;
  const half = Math.floor(shuffled.length / 2);
  const left = shuffled.slice(0, half).sort();
  const right = shuffled.slice(half).sort();
  return { groups: [[...left, bridgeNode], [...right, bridgeNode]], detail: `${brief(left)} <${bridgeNode}> ${brief(right)}` };
}

/** Names a group briefly: all of a small one, a count for a large one. */
function brief(group: readonly string[]): string {
  return group.length <= 12 ? group.join(',') : `${group.length} nodes`;
}

/** `count` distinct random pairs, in the order they will be clogged. */
export function randomLinks(nodes: readonly string[], count: number, random: SimRandom): Pair[] {
  const total = (nodes.length * (nodes.length - 1)) / 2;
  const want = Math.min(count, total);
  const picked = new Map<string, Pair>();
  // Rejection sampling: no list of all n^2 pairs, so large clusters clog cheaply.
  while (picked.size < want) {
    const a = random.int(0, nodes.length - 1);
    const b = random.int(0, nodes.length - 1);
    if (a === b) continue;
    const pair: Pair = a < b ? [nodes[a]!, nodes[b]!] : [nodes[b]!, nodes[a]!];
    const k = `${pair[0]} ${pair[1]}`;
    if (!picked.has(k)) picked.set(k, pair);
  }
  return [...picked.values()];
}
