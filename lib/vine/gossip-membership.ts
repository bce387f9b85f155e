import { EventEmitter } from 'node:events';
import type { Membership as GossipCore } from '../gossip/membership.js';
import type { Member, Membership } from './membership.js';

/** The gossip key under which a member publishes the address of its vine requests. */
const ADDRESS_KEY = 'vine';
/** The gossip key of a member's watched keys. */
const WATCH_KEY = 'watch';
/** The gossip key a member sets when it leaves for good: the others remove it at once. */
const LEFT_KEY = 'left';

/** A gossip membership that can run on the network: the `Gossiper`. */
export interface RunningGossip extends GossipCore {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * How long the members and the live set are kept between gossip events, ms.
 * Every change of them comes with an event, which drops the copy at once;
 * the age is a bound should one ever come without.
 */
const VIEW_MS = 100;

/**
 * Vine's membership on gossip: the members are the gossip peers that
 * publish a vine address (a member is known to vine once its address is),
 * liveness is the phi-accrual verdict, and published state travels as
 * gossip keys. Translates the gossip events into Vine's: `'join'` when a
 * member's address first arrives, `'fail'`, `'recover'`, `'remove'`, and
 * `'state'` on a change of a member's watch set.
 */
export class GossipMembership extends EventEmitter implements Membership {
  private readonly known = new Set<string>();
  /**
   * The members and the live ones, as last computed. A node asks on every
   * request (the targets and spares of a write, its watchers), and the
   * gossip core builds its peer lists anew each time it is asked.
   */
  private view: { members: Member[]; live: Set<string>; at: number } | undefined;
  private readonly dropView = () => (this.view = undefined);

  constructor(
    readonly self: Member,
    readonly gossip: RunningGossip,
    /** The gossip interval, ms: a leave waits a few of them for the word to spread. */
    private readonly intervalMs = 1000,
  ) {
    super();
    gossip.setLocalState(ADDRESS_KEY, `${self.host}:${self.port}`);
    // First of all listeners, so the events below already see the new view.
    for (const event of ['update', 'peer_failed', 'peer_alive', 'peer_removed']) gossip.on(event, this.dropView);
    gossip.on('update', (peer: string, key: string) => {
      if (key === LEFT_KEY) {
        if (this.known.delete(peer)) this.emit('remove', peer);
      } else if (key === ADDRESS_KEY && !this.known.has(peer) && this.member(peer)) {
        this.known.add(peer);
        this.emit('join', this.member(peer));
      } else if (key === WATCH_KEY) this.emit('state', peer);
    });
    gossip.on('peer_failed', (peer: string) => this.known.has(peer) && this.emit('fail', peer));
    gossip.on('peer_alive', (peer: string) => this.known.has(peer) && this.emit('recover', peer));
    gossip.on('peer_removed', (peer: string) => {
      if (this.known.delete(peer)) this.emit('remove', peer);
    });
  }

  private member(id: string): Member | undefined {
    // A member that announced its leave is gone, though its gossip state lingers until removal.
    if (this.gossip.peerValue(id, LEFT_KEY) !== undefined) return undefined;
    const address = this.gossip.peerValue(id, ADDRESS_KEY);
    if (typeof address !== 'string') return undefined;
    const cut = address.lastIndexOf(':');
    const port = Number(address.slice(cut + 1));
    if (cut < 1 || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
    return { id, host: address.slice(0, cut).replace(/^\[|\]$/g, ''), port };
  }

  /** Every member not removed, self included (a shared array: callers do not change it). */
  members(): Member[] {
    return this.current().members;
  }

  isLive(id: string): boolean {
    return id === this.self.id || this.current().live.has(id);
  }

  private current(): { members: Member[]; live: Set<string>; at: number } {
    // The gossip core's clock, so a membership on an injected clock stays deterministic.
    const now = this.gossip.now();
    if (this.view !== undefined && now - this.view.at < VIEW_MS) return this.view;
    const members = [this.self];
    for (const id of this.gossip.allPeers()) {
      const member = this.member(id);
      if (member) members.push(member);
    }
    const live = new Set<string>();
    for (const id of this.gossip.livePeers()) if (this.gossip.peerValue(id, LEFT_KEY) === undefined) live.add(id);
    return (this.view = { members, live, at: now });
  }

  setLocalState(key: string, value: string): void {
    this.gossip.setLocalState(key, value);
  }

  peerState(id: string, key: string): string | undefined {
    const value = this.gossip.peerValue(id, key);
    return typeof value === 'string' ? value : undefined;
  }

  start(): Promise<void> {
    return this.gossip.start();
  }

  stop(): Promise<void> {
    return this.gossip.stop();
  }

  /** Publishes the leave and gossips for three intervals, so every member hears it (gossip reaches all in a few rounds). */
  async leave(): Promise<void> {
    this.gossip.setLocalState(LEFT_KEY, '1');
    await new Promise((resolve) => setTimeout(resolve, 3 * this.intervalMs));
  }
}
