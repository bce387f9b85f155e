import { type DotMap, type DotMapOptions, dotMap, dotMapOf } from './dot-store.js';
import { type ElementDots, dotCountOf, dotsOf, elementDots } from './element-dots.js';
import { ElementKeys } from './element-keys.js';
import { setWire } from './set-entries.js';
import type { Embeddable } from './embeddable.js';
import { type SetHandle, type SetOptions, SetReplica } from './set-replica.js';

/**
 * The add-wins observed-remove set (ORSWOT): each element carries the dots
 * of the adds that made it present. An add takes a new dot and replaces
 * the element's old dots; a remove drops the dots it has observed. So a
 * concurrent add and remove leaves the element present (the add's dot was
 * never observed), and a stale add delivered after its remove stays dead
 * (its dot is in the context). Nothing else is kept: metadata is one or a
 * few dots per live element plus the causal context, a range per replica,
 * however many removes there have been.
 */
export function orSetEmbedded(keys: ElementKeys = new ElementKeys(), options: DotMapOptions = {}): Embeddable<DotMap<ElementDots>, SetHandle> {
  const store = dotMap(keys.codec, elementDots, options);
  return {
    kind: 'orset',
    store,
    read: (s) => ElementKeys.sorted(s.entries.keys()).map((k) => keys.valueOf(k)),
    handle: (mint) => ({
      add(value) {
        const key = keys.keyOf(value);
        const old = mint.current().entries.get(key);
        mint.emit(dotMapOf(elementDots, [[key, mint.dot()]]), old === undefined ? [] : dotsOf(old));
        return old === undefined;
      },
      remove(value) {
        const old = mint.current().entries.get(keys.keyOf(value));
        if (old === undefined) return false;
        mint.emit(store.empty(), dotsOf(old));
        return true;
      },
      has: (value) => mint.current().entries.has(keys.keyOf(value)),
      values: () => ElementKeys.sorted(mint.current().entries.keys()).map((k) => keys.valueOf(k)),
      get size() {
        return mint.current().entries.size;
      },
    }),
  };
}

/** Size of an ORSet's metadata, for checking that it stays bounded. */
export interface ORSetMetadata {
  /** Live elements. */
  elements: number;
  /** Dots held by live elements (at least one each, at most one per replica that added it concurrently). */
  dots: number;
  /** Ranges in the causal context (one per replica once in sync). */
  contextRanges: number;
}

/** An add-wins observed-remove set. `kind` `'orset'`. */
export class ORSet extends SetReplica<ElementDots> {
  static embedded(options: { valueEncoding?: SetOptions['valueEncoding'] } = {}) {
    return orSetEmbedded(new ElementKeys(options.valueEncoding));
  }

  constructor(options: SetOptions = {}) {
    // Standalone, so a peer's delta is read flat (see DotMapOptions).
    super('orset', (keys) => orSetEmbedded(keys, setWire), options);
  }

  /** Adds `value` under a new dot, replacing the dots of its earlier adds; true if it was absent. */
  add(value: unknown): boolean {
    const key = this.keys.keyOf(value);
    const old = this.store.entries.get(key);
    this.putOwn(key, this.nextDot(), old);
    return old === undefined;
  }

  /** Removes `value` (the adds this replica has seen of it); true if it was present. */
  remove(value: unknown): boolean {
    const key = this.keys.keyOf(value);
    const old = this.store.entries.get(key);
    if (old === undefined) return false;
    this.dropOwn(key, old);
    return true;
  }

  /** Removes every element this replica has seen. */
  clear(): void {
    const dots = [...this.store.entries.values()].flatMap(dotsOf);
    if (dots.length > 0) this.commit(this.deltaOf(this.storeKind.empty(), dots));
  }

  metadata(): ORSetMetadata {
    let dots = 0;
    for (const s of this.store.entries.values()) dots += dotCountOf(s);
    return { elements: this.store.entries.size, dots, contextRanges: this.context.rangeCount() };
  }

  protected read(entry: ElementDots | undefined): unknown {
    return entry === undefined || dotCountOf(entry) === 0 ? undefined : true;
  }
}
