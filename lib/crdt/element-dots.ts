import { errors } from '../errors.js';
import { readCount, uint } from '../codec/index.js';
import type { Dot } from './causal-context.js';
import type { StoreKind } from './dot-store.js';

/**
 * The dots of one set element: the dot itself when there is one (almost
 * always: an element added once, or re-added, holds the dot of its last
 * add), an array only while concurrent adds of several replicas keep
 * several. A set of 100,000 elements so holds 100,000 dot objects and no
 * arrays, and a full sync builds one object per element besides its key.
 * Dot objects are never changed once made, so a store and a delta share
 * them. Same join and same wire form as `dotSet`.
 */
export type ElementDots = Dot | Dot[];

function isDot(s: ElementDots): s is Dot {
  return !Array.isArray(s);
}

/** The dots as an array of their own (a copy: safe to change). */
export function dotsOf(s: ElementDots): Dot[] {
  return isDot(s) ? [s] : s.slice();
}

/** How many dots `s` holds. */
export function dotCountOf(s: ElementDots): number {
  return isDot(s) ? 1 : s.length;
}

function has(dots: Dot[], replica: string, seq: number): boolean {
  for (const d of dots) if (d.seq === seq && d.replica === replica) return true;
  return false;
}

export const elementDots: StoreKind<ElementDots> = {
  // A join works on an array (`empty` and `clone` give one); `settle` puts a lone dot back as itself.
  empty: () => [],
  isEmpty: (s) => !isDot(s) && s.length === 0,
  settle: (s) => (!isDot(s) && s.length === 1 ? s[0] : s),
  join(into, intoCtx, from, fromCtx) {
    const target = into as Dot[];
    const theirs = isDot(from) ? [from] : from;
    if (target.length === 0) {
      for (const d of theirs) if (!intoCtx.has(d.replica, d.seq)) target.push(d);
      return target.length > 0;
    }
    const adds = theirs.filter((d) => !has(target, d.replica, d.seq) && !intoCtx.has(d.replica, d.seq));
    let changed = false;
    for (let i = target.length - 1; i >= 0; i--) {
      const d = target[i];
      if (fromCtx.has(d.replica, d.seq) && !has(theirs, d.replica, d.seq)) {
        target.splice(i, 1);
        changed = true;
      }
    }
    for (const d of adds) target.push(d);
    return changed || adds.length > 0;
  },
  forEachDot(s, fn) {
    if (isDot(s)) fn(s.replica, s.seq);
    else for (let i = 0; i < s.length; i++) fn(s[i].replica, s[i].seq);
  },
  missingAll(s, peer) {
    if (isDot(s)) return !peer.has(s.replica, s.seq);
    for (const d of s) if (peer.has(d.replica, d.seq)) return false;
    return true;
  },
  *missing(s, peer) {
    if (isDot(s)) {
      if (!peer.has(s.replica, s.seq)) yield s;
      return;
    }
    const out = s.filter((d) => !peer.has(d.replica, d.seq));
    if (out.length > 0) yield out;
  },
  concat(pieces) {
    const out: Dot[] = [];
    for (const p of pieces) {
      if (isDot(p)) out.push(p);
      else for (const d of p) out.push(d);
    }
    return out.length === 1 ? out[0] : out;
  },
  clone: (s) => (isDot(s) ? [s] : s.slice()),
  // The count, then per dot its replica's index (one byte up to 128 replicas, two up to 16,384) and a seq difference (one or two bytes in a run); a map's slack per key covers a lone dot's worst case.
  estimate: (s) => (isDot(s) ? 4 : 1 + 4 * s.length),
  encodingLength(s, table) {
    if (isDot(s)) return 1 + table.length(s.replica, s.seq);
    let n = uint.encodingLength(s.length);
    for (const d of s) n += table.length(d.replica, d.seq);
    return n;
  },
  encode(s, table, state) {
    if (isDot(s)) {
      state.buffer[state.offset++] = 1;
      table.write(s.replica, s.seq, state);
      return;
    }
    uint.encode(s.length, state);
    for (const d of s) table.write(d.replica, d.seq, state);
  },
  decode(state, table) {
    // A count of one (one byte, 1) is the usual case: the dot is the entry.
    if (state.offset < state.end && state.buffer[state.offset] === 1) {
      state.offset++;
      return table.read(state);
    }
    const count = readCount(state, 2);
    if (count === 1) return table.read(state);
    const out: Dot[] = [];
    for (let i = 0; i < count; i++) {
      const d = table.read(state);
      if (has(out, d.replica, d.seq)) throw errors.decode('duplicate dot');
      out.push(d);
    }
    return out;
  },
};
