import { Random } from '../../lib/random.js';

/**
 * The seed of a randomized test: `SEED` from the environment, or a fresh one.
 * Always printed, so a failure can be replayed with `SEED=<n>`.
 */
export function testRandom(label: string): Random {
  const seed = process.env.SEED ? Number(process.env.SEED) : Math.floor(Math.random() * 0x7fffffff);
  console.log(`# ${label}: seed ${seed} (replay with SEED=${seed})`);
  return new Random(seed);
}
