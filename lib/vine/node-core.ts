import type { ValueEncoding } from '../codec/index.js';
import type { HintStore } from './hints.js';
import type { Membership } from './membership.js';
import type { VineOptions } from './options.js';
import type { Partitions } from './partitions.js';
import type { HashRing } from './ring.js';
import type { RequestBody, WireOptions } from './rpc.js';

/** Counters of a node, for reports and tests. */
export interface VineStats {
  syncs: number;
  syncBytes: number;
  repairs: number;
  handedOff: number;
  handoffBytes: number;
  hinted: number;
  dropped: number;
}

/**
 * What the parts of a node (coordination, the replica side, watching,
 * healing) share: the node's identity, options, view of the cluster, its
 * storage, and a way to send any member a request. The node is it.
 */
export interface NodeCore<V> {
  readonly id: string;
  readonly options: VineOptions<V>;
  readonly valueEncoding: ValueEncoding<V>;
  readonly wire: WireOptions;
  readonly stats: VineStats;
  readonly n: number;
  readonly r: number;
  readonly w: number;
  readonly timeout: number;
  readonly maxValueBytes: number;
  readonly membership: Membership | undefined;
  /** The ring over the current membership (replaced when it changes). */
  readonly ring: HashRing;
  readonly isClosed: boolean;
  readonly partitions: Partitions<V>;
  readonly hints: HintStore;
  isLive(id: string): boolean;
  /** Sends a request to a member (this node's own requests are answered in place). */
  call(node: string, body: RequestBody, timeout: number): Promise<Uint8Array>;
  emit(event: string | symbol, ...args: unknown[]): boolean;
}
