import type { ValueEncoding } from '../codec/index.js';
import type { DeltaReplicaOptions } from './delta-replica.js';
import type { Delta } from './delta.js';
import type { DotMap } from './dot-store.js';
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

/** What the three sets share: a map from element to the type's per-element store. */
export abstract class SetReplica<N> extends KeyedReplica<N, SetChange> implements SetHandle {
  protected readonly keys: ElementKeys;
  private readonly embed: Embeddable<DotMap<N>, SetHandle>;
  private readonly handle: SetHandle;

  constructor(kind: string, embed: (keys: ElementKeys) => Embeddable<DotMap<N>, SetHandle>, options: SetOptions) {
    const keys = new ElementKeys(options.valueEncoding);
    const embedded = embed(keys);
    super(kind, embedded.store, options, `enc=${keys.encoding.name}`);
    this.keys = keys;
    this.embed = embedded;
    this.handle = embedded.handle({
      current: () => this.store,
      dot: () => this.nextDot(),
      emit: (store, replaced) => this.commit(this.deltaOf(store, replaced)),
    });
  }

  add(value: unknown): boolean {
    return this.handle.add(value);
  }

  remove(value: unknown): boolean {
    return this.handle.remove(value);
  }

  has(value: unknown): boolean {
    return this.handle.has(value);
  }

  values(): unknown[] {
    return this.handle.values();
  }

  get size(): number {
    return this.handle.size;
  }

  /** The elements, ordered by their encoded bytes (the same order on every replica). */
  value(): unknown[] {
    return this.handle.values();
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
}
