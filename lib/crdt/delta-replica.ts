import { randomBytes } from 'node:crypto';
import { errors } from '../errors.js';
import type { Codec } from '../codec/index.js';
import { Replica } from '../session/replica.js';
import type { Descriptor, SessionOptions } from '../session/contract.js';
import { CausalContext, DEFAULT_MAX_REPLICAS, type Dot } from './causal-context.js';
import { type Delta, type DeltaMessage, contextOfStore, messageCodec } from './delta.js';
import { DeltaSession } from './delta-session.js';
import { statePieces } from './pieces.js';
import { SessionSet } from '../session/session-set.js';
import type { StoreKind } from './dot-store.js';

/**
 * A batch of local changes is sealed once it holds about this many bytes of
 * entries: 24 KiB, estimated high, so that a sealed batch usually goes as
 * one message of the default size (32 KiB) as it is, neither cut into
 * pieces nor joined with the next.
 */
const LOCAL_BATCH_BYTES = 24 * 1024;

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
    this.flushLocal();
    this.apply(delta, undefined);
  }

  /**
   * Local changes made through a type's fast path since the sessions last
   * took one, joined into one delta: a type applies its change to the
   * store and the context itself, then records the same change here. The
   * batch is relayed once, when it is started, and grows in place until a
   * session takes it to send (`flushLocal`); so a burst of writes between
   * two sends travels as one delta. None while no session listens, so a
   * replica without peers builds nothing.
   */
  private pending: Delta<S> | undefined;
  private pendingRelayed = false;
  private pendingBytes = 0;

  /** The delta a fast-path change is recorded into, or undefined if no session listens. */
  protected localBatch(): Delta<S> | undefined {
    if (this.pending !== undefined) return this.pending;
    if (this.peers.size === 0) return undefined;
    return (this.pending = { store: this.storeKind.empty(), context: new CausalContext() });
  }

  /**
   * Ends a fast-path change recorded in the batch (about `bytes` on the
   * wire): the first one relays the batch; one that fills it seals it, so
   * no batch grows without bound while no session pulls.
   */
  protected localDone(bytes: number): void {
    if (this.pending === undefined) return;
    this.pendingBytes += bytes;
    if (!this.pendingRelayed) {
      this.pendingRelayed = true;
      this.peers.relay(this.pending);
    }
    if (this.pendingBytes >= LOCAL_BATCH_BYTES) this.flushLocal();
  }

  /** Whether a fast path may skip building a delta: nobody taps or describes changes. */
  protected get quiet(): boolean {
    return this.tap === undefined && this.listenerCount('change') === 0;
  }

  /**
   * @internal Seals the batch of local changes: it is about to be sent (or
   * a session is about to join, which must not miss a change made after
   * it joined), so later changes start a new batch.
   */
  flushLocal(): void {
    this.pending = undefined;
    this.pendingRelayed = false;
    this.pendingBytes = 0;
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

  /**
   * @internal A delta from the session `origin`: every check on a peer's
   * delta happens here, before anything changes. Throws a coded error,
   * leaving the state untouched, if it is invalid.
   */
  receiveDelta(delta: Delta<S>, origin?: unknown): void {
    // A peer may not invent our own events: that would make us skip or reuse dots.
    const ours = delta.context.ranges.get(this.id);
    if (ours !== undefined && ours[ours.length - 1] > this.context.max(this.id)) {
      throw errors.integrity(`peer claims events of ours we never made (up to ${ours[ours.length - 1]})`);
    }
    this.validate(delta);
    this.flushLocal();
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

  /** @internal Joins a delta read back from this replica's own storage: no checks, no relay. */
  restore(delta: Delta<S>): void {
    this.storeKind.join(this.store, this.context, delta.store, delta.context);
    this.context.union(delta.context);
  }

  /**
   * @internal Marks our own events up to `seq` as seen (and none held), so
   * the next dot is past them: after a restart, none of the numbers reserved
   * before it is issued again.
   */
  skipOwn(seq: number): void {
    const max = this.context.max(this.id);
    if (seq > max) this.context.union(CausalContext.from([[this.id, [max + 1, seq]]]));
  }

  /** @internal The whole state as deltas of about `budget` encoded bytes each. */
  stateInPieces(budget: number): Iterable<Delta<S>> {
    return statePieces(this.storeKind, this.store, this.context, budget);
  }

  openSession(options: SessionOptions): DeltaSession<S> {
    return new DeltaSession(this, options);
  }
}
