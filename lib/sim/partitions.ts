import type { SimRandom } from './random.js';

/**
 * The shapes of partition the nemesis applies, as lists of node pairs to cut.
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

/** Every pair (a, b) with a in `left` and b in `right`. */
export function across(left: readonly string[], right: readonly string[]): Pair[] {
  const pairs: Pair[] = [];
  for (const a of left) for (const b of right) pairs.push([a, b]);
  return pairs;
}

export function randomHalves(nodes: readonly string[], random: SimRandom): { pairs: Pair[]; detail: string } {
  const shuffled = random.shuffle([...nodes]);
  const half = Math.floor(shuffled.length / 2);
  const left = shuffled.slice(0, half).sort();
  const right = shuffled.slice(half).sort();
  return { pairs: across(left, right), detail: `${left.join(',')} | ${right.join(',')}` };
}

export function isolateOne(nodes: readonly string[], random: SimRandom): { pairs: Pair[]; detail: string } {
  const node = random.pick(nodes);
  return { pairs: across([node], nodes.filter((n) => n !== node)), detail: `${node} alone` };
}

export function bridge(nodes: readonly string[], random: SimRandom): { pairs: Pair[]; detail: string } {
  const shuffled = random.shuffle([...nodes]);
  const bridgeNode = shuffled.pop()!;
  const half = Math.floor(shuffled.length / 2);
  const left = shuffled.slice(0, half).sort();
  const right = shuffled.slice(half).sort();
  return { pairs: across(left, right), detail: `${left.join(',')} <${bridgeNode}> ${right.join(',')}` };
}

/** `count` distinct random pairs, in the order they will be clogged. */
export function randomLinks(nodes: readonly string[], count: number, random: SimRandom): Pair[] {
  const all: Pair[] = [];
  for (let i = 0; i < nodes.length; i++) for (let j = i + 1; j < nodes.length; j++) all.push([nodes[i]!, nodes[j]!]);
  return random.shuffle(all).slice(0, Math.min(count, all.length));
}
