import { dotKey } from './causal-context.js';
import { type ValueEncoding, canonicalOf, json, struct, uint } from '../codec/index.js';
import { HybridClock, type Timestamp, compareStamps } from '../clock/index.js';
import type { DeltaReplicaOptions } from './delta-replica.js';
import { type DotEntry, type DotFun, dotFun } from './dot-store.js';
import type { Embeddable } from './embeddable.js';
import { ValueReplica } from './value-replica.js';

/** A write: the value and the hybrid-clock time it was written at. */
export interface Stamped {
  ts: Timestamp;
  value: unknown;
}

export interface RegisterHandle {
  /** Writes `value` (anything the value encoding takes). */
  set(value: unknown): void;
  /** The current value (`undefined` before the first write). */
  get(): unknown;
}

export interface LWWOptions {
  /** Source of write timestamps; a peer's timestamp too far ahead of it is ERR_CLOCK_SKEW. Default a new `HybridClock`. */
  clock?: HybridClock;
  /** How values are encoded. Default `json`. */
  valueEncoding?: ValueEncoding<any>;
}

function later(a: DotEntry<Stamped>, b: DotEntry<Stamped>): boolean {
  const order = compareStamps(a.value.ts, a.replica, b.value.ts, b.replica);
  return order !== 0 ? order > 0 : a.seq > b.seq;
}

/**
 * The last-writer-wins register: the write with the highest (timestamp,
 * replica id) wins, on every replica alike. Only the winning write is kept;
 * the losers' dots stay in the causal context, so they never come back.
 */
export function lwwRegisterEmbedded(options: LWWOptions = {}): Embeddable<DotFun<Stamped>, RegisterHandle> {
  const clock = options.clock ?? new HybridClock();
  const encoding = options.valueEncoding ?? json;
  const keepWinner = (s: DotFun<Stamped>) => {
    if (s.size < 2) return false;
    let best: [string, DotEntry<Stamped>] | undefined;
    for (const entry of s) if (best === undefined || later(entry[1], best[1])) best = entry;
    for (const key of [...s.keys()]) if (key !== best![0]) s.delete(key);
    return true;
  };
  const store = dotFun(struct({ ts: uint, value: encoding }), keepWinner);
  const winner = (s: DotFun<Stamped>) => {
    let best: DotEntry<Stamped> | undefined;
    for (const e of s.values()) if (best === undefined || later(e, best)) best = e;
    return best;
  };
  /** A peer's timestamps too far ahead of our clock are ERR_CLOCK_SKEW; the rest move our clock forward. */
  const observe = (incoming: DotFun<Stamped>) => {
    for (const e of incoming.values()) clock.check(e.value.ts);
    for (const e of incoming.values()) clock.receive(e.value.ts);
  };
  return {
    kind: 'lwwregister',
    store,
    read: (s) => winner(s)?.value.value,
    handle: (mint) => ({
      set(input) {
        // A copy of exactly what peers will decode; refuses what the encoding cannot carry, before anything changes.
        const value = canonicalOf(encoding, input);
        const dot = mint.dot();
        const ts = clock.now();
        mint.emit(new Map([[dotKey(dot.replica, dot.seq), { ...dot, value: { ts, value } }]]), [...mint.current().values()]);
      },
      get: () => winner(mint.current())?.value.value,
    }),
    validate: (_current, incoming) => observe(incoming),
    validateNested: (incoming) => observe(incoming),
  };
}

/** A last-writer-wins register. `kind` `'lwwregister'`. */
export class LWWRegister extends ValueReplica<DotFun<Stamped>, RegisterHandle> {
  static embedded(options: LWWOptions = {}) {
    return lwwRegisterEmbedded(options);
  }

  private readonly clock: HybridClock;
  private readonly encoding: ValueEncoding<any>;

  constructor(options: DeltaReplicaOptions & LWWOptions = {}) {
    // One clock for our writes and for checking a peer's (through the embeddable's validate).
    const clock = options.clock ?? new HybridClock();
    super(lwwRegisterEmbedded({ ...options, clock }), options, `enc=${(options.valueEncoding ?? json).name}`);
    this.clock = clock;
    this.encoding = options.valueEncoding ?? json;
  }

  /** Writes `value` (anything the value encoding takes). */
  set(input: unknown): void {
    // A copy of exactly what peers will decode; refuses what the encoding cannot carry, before anything changes.
    const value = canonicalOf(this.encoding, input);
    this.replaceEntries(this.store.values(), { ts: this.clock.now(), value }, 16);
  }

  /** The current value (`undefined` before the first write). */
  get(): unknown {
    let best: DotEntry<Stamped> | undefined;
    for (const e of this.store.values()) if (best === undefined || later(e, best)) best = e;
    return best?.value.value;
  }
}
