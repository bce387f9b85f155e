import { type Limits, decodeState, guardDecode, readCount, uint } from '../codec/index.js';
import { need } from '../codec/codec.js';
import { uintLength } from '../codec/primitives.js';
import { errors } from '../errors.js';
import { Writer } from './writer.js';

// The delete digest: how two Seq replicas find, in one message, which
// clients' deleted ranges differ, without sending the ranges themselves.

/** Clocks per bucket of the delete digest. Part of the protocol: both sides must agree. */
export const DIGEST_BUCKET = 256;

/** The number of deleted ranges in one bucket and two 32-bit hashes of them. */
export interface DeleteDigest {
  count: number;
  hashA: number;
  hashB: number;
}

/** Per client, per bucket (clock / DIGEST_BUCKET). */
export type DeleteDigests = Map<number, Map<number, DeleteDigest>>;

/**
 * Groups one client's maximal ranges by the bucket their first clock falls
 * in, and calls `fn(bucket, start, end)` for each group of triples. A range
 * counts in one bucket only, however long it is, so a forged run of 2^50
 * deleted elements costs one entry, not 2^42.
 */
export function forEachBucket(ranges: number[], fn: (bucket: number, start: number, end: number) => void): void {
  let start = 0;
  while (start < ranges.length) {
    const bucket = Math.floor(ranges[start + 1] / DIGEST_BUCKET);
    let end = start + 3;
    while (end < ranges.length && Math.floor(ranges[end + 1] / DIGEST_BUCKET) === bucket) end += 3;
    fn(bucket, start, end);
    start = end;
  }
}

/** Digest of the triples `ranges[start..end)` (one client, one bucket, in clock order). */
export function digestOf(ranges: number[], start: number, end: number, bucket: number): DeleteDigest {
  // Two FNV-1a style hashes with different primes over the offsets within
  // the bucket and the lengths: 64 bits in all.
  let a = 0x811c9dc5;
  let b = 0x5bd1e995;
  const base = bucket * DIGEST_BUCKET;
  for (let i = start; i < end; i += 3) {
    for (const n of [ranges[i + 1] - base, ranges[i + 2]]) {
      a = Math.imul(a ^ n, 0x01000193) >>> 0;
      b = Math.imul(b ^ n, 0x27d4eb2d);
      b = (b ^ (b >>> 15)) >>> 0;
    }
  }
  return { count: (end - start) / 3, hashA: a, hashB: b };
}

export function sameDigest(ours: DeleteDigest, theirs: DeleteDigest | undefined): boolean {
  return theirs !== undefined && ours.count === theirs.count && ours.hashA === theirs.hashA && ours.hashB === theirs.hashB;
}


/**
 * A delete digest: clientCount, then per client: client, bucketCount, and
 * per bucket: bucket - previous bucket - 1, rangeCount, hashA, hashB (4 bytes each, little-endian).
 */
export function encodeDeleteDigest(digests: DeleteDigests, budget = Infinity): Buffer {
  // Past the budget, buckets are left out: the peer then treats them as
  // differing and sends their ranges, so a short digest costs bytes, never correctness.
  const w = new Writer(64);
  let clients = 0;
  const body = new Writer(64);
  let used = 8;
  for (const [client, buckets] of digests) {
    const entries = new Writer(64);
    let count = 0;
    let previous = -1;
    for (const [bucket, digest] of buckets) {
      const size = uintLength(bucket - previous - 1) + uintLength(digest.count) + 8;
      if (used + uintLength(client) + 4 + entries.pos + size > budget) break;
      entries.uint(bucket - previous - 1);
      previous = bucket;
      entries.uint(digest.count);
      entries.ensure(8);
      entries.buf.writeUInt32LE(digest.hashA, entries.pos);
      entries.buf.writeUInt32LE(digest.hashB, entries.pos + 4);
      entries.pos += 8;
      count++;
    }
    if (count === 0) break;
    body.uint(client);
    body.uint(count);
    body.append(entries);
    used = 8 + body.pos;
    clients++;
    if (count < buckets.size) break;
  }
  w.uint(clients);
  w.append(body);
  return w.toBuffer();
}

export function decodeDeleteDigest(bytes: Uint8Array, limits?: Partial<Limits>): DeleteDigests {
  const state = decodeState(bytes, limits);
  const digests = guardDecode(() => {
    const clients = readCount(state, 2);
    const result: DeleteDigests = new Map();
    let total = 0;
    for (let i = 0; i < clients; i++) {
      const client = uint.decode(state);
      if (result.has(client)) throw errors.decode(`client ${client} twice in a delete digest`);
      const size = readCount(state, 10);
      total += size;
      if (total > state.limits.maxItems) throw errors.limit('delete digest buckets', total, state.limits.maxItems);
      const buckets = new Map<number, DeleteDigest>();
      let bucket = -1;
      for (let k = 0; k < size; k++) {
        bucket += uint.decode(state) + 1;
        const count = uint.decode(state);
        need(state, 8);
        const hashA = state.buffer.readUInt32LE(state.offset);
        const hashB = state.buffer.readUInt32LE(state.offset + 4);
        state.offset += 8;
        buckets.set(bucket, { count, hashA, hashB });
      }
      result.set(client, buckets);
    }
    return result;
  });
  if (state.offset !== state.end) throw errors.decode(`${state.end - state.offset} trailing bytes in delete digest`);
  return digests;
}
