import type { AbstractLevel } from 'abstract-level';
import type { ValueEncoding } from '../codec/index.js';
import type { Resolver } from '../merkle/resolve.js';
import type { Member, Membership } from './membership.js';

/** Options of a vine node. Times are in ms, sizes in bytes. */
export interface VineOptions<V = unknown> {
  /** Port of the node's requests. Default 0 (any free port) for `start()`; `listen(port)` sets it. */
  port?: number;
  /** Address to listen on and to announce. Default `'127.0.0.1'`. */
  host?: string;
  /** Where the node keeps its LevelDB. Default `./vine-<port>` under the working directory. */
  dataDir?: string;
  /** Any abstract-level database instead of `dataDir` (memory-level in tests). Not closed by the node. */
  db?: AbstractLevel<any, any, any>;
  /** Cluster name: nodes and clients of another cluster are refused. Default `'vine'`. */
  cluster?: string;
  /** Copies of every key. Default 3. */
  n?: number;
  /** Answers a read waits for. Default 2. */
  r?: number;
  /** Durable copies a write waits for. Default 2. */
  w?: number;
  /** How long a request waits for its quorum before ERR_UNAVAILABLE. Default 2,000. */
  timeout?: number;
  /** Virtual nodes per member on the ring. Default 64. Every node must agree. */
  vnodes?: number;
  /** Largest encoded value accepted. Default 256 KiB. */
  maxValueBytes?: number;
  /** Largest frame sent or accepted. Default 1 MiB. */
  maxFrameBytes?: number;
  /** Depth of each partition's Merkle tree (2^depth buckets). Default 10. Every node must agree. */
  depth?: number;
  /** Pause between anti-entropy rounds. Default 2,000. */
  antiEntropyMs?: number;
  /** Pause between hinted-handoff rounds. Default 500. */
  handoffMs?: number;
  /** How values become bytes. Default JSON. Every node must agree. */
  valueEncoding?: ValueEncoding<V>;
  /** Turns siblings into one `value`: `'lww'` or a function. Default none (a conflict has no single value). */
  resolve?: 'lww' | Resolver<V>;
  /** Timing of the default gossip membership, in ms: how often it gossips (default 1,000) and how long a dead member stays before it is removed for good (default 60,000). */
  gossip?: { intervalMs?: number; removeAfterMs?: number };
  /** Membership: given this node's id and address, the membership to use. Default: a Gossiper on port + 1, seeded by `join()`. */
  membership?: (self: Member, seeds: Array<{ host: string; port: number }>) => Membership;
}

/** Options of one request. */
export interface RequestOptions {
  n?: number;
  r?: number;
  w?: number;
  /** ms */
  timeout?: number;
  /** The context from `get()`: replace exactly the versions it saw. */
  context?: string;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  cluster: 'vine',
  n: 3,
  r: 2,
  w: 2,
  timeout: 2000,
  maxValueBytes: 256 * 1024,
  maxFrameBytes: 1 << 20,
  depth: 10,
  antiEntropyMs: 2000,
  handoffMs: 500,
  helloTimeoutMs: 5000,
} as const;
