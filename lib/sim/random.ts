import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';

type Generator = ReturnType<typeof xoroshiro128plus>;

/**
 * The simulator's only source of randomness: a seeded xoroshiro128+ stream
 * (pure-rand). Everything random in a run draws from one of these, so the
 * same seed gives the same run, event for event.
 */
export class Random {
  private readonly generator: Generator;

  constructor(readonly seed: number) {
    // Nearby seeds give correlated first draws from xoroshiro: scramble first.
    this.generator = xoroshiro128plus(mix(seed));
  }

  /** Uniform in [0, 1). */
  float(): number {
    return uniformFloat64(this.generator);
  }

  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number {
    return uniformInt(this.generator, min, max);
  }

  /** True with probability `p`. Draws nothing when p is 0 or 1, so turning a fault off does not shift the other draws. */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(0, items.length - 1)]!;
  }

  /** A random element of `items` other than `not` (which must be in it, with at least one other element). */
  pickOther<T>(items: readonly T[], not: T): T {
    for (;;) {
      const item = this.pick(items);
      if (item !== not) return item;
    }
  }

  /** Fisher-Yates, in place; returns `items`. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    return items;
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

  /** An independent stream derived from this one (for a sub-system whose draws must not shift the others'). */
  fork(): Random {
    return new Random(this.int(-0x80000000, 0x7fffffff));
  }
}

/** A 32-bit avalanche (the murmur3 finalizer), so seeds 1, 2, 3 start far apart. */
function mix(seed: number): number {
  let h = (seed | 0) ^ 0x9e3779b9;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
