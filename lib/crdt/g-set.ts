import { errors } from '../errors.js';
import type { Delta } from './delta.js';
import { DotMap, type DotMapOptions, type StoreKind, countDots, dotMap, dotMapOf } from './dot-store.js';
import { type ElementDots, dotCountOf, elementDots } from './element-dots.js';
import { ElementKeys } from './element-keys.js';
import { setWire } from './set-entries.js';
import type { Embeddable } from './embeddable.js';
import { type SetHandle, type SetOptions, SetReplica } from './set-replica.js';

/**
 * The grow-only set: elements are added, never removed. Each element keeps
 * the dot of its first add (one per replica that added it concurrently), so
 * it replicates with the same summary-and-delta engine as the other sets.
 */
export function gSetEmbedded(keys: ElementKeys = new ElementKeys(), options: DotMapOptions = {}): Embeddable<DotMap<ElementDots>, SetHandle> {
  const store = dotMap(keys.codec, elementDots, options);
  return {
    kind: 'gset',
    store,
    read: (s) => ElementKeys.sorted(s.entries.keys()).map((k) => keys.valueOf(k)),
    handle: (mint) => ({
      add(value) {
        const key = keys.keyOf(value);
        if (mint.current().entries.has(key)) return false;
        mint.emit(dotMapOf(elementDots, [[key, mint.dot()]]), []);
        return true;
      },
      remove() {
        throw errors.invalidArgument('a GSet is grow-only: elements cannot be removed');
      },
      has: (value) => mint.current().entries.has(keys.keyOf(value)),
      values: () => ElementKeys.sorted(mint.current().entries.keys()).map((k) => keys.valueOf(k)),
      get size() {
        return mint.current().entries.size;
      },
    }),
  };
}

/** A grow-only set. `kind` `'gset'`. */
export class GSet extends SetReplica<ElementDots> {
  static embedded(options: { valueEncoding?: SetOptions['valueEncoding'] } = {}) {
    return gSetEmbedded(new ElementKeys(options.valueEncoding));
  }

  constructor(options: SetOptions = {}) {
    // Standalone, so a peer's delta is read flat (see DotMapOptions).
    super('gset', (keys) => gSetEmbedded(keys, setWire), options);
  }

  /** Adds `value`; true if it was absent. */
  add(value: unknown): boolean {
    const key = this.keys.keyOf(value);
    if (this.store.entries.has(key)) return false;
    this.putOwn(key, this.nextDot(), undefined);
    return true;
  }

  remove(_value?: unknown): boolean {
    throw errors.invalidArgument('a GSet is grow-only: elements cannot be removed');
  }

  protected read(entry: ElementDots | undefined): unknown {
    return entry === undefined || dotCountOf(entry) === 0 ? undefined : true;
  }

  protected override validateDelta(delta: Delta<DotMap<ElementDots>>): void {
    assertGrowOnly(this.storeKind, delta);
  }
}

/** In a grow-only structure every dot seen is still held, so a valid delta's context is exactly its entries' dots. */
export function assertGrowOnly<S>(kind: StoreKind<S>, delta: Delta<S>): void {
  const seen = delta.context.dotCount();
  // A peer's map entries each hold at least one dot, all in the context (the
  // decoder checks both): a context of exactly one dot per entry is all held,
  // without counting (the usual case: one add per element).
  if (delta.store instanceof DotMap && seen === delta.store.size) return;
  if (seen !== countDots(kind, delta.store)) throw errors.integrity('a grow-only delta cannot remove entries');
}
