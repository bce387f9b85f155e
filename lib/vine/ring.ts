import { keyPosition } from '../merkle/hash.js';
import { dataKey } from '../merkle/stored-keys.js';
import { errors } from '../errors.js';

/** Default virtual nodes per member: enough that 256 partitions spread within 0.8x..1.25x of the fair share over 3-10 nodes (test/vine/ring.test.ts). */
export const DEFAULT_VNODES = 64;
/**
 * The key space is cut into this many fixed partitions (by the top 8 bits of
 * the key's hash). A partition is the unit of placement, of storage (one
 * MerkleStore each) and of anti-entropy. Every node of a cluster must agree.
 */
export const PARTITIONS = 256;

const utf8 = new TextEncoder();

/** The partition of a key: the top 8 bits of the same hash that places it in a MerkleStore tree. */
export function partitionOf(key: string): number {
  return keyPosition(utf8.encode(key)) >>> 24;
}

/** Where a key goes, hashed once: its partition, and its stored form in a partition's MerkleStore (`dataKey`), handed on so the store does not hash it again. */
export interface Placed {
  partition: number;
  stored: Uint8Array;
}

/** `partitionOf` and the key's stored form from one hash of the key. */
export function placeKey(key: string): Placed {
  const stored = dataKey(key);
  // The stored form begins with the key's 4-byte hash position, big-endian: its top byte is the partition.
  return { partition: stored[0], stored };
}

/** The ring position of a partition: the start of its arc. */
export function partitionPoint(partition: number): number {
  return partition * 2 ** 24;
}

/**
 * A consistent-hash ring with virtual nodes: each member owns `vnodes`
 * tokens (hashes of `id/i`), and a point belongs to the members met walking
 * clockwise from it. Adding a member only inserts it into preference lists;
 * removing one only takes it out, so data moves between the member that
 * changed and the others, never among the others.
 */
export class HashRing {
  /** Sorted token positions, and the member of each. */
  private readonly tokens: number[] = [];
  private readonly owners: string[] = [];
  readonly members: readonly string[];

  constructor(members: Iterable<string>, readonly vnodes = DEFAULT_VNODES) {
    if (!Number.isInteger(vnodes) || vnodes < 1) throw errors.invalidArgument('vnodes must be a positive integer');
    this.members = [...new Set(members)].sort();
    const all: Array<[number, string]> = [];
    for (const id of this.members) for (let i = 0; i < vnodes; i++) all.push([keyPosition(utf8.encode(`${id}/${i}`)), id]);
    // Ties (two tokens on one position) are broken by id, so every node builds the same ring.
    all.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    for (const [token, id] of all) {
      this.tokens.push(token);
      this.owners.push(id);
    }
  }

  /** Distinct members met walking clockwise from `point` (at most `limit`), the preference order of that point. */
  walk(point: number, limit = Infinity): string[] {
    const out: string[] = [];
    if (this.tokens.length === 0) return out;
    let lo = 0;
    let hi = this.tokens.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.tokens[mid] < point) lo = mid + 1;
      else hi = mid;
    }
    const want = Math.min(limit, this.members.length);
    for (let step = 0; step < this.tokens.length && out.length < want; step++) {
      const id = this.owners[(lo + step) % this.tokens.length];
      if (!out.includes(id)) out.push(id);
    }
    return out;
  }

  /** The first `n` distinct members for a partition: where its data lives. */
  preferenceList(partition: number, n: number): string[] {
    return this.walk(partitionPoint(partition), n);
  }

  /** How many partitions each member replicates with `n` copies. */
  load(n: number): Map<string, number> {
    const counts = new Map<string, number>(this.members.map((id) => [id, 0]));
    for (let p = 0; p < PARTITIONS; p++) for (const id of this.preferenceList(p, n)) counts.set(id, counts.get(id)! + 1);
    return counts;
  }
}

/** One replica a request goes to: the member, and the owner it stands in for when it holds the data as a hint. */
export interface Target {
  node: string;
  hint?: string;
}

/**
 * Sloppy quorum placement: the first `n` members of the walk are the owners;
 * each owner that is down is replaced by the next live member past them,
 * which keeps the data as a hint for that owner. Owners come first, in
 * preference order; with fewer than `n` live members, fewer targets.
 */
export function planTargets(walk: readonly string[], n: number, isLive: (id: string) => boolean): Target[] {
  const owners = walk.slice(0, n);
  const spares = walk.slice(n).filter(isLive);
  const targets: Target[] = [];
  for (const owner of owners) {
    if (isLive(owner)) targets.push({ node: owner });
    else {
      const spare = spares.shift();
      if (spare !== undefined) targets.push({ node: spare, hint: owner });
    }
  }
  return targets;
}
