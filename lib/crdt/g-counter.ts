import { dotKey } from './causal-context.js';
import { errors } from '../errors.js';
import { uint } from '../codec/index.js';
import type { DeltaReplicaOptions } from './delta-replica.js';
import { type DotFun, dotFun } from './dot-store.js';
import type { Embeddable } from './embeddable.js';
import { assertCount, checkCounterDelta, checkPerReplica, entryOf, latestPerReplica } from './per-replica.js';
import type { Delta } from './delta.js';
import { ValueReplica } from './value-replica.js';

export interface GCounterHandle {
  /** Adds `n` (a positive safe integer, default 1); returns the new value. */
  increment(n?: number): number;
  value(): number;
}

/**
 * The grow-only counter: each replica holds its own running total under the
 * dot of its latest increment, and the value is the sum. A total travels as
 * a total, so duplicated or reordered deltas count once; a replica's newer
 * dot replaces its older one (the old dot goes into the context), and a peer
 * whose total goes down between two dots is refused with ERR_INTEGRITY.
 */
export function gCounterEmbedded(): Embeddable<DotFun<number>, GCounterHandle> {
  const increasing = (a: number, b: number) => a < b;
  const store = dotFun(uint, latestPerReplica());
  const sum = (s: DotFun<number>) => {
    let total = 0;
    for (const e of s.values()) total += e.value;
    return total;
  };
  return {
    kind: 'gcounter',
    store,
    read: sum,
    handle: (mint) => ({
      increment(n = 1) {
        assertCount(n, 'increment');
        const dot = mint.dot();
        const own = entryOf(mint.current(), dot.replica);
        const total = (own?.value ?? 0) + n;
        if (!Number.isSafeInteger(total) || !Number.isSafeInteger(sum(mint.current()) + n)) throw errors.invalidArgument('counter would exceed 2^53-1');
        mint.emit(new Map([[dotKey(dot.replica, dot.seq), { ...dot, value: total }]]), own ? [own] : []);
        return sum(mint.current());
      },
      value: () => sum(mint.current()),
    }),
    validate: (current, incoming) => checkPerReplica(current, incoming, increasing),
  };
}

/** A grow-only counter. `kind` `'gcounter'`. */
export class GCounter extends ValueReplica<DotFun<number>, GCounterHandle> {
  static embedded() {
    return gCounterEmbedded();
  }

  constructor(options: DeltaReplicaOptions = {}) {
    super(gCounterEmbedded(), options);
  }

  /** Adds `n` (a positive safe integer, default 1); returns the new value. */
  increment(n = 1): number {
    assertCount(n, 'increment');
    const own = entryOf(this.store, this.id);
    const total = (own?.value ?? 0) + n;
    const sum = this.value() + n;
    if (!Number.isSafeInteger(total) || !Number.isSafeInteger(sum)) throw errors.invalidArgument('counter would exceed 2^53-1');
    this.replaceEntries(own ? [own] : [], total, 12);
    return sum;
  }

  override value(): number {
    let total = 0;
    for (const e of this.store.values()) total += e.value;
    return total;
  }

  protected override validate(delta: Delta<DotFun<number>>): void {
    super.validate(delta);
    checkCounterDelta(this.store, this.context, delta, 1, (v) => [v]);
  }
}
