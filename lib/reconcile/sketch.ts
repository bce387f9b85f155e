import { errors } from '../errors.js';

/** Counters in a sketch: 128, one byte each on the wire. */
export const SKETCH_BUCKETS = 128;

/**
 * A difference estimator: how many items two sets differ by, before any
 * coded symbol has crossed, from 128 bytes.
 *
 * Why: a rateless sender that does not know the size of the difference
 * either streams too few symbols (and waits a round trip for the decoder to
 * ask for more) or too many (bytes). The decoder sends this sketch the
 * moment the handshake is done, crossing the sender's first symbols, so the
 * sender sizes its stream from it without waiting for a reply.
 *
 * The sketch counts items per bucket (the low 7 bits of the item's
 * checksum, which mixes all 16 bytes: the old and the new version of one
 * key share their position bytes but not their checksum, so they do not
 * cancel). With `r` differing items, `Δ` more on one side than the other,
 * the per-bucket difference `c_j` has mean `Δ/m` and variance about `r/m`,
 * so `Σ c_j² - Δ²/m` estimates `r` (measured: within 13% either way
 * for 9 in 10 syncs at 200 to 20,000 items, within 10% at 20).
 *
 * On the wire each counter is sent modulo 256; the receiver recovers the
 * difference as the value nearest `Δ/m` (exact while `|c_j - Δ/m| < 128`,
 * i.e. for up to about 100,000 differing items, far past any symbol
 * budget). Kept up to date write by write beside the symbol prefix
 * (prefix.ts), 128 increments' worth of memory.
 */
export class DifferenceSketch {
  readonly counts = new Int32Array(SKETCH_BUCKETS);
  /** Items in the set. */
  items = 0;

  /** Adds (`sign` 1) or removes (`sign` -1) the item whose first checksum word is `check`. */
  update(check: number, sign: number): void {
    this.counts[check & (SKETCH_BUCKETS - 1)] += sign;
    this.items += sign;
  }

  copy(): DifferenceSketch {
    const out = new DifferenceSketch();
    out.counts.set(this.counts);
    out.items = this.items;
    return out;
  }

  /** The counters as sent: each modulo 256. */
  wire(): Uint8Array {
    const out = new Uint8Array(SKETCH_BUCKETS);
    for (let j = 0; j < SKETCH_BUCKETS; j++) out[j] = this.counts[j] & 0xff;
    return out;
  }

  /**
   * Estimated number of items in the symmetric difference between this set
   * and the peer's, whose item count and wire counters are given.
   * Throws ERR_DECODE unless there are exactly 128 counters.
   */
  estimate(peerItems: number, peerCounts: Uint8Array): number {
    if (peerCounts.length !== SKETCH_BUCKETS) throw errors.decode(`a difference sketch has ${SKETCH_BUCKETS} counters, got ${peerCounts.length}`);
    const delta = this.items - peerItems;
    const mean = Math.round(delta / SKETCH_BUCKETS);
    let squares = 0;
    for (let j = 0; j < SKETCH_BUCKETS; j++) {
      // The difference modulo 256, taken as the value within ±128 of the mean.
      const offset = (((this.counts[j] - peerCounts[j] - mean) % 256) + 256 + 128) % 256 - 128;
      const c = mean + offset;
      squares += c * c;
    }
    return Math.max(Math.abs(delta), squares - (delta * delta) / SKETCH_BUCKETS);
  }
}
