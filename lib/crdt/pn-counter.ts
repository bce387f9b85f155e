import { dotKey } from './causal-context.js';
import { errors } from '../errors.js';
import { struct, uint } from '../codec/index.js';
import type { DeltaReplicaOptions } from './delta-replica.js';
import { type DotFun, dotFun } from './dot-store.js';
import type { Embeddable } from './embeddable.js';
import { assertCount, checkCounterDelta, checkPerReplica, entryOf, latestPerReplica } from './per-replica.js';
import type { Delta } from './delta.js';
import { ValueReplica } from './value-replica.js';

/** One replica's totals: everything it added (`p`) and subtracted (`n`), both only ever growing. */
export interface PN {
  p: number;
  n: number;
}

export interface PNCounterHandle {
  /** Adds `n` (a safe integer, default 1; negative subtracts); returns the new value. */
  increment(n?: number): number;
  /** Subtracts `n` (a positive safe integer, default 1); returns the new value. */
  decrement(n?: number): number;
  value(): number;
}

/**
 * The positive-negative counter: a grow-only counter of increments and one
 * of decrements per replica, under the dot of that replica's latest change.
 * Exact under duplicated and reordered delivery, like `GCounter`.
 */
export function pnCounterEmbedded(): Embeddable<DotFun<PN>, PNCounterHandle> {
  const growing = (a: PN, b: PN) => a.p <= b.p && a.n <= b.n && a.p + a.n < b.p + b.n;
  const store = dotFun(struct({ p: uint, n: uint }), latestPerReplica());
  const total = (s: DotFun<PN>) => {
    let v = 0;
    for (const e of s.values()) v += e.value.p - e.value.n;
    return v;
  };
  return {
    kind: 'pncounter',
    store,
    read: total,
    handle: (mint) => {
      const change = (plus: number, minus: number) => {
        const dot = mint.dot();
        const own = entryOf(mint.current(), dot.replica);
        const value = { p: (own?.value.p ?? 0) + plus, n: (own?.value.n ?? 0) + minus };
        let p = plus;
        let n = minus;
        for (const e of mint.current().values()) {
          p += e.value.p;
          n += e.value.n;
        }
        if (!Number.isSafeInteger(value.p) || !Number.isSafeInteger(value.n) || !Number.isSafeInteger(p) || !Number.isSafeInteger(n)) {
          throw errors.invalidArgument('counter would exceed 2^53-1');
        }
        mint.emit(new Map([[dotKey(dot.replica, dot.seq), { ...dot, value }]]), own ? [own] : []);
        return total(mint.current());
      };
      return {
        increment(n = 1) {
          if (n < 0) return this.decrement(-n);
          assertCount(n, 'increment');
          return change(n, 0);
        },
        decrement(n = 1) {
          assertCount(n, 'decrement');
          return change(0, n);
        },
        value: () => total(mint.current()),
      };
    },
    validate: (current, incoming) => checkPerReplica(current, incoming, growing),
  };
}

/** A counter that goes up and down. `kind` `'pncounter'`. */
export class PNCounter extends ValueReplica<DotFun<PN>, PNCounterHandle> {
  static embedded() {
    return pnCounterEmbedded();
  }

  constructor(options: DeltaReplicaOptions = {}) {
    super(pnCounterEmbedded(), options);
  }

  /** Adds `n` (a safe integer, default 1; negative subtracts); returns the new value. */
  increment(n = 1): number {
    if (n < 0) return this.decrement(-n);
    assertCount(n, 'increment');
    return this.change(n, 0);
  }

  /** Subtracts `n` (a positive safe integer, default 1); returns the new value. */
  decrement(n = 1): number {
    assertCount(n, 'decrement');
    return this.change(0, n);
  }

  override value(): number {
    let total = 0;
    for (const e of this.store.values()) total += e.value.p - e.value.n;
    return total;
  }

  /** Our entry's totals grow by `plus` and `minus`. */
  private change(plus: number, minus: number): number {
    const own = entryOf(this.store, this.id);
    const value = { p: (own?.value.p ?? 0) + plus, n: (own?.value.n ?? 0) + minus };
    let p = plus;
    let n = minus;
    for (const e of this.store.values()) {
      p += e.value.p;
      n += e.value.n;
    }
    if (!Number.isSafeInteger(value.p) || !Number.isSafeInteger(value.n) || !Number.isSafeInteger(p) || !Number.isSafeInteger(n)) {
      throw errors.invalidArgument('counter would exceed 2^53-1');
    }
    this.replaceEntries(own ? [own] : [], value, 16);
    return p - n;
  }

  protected override validate(delta: Delta<DotFun<PN>>): void {
    super.validate(delta);
    checkCounterDelta(this.store, this.context, delta, 2, (v) => [v.p, v.n]);
  }
}
