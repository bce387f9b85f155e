import { randomBytes } from 'node:crypto';
import { errors } from '../errors.js';
import type { Codec } from '../codec/index.js';
import { Replica } from '../session/replica.js';
import type { Descriptor, SessionOptions } from '../session/contract.js';
import { CausalContext, DEFAULT_MAX_REPLICAS, type Dot } from './causal-context.js';
import { type Delta, type DeltaMessage, contextOfStore, messageCodec } from './delta.js';
import { DeltaSession } from './delta-session.js';
import { SessionSet } from '../session/session-set.js';
import type { StoreKind } from './dot-store.js';

export interface DeltaReplicaOptions {
  /** Replica id: unique per replica, never reused by a fresh empty replica. Default 16 random hex digits. */
  id?: string;
  /** Document name; streams of different names refuse each other. Default `''`. */
  name?: string;
  /** Most replicas a peer's context or delta may name; more is ERR_LIMIT. Default 10,000. */
  maxReplicas?: number;
}

/**
 * The one delta-state replication engine. A CRDT type extends it and
 * provides only its store kind (how its state joins), its mutators (which
 * build deltas and hand them to `commit`) and how to describe a change.
 * Everything about streams lives here, once:
 *
 * - on connect, each side sends a summary: its causal context, which is a
 *   version vector plus the odd gap;
 * - the other side answers with the entries whose dots the summary lacks,
 *   and one context delta naming what it has removed, in bounded pieces;
 * - afterwards every delta, local or received, goes to every other session,
 *   never back to the one it came from, and only if it changed something
 *   here (so cycles in the topology die out).
 *
 * Emits `'change'` with the type's description of what changed.
 */
export abstract class DeltaReplica<S, C> extends Replica {
  readonly descriptor: Descriptor;
  readonly id: string;
  readonly maxReplicas: number;
  /** @internal */ readonly store: S;
  /** @internal */ readonly context = new CausalContext();
  /** @internal */ readonly storeKind: StoreKind<S>;
  /** @internal */ readonly messages: Codec<DeltaMessage<S>>;
  /** @internal Sees every local delta as it is committed (tests and tools). */
  tap: ((delta: Delta<S>) => void) | undefined;
  /** @internal The live sessions: every delta that changed something goes to each but the one it came from. */
  readonly peers = new SessionSet<Delta<S>>();

  constructor(kind: string, storeKind: StoreKind<S>, options: DeltaReplicaOptions = {}, params = '') {
    super();
    this.id = options.id ?? randomBytes(8).toString('hex');
    if (typeof this.id !== 'string' || this.id.length === 0) throw errors.invalidArgument('replica id must be a non-empty string');
    this.maxReplicas = options.maxReplicas ?? DEFAULT_MAX_REPLICAS;
    this.descriptor = { kind, name: options.name ?? '', id: this.id, params };
    this.storeKind = storeKind;
    this.store = storeKind.empty();
    this.messages = messageCodec(storeKind, this.maxReplicas);
  }

  /** The value as plain data. */
  abstract value(): unknown;

  toJSON(): unknown {
    return this.value();
  }

  /** How the state is joined; a type may add its own checks around the join. */
  protected joinStore(delta: Delta<S>): boolean {
    return this.storeKind.join(this.store, this.context, delta.store, delta.context);
  }

  /** Called before a join (only while someone listens to `'change'`); whatever it returns is handed to `describe`. */
  protected abstract snapshot(delta: Delta<S>): unknown;
  /** What changed, for the `'change'` event; undefined if nothing visible did. */
  protected abstract describe(before: unknown): C | undefined;
  /** Checks a peer's delta before it is joined; throws a coded error. Default: nothing. */
  protected validate(_delta: Delta<S>): void {}

  /** The dot for our next event, not yet recorded: `commit` records it. */
  protected nextDot(): Dot {
    return { replica: this.id, seq: this.context.max(this.id) + 1 };
  }

  /** Applies a local delta and sends it to every session. */
  protected commit(delta: Delta<S>): void {
    this.tap?.(delta);
    this.apply(delta, undefined);
  }

  /** @internal The whole state as one delta (a copy): what a peer that has nothing would be sent. */
  state(): Delta<S> {
    return { store: this.storeKind.clone(this.store), context: this.context.clone() };
  }

  /** A delta that adds `store` and removes the dots in `removed`. */
  protected deltaOf(store: S, removed?: Iterable<Dot>): Delta<S> {
    const context = contextOfStore(this.storeKind, store);
    if (removed) for (const d of removed) context.add(d.replica, d.seq);
    return { store, context };
  }

  /** @internal A delta from the session `origin`. Throws a coded error, leaving the state untouched, if it is invalid. */
  receiveDelta(delta: Delta<S>, origin?: unknown): void {
    for (const [replica, ranges] of delta.context.ranges) {
      // A peer may not invent our own events: that would make us skip or reuse dots.
      if (replica === this.id && ranges[ranges.length - 1] > this.context.max(this.id)) {
        throw errors.integrity(`peer claims events of ours we never made (up to ${ranges[ranges.length - 1]})`);
      }
    }
    this.validate(delta);
    this.apply(delta, origin);
  }

  private apply(delta: Delta<S>, origin: unknown): void {
    // Describing a change costs (elements are decoded): only when someone listens.
    const observed = this.listenerCount('change') > 0;
    const before = observed ? this.snapshot(delta) : undefined;
    const changed = this.joinStore(delta);
    const grew = this.context.union(delta.context);
    if (!changed && !grew) return;
    this.peers.relay(delta, origin);
    if (!observed) return;
    const change = this.describe(before);
    if (change !== undefined) this.emit('change', change);
  }

  openSession(options: SessionOptions): DeltaSession<S> {
    return new DeltaSession(this, options);
  }
}
