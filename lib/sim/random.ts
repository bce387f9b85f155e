import { Random } from '../random.js';

/**
 * The simulator's random source: the project's seeded `Random` plus the
 * distributions the network and the scenarios draw from. The seed is
 * scrambled first, since xoroshiro's first draws for nearby seeds (1, 2,
 * 3, ...) are correlated, and a sweep runs exactly such seeds.
 */
export class SimRandom extends Random {
  constructor(seed: number) {
    super(mix(seed));
  }

  /** True with probability `p`; draws nothing when p is 0 or 1, so switching a fault off does not shift the other draws. */
  override chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.float() < p;
  }

  override pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return super.pick(items);
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.float();
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.float());
  }

  /** An independent stream derived from this one. */
  override fork(): SimRandom {
    return new SimRandom(this.int(-0x80000000, 0x7fffffff));
  }
}

/** A 32-bit avalanche (the murmur3 finalizer), so seeds 1, 2, 3 start far apart. */
function mix(seed: number): number {
  let h = (seed | 0) ^ 0x9e3779b9;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
