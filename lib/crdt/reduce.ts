import { dotKey } from './causal-context.js';
import { errors } from '../errors.js';
import { type ValueEncoding, encode, json } from '../codec/index.js';
import type { DeltaReplicaOptions } from './delta-replica.js';
import { type DotFun, dotFun } from './dot-store.js';
import type { Embeddable } from './embeddable.js';
import { entryOf, latestPerReplica } from './per-replica.js';
import { ValueReplica } from './value-replica.js';

/**
 * A user-defined merge. `reduce` MUST be commutative, associative and
 * idempotent over the values it sees (max, min, set union, logical or, ...);
 * otherwise replicas diverge. `checkReducer()` tests a function on random
 * inputs before you trust it.
 */
export interface Reducer<I, V> {
  /** Merges two values. */
  reduce: (a: V, b: V) => V;
  /** The value before any update. */
  initial: V;
  /** Turns an update into a value to merge. Default: the update itself. */
  map?: (input: I) => V;
}

export interface ReduceHandle<I, V> {
  /** Merges one update in; returns the new value. */
  update(input: I): V;
  value(): V;
}

/**
 * Each replica keeps its own updates reduced into one accumulator, under the
 * dot of its latest update; the value is `initial` reduced with every
 * replica's accumulator. Because `reduce` is idempotent and associative, a
 * replica's newer accumulator absorbs its older one, so only the newest
 * travels, duplicates do no harm, and a newer accumulator that does not
 * absorb the older one is a broken reducer or a lying peer: ERR_INTEGRITY.
 */
export function reduceEmbedded<I, V>(reducer: Reducer<I, V>, encoding: ValueEncoding<any> = json): Embeddable<DotFun<V>, ReduceHandle<I, V>> {
  const same = (a: V, b: V) => encode(encoding, a).equals(encode(encoding, b));
  const absorbs = (older: V, newer: V) => same(reducer.reduce(older, newer), newer);
  const store = dotFun<V>(encoding, latestPerReplica());
  const fold = (s: DotFun<V>) => {
    let value = reducer.initial;
    const entries = [...s.values()].sort((a, b) => (a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : 0));
    for (const e of entries) value = reducer.reduce(value, e.value);
    return value;
  };
  return {
    kind: 'reduce',
    store,
    read: fold,
    handle: (mint) => ({
      update(input) {
        const mapped = reducer.map ? reducer.map(input) : (input as unknown as V);
        const dot = mint.dot();
        const own = entryOf(mint.current(), dot.replica);
        const value = own ? reducer.reduce(own.value, mapped) : mapped;
        encode(encoding, value); // refuses what the encoding cannot carry, before anything changes
        mint.emit(new Map([[dotKey(dot.replica, dot.seq), { ...dot, value }]]), own ? [own] : []);
        return fold(mint.current());
      },
      value: () => fold(mint.current()),
    }),
    validate(current, incoming) {
      for (const e of incoming.values()) {
        const ours = entryOf(current, e.replica);
        if (ours === undefined || ours.seq === e.seq) continue;
        const [older, newer] = ours.seq < e.seq ? [ours.value, e.value] : [e.value, ours.value];
        if (!absorbs(older, newer)) throw errors.integrity(`replica ${e.replica}'s newer value does not absorb its older one`);
      }
    },
  };
}

export interface ReduceOptions<I, V> extends DeltaReplicaOptions, Reducer<I, V> {
  /** How values are encoded (and compared). Default `json`. */
  valueEncoding?: ValueEncoding<any>;
}

/**
 * Replicates any merge you define: `new Reduce({ reduce, initial, map? })`,
 * then `update(x)`. `kind` `'reduce'`. Two replicas only connect if both
 * name the same reducer in `name` (the function itself cannot be compared).
 */
export class Reduce<I = unknown, V = unknown> extends ValueReplica<DotFun<V>, ReduceHandle<I, V>> {
  private readonly reducer: Reducer<I, V>;
  private readonly encoding: ValueEncoding<any>;

  constructor(options: ReduceOptions<I, V>) {
    super(reduceEmbedded(options, options.valueEncoding), options, `enc=${(options.valueEncoding ?? json).name}`);
    this.reducer = { reduce: options.reduce, initial: options.initial, map: options.map };
    this.encoding = options.valueEncoding ?? json;
  }

  /** Merges one update in; returns the new value. */
  update(input: I): V {
    const { reducer } = this;
    const mapped = reducer.map ? reducer.map(input) : (input as unknown as V);
    const own = entryOf(this.store, this.id);
    const value = own ? reducer.reduce(own.value, mapped) : mapped;
    encode(this.encoding, value); // refuses what the encoding cannot carry, before anything changes
    this.replaceEntries(own ? [own] : [], value, 16);
    return this.value();
  }

  override value(): V {
    return super.value() as V;
  }
}
