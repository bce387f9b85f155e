import type { AggregateMessage } from './messages.js';

/** What `aggregate(name)` returns. */
export interface AggregateEstimate {
  /** Estimated number of live nodes. */
  size: number;
  /** Average of the numeric local value over the nodes that publish one; NaN if none does. */
  average: number;
  /** Sum of it over the cluster. */
  sum: number;
  /** True once a whole epoch has run: the estimate is settled; false while the first one runs. */
  settled: boolean;
}

/** What the aggregates need from the membership. */
export interface AggregateHost {
  readonly id: string;
  livePeers(): string[];
  getLocalState(key: string): unknown;
  localKeys(): string[];
  readonly timing: { gossipIntervalMs: number };
}

/** Rounds per epoch: push-pull averaging shrinks the error about threefold a round, 20 rounds is plenty. */
const EPOCH_ROUNDS = 20;
/** Names averaged at once, at most. */
const MAX_NAMES = 16;

interface Mass {
  value: number;
  presence: number;
}

/**
 * Cluster-wide aggregates by push-pull averaging (the symmetric form of
 * push-sum, Kempe et al. 2003; Jelasity et al. 2005), piggybacked on gossip
 * exchanges: both sides send their share and both keep the mean of the two,
 * so the total is conserved and every share converges to the cluster mean.
 *
 * Each node starts an epoch with, per numeric local value, (value, 1), or
 * (0, 0) if it publishes none, and a count indicator that is 1 only on the
 * node with the smallest id it knows alive. The means are then sum/N,
 * publishers/N and 1/N, which give the size, the sum and the average. Epochs
 * follow the wall clock (every 20 gossip rounds), so nodes restart together
 * and joins, departures and changed values show up in the next epoch; a
 * node that hears of a later epoch joins it at once.
 */
export class Aggregates {
  private epoch = -1;
  private count = 0;
  private masses = new Map<string, Mass>();
  private settledEstimate: { count: number; masses: Map<string, Mass> } | undefined;
  /** Our share as we sent it in the current exchange; averaging uses it, so nothing is counted twice. */
  private sent: { epoch: number; count: number; masses: Map<string, Mass> } | undefined;

  constructor(private readonly host: AggregateHost) {}

  tick(now: number): void {
    const epoch = Math.floor(now / (EPOCH_ROUNDS * this.host.timing.gossipIntervalMs));
    if (epoch > this.epoch) this.restart(epoch);
  }

  /** Our share for a peer, taken as we send it. */
  outgoing(): AggregateMessage | undefined {
    if (this.epoch < 0) return undefined;
    this.sent = { epoch: this.epoch, count: this.count, masses: clone(this.masses) };
    return {
      type: 'aggregate',
      epoch: this.epoch,
      count: this.count,
      values: [...this.masses].map(([name, m]) => ({ name, value: m.value, presence: m.presence })),
    };
  }

  /** The peer's share: keep the mean of it and what we sent (if we sent in this epoch). */
  receive(message: AggregateMessage, weSent: boolean): void {
    if (message.epoch > this.epoch) this.restart(message.epoch);
    const sent = this.sent;
    if (message.epoch < this.epoch || !weSent || !sent || sent.epoch !== this.epoch) return;
    if (!Number.isFinite(message.count) || message.values.length > MAX_NAMES) return;
    // Changes since we sent (other exchanges) are kept: add the difference.
    this.count += (message.count - sent.count) / 2;
    const theirs = new Map<string, Mass>();
    for (const { name, value, presence } of message.values) {
      if (Number.isFinite(value) && Number.isFinite(presence)) theirs.set(name, { value, presence });
    }
    // Every name either side holds: a name the peer lacks is a zero share on its side.
    for (const name of new Set([...theirs.keys(), ...sent.masses.keys()])) {
      let mine = this.masses.get(name);
      if (!mine) {
        if (this.masses.size >= MAX_NAMES) continue;
        mine = { value: 0, presence: 0 };
        this.masses.set(name, mine);
      }
      const other = theirs.get(name) ?? { value: 0, presence: 0 };
      const before = sent.masses.get(name) ?? { value: 0, presence: 0 };
      mine.value += (other.value - before.value) / 2;
      mine.presence += (other.presence - before.presence) / 2;
    }
    this.sent = undefined;
  }

  estimate(name: string): AggregateEstimate {
    const source = this.settledEstimate ?? { count: this.count, masses: this.masses };
    const size = source.count > 0 ? 1 / source.count : NaN;
    const mass = source.masses.get(name) ?? { value: 0, presence: 0 };
    return {
      size,
      sum: mass.value * size,
      average: mass.presence > 0 ? mass.value / mass.presence : NaN,
      settled: this.settledEstimate !== undefined,
    };
  }

  private restart(epoch: number): void {
    if (this.epoch >= 0 && epoch === this.epoch + 1) this.settledEstimate = { count: this.count, masses: clone(this.masses) };
    this.epoch = epoch;
    this.sent = undefined;
    const live = this.host.livePeers();
    this.count = live.every((peer) => this.host.id < peer) ? 1 : 0;
    this.masses = new Map();
    for (const key of this.host.localKeys()) {
      const value = this.host.getLocalState(key);
      if (typeof value === 'number' && Number.isFinite(value) && this.masses.size < MAX_NAMES) this.masses.set(key, { value, presence: 1 });
    }
  }
}

function clone(masses: Map<string, Mass>): Map<string, Mass> {
  return new Map([...masses].map(([name, m]) => [name, { ...m }]));
}
