import { errors } from '../errors.js';
import { type Codec, type DecodeState, type EncodeState, readCount, uint } from '../codec/index.js';
import { uintLength, writeUint } from '../codec/primitives.js';
import { CausalContext, type Dot, dotKey, inRanges, rangeAtOrBefore } from './causal-context.js';
import { DotIndex } from './dot-index.js';
import { KeyMap } from './key-map.js';
import type { HashingKeyCodec } from './element-keys.js';

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
  /** How many dots `s` holds, where the kind counts faster than `forEachDot`. */
  dotCount?(s: S): number;
  /**
   * The entries of `s` whose dots `peer` has not seen, as pieces that
   * together make that part of `s`; each piece about `budget` encoded bytes
   * at most where the store can split (a single entry may be larger).
   */
  missing(s: S, peer: CausalContext, budget?: number): Iterable<S>;
  /** True if `peer` has seen none of the dots of `s` (so all of `s` is missing): spares building a copy. */
  missingAll?(s: S, peer: CausalContext): boolean;
  /** Puts pieces with disjoint keys back into one store. */
  concat(pieces: S[]): S;
  clone(s: S): S;
  /**
   * Bytes `s` takes on the wire at most, give or take the slack a map
   * leaves per key, without a dot table: what cutting a state into pieces
   * needs. Default: its exact `encodingLength`.
   */
  estimate?(s: S): number;
  /** The form a map holds of a joined nested store (a lone dot without its array, say). Default: as it is. */
  settle?(s: S): S;
  encodingLength(s: S, table: DotTable): number;
  encode(s: S, table: DotTable, state: EncodeState): void;
  /** Reads a store; dots name replicas by their index in `table`. */
  decode(state: DecodeState, table: DotTable): S;
}

/** How many dots `s` holds. */
export function countDots<S>(kind: StoreKind<S>, s: S): number {
  if (kind.dotCount !== undefined) return kind.dotCount(s);
  let n = 0;
  kind.forEachDot(s, () => n++);
  return n;
}

/** Told about each key of a `dotMap` (with its nested store) before the join changes it, so a type can report what changed. */
export interface JoinTrace<S> {
  before(key: string, existing: S | undefined): void;
  /** False while `before` would record nothing: a join may then take new keys in bulk without telling it. */
  readonly active?: boolean;
}

// ---------------------------------------------------------------- dots

/**
 * How the dots of one delta travel: a dot names its replica by that
 * replica's position in the delta's context, and its seq as the signed
 * difference from the previous seq of the same replica in the store (so
 * the dots of a run of adds cost a byte or two each). Fresh per encode or
 * decode: it remembers the last seq of each replica. Made from the
 * delta's context, a table also checks on reading that every dot lies in
 * that context, as the dots are read (no second pass over the store).
 */
/** The uses of a `DotTable` (its `use`). */
const FRESH = 0;
const TOUCHED = 1;
const SPENT = 2;

/**
 * A copy of `items` that is an array of strings to V8 even when empty: an
 * empty array literal has the map of an array of small integers, and the
 * first string pushed changes it, so the sender's loop, compiled while a
 * measuring table (which starts empty) took its first replica, was thrown
 * away at the next such table ("not a Smi"). Popped, the array keeps the
 * map of an array of objects.
 */
function stringList(items: Iterable<string>): string[] {
  const list = [''];
  list.pop();
  for (const item of items) list.push(item);
  return list;
}

/** See `DotTable.nextReads`. */
export interface NextReads {
  last: number;
  runs: number[];
  low: number;
  high: number;
}

export class DotTable {
  readonly positions = new Map<string, number>();
  readonly replicas: string[];
  private readonly last: number[];
  /** Per position, the context's ranges of that replica: dots read are checked against them. */
  private readonly ranges: number[][] | undefined;
  // The dots of a delta mostly come from one replica: its position is remembered, not looked up per dot.
  private lastReplica: string | undefined;
  private lastIndex = -1;
  /**
   * FRESH, TOUCHED (a dot was measured or written: lengths now depend on
   * what came before) or SPENT (see `spend`). One number, not two flags:
   * V8 treats a field as constant until its first change, and code
   * optimized meanwhile is thrown away when it changes. A `spent` flag
   * first changed once a sync's first piece went out, after the sender's
   * loops were compiled, so they were compiled again; this field first
   * changes on the first dot of the first table.
   */
  private use = FRESH;

  /**
   * A measuring table (see `measuring`): the context of the dots measured
   * so far, with a replica's ranges per position (the one being extended).
   */
  private readonly measured: CausalContext | undefined;
  private readonly measuredRanges: number[][] = [];

  constructor(replicas: Iterable<string>, ranges?: number[][], measured?: CausalContext) {
    this.replicas = stringList(replicas);
    for (const r of this.replicas) this.positions.set(r, this.positions.size);
    this.last = new Array<number>(this.replicas.length).fill(0);
    this.tags = new Array<number>(this.replicas.length).fill(-1);
    this.ranges = ranges;
    this.measured = measured;
  }

  /** The table of a delta whose context is `context`. */
  static of(context: CausalContext): DotTable {
    return new DotTable(context.ranges.keys(), [...context.ranges.values()]);
  }

  /**
   * A table for measuring a store whose context is not made yet: a replica
   * takes the next position when first measured, and every dot measured
   * goes into `context()`. That is exactly the order `contextOfStore`
   * gives the same store, so the lengths measured are those `DotTable.of`
   * of that context would give.
   */
  static measuring(): DotTable {
    return new DotTable([], undefined, new CausalContext());
  }

  /** A measuring table's context: the dots measured so far, replicas in the order they came. */
  context(): CausalContext {
    return this.measured!;
  }

  private position(replica: string): number | undefined {
    if (replica === this.lastReplica) return this.lastIndex;
    let i = this.positions.get(replica);
    if (i === undefined && this.measured !== undefined) {
      i = this.replicas.length;
      this.replicas.push(replica);
      this.positions.set(replica, i);
      this.last.push(0);
      this.tags.push(-1);
    }
    if (i !== undefined) {
      this.lastReplica = replica;
      this.lastIndex = i;
    }
    return i;
  }

  /** Bytes of the next dot, which is then the previous one. */
  length(replica: string, seq: number): number {
    const i = this.position(replica) ?? 0;
    const n = uintLength(i) + uintLength(zigzag(seq - (this.last[i] ?? 0)));
    this.last[i] = seq;
    if (this.use === FRESH) this.use = TOUCHED;
    if (this.measured !== undefined) this.record(i, replica, seq);
    return n;
  }

  /** Adds a measured dot to the context: a run of one replica extends its last range in place. */
  private record(i: number, replica: string, seq: number): void {
    const r = this.measuredRanges[i];
    if (r !== undefined && seq === r[r.length - 1] + 1) {
      r[r.length - 1] = seq;
      return;
    }
    const ctx = this.measured!;
    ctx.add(replica, seq);
    // add may have put a new array in place of the old one.
    this.measuredRanges[i] = ctx.ranges.get(replica)!;
  }

  /**
   * True if this table, as it is now, gives a store the lengths a fresh
   * measuring table gave it: nothing measured or written yet (a seq is
   * written as the difference from the previous one), and the replicas of
   * `order` at their positions there (a table of a context that starts
   * with them). Never for a measuring table: it must see every dot.
   */
  measuresAs(order: readonly string[]): boolean {
    if (this.use !== FRESH || this.measured !== undefined) return false;
    const replicas = this.replicas;
    if (replicas.length < order.length) return false;
    for (let i = 0; i < order.length; i++) if (replicas[i] !== order[i]) return false;
    return true;
  }

  write(replica: string, seq: number, state: EncodeState): void {
    const i = this.position(replica);
    if (i === undefined) throw errors.invalidArgument(`dot of ${replica} outside the delta's context`);
    this.writeAt(i, seq, state);
  }

  /**
   * The position of `replica` (a measuring table gives it the next one if
   * it has none), for a writer of whole entries that remembers it rather
   * than look it up per dot; undefined if the table has none for it.
   */
  positionOf(replica: string): number | undefined {
    return this.position(replica);
  }

  /** After a store's bytes were copied in rather than written with it: a further write throws (it would be the difference from a seq never written). */
  spend(): void {
    this.use = SPENT;
  }

  /** `write` of a dot whose replica's position is `i` (recorded, in a measuring table). */
  writeAt(i: number, seq: number, state: EncodeState): void {
    if (this.use === SPENT) throw errors.invalidArgument('dot table used after a store was copied in');
    // zigzag and record written out: this runs per dot of a catch-up, and a call each is a compile each in a fresh process.
    const d = seq - this.last[i];
    const z = d >= 0 ? d * 2 : -d * 2 - 1;
    const buf = state.buffer;
    let at = state.offset;
    // Both one byte: the common case, without the general writer.
    if (i < 0x80 && z < 0x80) {
      buf[at++] = i;
      buf[at++] = z;
    } else {
      at = writeUint(buf, at, i);
      at = writeUint(buf, at, z);
    }
    state.offset = at;
    this.last[i] = seq;
    this.use = TOUCHED;
    if (this.measured !== undefined) {
      const r = this.measuredRanges[i];
      if (r !== undefined && seq === r[r.length - 1] + 1) r[r.length - 1] = seq;
      else this.record(i, this.replicas[i], seq);
    }
  }

  /**
   * For a writer of whole entries that writes a replica's dots itself
   * (writeRun in set-entries.ts), exactly as `writeAt` would: the seq last
   * written at position `i`, which the writer hands back with
   * `setLastWritten` before the table writes anything else. Throws as
   * `writeAt` does once spent; a dot is about to be written.
   */
  lastWritten(i: number): number {
    if (this.use === SPENT) throw errors.invalidArgument('dot table used after a store was copied in');
    this.use = TOUCHED;
    return this.last[i];
  }

  /** See `lastWritten`. */
  setLastWritten(i: number, seq: number): void {
    this.last[i] = seq;
  }

  /** True for a measuring table: a writer of whole entries records each dot it writes (see `measuredRangesOf`). */
  get measures(): boolean {
    return this.measured !== undefined;
  }

  /**
   * A measuring table's ranges of position `i` so far (undefined before
   * its first dot): a dot right after their end extends the last one in
   * place; any other goes to `recordAt`.
   */
  measuredRangesOf(i: number): number[] | undefined {
    return this.measuredRanges[i];
  }

  /** Records a written dot of position `i` in a measuring table's context; returns its ranges as they now are. */
  recordAt(i: number, seq: number): number[] {
    this.record(i, this.replicas[i], seq);
    return this.measuredRanges[i];
  }

  /** Per position, a number a store kind may attach to that replica (element-dots: its packed number), -1 if none yet. */
  readonly tags: number[];
  /** The replica position of the dot `readSeq` read last. */
  readPosition = 0;

  read(state: DecodeState): Dot {
    const seq = this.readSeq(state);
    return { replica: this.replicas[this.readPosition], seq };
  }

  /** Reads a dot as `read` does, without making an object: returns its seq, and leaves its replica's position in `readPosition`. */
  readSeq(state: DecodeState): number {
    const buf = state.buffer;
    const at = state.offset;
    let i: number;
    let z: number;
    // Both varints one byte long: the common case, read without the general decoder.
    if (at + 1 < state.end && buf[at] < 0x80 && buf[at + 1] < 0x80) {
      i = buf[at];
      z = buf[at + 1];
      state.offset = at + 2;
    } else {
      i = uint.decode(state);
      z = uint.decode(state);
    }
    return this.accept(i, z);
  }

  /**
   * `accept`, with its usual case written out (no call: it runs per dot of
   * a catch-up, where each call is another compile in a fresh process): the
   * next seq of a replica whose dots this delta has named in ascending
   * order, within a context of one range for it. Anything else goes to
   * `accept`, with nothing changed yet.
   */
  acceptNext(i: number, z: number): number {
    if (i < this.replicas.length && (z & 1) === 0) {
      const seq = this.last[i] + z / 2;
      const seen = this.seqsRead[i];
      const ranges = this.ranges === undefined ? undefined : this.ranges[i];
      if (
        seq >= 1 &&
        seq <= Number.MAX_SAFE_INTEGER &&
        seen !== undefined &&
        Array.isArray(seen) &&
        seq > seen[seen.length - 1] &&
        (ranges === undefined || (ranges.length === 2 && seq >= ranges[0] && seq <= ranges[1]))
      ) {
        this.last[i] = seq;
        // As assertFirstRead: a seq right after the last run extends it, a later one starts another.
        if (seq === seen[seen.length - 1] + 1) seen[seen.length - 1] = seq;
        else seen.push(seq, seq);
        this.readPosition = i;
        return seq;
      }
    }
    return this.accept(i, z);
  }

  /**
   * For a reader of whole entries that takes a replica's next dots itself
   * (readRun in set-entries.ts), exactly where `accept` would take them:
   * position `i`'s last seq, the ascending runs of seqs read for it (which
   * the reader extends itself) and the bounds of the range of its context
   * that holds the last seq (a later seq up to its end is in the context;
   * one past it goes back to `accept`); undefined once its runs no longer
   * ascend. The reader hands the last seq back with `setLastRead` before
   * the table reads anything else.
   */
  nextReads(i: number): NextReads | undefined {
    if (i >= this.replicas.length) return undefined;
    const runs = this.seqsRead[i];
    if (runs === undefined || !Array.isArray(runs)) return undefined;
    const last = this.last[i];
    const ranges = this.ranges === undefined ? undefined : this.ranges[i];
    if (ranges === undefined) return { last, runs, low: 1, high: Number.MAX_SAFE_INTEGER };
    // A context with gaps (an ORSet's catch-up after removals): the range of the last seq.
    const at = ranges.length === 2 ? 0 : 2 * rangeAtOrBefore(ranges, last);
    if (at < 0) return undefined;
    return { last, runs, low: ranges[at], high: ranges[at + 1] };
  }

  /** See `nextReads`: the last seq read of position `i`. */
  setLastRead(i: number, seq: number): void {
    this.last[i] = seq;
    this.readPosition = i;
  }

  /**
   * The checks of `readSeq` on a dot whose two varints were read: `i` its
   * replica's position, `z` its zigzagged seq difference. Returns its seq,
   * and leaves `i` in `readPosition`.
   */
  accept(i: number, z: number): number {
    if (i >= this.replicas.length) throw errors.decode(`dot names replica #${i} of ${this.replicas.length}`);
    const seq = this.last[i] + (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
    if (seq < 1 || !Number.isSafeInteger(seq)) throw errors.decode(`dot with sequence number ${seq}`);
    this.last[i] = seq;
    if (this.ranges !== undefined && !inRanges(this.ranges[i], seq)) throw errors.decode(`delta entry ${seq}@${this.replicas[i]} outside its context`);
    this.assertFirstRead(i, seq);
    this.readPosition = i;
    return seq;
  }

  /**
   * Per position, the seqs read so far: while they ascend (the usual order
   * of a catch-up), as flat `[start, end, ...]` runs, so a run of a million
   * dots is two numbers; in a set once one came out of order.
   */
  private readonly seqsRead: (number[] | Set<number>)[] = [];

  /**
   * Every dot is one event, held in one place: a delta naming a dot twice
   * (under two keys, say) would leave a replica whose dots outnumber what it
   * has seen, and the counts that tell what was removed would lie. A seq
   * above every one read of its replica is new without a lookup.
   */
  private assertFirstRead(i: number, seq: number): void {
    const seen = this.seqsRead[i];
    if (seen === undefined) {
      this.seqsRead[i] = [seq, seq];
      return;
    }
    if (Array.isArray(seen)) {
      const last = seen[seen.length - 1];
      if (seq === last + 1) {
        seen[seen.length - 1] = seq;
        return;
      }
      if (seq > last) {
        seen.push(seq, seq);
        return;
      }
      // Out of order: the runs become a set of their seqs (no more than the dots this delta named).
      const set = new Set<number>();
      for (let r = 0; r < seen.length; r += 2) for (let q = seen[r]; q <= seen[r + 1]; q++) set.add(q);
      this.seqsRead[i] = set;
    }
    const set = this.seqsRead[i] as Set<number>;
    if (set.has(seq)) throw errors.decode(`dot ${seq}@${this.replicas[i]} named twice in one delta`);
    set.add(seq);
  }
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
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
    if (into.length === 0) {
      // Nothing to remove; dot objects are never mutated, so they are shared.
      for (const d of from) if (!intoCtx.has(d.replica, d.seq)) into.push(d);
      return into.length > 0;
    }
    const adds = from.filter((d) => !hasDot(into, d.replica, d.seq) && !intoCtx.has(d.replica, d.seq));
    let changed = false;
    for (let i = into.length - 1; i >= 0; i--) {
      const d = into[i];
      if (fromCtx.has(d.replica, d.seq) && !hasDot(from, d.replica, d.seq)) {
        into.splice(i, 1);
        changed = true;
      }
    }
    for (const d of adds) into.push(d);
    return changed || adds.length > 0;
  },
  forEachDot(s, fn) {
    for (let i = 0; i < s.length; i++) fn(s[i].replica, s[i].seq);
  },
  missingAll(s, peer) {
    for (const d of s) if (peer.has(d.replica, d.seq)) return false;
    return true;
  },
  *missing(s, peer) {
    const out = s.filter((d) => !peer.has(d.replica, d.seq));
    if (out.length > 0) yield out;
  },
  concat: (pieces) => pieces.flat(),
  clone: (s) => s.slice(),
  encodingLength(s, table) {
    let n = uint.encodingLength(s.length);
    for (const d of s) n += table.length(d.replica, d.seq);
    return n;
  },
  encode(s, table, state) {
    uint.encode(s.length, state);
    for (const d of s) table.write(d.replica, d.seq, state);
  },
  decode(state, table) {
    const count = readCount(state, 2);
    if (count === 1) return [table.read(state)];
    const out: DotSet = [];
    for (let i = 0; i < count; i++) {
      // The table refuses a dot read twice.
      out.push(table.read(state));
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
      for (const e of s.values()) n += table.length(e.replica, e.seq) + value.encodingLength(e.value);
      return n;
    },
    encode(s, table, state) {
      uint.encode(s.size, state);
      for (const e of s.values()) {
        table.write(e.replica, e.seq, state);
        value.encode(e.value, state);
      }
    },
    decode(state, table) {
      const count = readCount(state, 3);
      const out: DotFun<V> = new Map();
      for (let i = 0; i < count; i++) {
        const d = table.read(state);
        // The table refuses a dot read twice.
        out.set(dotKey(d.replica, d.seq), { replica: d.replica, seq: d.seq, value: value.decode(state) });
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
 * small remove delta finds its entries without scanning a large map; it is
 * built on first use (most stores, deltas among them, never need one) and
 * kept up to date from then on.
 */
export class DotMap<S> {
  private map: KeyMap<S> | undefined;
  /**
   * @internal A piece cut from a store to be sent, or a set's delta as it
   * was read: its keys and their entries side by side, in place of the map
   * (one push each instead of an insert into a hash table). Encoding,
   * counting and joining read them as they are; anything that asks for
   * `entries` gets them as a map from then on.
   */
  flat: FlatEntries<S> | undefined;
  /** @internal */ dotIndex: DotIndex | undefined;
  /** @internal Set by the map's kind, so the index can be built from the entries. */
  forEachDot: ((s: S, fn: (replica: string, seq: number) => void) => void) | undefined;
  /** @internal Set by the map's kind where its entries never change in place: the map keeps their dot count as they change. */
  countDots: ((s: S) => number) | undefined;

  get index(): DotIndex {
    if (this.dotIndex === undefined) {
      const index = new DotIndex();
      const each = this.forEachDot;
      if (each) this.entries.forEach((s, k) => each(s, (r, q) => index.set(r, q, k)));
      this.dotIndex = index;
    }
    return this.dotIndex;
  }

  get entries(): KeyMap<S> {
    if (this.map !== undefined) return this.map;
    const map = new KeyMap<S>(this.countDots);
    const flat = this.flat;
    if (flat !== undefined) {
      for (let i = 0; i < flat.keys.length; i++) map.set(flat.keys[i], flat.values[i]);
      if (map.size !== flat.keys.length) throw errors.decode('duplicate key in a map delta');
    }
    this.flat = undefined;
    return (this.map = map);
  }

  get size(): number {
    return this.map !== undefined ? this.map.size : this.flat !== undefined ? this.flat.keys.length : 0;
  }

  /** @internal Calls `fn` for each entry, in either form, without a pair or an iterator result per entry. */
  each(fn: (s: S, k: string) => void): void {
    const flat = this.flat;
    if (flat === undefined) {
      this.entries.forEach(fn);
      return;
    }
    const { keys, values } = flat;
    for (let i = 0; i < keys.length; i++) fn(values[i], keys[i]);
  }
}

/** The entries of a flat `DotMap`. */
export interface FlatEntries<S> {
  keys: string[];
  values: S[];
  /** Known to name each key once (a piece of a store, or a delta a join has checked). */
  distinct: boolean;
  /** How many dots the entries hold, where counted as they were gathered or read. */
  dots?: number;
  /** Each key's `hashOf` (lib/key-hash.ts), where computed as the keys were read. */
  hashes?: Int32Array;
  /** A piece's encoded size and context, measured as it was gathered (see `measuring` in `missing`). */
  measured?: MeasuredPiece;
}

/**
 * What gathering a piece learnt of it in the same pass: the context of its
 * dots (what `contextOfStore` would make, replicas in the same order), and
 * its exact encoded size with the dot table of a context that numbers
 * those replicas as `replicas` does. So a catch-up walks each piece twice
 * (gathered, then written), not four times.
 */
export interface MeasuredPiece {
  bytes: number;
  replicas: readonly string[];
  context: CausalContext;
  /** The entries as written (after the count), where the store writes them in one loop. */
  encoded?: Uint8Array;
}

export interface DotMapOptions {
  /**
   * Read a peer's delta flat, without a map, and find a key it names twice
   * while joining it (the join then undoes what it took and refuses the
   * delta) rather than while reading it. Only for a standalone set (a map
   * of dots, never nested in another map, where the refusal would come
   * after the outer map had changed). Default false.
   */
  flatDecode?: boolean;
  /**
   * With `flatDecode` and a hashing key codec: reads a delta's entries in
   * one loop, exactly as the map's own loop would, and returns how many
   * dots they hold (a set's is `readSetEntries`).
   */
  readEntries?: (state: DecodeState, table: DotTable, key: HashingKeyCodec, keys: string[], values: any[], hashes: Int32Array) => number;
  /** Writes a flat store's entries in one loop, exactly as the map's own loop would (a set's is `writeSetEntries`). */
  writeEntries?: (keys: readonly string[], values: readonly any[], table: DotTable, key: Codec<string>, state: EncodeState) => void;
  /**
   * Writes a flat store's entries with a measuring `table` (see
   * `DotTable.measuring`) and returns their bytes, exactly as `writeEntries`
   * writes them with the table of the context that measuring makes (a
   * set's is `encodeSetEntries`). A piece of a catch-up is written so once,
   * and then its size is known and its message copies those bytes.
   */
  encodeEntries?: (keys: readonly string[], values: readonly any[], table: DotTable) => Uint8Array;
}

/** Keys are strings in memory; `key` says how they travel (and canonicalises what a peer sends). */
export function dotMap<S>(key: Codec<string>, nested: StoreKind<S>, options: DotMapOptions = {}): StoreKind<DotMap<S>> {
  const forEachDot = nested.forEachDot;
  /**
   * Flat nested stores (dot sets) are never changed in place once in a map:
   * a join writes a copy. So an entry can be shared between a delta and the
   * store, and a piece of the store handed to a session stays as it was.
   */
  const shareable = nested.missingAll !== undefined;
  const flatDecode = shareable && options.flatDecode === true;
  // Flat nested stores are never changed in place (see `shareable`): a map of them can keep their dot count as it changes.
  const dotCountOfEntry = shareable ? nested.dotCount : undefined;
  const make = () => {
    const m = new DotMap<S>();
    m.forEachDot = forEachDot;
    m.countDots = dotCountOfEntry;
    return m;
  };
  const settle = nested.settle;
  const put = (m: DotMap<S>, k: string, joined: S) => {
    if (nested.isEmpty(joined)) {
      m.entries.delete(k);
      return;
    }
    const s = settle === undefined ? joined : settle(joined);
    m.entries.set(k, s);
    const index = m.dotIndex;
    if (index !== undefined) forEachDot(s, (r, q) => index.set(r, q, k));
  };
  const unindex = (m: DotMap<S>, s: S) => {
    const index = m.dotIndex;
    if (index !== undefined) forEachDot(s, (r, q) => index.delete(r, q));
  };
  /**
   * Checks that a flat delta names each key once, before a join changes
   * anything but the first `taken` keys, which it took as new: if a key is
   * named twice, those are removed again (they were absent) and the delta
   * is refused, leaving the store as it was.
   */
  const assertDistinct = (into: DotMap<S>, flat: FlatEntries<S>, taken: number) => {
    if (new Set(flat.keys).size === flat.keys.length) {
      flat.distinct = true;
      return;
    }
    for (let j = 0; j < taken; j++) {
      into.entries.delete(flat.keys[j]);
      unindex(into, flat.values[j]);
    }
    throw errors.decode('duplicate key in a map delta');
  };

  const kind: StoreKind<DotMap<S>> = {
    empty: make,
    isEmpty: (m) => m.size === 0,
    join(into, intoCtx, from, fromCtx, trace) {
      let changed = false;
      /** Joins their entry for `k` into ours (`existing`); true if ours changed. */
      const joinKey = (k: string, theirs: S, existing: S | undefined): boolean => {
        if (existing === undefined) {
          const target = nested.empty();
          if (!nested.join(target, intoCtx, theirs, fromCtx)) return false;
          put(into, k, target);
          return true;
        }
        unindex(into, existing);
        const target = shareable ? nested.clone(existing) : existing;
        const joined = nested.join(target, intoCtx, theirs, fromCtx);
        put(into, k, target);
        return joined;
      };
      const entries = into.entries;
      /**
       * A key new here whose dots are all new (the usual case in a sync) is
       * taken as it is, in one step: flat entries are copied on write, so
       * sharing it with the delta is safe, and there is nothing to unindex.
       * True if it was.
       */
      const takeNew = (k: string, theirs: S, existing: S | undefined): boolean => {
        if (existing !== undefined || !shareable || !nested.missingAll!(theirs, intoCtx) || nested.isEmpty(theirs)) return false;
        entries.set(k, theirs);
        const index = into.dotIndex;
        if (index !== undefined) forEachDot(theirs, (r, q) => index.set(r, q, k));
        return true;
      };
      const flat = from.flat;
      if (flat === undefined) {
        // forEach, not for-of: a cold loop over map entries would allocate a pair and a result per entry.
        from.entries.forEach((theirs, k) => {
          const existing = entries.get(k);
          if (trace !== undefined) trace.before(k, existing);
          if (takeNew(k, theirs, existing) || joinKey(k, theirs, existing)) changed = true;
        });
      } else {
        const { keys, values } = flat;
        // A delta read from the wire holds only dots of its context (the dot
        // table checks): if we have seen none of those, every dot in it is new.
        const allNew = shareable && !intoCtx.intersects(fromCtx);
        let i = 0;
        // The bulk path (a catch-up into a replica that lacks it all, with
        // nobody watching the keys and no dot index to keep): every key new
        // here is taken in one pass, which stops at the first key held, and
        // the loop below goes on from there as it would have.
        if (allNew && into.dotIndex === undefined && (trace === undefined || trace.active === false)) {
          i = entries.insertAbsent(keys, values, 0, flat.hashes, flat.dots);
          if (i > 0) changed = true;
        }
        for (; i < keys.length; i++) {
          const k = keys[i];
          const theirs = values[i];
          const existing = entries.get(k);
          if (trace !== undefined) trace.before(k, existing);
          if (allNew && existing === undefined) {
            entries.set(k, theirs);
            const index = into.dotIndex;
            if (index !== undefined) forEachDot(theirs, (r, q) => index.set(r, q, k));
            changed = true;
            continue;
          }
          if (takeNew(k, theirs, existing)) {
            changed = true;
            continue;
          }
          // Anything else may change what was here: first the delta must be
          // known to name each key once. (While every key is new when met,
          // none can be named twice: the second would not be new.)
          if (!flat.distinct) assertDistinct(into, flat, i);
          if (joinKey(k, theirs, existing)) changed = true;
        }
        flat.distinct = true;
      }

      // Entries `from` does not mention lose the dots its context has seen.
      // Only a context with dots beyond the delta's own entries can remove
      // anything (each entry holds at least one dot, so a context no larger
      // than the entry count cannot); those dots are found through the
      // index, replica by replica, so a context naming what we never held
      // costs nothing.
      if (into.entries.size === 0) return changed;
      const contextDots = fromCtx.dotCount();
      if (contextDots <= from.size) return changed;
      let fromDots = 0;
      const countDot = () => fromDots++;
      from.each((theirs) => forEachDot(theirs, countDot));
      if (contextDots <= fromDots) return changed;
      // Every dot we hold is in our context: if theirs shares none with it,
      // none of ours is named (a catch-up's removals, which a fresh replica
      // never held), and the index (a pass over all we hold) is not needed.
      if (!intoCtx.intersects(fromCtx)) return changed;
      const candidates = new Set<string>();
      for (const [replica, ranges] of fromCtx.ranges) {
        into.index.forEachIn(replica, ranges, (_seq, k) => {
          if (!from.entries.has(k)) candidates.add(k);
        });
      }
      const none = nested.empty();
      for (const k of candidates) {
        const existing = entries.get(k);
        if (trace !== undefined) trace.before(k, existing);
        if (joinKey(k, none, existing)) changed = true;
      }
      return changed;
    },
    forEachDot(m, fn) {
      m.each((s) => forEachDot(s, fn));
    },
    dotCount: nested.dotCount === undefined ? undefined : (m) => {
      if (m.flat !== undefined && m.flat.dots !== undefined) return m.flat.dots;
      const count = nested.dotCount!;
      if (m.flat === undefined) return m.entries.weight ?? m.entries.sumValues(count);
      let n = 0;
      m.each((s) => {
        n += count(s);
      });
      return n;
    },
    *missing(m, peer, budget) {
      // Whole keys, gathered into pieces of about `budget` bytes (one key per
      // piece without one). Each piece is flat (keys and entries side by side),
      // as it only goes to be encoded.
      const estimate = nested.estimate;
      // A peer that has seen nothing (a fresh replica) lacks every entry whole: no lookups.
      const all = peer.replicaCount === 0 && nested.missingAll !== undefined;
      const count = nested.dotCount;
      const table = new DotTable([]);
      const flatMap = (flat: FlatEntries<S>) => {
        const out = make();
        out.flat = flat;
        return out;
      };
      // Each piece is measured as it is gathered (its exact size and its
      // context, with a measuring table), so neither the size of its message
      // nor its context costs another pass; where the store can write its
      // entries in one loop (`encodeEntries`), a piece is written once, as
      // it is handed out, and that is its measure. Where it is cut still
      // follows the estimate, so the pieces are what they always were.
      // Only pieces cut to a budget go to be sent (a nested store's are parts of its key's entry).
      const measure = budget !== undefined;
      let measuring = DotTable.measuring();
      let exact = 0;
      const encodeEntries = options.encodeEntries;
      const seal = (flat: FlatEntries<S>) => {
        if (!measure) return flat;
        let encoded: Uint8Array | undefined;
        if (encodeEntries !== undefined) {
          encoded = encodeEntries(flat.keys, flat.values, measuring);
          exact = encoded.length;
        }
        flat.measured = { bytes: uint.encodingLength(flat.keys.length) + exact, replicas: measuring.replicas, context: measuring.context(), encoded };
        measuring = DotTable.measuring();
        exact = 0;
        return flat;
      };
      if (all && budget !== undefined) {
        // Every entry goes as it is: the pieces are gathered in one pass
        // over the map, each with its dot count (the state as it is now; see
        // below for why a stale entry is harmless).
        // Cut in one pass, before any piece is handed out: each piece is a slice of the map's columns (lent, as nothing can change them meanwhile).
        const [keys, values] = columns(m, true);
        const pieces: FlatEntries<S>[] = [];
        // Sealed now if measured entry by entry below; else as handed out (only the piece in flight holds its bytes).
        const cut = (from: number, to: number, dots: number) => {
          const flat: FlatEntries<S> = { keys: keys.slice(from, to), values: values.slice(from, to), distinct: true, dots: count === undefined ? undefined : dots };
          return encodeEntries === undefined ? seal(flat) : flat;
        };
        let from = 0;
        let bytes = 0;
        let dots = 0;
        // Entries `start` to `stop`: the loop runs in calls of RUN entries (see RUN).
        const cutRun = (start: number, stop: number) => {
          for (let j = start; j < stop; j++) {
            const s = values[j];
            const keyBytes = key.encodingLength(keys[j]);
            const cost = keyBytes + (estimate === undefined ? nested.encodingLength(s, table) : estimate(s)) + DOT_SLACK;
            if (j > from && bytes + cost > budget) {
              pieces.push(cut(from, j, dots));
              from = j;
              bytes = 0;
              dots = 0;
            }
            if (count !== undefined) dots += count(s);
            if (encodeEntries === undefined) exact += keyBytes + nested.encodingLength(s, measuring);
            bytes += cost;
          }
        };
        for (let j = 0; j < keys.length; j += RUN) cutRun(j, j + RUN < keys.length ? j + RUN : keys.length);
        if (keys.length > from) pieces.push(cut(from, keys.length, dots));
        for (const p of pieces) yield flatMap(encodeEntries === undefined ? p : seal(p));
        return;
      }
      // The entries as they are now, in one pass in the map's own order: no
      // lookup per key, and no pair per entry. An entry changed meanwhile
      // goes to the peer as a live delta too, and a stale copy of an entry
      // is harmless (its dots are the context of its piece, and the join
      // keeps what is newer).
      // A copy: the map may change between the pieces handed out.
      const [keys, values] = columns(m, false);
      let piece: FlatEntries<S> = { keys: [], values: [], distinct: true };
      let bytes = 0;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        const s = values[i];
        let part: S;
        if (all || (nested.missingAll !== undefined && nested.missingAll(s, peer))) part = s;
        else {
          const parts = [...nested.missing(s, peer)];
          if (parts.length === 0) continue;
          part = parts.length === 1 ? parts[0] : nested.concat(parts);
        }
        const keyBytes = key.encodingLength(k);
        const cost = budget === undefined ? 0 : keyBytes + (estimate === undefined ? nested.encodingLength(part, table) : estimate(part)) + DOT_SLACK;
        if (piece.keys.length > 0 && (budget === undefined || bytes + cost > budget)) {
          yield flatMap(seal(piece));
          piece = { keys: [], values: [], distinct: true };
          bytes = 0;
        }
        piece.keys.push(k);
        piece.values.push(part);
        if (measure && encodeEntries === undefined) exact += keyBytes + nested.encodingLength(part, measuring);
        bytes += cost;
      }
      if (piece.keys.length > 0) yield flatMap(seal(piece));
    },
    concat(pieces) {
      if (pieces.length === 1) return pieces[0];
      const out = make();
      for (const p of pieces) p.each((s, k) => put(out, k, s));
      return out;
    },
    clone(m) {
      const out = make();
      m.each((s, k) => out.entries.set(k, nested.clone(s)));
      return out;
    },
    encodingLength(m, table) {
      // A piece measured as it was gathered, with a table that numbers its replicas alike: its size is known.
      const measured = m.flat?.measured;
      if (measured !== undefined && table.measuresAs(measured.replicas)) return measured.bytes;
      let n = uint.encodingLength(m.size);
      m.each((s, k) => {
        n += key.encodingLength(k) + nested.encodingLength(s, table);
      });
      return n;
    },
    encode(m, table, state) {
      uint.encode(m.size, state);
      const flat = m.flat;
      // A piece written as it was measured, with a table that numbers its replicas alike: its bytes as they are.
      const encoded = flat?.measured?.encoded;
      if (encoded !== undefined && table.measuresAs(flat!.measured!.replicas)) {
        state.buffer.set(encoded, state.offset);
        state.offset += encoded.length;
        // Spent: a dot written with it now would be written as the difference from one it never saw.
        table.spend();
        return;
      }
      if (flat !== undefined && options.writeEntries !== undefined) {
        options.writeEntries(flat.keys, flat.values, table, key, state);
        return;
      }
      m.each((s, k) => {
        key.encode(k, state);
        nested.encode(s, table, state);
      });
    },
    decode(state, table) {
      const count = readCount(state, 2);
      const out = make();
      if (flatDecode) {
        // Filled, so an array of strings to V8 from the start: made empty it would change kind at its first key, and code compiled for the keys of earlier pieces would be thrown away there.
        const keys = new Array<string>(count).fill('');
        const values = new Array<S>(count);
        // Each key's hash for the table it goes to, where the key codec computes it as it reads.
        const hashing = (key as Partial<HashingKeyCodec>).decodeHashed !== undefined ? (key as HashingKeyCodec) : undefined;
        const hashes = hashing === undefined ? undefined : new Int32Array(count);
        const countOf = nested.dotCount;
        const readEntries = options.readEntries;
        if (readEntries !== undefined && hashing !== undefined) {
          const dots = readEntries(state, table, hashing, keys, values, hashes!);
          out.flat = { keys, values, distinct: count < 2, dots, hashes };
          return out;
        }
        let dots = 0;
        for (let i = 0; i < count; i++) {
          keys[i] = hashing === undefined ? key.decode(state) : hashing.decodeHashed(state, hashes!, i);
          const s = nested.decode(state, table);
          if (nested.isEmpty(s)) throw errors.decode('empty entry in a map delta');
          values[i] = s;
          if (countOf !== undefined) dots += countOf(s);
        }
        out.flat = { keys, values, distinct: count < 2, dots: countOf === undefined ? undefined : dots, hashes };
        return out;
      }
      const entries = out.entries;
      for (let i = 0; i < count; i++) {
        const k = key.decode(state);
        const s = nested.decode(state, table);
        if (nested.isEmpty(s)) throw errors.decode('empty entry in a map delta');
        // One hash operation per key: a duplicate is seen as a set that did not grow.
        entries.set(k, s);
        if (entries.size !== i + 1) throw errors.decode('duplicate key in a map delta');
      }
      return out;
    },
  };
  return kind;
}

/**
 * The keys and entries of `m`, in its order, as two arrays: the map's own
 * where it can lend them (only read, and only until it changes), else
 * copies.
 */
function columns<S>(m: DotMap<S>, lend: boolean): [readonly string[], readonly S[]] {
  const dense = lend && m.flat === undefined ? m.entries.denseColumns() : undefined;
  if (dense !== undefined) return dense;
  // Grown as they are filled, not made at their size: V8 makes an array made at 100,000 or more a dictionary.
  const keys: string[] = [];
  const values: S[] = [];
  if (m.flat === undefined) m.entries.copyInto(keys, values);
  else {
    let n = 0;
    m.each((s, k) => {
      keys[n] = k;
      values[n++] = s;
    });
  }
  return [keys, values];
}

/**
 * Entries per call of the loop that cuts a whole store into pieces. A full
 * sync into a fresh process runs it before it is optimized: a loop that
 * runs long in one call is compiled twice (once for later calls, once more
 * to enter the running loop, "on-stack replacement"), and short runs leave
 * only the first.
 */
const RUN = 64;

/** Bytes a piece's estimate leaves, per key, for replica indexes and seq differences it cannot know yet. */
const DOT_SLACK = 8;

/** A `dotMap` store holding `entries`. */
export function dotMapOf<S>(nested: StoreKind<S>, entries: Iterable<[string, S]>): DotMap<S> {
  const m = new DotMap<S>();
  m.forEachDot = nested.forEachDot;
  if (nested.missingAll !== undefined) m.countDots = nested.dotCount;
  for (const [k, s] of entries) if (!nested.isEmpty(s)) m.entries.set(k, s);
  return m;
}
