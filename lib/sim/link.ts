import type { SimRandom } from './random.js';

/** How delay varies around the mean latency. */
export type JitterShape = 'uniform' | 'normal' | 'exponential';

/**
 * The behaviour of one directed link. Datagram links may lose, duplicate and
 * reorder; stream links (reliable, ordered, like TCP) never do: there, a lost
 * frame breaks the connection instead, and the ends reconnect.
 */
export interface LinkProfile {
  /** Mean one-way delay, ms. Default 10. */
  latency: number;
  /** Spread of the delay, ms. Default 0. */
  jitter: number;
  /**
   * `uniform`: latency ± jitter; `normal`: standard deviation = jitter;
   * `exponential`: latency - jitter + Exp(mean jitter) (a long tail). Default `uniform`.
   * The delay is never below 0.
   */
  shape: JitterShape;
  /** Bytes per ms (1 = 1 kB/s); a message occupies the link for size / bandwidth ms. Default Infinity. */
  bandwidth: number;
  /** Probability a message is lost (datagram) or the connection breaks (stream). Default 0. */
  loss: number;
  /** Probability a datagram is delivered twice. Default 0. */
  duplicate: number;
  /** Probability a datagram is held back by one extra latency, so later ones overtake it. Default 0. */
  reorder: number;
}

export const DEFAULT_LINK: Readonly<LinkProfile> = Object.freeze({
  latency: 10,
  jitter: 0,
  shape: 'uniform',
  bandwidth: Infinity,
  loss: 0,
  duplicate: 0,
  reorder: 0,
});

/** One draw of the link's delay, ms. */
export function sampleDelay(profile: LinkProfile, random: SimRandom): number {
  const { latency, jitter } = profile;
  if (jitter <= 0) return latency;
  let delay: number;
  switch (profile.shape) {
    case 'normal':
      delay = latency + jitter * random.normal();
      break;
    case 'exponential':
      delay = latency - jitter + random.exponential(jitter);
      break;
    default:
      delay = latency - jitter + 2 * jitter * random.float();
  }
  return Math.max(0, delay);
}
