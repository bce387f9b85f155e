/**
 * The phi accrual failure detector (Hayashibara, Defago, Yared and Katayama,
 * 2004) with the normal-distribution model, as Akka uses it.
 *
 * It keeps a window of heartbeat inter-arrival times and answers not "alive
 * or dead" but phi: how unlikely it is, given the intervals seen so far, that
 * a heartbeat would still arrive after this much silence.
 *
 *     phi(dt) = -log10(1 - F(dt)),  F = CDF of N(mean + acceptablePause, max(stddev, minStdDev))
 *
 * phi = 8 means a 1e-8 chance of being wrong under the model. Why not
 * Cassandra's exponential model (phi = 0.434 dt / mean)? It has no variance
 * term: a perfectly regular heartbeat and a very jittery one convict after
 * the same 18.4 mean intervals, which is slow for the first and
 * trigger-happy for the second under bursty loss. The normal model adapts to
 * the jitter it has seen; the minimum standard deviation keeps a very
 * regular sender from being convicted on the first late heartbeat, and the
 * acceptable pause absorbs known stalls (GC, a lost gossip round or three).
 */
export interface PhiOptions {
  /** phi above which a peer is considered failed. Default 8. */
  threshold: number;
  /** Intervals kept in the window. Default 1,000. */
  maxSampleSize: number;
  /** Floor for the standard deviation, ms. Default 100. */
  minStdDeviationMs: number;
  /** Silence tolerated on top of the mean interval before phi rises, ms. Default 3,000. */
  acceptableHeartbeatPauseMs: number;
  /** Guess of the interval before any has been measured, ms. Default 1,000. */
  firstHeartbeatEstimateMs: number;
  /**
   * Longer intervals are not recorded, ms: the silence of a peer we had
   * convicted (or that was paused) is an outage, not a sample of its
   * heartbeat; recorded, it would inflate the deviation and slow every
   * later detection (Cassandra drops such intervals too). Default:
   * firstHeartbeatEstimateMs + acceptableHeartbeatPauseMs.
   */
  maxSampleIntervalMs?: number;
}

export const DEFAULT_PHI: Readonly<PhiOptions> = Object.freeze({
  threshold: 8,
  maxSampleSize: 1000,
  minStdDeviationMs: 100,
  acceptableHeartbeatPauseMs: 3000,
  firstHeartbeatEstimateMs: 1000,
});

export class PhiAccrualDetector {
  private readonly options: PhiOptions;
  private readonly samples: number[] = [];
  private head = 0; // oldest sample, once the window is full
  private sum = 0;
  private squares = 0;
  /** Time of the last heartbeat, ms; undefined before the first. */
  lastHeartbeat: number | undefined;

  constructor(options: Partial<PhiOptions> = {}) {
    this.options = { ...DEFAULT_PHI, ...options };
  }

  /**
   * Records a heartbeat received at `now`. `versions` is how many of the
   * peer's heartbeats it brings at once (0: nothing new, ignored): gossip
   * relays them, so one arrival can skip several, and the interval recorded
   * is the time per heartbeat, elapsed / versions (as Cassandra does not and
   * Akka, which hears every heartbeat directly, need not).
   */
  heartbeat(now: number, versions = 1): void {
    if (versions <= 0) return;
    if (this.lastHeartbeat === undefined) {
      // Like Akka: seed the window with two samples around the estimate, so
      // the first real silence is judged against something sensible.
      const mean = this.options.firstHeartbeatEstimateMs;
      const deviation = mean / 4;
      this.add(mean - deviation);
      this.add(mean + deviation);
    } else {
      const interval = (now - this.lastHeartbeat) / versions;
      // An outage is not a sample: by default, a silence long enough to convict on is not recorded.
      const max = this.options.maxSampleIntervalMs;
      if (interval >= 0 && (max === undefined ? this.isAvailable(now) : interval <= max)) this.add(interval);
    }
    this.lastHeartbeat = now;
  }

  /**
   * Forgets when the last heartbeat came without recording the gap as an
   * interval: after this process itself was stalled, the silence it
   * observed says nothing about the peer.
   */
  restartSilence(now: number): void {
    if (this.lastHeartbeat !== undefined) this.lastHeartbeat = now;
  }

  /** Mean of the window, ms. */
  get mean(): number {
    return this.samples.length === 0 ? this.options.firstHeartbeatEstimateMs : this.sum / this.samples.length;
  }

  /** Standard deviation of the window, ms (before the floor). */
  get standardDeviation(): number {
    const n = this.samples.length;
    if (n === 0) return this.options.firstHeartbeatEstimateMs / 4;
    const mean = this.sum / n;
    return Math.sqrt(Math.max(0, this.squares / n - mean * mean));
  }

  /** phi at `now`; 0 before the first heartbeat. */
  phi(now: number): number {
    if (this.lastHeartbeat === undefined) return 0;
    const elapsed = now - this.lastHeartbeat;
    const mean = this.mean + this.options.acceptableHeartbeatPauseMs;
    const deviation = Math.max(this.standardDeviation, this.options.minStdDeviationMs);
    return phiOfNormal(elapsed, mean, deviation);
  }

  isAvailable(now: number): boolean {
    // Within the mean plus the acceptable pause phi is at most -log10(1/2) = 0.30: no need to compute it.
    if (this.lastHeartbeat === undefined || (this.options.threshold > 0.31 && now - this.lastHeartbeat <= this.mean + this.options.acceptableHeartbeatPauseMs)) return true;
    return this.phi(now) < this.options.threshold;
  }

  private add(interval: number): void {
    if (this.samples.length < this.options.maxSampleSize) {
      this.samples.push(interval);
    } else {
      const old = this.samples[this.head];
      this.sum -= old;
      this.squares -= old * old;
      this.samples[this.head] = interval;
      this.head = (this.head + 1) % this.samples.length;
    }
    this.sum += interval;
    this.squares += interval * interval;
  }
}

/** -log10(P(X > x)) for X ~ N(mean, deviation): phi of the normal model. */
export function phiOfNormal(x: number, mean: number, deviation: number): number {
  const z = (x - mean) / (deviation * Math.SQRT2);
  // P(X > x) = erfc(z) / 2, so phi = -(log10 erfc(z) - log10 2).
  return Math.max(0, -(log10Erfc(z) - Math.LOG10E * Math.LN2));
}

/**
 * log10 of the complementary error function. Chebyshev fit of Numerical
 * Recipes (erfcc, fractional error below 1.2e-7 everywhere), evaluated in
 * log space so that phi stays finite far into the tail instead of
 * underflowing to Infinity.
 */
export function log10Erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const exponent =
    -z * z -
    1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const logPositive = Math.log10(t) + exponent * Math.LOG10E; // log10 erfc(|x|)
  if (x >= 0) return logPositive;
  return Math.log10(2 - 10 ** logPositive); // erfc(-z) = 2 - erfc(z)
}
