import type { DeltaReplicaOptions } from './delta-replica.js';
import { DeltaReplica } from './delta-replica.js';
import type { Delta } from './delta.js';
import type { Embeddable } from './embeddable.js';
import { dotKey } from './causal-context.js';
import type { DotEntry, DotFun } from './dot-store.js';

/** `'change'` event of a counter or register: the value now and before. */
export interface ValueChange<V = unknown> {
  value: V;
  previous: V;
}

/**
 * A standalone counter or register. Each type is one class: its mutators
 * compute the new entry and hand it to `replaceEntries`, which writes it
 * straight onto the store when no peer or listener would see a delta, and
 * commits it as one delta otherwise. The embeddable (the type as used
 * inside an `ORMap`) is used for its store kind, its reader and its checks
 * on a peer's deltas, not to forward the standalone type's mutators.
 */
export abstract class ValueReplica<S, H> extends DeltaReplica<S, ValueChange> {
  private readonly embed: Embeddable<S, H>;

  constructor(embed: Embeddable<S, H>, options: DeltaReplicaOptions, params = '') {
    super(embed.kind, embed.store, options, params);
    this.embed = embed;
  }

  value(): unknown {
    return this.embed.read(this.store);
  }

  protected snapshot(): unknown {
    return this.value();
  }

  protected describe(before: unknown): ValueChange | undefined {
    const value = this.value();
    if (JSON.stringify(value) === JSON.stringify(before)) return undefined;
    return { value, previous: before };
  }

  protected override validate(delta: Delta<S>): void {
    this.embed.validate?.(this.store, delta.store);
  }

  /**
   * Every write to a dot-function store: `replaced` entries give way to one
   * new entry holding `value` under our next dot. While nobody taps or
   * listens, straight onto the store and the context, and into the batch
   * of local changes when a session waits (about `bytes` on the wire);
   * otherwise as one committed delta, which is seen and described.
   */
  protected replaceEntries<V>(replaced: Iterable<DotEntry<V>>, value: V, bytes: number): void {
    const store = this.store as unknown as DotFun<V>;
    const dot = this.nextDot();
    const key = dotKey(dot.replica, dot.seq);
    const entry: DotEntry<V> = { replica: dot.replica, seq: dot.seq, value };
    const old = [...replaced];
    if (!this.quiet) {
      this.commit(this.deltaOf(new Map([[key, entry]]) as unknown as S, old));
      return;
    }
    for (const e of old) store.delete(dotKey(e.replica, e.seq));
    store.set(key, entry);
    this.context.add(dot.replica, dot.seq);
    const batch = this.localBatch() as Delta<DotFun<V>> | undefined;
    if (batch === undefined) return;
    // The batch carries the newest entry; the ones it replaced go into its context, as a committed delta's would.
    for (const e of old) {
      batch.store.delete(dotKey(e.replica, e.seq));
      batch.context.add(e.replica, e.seq);
    }
    batch.store.set(key, entry);
    batch.context.add(dot.replica, dot.seq);
    this.localDone(bytes);
  }
}
