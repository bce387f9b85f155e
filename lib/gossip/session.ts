import { errors } from '../errors.js';
import type { Codec } from '../codec/index.js';
import type { PeerInfo, Session, SessionOptions } from '../session/contract.js';
import { type AggregateMessage, type DeltasMessage, type DigestEntry, type GossipMessage, entryLength, gossipCodec } from './messages.js';
import type { Membership } from './membership.js';
import type { NodeState } from './node-state.js';

/** Bytes of a deltas message besides its entries, at most (tag, id, generation, address, counters). */
const DELTAS_OVERHEAD = 64;

/**
 * One gossip exchange with one peer, scuttlebutt-style. Both sides send a
 * digest first (every member and how far they have seen it, plus their
 * receive window); each then sends the members the other lacks, deepest
 * first, as runs of changes in version order, until the exchange budget
 * (ours, and the window the peer advertised) is spent. That ends the
 * initial exchange: a non-live stream (one gossip round) then closes.
 *
 * A live stream carries on: every change to a member we spread afterwards
 * goes to the peer as it happens, never back to the peer it came from, and
 * whatever the budget cut off in the initial exchange follows too.
 */
export class GossipSession implements Session<GossipMessage> {
  readonly codec: Codec<GossipMessage> = gossipCodec;
  onWake?: () => void;
  private sending = false;
  private accepting = false;
  private digestSent = false;
  private aggregateSent = false;
  private aggregateOut: AggregateMessage | undefined;
  /** What the peer has of each member, as far as we know: its digest, moved on by what we send and it sends. */
  private known: Map<string, DigestEntry> | undefined;
  private plan: { state: NodeState; from: number }[] = [];
  private planned = 0;
  private budget = 0;
  private spent = 0;
  private historyDone = false;
  private readonly dirty = new Set<string>();
  private readonly introduced: string[] = [];
  private windowMembers = 0;
  private live = false;
  private closed = false;

  constructor(
    private readonly membership: Membership,
    private readonly options: SessionOptions,
  ) {}

  /** Aggregates average over gossip rounds only, both ways: each side must send its share and take the other's. */
  private get averaging(): boolean {
    return !this.live && this.sending && this.accepting;
  }

  get initialSent(): boolean {
    return this.digestSent && this.historyDone;
  }

  start(peer: PeerInfo): void {
    this.sending = this.options.readable && peer.writable;
    this.accepting = this.options.writable && peer.readable;
    this.live = this.options.live && peer.live;
    this.membership.attach(this);
    this.onWake?.();
  }

  receive(message: GossipMessage): void {
    if (message.type === 'digest') {
      if (this.known) throw errors.decode('second digest');
      this.membership.checkDigest(message);
      this.known = new Map(message.nodes.map((node) => [node.id, node]));
      if (this.sending) {
        this.plan = this.membership.offers(this.known, message.windowMembers);
        // A live stream is a replication link paced by backpressure; only a
        // gossip round (non-live) is held to the byte budget.
        this.budget = this.live ? Infinity : Math.min(this.membership.timing.maxExchangeBytes, message.windowBytes);
      } else {
        this.historyDone = true;
      }
      this.onWake?.();
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
      this.onWake?.();
      return;
    }
    if (!this.accepting) return;
    const { introduced } = this.membership.applyDeltas(message, this);
    if (introduced) {
      this.introduced.push(message.id);
      if (!this.live && this.introduced.length > this.membership.limits.maxNewMembersPerExchange) {
        // More new members than we said we take: undo them all, fail the stream.
        this.membership.forget(this.introduced);
        throw errors.limit('new members in one exchange', this.introduced.length, this.membership.limits.maxNewMembersPerExchange);
      }
    }
    const theirs = this.known.get(message.id);
    if (!theirs || message.generation > theirs.generation || (message.generation === theirs.generation && message.version > theirs.version)) {
      this.known.set(message.id, { id: message.id, generation: message.generation, version: message.version });
    }
  }

  /** Called by the membership: a member's state moved on. */
  changed(id: string): void {
    if (this.closed || !this.sending || !this.live) return;
    this.dirty.add(id);
    this.onWake?.();
  }

  pull(): GossipMessage | undefined {
    if (this.closed) return undefined;
    if (!this.digestSent) {
      this.digestSent = true;
      return this.membership.digest();
    }
    if (!this.known || !this.sending) return undefined;
    if (this.averaging && !this.aggregateSent) {
      this.aggregateSent = true;
      this.aggregateOut = this.membership.aggregates.outgoing();
    }
    if (this.aggregateOut) {
      const message = this.aggregateOut;
      this.aggregateOut = undefined;
      return message;
    }
    while (!this.historyDone) {
      if (this.planned >= this.plan.length || this.spent >= this.budget) {
        this.historyDone = true;
        break;
      }
      const offer = this.plan[this.planned];
      // The first message of an exchange may go over a tiny budget, so every exchange makes progress.
      const message = this.run(offer.state, offer.from, this.budget - this.spent, this.spent > 0);
      if (message === null) {
        this.historyDone = true; // the budget is spent
        break;
      }
      if (!message) {
        this.planned++;
        continue;
      }
      offer.from = message.version;
      if (message.version >= offer.state.version) this.planned++;
      this.spent += this.codec.encodingLength(message);
      return message;
    }
    if (!this.live) return undefined;
    // Live: what the budget cut off, then changes as they come.
    while (this.planned < this.plan.length) {
      const offer = this.plan[this.planned];
      const message = this.run(offer.state, offer.from, Infinity);
      if (message && message.version < offer.state.version) offer.from = message.version;
      else this.planned++;
      if (message) return message;
    }
    for (const id of this.dirty) {
      this.dirty.delete(id);
      const state = this.membership.stateOf(id);
      if (!state) continue;
      const theirs = this.known.get(id);
      const from = theirs && theirs.generation === state.generation ? theirs.version : 0;
      if (theirs && theirs.generation > state.generation) continue;
      const message = this.run(state, from, Infinity);
      if (!message) continue;
      if (message.version < state.version) this.dirty.add(id); // the rest next
      return message;
    }
    return undefined;
  }

  close(): void {
    this.closed = true;
    this.plan = [];
    this.dirty.clear();
    this.membership.detach(this);
  }

  /**
   * The next run of `state`'s changes after `from`, at most one message
   * (and `budget` bytes, but always one entry unless `mustFit`), oldest
   * first; advances what we believe the peer knows. Undefined if the peer
   * has it all, null if nothing fits the budget.
   */
  private run(state: NodeState, from: number, budget: number, mustFit = false): DeltasMessage | undefined | null {
    const theirs = this.known!.get(state.id);
    if (theirs && (theirs.generation > state.generation || (theirs.generation === state.generation && theirs.version >= state.version))) return undefined;
    if (theirs && theirs.generation === state.generation && theirs.version > from) from = theirs.version;
    const limit = Math.min(budget, this.options.maxMessageBytes) - DELTAS_OVERHEAD;
    const entries = [];
    let size = 0;
    let version = state.version;
    if (mustFit && limit < 0) return null;
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
    const newLife = !theirs || theirs.generation < state.generation;
    const message: DeltasMessage = {
      type: 'deltas',
      id: state.id,
      generation: state.generation,
      address: newLife && state.address ? state.address : undefined,
      from,
      version,
      entries,
    };
    this.known!.set(state.id, { id: state.id, generation: state.generation, version });
    return message;
  }
}
