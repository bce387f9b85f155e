import { string } from '../codec/index.js';
import { errors } from '../errors.js';
import type { DeltaReplicaOptions } from './delta-replica.js';
import type { Delta } from './delta.js';
import { type DotMap, dotMap, dotMapOf } from './dot-store.js';
import type { Embeddable } from './embeddable.js';
import { type KeyChange, KeyedReplica } from './keyed-replica.js';

export interface ORMapOptions<H> extends DeltaReplicaOptions {
  /** The CRDT type of every value, e.g. `ORSet.embedded()`, `PNCounter.embedded()`, `MVRegister.embedded()`. */
  values: Embeddable<any, H>;
}

/** `'change'` event of a map: each key whose value changed (`undefined`: the key is gone). */
export interface MapChange {
  changes: { key: string; value: unknown; previous: unknown }[];
}

/**
 * An observed-remove map whose values are CRDTs (sets, counters,
 * registers), all sharing the map's causal context. Concurrent updates of
 * one key merge as the value type merges; removing a key drops the dots it
 * has observed, so an update made concurrently with the remove survives
 * (add-wins), alone: what the remove saw stays removed. Counters: after a
 * remove, a replica that saw it counts again from zero; an increment made
 * concurrently with the remove carries its writer's whole total (as in
 * riak_dt's map), so that total re-appears.
 */
export class ORMap<H> extends KeyedReplica<any, MapChange> {
  private readonly values: Embeddable<any, H>;

  constructor(options: ORMapOptions<H>) {
    const values = options.values;
    super('ormap', dotMap(string, values.store), options, `values=${values.kind}`);
    this.values = values;
  }

  /** Runs `fn` with a handle on the value at `key` (created empty if absent); each mutator call is one change. */
  update<R>(key: string, fn: (value: H) => R): R {
    // The wire's UTF-8 cannot carry a lone surrogate: peers would get another key.
    if (typeof key !== 'string' || !key.isWellFormed()) throw errors.invalidArgument('map keys are well-formed strings');
    const nested = this.values.store;
    const handle = this.values.handle({
      current: () => this.store.entries.get(key) ?? nested.empty(),
      dot: () => this.nextDot(),
      emit: (store, replaced) => this.commit(this.deltaOf(dotMapOf(nested, [[key, store]]), replaced)),
    });
    return fn(handle);
  }

  /** The plain value at `key`, `undefined` if absent. */
  get(key: string): unknown {
    return this.read(this.store.entries.get(key));
  }

  has(key: string): boolean {
    return this.store.entries.has(key);
  }

  /** The keys, in byte order. */
  keys(): string[] {
    return this.sortedKeys();
  }

  get size(): number {
    return this.store.entries.size;
  }

  /** Removes `key` and everything this replica has seen of its value; true if it was present. */
  remove(key: string): boolean {
    const entry = this.store.entries.get(key);
    if (entry === undefined) return false;
    const dots: { replica: string; seq: number }[] = [];
    this.values.store.forEachDot(entry, (replica, seq) => dots.push({ replica, seq }));
    this.commit(this.deltaOf(this.storeKind.empty(), dots));
    return true;
  }

  /** A plain object of plain values, keys in byte order. */
  value(): Record<string, unknown> {
    return Object.fromEntries(this.sortedKeys().map((k) => [k, this.get(k)]));
  }

  protected read(entry: unknown): unknown {
    return entry === undefined || this.values.store.isEmpty(entry) ? undefined : this.values.read(entry);
  }

  protected describeKeys(changes: KeyChange[]): MapChange {
    return { changes: changes.map((c) => ({ key: c.key, value: c.current, previous: c.previous })) };
  }

  protected override validate(delta: Delta<DotMap<any>>): void {
    const check = this.values.validateNested;
    if (!check) return;
    for (const incoming of delta.store.entries.values()) check(incoming);
  }
}
