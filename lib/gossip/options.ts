import { DEFAULT_PHI, type PhiOptions } from './failure-detector.js';

/** What a gossip node accepts from peers. Every one is checked before anything is applied. */
export interface GossipLimits {
  /** Most members known at once (live, dead and removed-but-remembered). Default 4,096. */
  maxMembers: number;
  /** Most members a peer may introduce in one exchange; advertised in our digest. Default 512. */
  maxNewMembersPerExchange: number;
  /** Longest node id, bytes. Default 128. */
  maxIdBytes: number;
  /** Longest key, bytes. Default 256. */
  maxKeyBytes: number;
  /** Largest encoded value, bytes. Default 64 KiB. */
  maxValueBytes: number;
  /** Most keys one node may publish. Default 1,024. */
  maxKeysPerNode: number;
}

export const DEFAULT_GOSSIP_LIMITS: Readonly<GossipLimits> = Object.freeze({
  maxMembers: 4096,
  maxNewMembersPerExchange: 512,
  maxIdBytes: 128,
  maxKeyBytes: 256,
  maxValueBytes: 64 * 1024,
  maxKeysPerNode: 1024,
});

export interface MembershipTiming {
  /** How often this node heartbeats and gossips, ms. Default 1,000. */
  gossipIntervalMs: number;
  /**
   * A gap between two ticks longer than this means this process itself was
   * stalled (GC, a blocked loop, a suspended VM): nobody is convicted for a
   * grace period afterwards. Default 2 x gossipIntervalMs.
   */
  maxLocalPauseMs: number;
  /**
   * Live members gossiped with per round. Default 2: each node then takes
   * part in about four exchanges a second, which halves the longest silences
   * between heartbeats relayed to it, and so the time a crash takes to
   * convict without false alarms; a fraction is a probability of one more.
   */
  fanout: number;
  /** How often peers are judged between rounds (`judge()`), so a conviction need not wait for the next round, ms. Default gossipIntervalMs / 4. */
  judgeIntervalMs: number;
  /** How long a peer stays dead before it is removed for good, ms. Default 60,000. */
  removeAfterMs: number;
  /** How long a removed peer is remembered, so stale gossip cannot bring it back, ms. Default 120,000. */
  tombstoneMs: number;
  /** Bytes of deltas sent in one exchange at most (before the peer's window). Default 32 KiB. */
  maxExchangeBytes: number;
  /** Smallest receive window the flow control shrinks to, bytes. Default 2 KiB. */
  minWindowBytes: number;
}

export const DEFAULT_TIMING: Readonly<MembershipTiming> = Object.freeze({
  gossipIntervalMs: 1000,
  maxLocalPauseMs: 2000,
  fanout: 2,
  judgeIntervalMs: 250,
  removeAfterMs: 60_000,
  tombstoneMs: 120_000,
  maxExchangeBytes: 32 * 1024,
  minWindowBytes: 2 * 1024,
});

export { DEFAULT_PHI, type PhiOptions };
