import type { Random } from '../random.js';

export interface Candidates {
  /** Addresses of members we consider alive. */
  live: readonly string[];
  /** Addresses of members we consider dead (not yet removed). */
  dead: readonly string[];
  /** Seed addresses, our own excluded. */
  seeds: readonly string[];
}

/**
 * Who to gossip with this round, by the known-good rule of Cassandra's
 * gossiper: one random live member; one dead member with probability
 * dead / (live + 1), so the dead are retried, but less often the more live
 * members there are; and a seed when we know nobody alive, or, if the live
 * member picked was not a seed, with probability seeds / (live + dead), so
 * that partitions heal through the seeds. `fanout` above 1 adds more
 * distinct live members (a fraction: one more with that probability).
 */
export function chooseTargets(candidates: Candidates, random: Random, fanout = 1): string[] {
  const { live, dead, seeds } = candidates;
  const targets: string[] = [];
  if (live.length > 0) targets.push(random.pick(live));
  // More live members when the fanout asks for them, distinct.
  const extra = Math.floor(fanout - 1) + (random.float() < fanout % 1 ? 1 : 0);
  for (let k = 1; k <= extra && k < live.length; k++) {
    let pick = random.pick(live);
    while (targets.includes(pick)) pick = random.pick(live);
    targets.push(pick);
  }
  if (dead.length > 0 && random.float() < dead.length / (live.length + 1)) targets.push(random.pick(dead));
  if (seeds.length > 0) {
    const pickedSeed = targets.length > 0 && seeds.includes(targets[0]);
    if (live.length === 0 || (!pickedSeed && random.float() < seeds.length / (live.length + dead.length))) {
      const seed = random.pick(seeds);
      if (!targets.includes(seed)) targets.push(seed);
    }
  }
  return targets;
}
