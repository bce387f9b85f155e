import type { Dot } from './causal-context.js';
import type { StoreKind } from './dot-store.js';

/**
 * How a handle makes changes: it reads the current store, takes the dot of
 * the next event, and emits a delta (the entries it adds and the dots it
 * replaces). A standalone replica commits that delta as it is; an `ORMap`
 * wraps it under the key being updated. Either way it is the same code.
 */
export interface Mint<S> {
  /** The store as it is now (an empty store for a map key that is absent). */
  current(): S;
  /** The dot for the next event; recorded when the delta is emitted. */
  dot(): Dot;
  emit(store: S, replaced: Iterable<Dot>): void;
}

/**
 * A CRDT type as a value: its store kind, how to read it, its mutators (a
 * handle bound to a `Mint`) and its checks on a peer's deltas. Every type
 * that can live inside an `ORMap` provides one (`ORSet.embedded()`, ...).
 */
export interface Embeddable<S, H> {
  /** The type's kind, e.g. `'orset'`: part of an ORMap's descriptor params. */
  readonly kind: string;
  readonly store: StoreKind<S>;
  /** The plain value of a store. */
  read(store: S): unknown;
  handle(mint: Mint<S>): H;
  /** Checks a peer's entries against ours before they are joined, in a standalone replica; throws a coded error. */
  validate?(current: S, incoming: S): void;
  /**
   * The same inside an ORMap, where removing a key resets what it held (a
   * counter restarts from zero), so checks that rely on history do not apply.
   */
  validateNested?(incoming: S): void;
}

/** A class whose values can be nested in an ORMap. */
export interface EmbeddableType<H, O = {}> {
  embedded(options?: O): Embeddable<any, H>;
}
