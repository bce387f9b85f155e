import { EventEmitter } from 'node:events';
import type { Address } from './rpc.js';

/** A member of the cluster: its id and where its vine requests go. */
export interface Member extends Address {
  id: string;
}

/**
 * What Vine needs from membership, and nothing more: who it is, who the
 * members are (not removed, alive or not) with their addresses, who is
 * alive, a little state each member publishes (the keys it watches), and
 * events. The `Gossiper` adapter implements it on the network; tests use
 * `LocalMembership`, where the test decides who fails.
 *
 * Events: `'join'` (member), `'fail'` (id), `'recover'` (id), `'remove'` (id),
 * `'state'` (id) when a member's published state changed.
 */
export interface Membership extends EventEmitter {
  readonly self: Member;
  /** Every member not removed, self included. */
  members(): Member[];
  isLive(id: string): boolean;
  /** Publishes a small value under `key` for the other members. */
  setLocalState(key: string, value: string): void;
  /** What member `id` published under `key`. */
  peerState(id: string, key: string): string | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Tells the others this member leaves for good, so they take it off the
   * ring at once (a `'remove'` on each) instead of after failure detection
   * and the removal time. Resolves once the word had time to spread.
   */
  leave?(): Promise<void>;
}

/**
 * An in-process membership shared by the members of one `LocalCluster`:
 * exact and instant, for tests. The test fails, recovers and removes members.
 */
export class LocalCluster {
  readonly members = new Map<string, { member: Member; live: boolean; state: Map<string, string>; view?: LocalMembership }>();

  /** Every member's address, as last listed (dropped on a join or a removal): a node asks on every write. */
  private listed: Member[] | undefined;

  /** Every member not removed (a shared array: callers do not change it). */
  memberList(): Member[] {
    return (this.listed ??= [...this.members.values()].map((entry) => entry.member));
  }

  /** A membership view for a member. */
  join(member: Member): LocalMembership {
    this.listed = undefined;
    const view = new LocalMembership(this, member);
    this.members.set(member.id, { member, live: true, state: new Map(), view });
    for (const entry of this.members.values()) if (entry.view && entry.member.id !== member.id) entry.view.emit('join', member);
    return view;
  }

  fail(id: string): void {
    this.set(id, false, 'fail');
  }

  recover(id: string): void {
    this.set(id, true, 'recover');
  }

  remove(id: string): void {
    this.members.delete(id);
    this.listed = undefined;
    for (const entry of this.members.values()) entry.view?.emit('remove', id);
  }

  private set(id: string, live: boolean, event: string): void {
    const entry = this.members.get(id);
    if (!entry) return;
    entry.live = live;
    for (const other of this.members.values()) if (other.member.id !== id) other.view?.emit(event, id);
  }
}

export class LocalMembership extends EventEmitter implements Membership {
  constructor(
    private readonly cluster: LocalCluster,
    readonly self: Member,
  ) {
    super();
  }

  members(): Member[] {
    return this.cluster.memberList();
  }

  isLive(id: string): boolean {
    return this.cluster.members.get(id)?.live ?? false;
  }

  setLocalState(key: string, value: string): void {
    this.cluster.members.get(this.self.id)?.state.set(key, value);
    for (const entry of this.cluster.members.values()) if (entry.member.id !== this.self.id) entry.view?.emit('state', this.self.id);
  }

  peerState(id: string, key: string): string | undefined {
    return this.cluster.members.get(id)?.state.get(key);
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.cluster.remove(this.self.id);
  }

  async leave(): Promise<void> {
    this.cluster.remove(this.self.id);
  }
}
