import { errors } from '../errors.js';
import type { Codec } from '../codec/index.js';
import { BaseSession } from '../session/base-session.js';
import type { SessionOptions } from '../session/contract.js';
import { type AggregateMessage, type DeltasMessage, type DigestEntry, type DigestMessage, type GossipMessage, type ReplyMessage, entryLength, gossipCodec } from './messages.js';
import { expandReply } from './digest-codec.js';
import type { RefTable } from './member-ref.js';
import type { NodeState } from './node-state.js';
import type { SessionSet } from '../session/session-set.js';
import type { Aggregates } from './aggregate.js';
import type { GossipLimits, MembershipTiming } from './options.js';

/** What a peer holds of one member life, as a session knows it: undefined if it lacks that life. */
export type PeerHolds = (state: NodeState) => { version: number } | undefined;

/** What a gossip session needs of its membership (the `Membership`; an interface, so the two files do not import each other). */
export interface GossipHost {
  readonly id: string;
  readonly peers: SessionSet<string>;
  readonly limits: GossipLimits;
  readonly timing: MembershipTiming;
  readonly aggregates: Aggregates;
  digest(): DigestMessage;
  readDigest(digest: DigestMessage, origin: unknown): RefTable<DigestEntry>;
  reply(peer: readonly DigestEntry[], peerByRef: RefTable<DigestEntry>): ReplyMessage;
  offers(holds: PeerHolds, windowMembers: number): { state: NodeState; from: number }[];
  applyDeltas(message: DeltasMessage, origin: unknown): { introduced: boolean };
  forget(ids: readonly string[]): void;
  stateOf(id: string): NodeState | undefined;
}

/** Bytes of a deltas message besides its entries, at most (tag, id, generation, address, counters). */
const DELTAS_OVERHEAD = 64;
/** Member ids queued for a live peer before the queue is dropped for a fresh catch-up. */
const MAX_QUEUED = 4096;

/**
 * One gossip exchange with one peer, scuttlebutt-style, on the session
 * skeleton. Both sides open with a digest (every member and how far they
 * have seen it, plus their receive window); each then catches the other up
 * on the members it lacks, deepest first, as runs of changes in version
 * order, until the exchange budget (ours, and the window the peer
 * advertised) is spent. In a gossip round (non-live) that ends the exchange,
 * and the push-pull averaging step of the aggregates rides along.
 *
 * A live stream carries on: members whose state moves on afterwards are
 * queued (the live items are member ids) and sent as runs, never back to
 * the peer they came from; the catch-up is not held to the budget there,
 * since a live stream is paced by backpressure.
 */
export class GossipSession extends BaseSession<GossipMessage, string> {
  readonly codec: Codec<GossipMessage> = gossipCodec;
  /** The peer's digest by member reference (null: a reference it named twice). */
  private known: RefTable<DigestEntry> | undefined;
  /** The full digest we sent, which the peer's reply is relative to. */
  private sentDigest: DigestEntry[] | undefined;
  /** The peer's full digest, when ours is to be a reply to it. */
  private peerDigest: DigestEntry[] | undefined;
  /** What the peer has of a member life beyond its digest, by id: what we sent it and it sent us in this session. */
  private readonly learned = new Map<string, { generation: number; version: number }>();
  /** What the peer holds of a member life (see `PeerHolds`). */
  private readonly holds: PeerHolds = (state) => {
    const learned = this.learned.get(state.id);
    if (learned && learned.generation > state.generation) return { version: Infinity };
    const entry = this.known?.get(state.ref, state.refCheck) ?? undefined;
    const fromLearned = learned && learned.generation === state.generation ? learned.version : undefined;
    if (entry === undefined) return fromLearned === undefined ? undefined : { version: fromLearned };
    return { version: Math.max(entry.version, fromLearned ?? 0) };
  };
  private windowBytes = 0;
  private windowMembers = 0;
  private aggregateSent = false;
  private aggregateOut: AggregateMessage | undefined;
  private readonly introduced: string[] = [];
  /** A member whose live run was cut by the message size: the rest goes next. */
  private pendingLive: string | undefined;
  /** Members in the live queue: one entry per member is enough, its run is made when it is sent. */
  private readonly queuedIds = new Set<string>();

  constructor(
    private readonly membership: GossipHost,
    options: SessionOptions,
  ) {
    super(options, membership.peers, MAX_QUEUED);
  }

  /** Gossip rounds (non-live, both ways) also average the aggregates: each side sends its share and takes the other's. */
  private get averaging(): boolean {
    return !this.isLive && this.sending && this.accepting;
  }

  private get isLive(): boolean {
    return this.options.live && (this.peer?.live ?? false);
  }

  protected opening(): GossipMessage {
    if (this.peerDigest && this.known) {
      const reply = this.membership.reply(this.peerDigest, this.known);
      this.peerDigest = undefined;
      return reply;
    }
    const digest = this.membership.digest();
    this.sentDigest = digest.nodes;
    return digest;
  }

  /**
   * Of two nodes that both send and take, the one with the greater id holds
   * its digest back until the other's arrives, and answers it with a reply
   * relative to it, which is about a byte per member. (If both digests
   * cross anyway, both are full, and that works too.)
   */
  protected override openingReady(): boolean {
    if (this.known || !this.sending || !this.accepting || !this.peer) return true;
    return this.membership.id < this.peer.id;
  }

  receive(message: GossipMessage): void {
    if (message.type === 'digest' || message.type === 'reply') {
      if (this.known) throw errors.decode('second digest');
      if (message.type === 'reply') {
        if (!this.sentDigest) throw errors.decode('a reply to no digest');
        const nodes = expandReply(this.sentDigest, message.relative, message.extra);
        this.sentDigest = undefined;
        message = { type: 'digest', windowBytes: message.windowBytes, windowMembers: message.windowMembers, nodes };
      } else if (!this.sentDigest) {
        this.peerDigest = message.nodes;
      }
      this.known = this.membership.readDigest(message, this);
      this.windowBytes = message.windowBytes;
      this.windowMembers = message.windowMembers;
      this.beginCatchUp();
      return;
    }
    if (!this.known) throw errors.decode(`${message.type} before the digest`);
    if (message.type === 'aggregate') {
      if (!this.averaging) return;
      // Averaging needs our share as we send it: take it now if we have not yet.
      if (!this.aggregateSent) {
        this.aggregateSent = true;
        this.aggregateOut = this.membership.aggregates.outgoing();
      }
      this.membership.aggregates.receive(message, true);
      this.wake();
      return;
    }
    if (!this.accepting) return;
    const { introduced } = this.membership.applyDeltas(message, this);
    if (introduced) {
      this.introduced.push(message.id);
      if (!this.isLive && this.introduced.length > this.membership.limits.maxNewMembersPerExchange) {
        // More new members than we said we take: undo them all, fail the stream.
        this.membership.forget(this.introduced);
        throw errors.limit('new members in one exchange', this.introduced.length, this.membership.limits.maxNewMembersPerExchange);
      }
    }
    this.learn(message.id, message.generation, message.version);
  }

  protected *catchUpMessages(): Iterator<GossipMessage> {
    if (this.averaging) {
      if (!this.aggregateSent) {
        this.aggregateSent = true;
        this.aggregateOut = this.membership.aggregates.outgoing();
      }
      if (this.aggregateOut) {
        const message = this.aggregateOut;
        this.aggregateOut = undefined;
        yield message;
      }
    }
    const budget = this.isLive ? Infinity : Math.min(this.membership.timing.maxExchangeBytes, this.windowBytes);
    let spent = 0;
    for (const offer of this.membership.offers(this.holds, this.windowMembers)) {
      let from = offer.from;
      while (true) {
        // The first message of an exchange may go over a tiny budget, so every exchange makes progress.
        const message = this.run(offer.state, from, budget - spent, spent > 0);
        if (message === null) return; // the budget is spent
        if (message === undefined) break;
        spent += this.codec.encodingLength(message);
        yield message;
        if (message.version >= offer.state.version) break;
        from = message.version;
      }
    }
  }

  /** A member's state moved on: queue it once, however often it moves before it is sent. */
  override offer(id: string): void {
    if (this.queuedIds.has(id)) return;
    this.queuedIds.add(id);
    super.offer(id);
  }

  protected override overflowed(): void {
    this.queuedIds.clear();
    super.overflowed();
  }

  protected nextLive(): GossipMessage | undefined {
    while (true) {
      const id = this.pendingLive ?? this.live.shift();
      this.pendingLive = undefined;
      if (id === undefined) return undefined;
      this.queuedIds.delete(id);
      const state = this.membership.stateOf(id);
      if (!state) continue;
      const message = this.run(state, undefined, Infinity);
      if (!message) continue;
      if (message.version < state.version) this.pendingLive = id;
      return message;
    }
  }

  protected override hasPendingLive(): boolean {
    return this.pendingLive !== undefined;
  }

  protected override onClose(): void {
    this.queuedIds.clear();
    this.known = undefined;
    this.sentDigest = undefined;
    this.peerDigest = undefined;
    this.learned.clear();
    this.pendingLive = undefined;
  }

  private learn(id: string, generation: number, version: number): void {
    const theirs = this.learned.get(id);
    if (!theirs || generation > theirs.generation || (generation === theirs.generation && version > theirs.version)) {
      this.learned.set(id, { generation, version });
    }
  }

  /**
   * The next run of `state`'s changes the peer lacks (after `from`, or after
   * what we believe it has), at most one message and `budget` bytes (but
   * always one entry unless `mustFit`), oldest first; it moves on what we
   * believe the peer knows. Undefined if the peer has it all, null if
   * nothing fits the budget.
   */
  private run(state: NodeState, from: number | undefined, budget: number, mustFit = false): DeltasMessage | undefined | null {
    const theirs = this.holds(state);
    if (theirs && theirs.version >= state.version) return undefined;
    const base = theirs ? theirs.version : 0;
    from = Math.max(from ?? 0, base);
    const limit = Math.min(budget, this.options.maxMessageBytes) - DELTAS_OVERHEAD;
    if (mustFit && limit < 0) return null;
    const entries = [];
    let size = 0;
    let version = state.version;
    for (const entry of state.entriesAbove(from)) {
      const length = entryLength(entry);
      if ((entries.length > 0 || mustFit) && size + length > limit) {
        if (entries.length === 0) return null;
        version = entries[entries.length - 1].version;
        break;
      }
      entries.push(entry);
      size += length;
    }
    const newLife = !theirs;
    this.learn(state.id, state.generation, version);
    return {
      type: 'deltas',
      id: state.id,
      generation: state.generation,
      address: newLife && state.address ? state.address : undefined,
      from,
      version,
      entries,
    };
  }
}
