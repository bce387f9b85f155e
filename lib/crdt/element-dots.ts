import { readCount, uint } from '../codec/index.js';
import type { Dot } from './causal-context.js';
import { type DotTable, type StoreKind, dotSet } from './dot-store.js';

/**
 * The dots of one set element. Almost always one dot (an element added
 * once, or re-added, holds the dot of its last add), and that dot is held
 * as a number: `seq * 4096 + n`, where `n` numbers its replica in a small
 * process-wide table. So a set of 100,000 elements holds 100,000 numbers
 * and no objects besides its keys, and a full sync builds nothing per
 * element but the key. A dot that does not fit (a seq beyond 2^41, a
 * replica id longer than 64 characters, or more than 4,096 replicas seen)
 * is held as a `Dot`; several dots (concurrent adds) as an array. All
 * three forms are read alike everywhere; none is ever changed in place, so
 * a store and a delta share them. Same join and same wire form as `dotSet`.
 */
export type ElementDots = number | Dot | Dot[];

/** How many replicas a packed dot can number: `seq * REPLICA_SLOTS + n`. */
export const REPLICA_SLOTS = 4096;
/** Largest seq a packed dot holds: the number stays a safe integer. */
export const MAX_PACKED_SEQ = Math.floor(Number.MAX_SAFE_INTEGER / REPLICA_SLOTS) - 1;
/** Longest replica id the table takes, so it stays small (4,096 ids of at most 64 characters) whatever peers send. */
const MAX_PACKED_ID = 64;
const replicaIds: string[] = [];
const replicaNumbers = new Map<string, number>();

/** The table number of `replica`, -1 if it has none and cannot get one. */
function replicaNumber(replica: string): number {
  const n = replicaNumbers.get(replica);
  if (n !== undefined) return n;
  if (replicaIds.length >= REPLICA_SLOTS || replica.length > MAX_PACKED_ID) return -1;
  replicaIds.push(replica);
  replicaNumbers.set(replica, replicaIds.length - 1);
  return replicaIds.length - 1;
}

/** One dot in the form an element holds it: a number where it fits. */
export function packDot(replica: string, seq: number): number | Dot {
  if (seq > MAX_PACKED_SEQ) return { replica, seq };
  const n = replicaNumber(replica);
  return n < 0 ? { replica, seq } : seq * REPLICA_SLOTS + n;
}

/** The replica of table number `n` (a packed dot's `% REPLICA_SLOTS`). */
export function replicaIdOf(n: number): string {
  return replicaIds[n];
}

function replicaOf(packed: number): string {
  return replicaIds[packed % REPLICA_SLOTS];
}

function seqOf(packed: number): number {
  return (packed - (packed % REPLICA_SLOTS)) / REPLICA_SLOTS;
}

function unpack(s: number | Dot): Dot {
  return typeof s === 'number' ? { replica: replicaOf(s), seq: seqOf(s) } : s;
}

/** The dots as an array of their own (a copy: safe to change). */
export function dotsOf(s: ElementDots): Dot[] {
  return Array.isArray(s) ? s.slice() : [unpack(s)];
}

/** How many dots `s` holds. */
export function dotCountOf(s: ElementDots): number {
  return Array.isArray(s) ? s.length : 1;
}

function length(s: number | Dot, table: DotTable): number {
  return typeof s === 'number' ? table.length(replicaOf(s), seqOf(s)) : table.length(s.replica, s.seq);
}

export const elementDots: StoreKind<ElementDots> = {
  // A join works on an array (`empty` and `clone` give one); `settle` puts a lone dot back in its own form.
  empty: () => [],
  isEmpty: (s) => Array.isArray(s) && s.length === 0,
  settle: (s) => (Array.isArray(s) && s.length === 1 ? packDot(s[0].replica, s[0].seq) : s),
  // A join is dotSet's, on arrays.
  join: (into, intoCtx, from, fromCtx) => dotSet.join(into as Dot[], intoCtx, Array.isArray(from) ? from : [unpack(from)], fromCtx),
  forEachDot(s, fn) {
    if (typeof s === 'number') fn(replicaOf(s), seqOf(s));
    else if (!Array.isArray(s)) fn(s.replica, s.seq);
    else for (let i = 0; i < s.length; i++) fn(s[i].replica, s[i].seq);
  },
  dotCount: dotCountOf,
  missingAll(s, peer) {
    if (typeof s === 'number') return !peer.has(replicaOf(s), seqOf(s));
    if (!Array.isArray(s)) return !peer.has(s.replica, s.seq);
    for (const d of s) if (peer.has(d.replica, d.seq)) return false;
    return true;
  },
  *missing(s, peer) {
    if (!Array.isArray(s)) {
      const d = unpack(s);
      if (!peer.has(d.replica, d.seq)) yield s;
      return;
    }
    const out = s.filter((d) => !peer.has(d.replica, d.seq));
    if (out.length > 0) yield out;
  },
  concat(pieces) {
    const out: Dot[] = [];
    for (const p of pieces) {
      if (Array.isArray(p)) for (const d of p) out.push(d);
      else out.push(unpack(p));
    }
    return out.length === 1 ? packDot(out[0].replica, out[0].seq) : out;
  },
  clone: (s) => (Array.isArray(s) ? s.slice() : [unpack(s)]),
  // The count, then per dot its replica's index (one byte up to 128 replicas, two up to 16,384) and a seq difference (one or two bytes in a run); a map's slack per key covers a lone dot's worst case.
  estimate: (s) => (Array.isArray(s) ? 1 + 4 * s.length : 4),
  encodingLength(s, table) {
    if (!Array.isArray(s)) return 1 + length(s, table);
    let n = uint.encodingLength(s.length);
    for (const d of s) n += table.length(d.replica, d.seq);
    return n;
  },
  encode(s, table, state) {
    if (Array.isArray(s)) {
      uint.encode(s.length, state);
      for (const d of s) table.write(d.replica, d.seq, state);
      return;
    }
    state.buffer[state.offset++] = 1;
    if (typeof s === 'number') table.write(replicaOf(s), seqOf(s), state);
    else table.write(s.replica, s.seq, state);
  },
  decode(state, table) {
    // A count of one (one byte, 1) is the usual case: the dot is read as a number, without an object.
    if (state.offset < state.end && state.buffer[state.offset] === 1) {
      state.offset++;
      return readOne(state, table);
    }
    const count = readCount(state, 2);
    if (count === 1) return readOne(state, table);
    const out: Dot[] = [];
    // The table refuses a dot read twice.
    for (let i = 0; i < count; i++) out.push(table.read(state));
    return out;
  },
};

/** Reads one dot in the form an element holds it; the table remembers each replica's number, so the id is looked up once per delta. */
function readOne(state: Parameters<StoreKind<ElementDots>['decode']>[0], table: DotTable): number | Dot {
  const seq = table.readSeq(state);
  return held(table, table.readPosition, seq);
}

/**
 * A lone dot whose replica position `i` and zigzagged seq difference `z`
 * were read (as one byte each) by a reader of whole entries: checked by
 * the table as `decode` would, and in the form an element holds it.
 */
export function loneDot(table: DotTable, i: number, z: number): number | Dot {
  const seq = table.acceptNext(i, z);
  // The replica's number, where the table has one already: packed here, without a call.
  const n = table.tags[i];
  if (n >= 0 && seq <= MAX_PACKED_SEQ) return seq * REPLICA_SLOTS + n;
  return held(table, i, seq);
}

function held(table: DotTable, at: number, seq: number): number | Dot {
  let n = table.tags[at];
  // -1: not asked yet; -2: asked, and the table has no number for it.
  if (n === -1) {
    const got = replicaNumber(table.replicas[at]);
    n = table.tags[at] = got < 0 ? -2 : got;
  }
  if (n < 0 || seq > MAX_PACKED_SEQ) return { replica: table.replicas[at], seq };
  return seq * REPLICA_SLOTS + n;
}
