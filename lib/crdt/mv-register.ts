import { dotKey } from './causal-context.js';
import { type ValueEncoding, canonicalOf, json } from '../codec/index.js';
import type { DeltaReplicaOptions } from './delta-replica.js';
import { type DotFun, dotFun } from './dot-store.js';
import { ElementKeys } from './element-keys.js';
import type { Embeddable } from './embeddable.js';
import { ValueReplica } from './value-replica.js';

export interface MVRegisterHandle {
  /** Writes `value`, replacing every value this replica has seen. */
  set(value: unknown): void;
  /** The concurrent values, ordered by their encoded bytes; `[]` before the first write. */
  get(): unknown[];
}

/**
 * The multi-value register: a write replaces the writes it has seen, and
 * writes made concurrently are all kept, and returned together, until a
 * write that has seen them replaces them.
 */
export function mvRegisterEmbedded(options: { valueEncoding?: ValueEncoding<any> } = {}): Embeddable<DotFun<unknown>, MVRegisterHandle> {
  const keys = new ElementKeys(options.valueEncoding ?? json);
  const store = dotFun(keys.encoding);
  const read = (s: DotFun<unknown>) => {
    const byKey = new Map<string, unknown>();
    for (const e of s.values()) byKey.set(keys.keyOf(e.value), e.value);
    return ElementKeys.sorted(byKey.keys()).map((k) => byKey.get(k));
  };
  return {
    kind: 'mvregister',
    store,
    read,
    handle: (mint) => ({
      set(input) {
        // A copy of exactly what peers will decode; refuses what the encoding cannot carry, before anything changes.
        const value = canonicalOf(keys.encoding, input);
        const dot = mint.dot();
        mint.emit(new Map([[dotKey(dot.replica, dot.seq), { ...dot, value }]]), [...mint.current().values()]);
      },
      get: () => read(mint.current()),
    }),
  };
}

/** A multi-value register. `kind` `'mvregister'`. */
export class MVRegister extends ValueReplica<DotFun<unknown>, MVRegisterHandle> {
  static embedded(options: { valueEncoding?: ValueEncoding<any> } = {}) {
    return mvRegisterEmbedded(options);
  }

  private readonly encoding: ValueEncoding<any>;

  constructor(options: DeltaReplicaOptions & { valueEncoding?: ValueEncoding<any> } = {}) {
    super(mvRegisterEmbedded(options), options, `enc=${(options.valueEncoding ?? json).name}`);
    this.encoding = options.valueEncoding ?? json;
  }

  /** Writes `value`, replacing every value this replica has seen. */
  set(input: unknown): void {
    // A copy of exactly what peers will decode; refuses what the encoding cannot carry, before anything changes.
    this.replaceEntries(this.store.values(), canonicalOf(this.encoding, input), 16);
  }

  /** The concurrent values, ordered by their encoded bytes; `[]` before the first write. */
  get(): unknown[] {
    return this.value();
  }

  override value(): unknown[] {
    return super.value() as unknown[];
  }
}
