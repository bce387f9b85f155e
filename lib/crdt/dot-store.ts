import { errors } from '../errors.js';
import { type Codec, type DecodeState, type EncodeState, readCount, uint } from '../codec/index.js';
import { type CausalContext, type Dot, dotKey } from './causal-context.js';

/**
 * Dot stores, the building blocks of every CRDT in this folder (after
 * Almeida, Shoker and Baquero, "Delta State Replicated Data Types"). A
 * state is a store plus a causal context; stores nest (`dotMap` of `dotSet`
 * is an add-wins set, `dotMap` of anything is a map of CRDTs), and one
 * causal join serves them all:
 *
 *   an entry survives if both sides have its dot, or one side has it and the
 *   other side's context has never seen it.
 *
 * So a dot one side has seen but dropped is a removal, and nothing needs a
 * tombstone. The join is commutative, associative and idempotent for every
 * store, which the property tests check type by type.
 */
export interface StoreKind<S> {
  empty(): S;
  isEmpty(s: S): boolean;
  /**
   * Joins `(from, fromCtx)` into `(into, intoCtx)` in place; the caller
   * merges the contexts afterwards. Returns true if `into` changed.
   */
  join(into: S, intoCtx: CausalContext, from: S, fromCtx: CausalContext, trace?: JoinTrace<any>): boolean;
  forEachDot(s: S, fn: (replica: string, seq: number) => void): void;
  /** The entries of `s` whose dots `peer` has not seen, as pieces that together make that part of `s`. */
  missing(s: S, peer: CausalContext): Iterable<S>;
  /** Puts pieces with disjoint keys back into one store. */
  concat(pieces: S[]): S;
  clone(s: S): S;
  encodingLength(s: S, table: Map<string, number>): number;
  encode(s: S, table: Map<string, number>, state: EncodeState): void;
  /** Reads a store; dots name replicas by their index in `table`. */
  decode(state: DecodeState, table: string[]): S;
}

/** Told about each key of a `dotMap` (with its nested store) before the join changes it, so a type can report what changed. */
export interface JoinTrace<S> {
  before(key: string, existing: S | undefined): void;
}

// ---------------------------------------------------------------- dots

function encodeDot(replica: string, seq: number, table: Map<string, number>, state: EncodeState): void {
  const index = table.get(replica);
  if (index === undefined) throw errors.invalidArgument(`dot of ${replica} outside the delta's context`);
  uint.encode(index, state);
  uint.encode(seq, state);
}

function dotLength(replica: string, seq: number, table: Map<string, number>): number {
  return uint.encodingLength(table.get(replica) ?? 0) + uint.encodingLength(seq);
}

function decodeDot(state: DecodeState, table: string[]): Dot {
  const index = uint.decode(state);
  if (index >= table.length) throw errors.decode(`dot names replica #${index} of ${table.length}`);
  const seq = uint.decode(state);
  if (seq < 1) throw errors.decode('dot with sequence number 0');
  return { replica: table[index], seq };
}

// ---------------------------------------------------------------- dotSet

/** A set of dots: "this exists, written by these events". The payload of set elements and map keys. */
export type DotSet = Dot[];

function hasDot(dots: DotSet, replica: string, seq: number): boolean {
  for (const d of dots) if (d.seq === seq && d.replica === replica) return true;
  return false;
}

export const dotSet: StoreKind<DotSet> = {
  empty: () => [],
  isEmpty: (s) => s.length === 0,
  join(into, intoCtx, from, fromCtx) {
    const adds = from.filter((d) => !hasDot(into, d.replica, d.seq) && !intoCtx.has(d.replica, d.seq));
    let changed = false;
    for (let i = into.length - 1; i >= 0; i--) {
      const d = into[i];
      if (fromCtx.has(d.replica, d.seq) && !hasDot(from, d.replica, d.seq)) {
        into.splice(i, 1);
        changed = true;
      }
    }
    for (const d of adds) into.push({ replica: d.replica, seq: d.seq });
    return changed || adds.length > 0;
  },
  forEachDot(s, fn) {
    for (const d of s) fn(d.replica, d.seq);
  },
  *missing(s, peer) {
    const out = s.filter((d) => !peer.has(d.replica, d.seq));
    if (out.length > 0) yield out;
  },
  concat: (pieces) => pieces.flat(),
  clone: (s) => s.map((d) => ({ replica: d.replica, seq: d.seq })),
  encodingLength(s, table) {
    let n = uint.encodingLength(s.length);
    for (const d of s) n += dotLength(d.replica, d.seq, table);
    return n;
  },
  encode(s, table, state) {
    uint.encode(s.length, state);
    for (const d of s) encodeDot(d.replica, d.seq, table, state);
  },
  decode(state, table) {
    const count = readCount(state, 2);
    const out: DotSet = [];
    for (let i = 0; i < count; i++) {
      const d = decodeDot(state, table);
      if (hasDot(out, d.replica, d.seq)) throw errors.decode('duplicate dot');
      out.push(d);
    }
    return out;
  },
};

// ---------------------------------------------------------------- dotFun

export interface DotEntry<V> {
  replica: string;
  seq: number;
  value: V;
}

/** Dot -> value: "these events wrote these values". Registers and counters. Keyed by `dotKey`. */
export type DotFun<V> = Map<string, DotEntry<V>>;

/**
 * A `dotFun` of values read and written with `value`. `prune`, if given,
 * drops entries that a newer entry makes redundant (a counter's older totals
 * of the same replica, a register's lower timestamps); it must depend only
 * on the entries, so the join stays a join.
 */
export function dotFun<V>(value: Codec<V>, prune?: (s: DotFun<V>) => boolean): StoreKind<DotFun<V>> {
  return {
    empty: () => new Map(),
    isEmpty: (s) => s.size === 0,
    join(into, intoCtx, from, fromCtx) {
      let changed = false;
      for (const [key, e] of into) {
        if (!from.has(key) && fromCtx.has(e.replica, e.seq)) {
          into.delete(key);
          changed = true;
        }
      }
      for (const [key, e] of from) {
        if (!into.has(key) && !intoCtx.has(e.replica, e.seq)) {
          into.set(key, e);
          changed = true;
        }
      }
      if (prune && prune(into)) changed = true;
      return changed;
    },
    forEachDot(s, fn) {
      for (const e of s.values()) fn(e.replica, e.seq);
    },
    *missing(s, peer) {
      const out: DotFun<V> = new Map();
      for (const [key, e] of s) if (!peer.has(e.replica, e.seq)) out.set(key, e);
      if (out.size > 0) yield out;
    },
    concat(pieces) {
      const out: DotFun<V> = new Map();
      for (const p of pieces) for (const [k, e] of p) out.set(k, e);
      return out;
    },
    clone: (s) => new Map(s),
    encodingLength(s, table) {
      let n = uint.encodingLength(s.size);
      for (const e of s.values()) n += dotLength(e.replica, e.seq, table) + value.encodingLength(e.value);
      return n;
    },
    encode(s, table, state) {
      uint.encode(s.size, state);
      for (const e of s.values()) {
        encodeDot(e.replica, e.seq, table, state);
        value.encode(e.value, state);
      }
    },
    decode(state, table) {
      const count = readCount(state, 3);
      const out: DotFun<V> = new Map();
      for (let i = 0; i < count; i++) {
        const d = decodeDot(state, table);
        const key = dotKey(d.replica, d.seq);
        if (out.has(key)) throw errors.decode('duplicate dot');
        out.set(key, { replica: d.replica, seq: d.seq, value: value.decode(state) });
      }
      if (prune) prune(out);
      return out;
    },
  };
}

// ---------------------------------------------------------------- dotMap

/**
 * Key -> nested store. A key exists while its nested store has a dot, so
 * removing a key is dropping its dots, and a concurrent update (a new dot)
 * survives the remove: add-wins. `index` maps every dot to its key, so a
 * small remove delta finds its entries without scanning a large map.
 */
export class DotMap<S> {
  readonly entries = new Map<string, S>();
  private dotIndex: Map<string, string> | undefined;

  /** Made on first use: most deltas never need one. */
  get index(): Map<string, string> {
    return (this.dotIndex ??= new Map());
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Keys are strings in memory; `key` says how they travel (and canonicalises what a peer sends). */
export function dotMap<S>(key: Codec<string>, nested: StoreKind<S>): StoreKind<DotMap<S>> {
  const put = (m: DotMap<S>, k: string, s: S) => {
    if (nested.isEmpty(s)) {
      m.entries.delete(k);
      return;
    }
    m.entries.set(k, s);
    nested.forEachDot(s, (r, q) => m.index.set(dotKey(r, q), k));
  };
  const unindex = (m: DotMap<S>, s: S) => nested.forEachDot(s, (r, q) => m.index.delete(dotKey(r, q)));

  const kind: StoreKind<DotMap<S>> = {
    empty: () => new DotMap<S>(),
    isEmpty: (m) => m.entries.size === 0,
    join(into, intoCtx, from, fromCtx, trace) {
      let changed = false;
      const joinKey = (k: string, theirs: S) => {
        const existing = into.entries.get(k);
        trace?.before(k, existing);
        const target = existing ?? nested.empty();
        if (existing !== undefined) unindex(into, existing);
        if (nested.join(target, intoCtx, theirs, fromCtx)) changed = true;
        put(into, k, target);
      };
      for (const [k, theirs] of from.entries) joinKey(k, theirs);

      // Entries `from` does not mention lose the dots its context has seen.
      // Find them through the index when the context is small, else scan.
      let fromDots = 0;
      for (const s of from.entries.values()) nested.forEachDot(s, () => fromDots++);
      const killable = fromCtx.dotCount() - fromDots;
      if (killable <= 0) return changed;
      const candidates = new Set<string>();
      if (killable < into.entries.size) {
        fromCtx.forEachDot((r, q) => {
          const k = into.index.get(dotKey(r, q));
          if (k !== undefined && !from.entries.has(k)) candidates.add(k);
        });
      } else {
        for (const k of into.entries.keys()) if (!from.entries.has(k)) candidates.add(k);
      }
      const none = nested.empty();
      for (const k of candidates) joinKey(k, none);
      return changed;
    },
    forEachDot(m, fn) {
      for (const s of m.entries.values()) nested.forEachDot(s, fn);
    },
    *missing(m, peer) {
      for (const [k, s] of m.entries) {
        const parts = [...nested.missing(s, peer)];
        if (parts.length === 0) continue;
        const piece = new DotMap<S>();
        put(piece, k, nested.concat(parts));
        yield piece;
      }
    },
    concat(pieces) {
      const out = new DotMap<S>();
      for (const p of pieces) for (const [k, s] of p.entries) put(out, k, s);
      return out;
    },
    clone(m) {
      const out = new DotMap<S>();
      for (const [k, s] of m.entries) put(out, k, nested.clone(s));
      return out;
    },
    encodingLength(m, table) {
      let n = uint.encodingLength(m.entries.size);
      for (const [k, s] of m.entries) n += key.encodingLength(k) + nested.encodingLength(s, table);
      return n;
    },
    encode(m, table, state) {
      uint.encode(m.entries.size, state);
      for (const [k, s] of m.entries) {
        key.encode(k, state);
        nested.encode(s, table, state);
      }
    },
    decode(state, table) {
      const count = readCount(state, 2);
      const out = new DotMap<S>();
      for (let i = 0; i < count; i++) {
        const k = key.decode(state);
        if (out.entries.has(k)) throw errors.decode('duplicate key in a map delta');
        const s = nested.decode(state, table);
        if (nested.isEmpty(s)) throw errors.decode('empty entry in a map delta');
        put(out, k, s);
      }
      return out;
    },
  };
  return kind;
}

/** A `dotMap` store holding `entries`, with its dot index filled in. */
export function dotMapOf<S>(nested: StoreKind<S>, entries: Iterable<[string, S]>): DotMap<S> {
  const m = new DotMap<S>();
  for (const [k, s] of entries) {
    if (nested.isEmpty(s)) continue;
    m.entries.set(k, s);
    nested.forEachDot(s, (r, q) => m.index.set(dotKey(r, q), k));
  }
  return m;
}
