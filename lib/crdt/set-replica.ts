import type { ValueEncoding } from '../codec/index.js';
import type { DeltaReplicaOptions } from './delta-replica.js';
import type { Delta } from './delta.js';
import type { Dot } from './causal-context.js';
import type { DotMap } from './dot-store.js';
import { type ElementDots, dotsOf, packDot } from './element-dots.js';
import { ElementKeys } from './element-keys.js';
import type { Embeddable } from './embeddable.js';
import { type KeyChange, KeyedReplica } from './keyed-replica.js';

export interface SetOptions extends DeltaReplicaOptions {
  /** How elements are encoded, and so compared. Default `json`. */
  valueEncoding?: ValueEncoding<any>;
}

/** The mutators and readers every set offers, standalone or inside an ORMap. */
export interface SetHandle {
  /** Adds `value`; true if it was absent. */
  add(value: unknown): boolean;
  /** Removes `value`; true if it was present. */
  remove(value: unknown): boolean;
  has(value: unknown): boolean;
  /** The elements, ordered by their encoded bytes. */
  values(): unknown[];
  readonly size: number;
}

/** `'change'` event of a set: the elements that appeared and disappeared. */
export interface SetChange {
  added: unknown[];
  removed: unknown[];
}

/**
 * What the three sets share: a map from element to the type's per-element
 * store, read directly. Each set is one class that writes its own
 * mutators: straight onto the store, with no delta built, when no peer or
 * listener would see one, and as one committed delta when a tap or a
 * listener would. `embedded` is the same type for use inside an `ORMap`.
 */
export abstract class SetReplica<N> extends KeyedReplica<N, SetChange> implements SetHandle {
  protected readonly keys: ElementKeys;
  protected readonly embed: Embeddable<DotMap<N>, SetHandle>;

  constructor(kind: string, embed: (keys: ElementKeys) => Embeddable<DotMap<N>, SetHandle>, options: SetOptions) {
    const keys = new ElementKeys(options.valueEncoding);
    const embedded = embed(keys);
    super(kind, embedded.store, options, `enc=${keys.encoding.name}`);
    this.keys = keys;
    this.embed = embedded;
  }

  /** Adds `value`; true if it was absent. */
  abstract add(value: unknown): boolean;
  /** Removes `value`; true if it was present. */
  abstract remove(value: unknown): boolean;

  has(value: unknown): boolean {
    return this.read(this.store.entries.get(this.keys.keyOf(value))) !== undefined;
  }

  /** The elements, ordered by their encoded bytes (the same order on every replica). */
  values(): unknown[] {
    return this.embed.read(this.store) as unknown[];
  }

  get size(): number {
    return this.store.entries.size;
  }

  /** The elements, ordered by their encoded bytes (the same order on every replica). */
  value(): unknown[] {
    return this.values();
  }

  protected override validate(delta: Delta<DotMap<N>>): void {
    this.embed.validate?.(this.store, delta.store);
    this.validateDelta(delta);
  }

  /** Checks that depend on the delta's context too. Default: none. */
  protected validateDelta(_delta: Delta<DotMap<N>>): void {}

  protected describeKeys(changes: KeyChange[]): SetChange {
    const added: unknown[] = [];
    const removed: unknown[] = [];
    for (const c of changes) (c.current === undefined ? removed : added).push(this.keys.valueOf(c.key));
    return { added, removed };
  }

  /**
   * A change that a tap or a listener sees: `key` now holds `entry` (or
   * nothing) and the `replaced` dots are gone, as one committed delta.
   */
  protected commitKey(key: string, entry: N | undefined, replaced: Iterable<Dot>): void {
    const store = this.storeKind.empty();
    if (entry !== undefined) store.entries.set(key, entry);
    this.commit(this.deltaOf(store, replaced));
  }

  /**
   * An add: `key` now holds exactly the new `dot` (its `old` dots, if any,
   * are replaced). While nobody taps or listens, straight onto the store
   * and the context, and into the batch of local changes when a session
   * waits; otherwise as one committed delta.
   */
  protected putOwn(key: string, dot: Dot, old: ElementDots | undefined): void {
    const replaced = old === undefined ? undefined : dotsOf(old);
    if (!this.quiet) return this.commitKey(key, dot as N & Dot, replaced ?? []);
    const index = this.store.dotIndex;
    if (index !== undefined) {
      if (replaced !== undefined) for (const d of replaced) index.delete(d.replica, d.seq);
      index.set(dot.replica, dot.seq, key);
    }
    // The dot is the entry, as a number where it fits (no object): shared by the store and the batch.
    const entry = packDot(dot.replica, dot.seq) as N & ElementDots;
    this.store.entries.set(key, entry);
    this.context.add(dot.replica, dot.seq);
    const batch = this.localBatch();
    if (batch === undefined) return;
    batch.store.entries.set(key, entry);
    batch.context.add(dot.replica, dot.seq);
    if (replaced !== undefined) for (const d of replaced) batch.context.add(d.replica, d.seq);
    this.localDone(key.length + 8);
  }

  /** A remove: drops `key` and its `old` dots (already in the context); committed as a delta while someone taps or listens. */
  protected dropOwn(key: string, old: ElementDots): void {
    const dots = dotsOf(old);
    if (!this.quiet) return this.commitKey(key, undefined, dots);
    const index = this.store.dotIndex;
    if (index !== undefined) for (const d of dots) index.delete(d.replica, d.seq);
    this.store.entries.delete(key);
    const batch = this.localBatch();
    if (batch === undefined) return;
    batch.store.entries.delete(key);
    for (const d of dots) batch.context.add(d.replica, d.seq);
    this.localDone(8);
  }
}
