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
 * A standalone counter or register. Each type writes its own mutators
 * straight onto its store (`replaceEntries`), with no delta built when no
 * peer or listener would see one; with a listener or a tap, the same change
 * goes through `handle`, the embeddable's generic path (the type as used
 * inside an `ORMap`), as one committed delta.
 */
export abstract class ValueReplica<S, H> extends DeltaReplica<S, ValueChange> {
  protected readonly handle: H;
  private readonly embed: Embeddable<S, H>;

  constructor(embed: Embeddable<S, H>, options: DeltaReplicaOptions, params = '') {
    super(embed.kind, embed.store, options, params);
    this.embed = embed;
    this.handle = embed.handle({
      current: () => this.store,
      dot: () => this.nextDot(),
      emit: (store, replaced) => this.commit(this.deltaOf(store, replaced)),
    });
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
   * The fast path of a write to a dot-function store: `replaced` entries
   * give way to one new entry holding `value` under our next dot, straight
   * onto the store and the context, and into the batch of local changes
   * when a session waits (about `bytes` on the wire). Only while `quiet`.
   */
  protected replaceEntries<V>(replaced: Iterable<DotEntry<V>>, value: V, bytes: number): void {
    const store = this.store as unknown as DotFun<V>;
    const dot = this.nextDot();
    const key = dotKey(dot.replica, dot.seq);
    const entry: DotEntry<V> = { replica: dot.replica, seq: dot.seq, value };
    const old = [...replaced];
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
