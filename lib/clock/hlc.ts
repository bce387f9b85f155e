import { errors } from '../errors.js';

/**
 * A hybrid logical clock timestamp packed into one safe integer:
 * `wallMs * 2^10 + counter`. Packing keeps comparisons to one `<` and
 * encodes as one varint. 10 counter bits allow 1,024 events per millisecond;
 * beyond that the counter carries into the wall part, so the clock runs
 * slightly ahead of real time instead of losing order. 2^43 ms of wall time
 * lasts until the year 2248.
 */
export type Timestamp = number;

export const COUNTER_BITS = 10;
const SCALE = 2 ** COUNTER_BITS;

/** Default `maxDrift`: a remote clock may run at most 60 s ahead of ours. */
export const DEFAULT_MAX_DRIFT_MS = 60_000;

export interface ClockOptions {
  /** Physical time source in milliseconds. Default `Date.now`. Inject one for tests and simulation. */
  now?: () => number;
  /** Largest accepted lead of a remote timestamp over our physical time, in ms. Default 60,000. */
  maxDrift?: number;
}

export function wallTime(ts: Timestamp): number {
  return Math.floor(ts / SCALE);
}

export function counter(ts: Timestamp): number {
  return ts % SCALE;
}

export function fromWallTime(ms: number): Timestamp {
  return Math.floor(ms) * SCALE;
}

/**
 * Total order over (timestamp, replica id). Two writes can carry the same
 * timestamp only if they come from different replicas, so the id settles
 * every tie the same way on every replica.
 */
export function compareStamps(aTime: Timestamp, aId: string, bTime: Timestamp, bId: string): number {
  if (aTime !== bTime) return aTime < bTime ? -1 : 1;
  return aId < bId ? -1 : aId > bId ? 1 : 0;
}

export class HybridClock {
  readonly maxDrift: number;
  private readonly physical: () => number;
  // The latest timestamp, in a Float64Array: a timestamp is past V8's small
  // integers, and kept in a field (or returned from a call not inlined) it is
  // a heap number, allocated anew each time it changes.
  private readonly latest = new Float64Array(1);

  constructor(options: ClockOptions = {}) {
    this.physical = options.now ?? Date.now;
    this.maxDrift = options.maxDrift ?? DEFAULT_MAX_DRIFT_MS;
  }

  /** The latest timestamp issued or observed. */
  get last(): Timestamp {
    return this.latest[0];
  }

  /** A timestamp for a local event, greater than every one issued or observed before. */
  now(): Timestamp {
    this.stampInto(this.latest, 0);
    return this.latest[0];
  }

  /**
   * `now()` written into `stamps[at]`: for a caller that keeps timestamps in
   * a Float64Array, so that issuing one allocates nothing.
   */
  stampInto(stamps: Float64Array, at: number): void {
    const physical = fromWallTime(this.physical());
    const latest = this.latest;
    const ts = physical > latest[0] ? physical : latest[0] + 1;
    latest[0] = ts;
    stamps[at] = ts;
  }

  /** Fails with ERR_CLOCK_SKEW if `remote` is further ahead of our physical time than `maxDrift`. */
  check(remote: Timestamp): void {
    checkTimestamp(remote);
    const ahead = wallTime(remote) - this.physical();
    if (ahead > this.maxDrift) throw errors.clockSkew(ahead, this.maxDrift);
  }

  /**
   * Observes a remote timestamp, so later local timestamps order after it.
   * A timestamp beyond the allowed drift is refused and changes nothing.
   */
  receive(remote: Timestamp): void {
    this.check(remote);
    if (remote > this.latest[0]) this.latest[0] = remote;
  }

  /** Restores the clock after a restart, so it never reissues a timestamp. */
  restore(last: Timestamp): void {
    // Unchecked, a NaN was silently ignored and an Infinity or a fraction
    // broke every later timestamp.
    checkTimestamp(last);
    if (last > this.latest[0]) this.latest[0] = last;
  }
}

function checkTimestamp(ts: Timestamp): void {
  if (!Number.isSafeInteger(ts) || ts < 0) throw errors.invalidArgument(`invalid timestamp ${ts}`);
}
