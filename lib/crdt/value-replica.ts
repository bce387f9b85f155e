import type { DeltaReplicaOptions } from './delta-replica.js';
import { DeltaReplica } from './delta-replica.js';
import type { Delta } from './delta.js';
import type { Embeddable } from './embeddable.js';

/** `'change'` event of a counter or register: the value now and before. */
export interface ValueChange<V = unknown> {
  value: V;
  previous: V;
}

/**
 * A standalone counter or register: one embeddable type, committed as it
 * is. The type's mutators live on `handle`; this class only wires them to
 * the engine and reports value changes.
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
}
