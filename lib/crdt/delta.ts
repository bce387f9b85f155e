import { errors } from '../errors.js';
import { type Codec, constant, struct, union } from '../codec/index.js';
import { CausalContext, contextCodec } from './causal-context.js';
import { DotMap, DotTable, type StoreKind } from './dot-store.js';

/**
 * A delta is a whole causal state, only small: a store and the context it
 * speaks for. Local changes, live updates and the catch-up after a
 * (re)connect are all deltas, and all are applied with the same join.
 */
export interface Delta<S> {
  store: S;
  context: CausalContext;
}

/** The context that covers exactly the dots of `store`: a delta that adds, and removes nothing. */
export function contextOfStore<S>(kind: StoreKind<S>, store: S): CausalContext {
  // A piece of a catch-up made its context as it was gathered.
  if (store instanceof DotMap && store.flat?.measured !== undefined) return store.flat.measured.context.clone();
  const ctx = new CausalContext();
  // Runs of dots of one replica in order (a piece of a store, a batch of
  // adds) extend the last range in place, without a lookup per dot.
  let replica: string | undefined;
  let ranges: number[] | undefined;
  kind.forEachDot(store, (r, q) => {
    if (r === replica && q === ranges![ranges!.length - 1] + 1) {
      ranges![ranges!.length - 1] = q;
      return;
    }
    ctx.add(r, q);
    replica = r;
    ranges = ctx.ranges.get(r);
  });
  return ctx;
}

/**
 * Wire form of a delta: its context, then its store, whose dots name their
 * replica by its position in the context. A dot outside the context is
 * ERR_DECODE, so a delta can never claim an entry it does not account for.
 */
export function deltaCodec<S>(kind: StoreKind<S>, maxReplicas?: number): Codec<Delta<S>> {
  const ctxCodec = contextCodec(maxReplicas);
  const tableOf = (ctx: CausalContext) => DotTable.of(ctx);
  return {
    encodingLength: (d) => ctxCodec.encodingLength(d.context) + kind.encodingLength(d.store, tableOf(d.context)),
    encode(d, state) {
      ctxCodec.encode(d.context, state);
      kind.encode(d.store, tableOf(d.context), state);
    },
    decode(state) {
      const context = ctxCodec.decode(state);
      // The table checks each dot against the context as it is read.
      const store = kind.decode(state, tableOf(context));
      return { store, context };
    },
  };
}

/**
 * The messages of every delta-state session.
 * ONLY APPEND TO THIS LIST: the tags are the wire format.
 */
export type DeltaMessage<S> =
  | { type: 'summary'; context: CausalContext } // what the sender has seen: send me what I lack
  | { type: 'delta'; delta: Delta<S> }; // a piece of state to join

export function messageCodec<S>(kind: StoreKind<S>, maxReplicas?: number): Codec<DeltaMessage<S>> {
  return union<DeltaMessage<S>>({
    summary: [0, struct({ type: constant('summary' as const), context: contextCodec(maxReplicas) })],
    delta: [1, struct({ type: constant('delta' as const), delta: deltaCodec(kind, maxReplicas) })],
  } as any);
}
