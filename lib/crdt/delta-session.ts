import { errors } from '../errors.js';
import type { Codec } from '../codec/index.js';
import { BaseSession } from '../session/base-session.js';
import type { PeerInfo, SessionOptions } from '../session/contract.js';
import type { SessionSet } from '../session/session-set.js';
import { CausalContext } from './causal-context.js';
import { type Delta, type DeltaMessage, contextOfStore } from './delta.js';
import { removedFrom, splitContext, statePieces } from './pieces.js';
import { type StoreKind, countDots } from './dot-store.js';

/** Most live deltas queued for one peer before they are dropped for a fresh catch-up. */
const MAX_QUEUED = 1 << 16;

/** What a session needs of its replica (the engine in delta-replica.ts). */
export interface DeltaHost<S> {
  readonly store: S;
  readonly context: CausalContext;
  readonly storeKind: StoreKind<S>;
  readonly messages: Codec<DeltaMessage<S>>;
  readonly peers: SessionSet<Delta<S>>;
  receiveDelta(delta: Delta<S>, origin: unknown): void;
  /** Seals the batch of local changes (see `DeltaReplica.flushLocal`). */
  flushLocal(): void;
}

/**
 * One peer's view of a delta-state replica, with no I/O. The opening is a
 * summary (our causal context) from each side that accepts updates; the
 * answer to the peer's summary is produced lazily, a bounded message at a
 * time, from the live state; after that, deltas flow as they happen.
 *
 * `peerHas` is what the peer has, as far as we know: its summary, joined
 * with the context of every delta we hand out. If the live queue
 * overflows, the catch-up runs again against it, and sends only what the
 * peer still lacks.
 */
export class DeltaSession<S> extends BaseSession<DeltaMessage<S>, Delta<S>> {
  readonly codec: Codec<DeltaMessage<S>>;
  private peerHas: CausalContext | undefined;
  /** The rest of a live delta too large for one message. */
  private parts: Iterator<Delta<S>> | undefined;
  /** The encoded size of the delta `coalesce` last returned, when it measured it and joined nothing to it. */
  private takenSize: number | undefined;

  constructor(
    private readonly host: DeltaHost<S>,
    options: SessionOptions,
  ) {
    super(options, host.peers, MAX_QUEUED);
    this.codec = host.messages;
  }

  override start(peer: PeerInfo): void {
    // From here on this session gets every new batch of local changes; the current one went out before it joined.
    this.host.flushLocal();
    super.start(peer);
  }

  protected opening(): DeltaMessage<S> {
    return { type: 'summary', context: this.host.context.clone() };
  }

  receive(message: DeltaMessage<S>): void {
    if (this.closed) return;
    if (message.type === 'summary') {
      if (!this.sending) throw errors.decode('summary from a peer we do not send to');
      if (this.peerHas !== undefined) throw errors.decode('second summary');
      this.peerHas = message.context;
      this.beginCatchUp();
      return;
    }
    if (!this.options.writable) throw errors.decode('delta from a peer we do not accept updates from');
    this.host.receiveDelta(message.delta, this);
    this.progress.received += countDots(this.host.storeKind, message.delta.store);
    // The peer holds what it sends: never send it back.
    this.peerHas?.union(message.delta.context);
  }

  /** The dots the catch-up will send: every dot of the store the peer has not seen (removals travel as context, uncounted). */
  protected override countCatchUp(): number {
    const peer = this.peerHas!;
    let count = 0;
    // A peer that has seen nothing (a fresh replica) lacks every dot: no lookups.
    if (peer.replicaCount === 0) count = countDots(this.host.storeKind, this.host.store);
    else {
      this.host.storeKind.forEachDot(this.host.store, (replica, seq) => {
        if (!peer.has(replica, seq)) count++;
      });
    }
    return count;
  }

  protected *catchUpMessages(): Generator<DeltaMessage<S>> {
    for (const delta of this.catchUp(this.peerHas!.clone())) yield this.handOut(delta);
  }

  protected nextLive(): DeltaMessage<S> | undefined {
    if (this.parts !== undefined) {
      const part = this.parts.next();
      if (!part.done) return this.handOut(part.value);
      this.parts = undefined;
      if (this.live.length === 0) return undefined;
    }
    // The batch of local changes is taken now: later changes go in a new one.
    this.host.flushLocal();
    const taken = this.coalesce();
    const delta = this.unseen(taken);
    if (delta === undefined) return this.live.length > 0 ? this.nextLive() : undefined;
    // A delta coalesce already measured, and unseen left as it was, is not measured again.
    const size = delta === taken && this.takenSize !== undefined ? this.takenSize : this.codec.encodingLength({ type: 'delta', delta });
    if (size <= this.options.maxMessageBytes) return this.handOut(delta);
    // Too large for one message (a big batch of local changes): it goes in parts.
    this.parts = statePieces(this.host.storeKind, delta.store, delta.context, this.options.maxMessageBytes);
    return this.nextLive();
  }

  protected override hasPendingLive(): boolean {
    return this.parts !== undefined;
  }

  protected override onClose(): void {
    this.parts = undefined;
  }

  /**
   * What of a live delta the peer has not seen. A delta relayed from
   * another peer often carries entries this peer already holds (it got them
   * by another path, or sent them to us): they are left out, with their
   * dots, so that in a mesh a delta does not grow each time it is relayed.
   * Undefined if nothing is left to tell. The dots of removals stay: a peer
   * that has seen an add still needs to hear of its removal.
   */
  private unseen(delta: Delta<S>): Delta<S> | undefined {
    const kind = this.host.storeKind;
    const peer = this.peerHas!;
    const held = new Map<string, number[]>();
    kind.forEachDot(delta.store, (replica, seq) => {
      if (!peer.has(replica, seq)) return;
      let seqs = held.get(replica);
      if (seqs === undefined) held.set(replica, (seqs = []));
      seqs.push(seq);
    });
    if (held.size === 0) return delta;
    for (const seqs of held.values()) seqs.sort((a, b) => a - b);
    const store = kind.concat([...kind.missing(delta.store, peer)]);
    const context = delta.context.subtract(held);
    if (kind.isEmpty(store) && peer.includes(context)) return undefined;
    return { store, context };
  }

  /** A delta leaves: the peer has its dots from now on. */
  private handOut(delta: Delta<S>): DeltaMessage<S> {
    this.peerHas!.union(delta.context);
    return { type: 'delta', delta };
  }

  /**
   * Takes the next queued live delta, joined with the ones queued after it
   * while their encoded sizes add up to at most half a message (a join is
   * never larger than its parts). Deltas are states, so the join of several
   * is one delta that says the same: an add and its remove collapse into one
   * dot of context, and a burst of changes travels as one message.
   */
  private coalesce(): Delta<S> {
    this.takenSize = undefined;
    const first = this.live.shift()!;
    if (this.live.length === 0) return first;
    const kind = this.host.storeKind;
    const budget = this.options.maxMessageBytes / 2;
    const sizeOf = (delta: Delta<S>) => this.codec.encodingLength({ type: 'delta', delta });
    let size = sizeOf(first);
    if (size > budget) {
      this.takenSize = size;
      return first;
    }
    const joined: Delta<S> = { store: kind.empty(), context: new CausalContext() };
    const add = (d: Delta<S>) => {
      kind.join(joined.store, joined.context, d.store, d.context);
      joined.context.union(d.context);
    };
    add(first);
    for (let next = this.live.peek(); next !== undefined; next = this.live.peek()) {
      const bytes = sizeOf(next);
      if (size + bytes > budget) break;
      add(next);
      size += bytes;
      this.live.shift();
    }
    return joined;
  }

  /**
   * What a peer with context `peer` lacks: the entries whose dots it has not
   * seen, then one context delta with every dot we have seen but no longer
   * hold (our removals, as ranges; bounded by live entries plus replicas).
   * Read from the live state as it is pulled; anything that changes
   * meanwhile also goes out as a live delta, and joins are idempotent.
   * When everything fits in one message, it goes as one delta, so the peer
   * never sees a new entry without the removal of the entry it replaces.
   */
  private *catchUp(peer: CausalContext): Generator<Delta<S>> {
    const { storeKind: kind } = this.host;
    const budget = this.options.maxMessageBytes;
    // The store cuts its missing entries into pieces of about half a
    // message, so each piece is a message as it is; the last one is held
    // back to go with the removals if both fit.
    let held: S | undefined;
    for (const piece of kind.missing(this.host.store, peer, budget / 2)) {
      if (held !== undefined) yield { store: held, context: contextOfStore(kind, held) };
      held = piece;
    }
    const removed = this.removedDots();
    const store = held ?? kind.empty();
    const context = contextOfStore(kind, store);
    const last = { store, context: context.clone() };
    last.context.union(removed);
    if (this.codec.encodingLength({ type: 'delta', delta: last }) <= budget) {
      if (!kind.isEmpty(store) || last.context.replicaCount > 0) yield last;
      return;
    }
    if (held !== undefined) yield { store, context };
    yield* splitContext(this.host.storeKind, removed, budget);
  }

  /** Every dot we have seen minus every dot we hold: what we removed, as ranges. */
  private removedDots(): CausalContext {
    return removedFrom(this.host.storeKind, this.host.store, this.host.context);
  }
}
