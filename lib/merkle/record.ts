import { errors } from '../errors.js';
import { type Limits, array, bytes, decode, decodeState, encode, guardDecode, string, struct, uint } from '../codec/index.js';
import { type VersionVector, covers, counterOf, isCanonical, mergeVectors, withCounter } from './version-vector.js';

/**
 * One write that no later write has replaced yet: the dot `(id, n)` names it
 * (the n-th write of replica `id` to this key), `ts` is the writer's hybrid
 * clock (used only by a last-writer-wins resolver) and `value` the value as
 * encoded by the store's value encoding, kept as bytes so it is never
 * re-encoded on its way between replicas.
 */
export interface Sibling {
  id: string;
  n: number;
  ts: number;
  value: Uint8Array;
}

/**
 * Everything a replica knows about one key, in the dotted-version-vector
 * style: `context` is every write it has seen (replaced or not), `siblings`
 * the writes still standing, sorted by (id, n). No siblings and a non-empty
 * context is a deleted key: its context keeps older writes from coming back.
 */
export interface KeyRecord {
  context: VersionVector;
  siblings: Sibling[];
  /**
   * Hybrid-clock time of the latest delete in the key's history (absent if
   * never deleted). Merged by max, so every replica that saw the same writes
   * holds the same value; a store with a tombstone grace period collects a
   * deleted key's record once this is older than the grace.
   */
  deleted?: number;
}

export const EMPTY_RECORD: KeyRecord = Object.freeze({ context: [], siblings: [] }) as KeyRecord;

const versionEntry = struct({ id: string, n: uint });
export const versionVectorCodec = array(versionEntry, 2);
export const recordCodec = struct({
  context: versionVectorCodec,
  siblings: array(struct({ id: string, n: uint, ts: uint, value: bytes }), 4),
});

/**
 * A record's bytes: the context and siblings, then the delete time as a
 * trailing varint only when there is one, so a record never deleted has the
 * bytes (and the tree hash) it had before delete times were kept.
 */
export function encodeRecord(record: KeyRecord): Buffer {
  const body = encode(recordCodec, record);
  if (!record.deleted) return body;
  return Buffer.concat([body, encode(uint, record.deleted)]);
}

/**
 * Decodes and validates a record: canonical order, every sibling covered by
 * the context, no duplicate dots. Anything else is ERR_DECODE, so a record
 * that is accepted has exactly one encoding and one hash.
 */
export function decodeRecord(bytes: Uint8Array, limits?: Partial<Limits>): KeyRecord {
  const state = decodeState(bytes, limits);
  const record = guardDecode(() => recordCodec.decode(state)) as KeyRecord;
  if (state.offset < state.end) {
    const deleted = guardDecode(() => uint.decode(state));
    // Zero is written as nothing: one encoding per record.
    if (deleted === 0) throw errors.decode('record delete time is zero');
    record.deleted = deleted;
  }
  if (state.offset !== state.end) throw errors.decode('trailing bytes after the record');
  if (!isCanonical(record.context)) throw errors.decode('record context is not a sorted version vector');
  const siblings = record.siblings;
  for (let i = 0; i < siblings.length; i++) {
    const s = siblings[i];
    if (s.n < 1) throw errors.decode('sibling counter must be positive');
    if (!covers(record.context, s.id, s.n)) throw errors.decode('sibling not covered by the record context');
    if (i > 0 && compareDots(siblings[i - 1], s) >= 0) throw errors.decode('siblings are not sorted and unique');
  }
  return record;
}

function compareDots(a: { id: string; n: number }, b: { id: string; n: number }): number {
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return a.n - b.n;
}

function sortSiblings(siblings: Sibling[]): Sibling[] {
  return siblings.sort(compareDots);
}

/**
 * A local write by replica `id`: replaces the siblings that `seen` covers,
 * keeps the others as siblings of the new value, and records the new dot.
 * `value` undefined is a delete: it replaces without adding anything.
 */
export function writeRecord(current: KeyRecord, id: string, seen: VersionVector, value: Uint8Array | undefined, ts: number, minCounter = 0): KeyRecord {
  const n = Math.max(counterOf(current.context, id) + 1, counterOf(seen, id) + 1, minCounter);
  const kept = current.siblings.filter((s) => !covers(seen, s.id, s.n));
  if (value !== undefined) kept.push({ id, n, ts, value });
  const record: KeyRecord = { context: withCounter(mergeVectors(current.context, seen), id, n), siblings: sortSiblings(kept) };
  const deleted = value === undefined ? Math.max(current.deleted ?? 0, ts) : current.deleted;
  if (deleted) record.deleted = deleted;
  return record;
}

/** A deleted key: no standing value, only the context (and the delete time) that keep older writes from coming back. */
export function isTombstone(record: KeyRecord): boolean {
  return record.siblings.length === 0 && record.context.length > 0;
}

/**
 * Merges two records of the same key. A sibling survives if the other side
 * holds it too or has never seen it; one the other side has seen and
 * dropped was replaced (or deleted) there. Commutative, associative and
 * idempotent, and the result is sorted, so every replica that saw the same
 * writes holds the same bytes.
 */
export function mergeRecords(a: KeyRecord, b: KeyRecord): KeyRecord {
  const out: Sibling[] = [];
  let i = 0;
  let j = 0;
  const as = a.siblings;
  const bs = b.siblings;
  while (i < as.length || j < bs.length) {
    const order = i >= as.length ? 1 : j >= bs.length ? -1 : compareDots(as[i], bs[j]);
    if (order === 0) {
      // The same dot is the same write; should two replicas disagree on its
      // bytes (a replica reused an id), pick one deterministically.
      out.push(preferred(as[i], bs[j]));
      i++;
      j++;
    } else if (order < 0) {
      if (!covers(b.context, as[i].id, as[i].n)) out.push(as[i]);
      i++;
    } else {
      if (!covers(a.context, bs[j].id, bs[j].n)) out.push(bs[j]);
      j++;
    }
  }
  const merged: KeyRecord = { context: mergeVectors(a.context, b.context), siblings: out };
  const deleted = Math.max(a.deleted ?? 0, b.deleted ?? 0);
  if (deleted) merged.deleted = deleted;
  return merged;
}

function preferred(a: Sibling, b: Sibling): Sibling {
  if (a.ts !== b.ts) return a.ts > b.ts ? a : b;
  return Buffer.compare(a.value, b.value) >= 0 ? a : b;
}

/** Encodes a causal context as the opaque string `get()` hands out. */
export function encodeContext(vv: VersionVector): string {
  return encode(versionVectorCodec, vv).toString('base64url');
}

/** Reads a context string from `get()`; anything else is ERR_INVALID_ARGUMENT. */
export function decodeContext(context: string): VersionVector {
  let vv: VersionVector;
  try {
    vv = decode(versionVectorCodec, Buffer.from(context, 'base64url'));
  } catch {
    throw errors.invalidArgument('context is not one returned by get()');
  }
  if (!isCanonical(vv)) throw errors.invalidArgument('context is not one returned by get()');
  return vv;
}
