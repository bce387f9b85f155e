import { randomBytes } from 'node:crypto';
import { encode, json } from '../codec/index.js';
import { errors } from '../errors.js';
import { Random } from '../random.js';
import { Replica } from '../session/replica.js';
import { SessionSet } from '../session/session-set.js';
import type { Descriptor, SessionOptions } from '../session/contract.js';
import type { ReplicationStream, StreamOptions } from '../stream/duplex.js';
import { normalizeAddress } from './address.js';
import { Aggregates, type AggregateEstimate } from './aggregate.js';
import { PhiAccrualDetector } from './failure-detector.js';
import { ReceiveWindow } from './flow-control.js';
import { type DigestEntry, KEYS_GAP_CAP, MAX_VERSION, heartbeatFloor } from './digest-codec.js';
import type { DeltasMessage, DigestMessage, RelativeEntry, ReplyMessage } from './messages.js';
import { type Entry, NodeState } from './node-state.js';
import { DEFAULT_GOSSIP_LIMITS, DEFAULT_PHI, DEFAULT_TIMING, type GossipLimits, type MembershipTiming, type PhiOptions } from './options.js';
import { chooseTargets } from './peer-selection.js';
import { RefTable } from './member-ref.js';
import { GossipSession, type PeerHolds } from './session.js';

/** Generations stay below this, so `+ 1` is always a safe integer (versions stay below MAX_VERSION, for the digest). */
const MAX_COUNTER = 2 ** 52;

export interface MembershipOptions {
  /** This node's listening address, `host:port` (`[::1]:9000` for IPv6). Gossiped to peers so they can call back. */
  address?: string;
  /** This node's id. Default: its address, so a restarted process is the same node in a new life; random hex without one. */
  id?: string;
  /** Cluster name, checked in the handshake: a peer of another cluster is refused. Default none. */
  cluster?: string;
  /** Structure name in the handshake. Default `'gossip'`. */
  name?: string;
  /** Addresses of seed nodes, gossiped to now and then so partitions heal. */
  seeds?: readonly string[];
  /** This life's generation. Default: the clock at creation (ms), so every restart is a higher one. */
  generation?: number;
  /** Wall-clock time in ms. Default `Date.now`. */
  now?: () => number;
  /** Random source (peer choice, tie breaks). Default: seeded from `Math.random`. */
  random?: Random;
  timing?: Partial<MembershipTiming>;
  phi?: Partial<PhiOptions>;
  limits?: Partial<GossipLimits>;
}

export type PeerStatus = 'alive' | 'dead';

interface Member {
  state: NodeState;
  detector: PhiAccrualDetector;
  status: PeerStatus;
  /** When it was convicted, ms. */
  deadSince: number;
}

interface Tombstone {
  generation: number;
  version: number;
  until: number;
}

/**
 * Gossip membership without I/O: who is in the cluster, who is alive, and
 * what each member has published. A `tick()` (driven by the networked
 * `Gossiper`, or by the simulator in virtual time) heartbeats, expires keys,
 * convicts and removes; `createStream()` reconciles with a peer,
 * scuttlebutt-style, digests first.
 *
 * Events: `'update'` (peer, key, value), `'expire'` (peer, key),
 * `'new_peer'` (peer), `'peer_alive'` (peer), `'peer_failed'` (peer),
 * `'peer_removed'` (peer), `'refute'` (generation).
 */
export class Membership extends Replica {
  readonly id: string;
  readonly address: string;
  readonly cluster: string | undefined;
  readonly name: string;
  readonly seeds: readonly string[];
  readonly timing: MembershipTiming;
  readonly phiOptions: PhiOptions;
  readonly limits: GossipLimits;
  readonly now: () => number;
  readonly random: Random;
  readonly window: ReceiveWindow;
  readonly aggregates: Aggregates;
  private readonly local: NodeState;
  private readonly members = new Map<string, Member>();
  private readonly tombstones = new Map<string, Tombstone>();
  /** Our live streams: a member whose state moved on is relayed to all but the one it came from. */
  readonly peers = new SessionSet<string>();
  private lastTick: number | undefined;
  private lastJudged: number | undefined;
  /** No convictions before this time: set after this process was stalled. */
  private quietUntil = 0;
  /** Member by digest reference (ourselves as `local`); null for a reference two lives share. Rebuilt when membership changes. */
  private refIndex: RefTable<{ state: NodeState }> | undefined;

  constructor(options: MembershipOptions = {}) {
    super();
    this.now = options.now ?? Date.now;
    this.random = options.random ?? new Random(Math.floor(Math.random() * 0x7fffffff));
    this.address = options.address === undefined ? '' : normalizeAddress(options.address);
    this.id = options.id ?? (this.address || randomBytes(8).toString('hex'));
    this.cluster = options.cluster;
    this.name = options.name ?? 'gossip';
    const interval = options.timing?.gossipIntervalMs ?? DEFAULT_TIMING.gossipIntervalMs;
    this.timing = { ...DEFAULT_TIMING, maxLocalPauseMs: 2 * interval, judgeIntervalMs: interval / 4, ...options.timing };
    this.phiOptions = { ...DEFAULT_PHI, firstHeartbeatEstimateMs: interval, ...options.phi };
    this.limits = { ...DEFAULT_GOSSIP_LIMITS, ...options.limits };
    if (typeof this.id !== 'string' || this.id.length === 0 || Buffer.byteLength(this.id) > this.limits.maxIdBytes) {
      throw errors.invalidArgument(`node id must be a non-empty string of at most ${this.limits.maxIdBytes} bytes`);
    }
    this.seeds = (options.seeds ?? []).map(normalizeAddress).filter((seed) => seed !== this.address);
    const generation = options.generation ?? Math.floor(this.now());
    if (!Number.isSafeInteger(generation) || generation < 1 || generation >= MAX_COUNTER) throw errors.invalidArgument(`bad generation ${generation}`);
    this.local = new NodeState(this.id, this.address, generation);
    this.window = new ReceiveWindow(this.timing.maxExchangeBytes, this.timing.minWindowBytes);
    this.aggregates = new Aggregates(this);
  }

  get descriptor(): Descriptor {
    return { kind: 'gossip', name: this.name, id: this.id };
  }

  /** This life's generation. */
  get generation(): number {
    return this.local.generation;
  }

  /** How far our own state has gone: keys set plus heartbeats. */
  get version(): number {
    return this.local.version;
  }

  openSession(options: SessionOptions): GossipSession {
    return new GossipSession(this, options);
  }

  /** A replication stream with this node's cluster name in the handshake. */
  override createStream(options: StreamOptions = {}): ReplicationStream {
    return super.createStream({ cluster: this.cluster, ...options });
  }

  // ---- the grapevine API -------------------------------------------------

  /** Every member we know of, alive or dead (not ourselves). */
  allPeers(): string[] {
    return [...this.members.keys()];
  }

  livePeers(): string[] {
    return [...this.members].filter(([, m]) => m.status === 'alive').map(([id]) => id);
  }

  deadPeers(): string[] {
    return [...this.members].filter(([, m]) => m.status === 'dead').map(([id]) => id);
  }

  peerValue(peer: string, key: string): unknown {
    return this.members.get(peer)?.state.entries.get(key)?.value;
  }

  peerKeys(peer: string): string[] {
    return [...(this.members.get(peer)?.state.entries.keys() ?? [])];
  }

  /** A member's gossiped listening address. */
  peerAddress(peer: string): string | undefined {
    return this.members.get(peer)?.state.address || undefined;
  }

  /** A member's current life. */
  peerGeneration(peer: string): number | undefined {
    return this.members.get(peer)?.state.generation;
  }

  /** The suspicion level of a member now (phi accrual); undefined for an unknown peer. */
  phi(peer: string): number | undefined {
    return this.members.get(peer)?.detector.phi(this.now());
  }

  getLocalState(key: string): unknown {
    return this.local.entries.get(key)?.value;
  }

  localKeys(): string[] {
    return [...this.local.entries.keys()];
  }

  /**
   * Publishes `key` = `value` (any JSON value) to the cluster. With
   * `expiresAt` (wall-clock ms), the key disappears on every node once that
   * time has passed there.
   */
  setLocalState(key: string, value: unknown, expiresAt?: number): void {
    if (typeof key !== 'string' || Buffer.byteLength(key) > this.limits.maxKeyBytes) {
      throw errors.invalidArgument(`key must be a string of at most ${this.limits.maxKeyBytes} bytes`);
    }
    if (expiresAt !== undefined && (!Number.isSafeInteger(expiresAt) || expiresAt < 0)) throw errors.invalidArgument(`bad expiresAt ${expiresAt}`);
    // Hold exactly what peers will decode: the value after a JSON round trip.
    const bytes = encode(json, value);
    if (bytes.length > this.limits.maxValueBytes) throw errors.limit('value size', bytes.length, this.limits.maxValueBytes);
    if (!this.local.entries.has(key) && this.local.entries.size >= this.limits.maxKeysPerNode) {
      throw errors.limit('keys per node', this.local.entries.size + 1, this.limits.maxKeysPerNode);
    }
    if (expiresAt !== undefined && expiresAt <= this.now()) {
      this.local.entries.delete(key);
      return;
    }
    this.local.set(key, JSON.parse(JSON.stringify(value)), expiresAt);
    this.changed(this.id, undefined);
  }

  /** The push-sum estimate of cluster size, and of the average and sum of the numeric local value `name`. */
  aggregate(name: string): AggregateEstimate {
    return this.aggregates.estimate(name);
  }

  /** Every member's state as plain data, ourselves included (for tests and comparisons). */
  view(): { id: string; generation: number; version: number; status: PeerStatus | 'self'; entries: Record<string, unknown> }[] {
    const all = [{ state: this.local, status: 'self' as const }, ...[...this.members.values()].map((m) => ({ state: m.state, status: m.status }))];
    return all
      .map(({ state, status }) => ({
        id: state.id,
        generation: state.generation,
        version: state.version,
        status,
        entries: Object.fromEntries([...state.entries].map(([k, e]): [string, unknown] => [k, e.value]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  // ---- time --------------------------------------------------------------

  /**
   * One round of local work: heartbeat, expire keys, judge every member,
   * remove the long dead, forget old tombstones, adapt the receive window.
   * Call it every `gossipIntervalMs`.
   */
  tick(): void {
    const now = this.now();
    const gap = this.lastTick === undefined ? 0 : now - this.lastTick;
    this.lastTick = now;
    this.judge();
    this.window.round(gap > this.timing.gossipIntervalMs * 1.5);
    this.local.beat();
    this.guardVersion(this.local.version);
    for (const entry of this.local.expire(now)) this.emit('expire', this.id, entry.key);
    this.changed(this.id, undefined);
    for (const [id, member] of this.members) {
      for (const entry of member.state.expire(now)) this.emit('expire', id, entry.key);
      if (member.status === 'dead' && now - member.deadSince >= this.timing.removeAfterMs) {
        this.members.delete(id);
        this.refIndex = undefined;
        this.tombstones.set(id, { generation: member.state.generation, version: member.state.version, until: now + this.timing.tombstoneMs });
        this.emit('peer_removed', id);
      }
    }
    for (const [id, tombstone] of this.tombstones) if (tombstone.until <= now) this.tombstones.delete(id);
    this.aggregates.tick(now);
  }

  /**
   * Judges every live member: one whose phi crossed the threshold is
   * convicted. `tick()` does it too; call it every `judgeIntervalMs` in
   * between, so a conviction does not wait for the next round. If this
   * process was stalled since the last call (longer than
   * `maxLocalPauseMs`), the silence it saw is its own: nobody is judged on
   * it, and every member's silence starts afresh.
   */
  judge(): void {
    const now = this.now();
    const gap = this.lastJudged === undefined ? 0 : now - this.lastJudged;
    this.lastJudged = now;
    if (gap > this.timing.maxLocalPauseMs) {
      for (const member of this.members.values()) member.detector.restartSilence(now);
      this.quietUntil = now + this.timing.gossipIntervalMs;
    }
    if (now < this.quietUntil) return;
    for (const member of this.members.values()) {
      if (member.status !== 'alive' || member.detector.isAvailable(now)) continue;
      member.status = 'dead';
      member.deadSince = now;
      this.emit('peer_failed', member.state.id);
    }
  }

  /** The addresses to gossip with this round (see `chooseTargets`). */
  gossipTargets(): string[] {
    const live: string[] = [];
    const dead: string[] = [];
    for (const member of this.members.values()) {
      if (!member.state.address) continue;
      (member.status === 'alive' ? live : dead).push(member.state.address);
    }
    return chooseTargets({ live, dead, seeds: this.seeds }, this.random, this.timing.fanout);
  }

  /**
   * Another live member to gossip with after a round's exchange with
   * `failed` did not complete: one retry per round keeps a lossy network
   * from silencing a node's heartbeat for rounds on end.
   */
  retryTarget(failed: string): string | undefined {
    const live: string[] = [];
    for (const member of this.members.values()) {
      if (member.status === 'alive' && member.state.address && member.state.address !== failed) live.push(member.state.address);
    }
    return live.length === 0 ? undefined : this.random.pick(live);
  }

  // ---- what sessions call ------------------------------------------------

  /** Our digest: ourselves and every member not removed, in version order, and our receive window. */
  digest(): DigestMessage {
    const nodes: DigestEntry[] = [digestEntry(this.local, false)];
    for (const member of this.members.values()) nodes.push(digestEntry(member.state, member.status === 'dead'));
    nodes.sort((a, b) => a.version - b.version);
    return { type: 'digest', windowBytes: this.window.bytes, windowMembers: this.limits.maxNewMembersPerExchange, nodes };
  }

  /**
   * Our digest as a reply to the peer's (`peer`, read into `peerByRef`):
   * for each member it named, our version relative to its (undefined where
   * we do not hold that life, or either side names it ambiguously), and in
   * full every member it did not name.
   */
  reply(peer: readonly DigestEntry[], peerByRef: RefTable<DigestEntry>): ReplyMessage {
    const index = this.refs();
    const relative = peer.map((theirs): RelativeEntry | undefined => {
      const held = peerByRef.get(theirs.ref, theirs.refCheck) === null ? null : index.get(theirs.ref, theirs.refCheck);
      if (held === undefined || held === null) return undefined;
      const ours = held.state === this.local ? digestEntry(this.local, false) : digestEntry(held.state, (held as Member).status === 'dead');
      return { diff: ours.version - theirs.version, keysGap: ours.keysGap, dead: ours.dead };
    });
    const extra: DigestEntry[] = [];
    const unnamed = (state: NodeState) => index.get(state.ref, state.refCheck) === null || !peerByRef.get(state.ref, state.refCheck);
    if (unnamed(this.local)) extra.push(digestEntry(this.local, false));
    for (const member of this.members.values()) if (unnamed(member.state)) extra.push(digestEntry(member.state, member.status === 'dead'));
    extra.sort((a, b) => a.version - b.version);
    return { type: 'reply', windowBytes: this.window.bytes, windowMembers: this.limits.maxNewMembersPerExchange, relative, extra };
  }

  /**
   * Checks a peer's digest against the limits and reads it: a reference
   * the digest names twice is ambiguous (null in the map it returns). It
   * refutes what the digest says about us if it knows our life further than
   * we are (a restart that reused a generation), and takes every heartbeat
   * it can: a member the peer has seen further, whose keys did not change
   * since the version we hold, moves on to the peer's version without any
   * deltas (exactly what an empty run of deltas would do).
   */
  readDigest(digest: DigestMessage, origin: unknown): RefTable<DigestEntry> {
    if (digest.nodes.length > this.limits.maxMembers + 1) throw errors.limit('digest members', digest.nodes.length, this.limits.maxMembers + 1);
    const nodes = digest.nodes;
    const byRef = new RefTable<DigestEntry>(entryRef, entryCheck);
    for (let i = 0; i < nodes.length; i++) byRef.add(nodes[i]);
    const now = this.now();
    const index = this.refs();
    for (let i = 0; i < nodes.length; i++) {
      const entry = nodes[i];
      const member = index.get(entry.ref, entry.refCheck);
      if (member === undefined || member === null || byRef.get(entry.ref, entry.refCheck) !== entry) continue;
      if (member.state === this.local) {
        this.refuteIfNewer(this.local.generation, entry.version);
        continue;
      }
      const { state, detector } = member as Member;
      if (entry.dead || entry.version <= state.version || state.version < heartbeatFloor(entry)) continue;
      detector.heartbeat(now, entry.version - state.version);
      state.version = entry.version;
      this.revive(state.id, member as Member);
      this.changed(state.id, origin);
    }
    return byRef;
  }

  /**
   * The members a peer with digest `known` lacks something of, in the order
   * to send them: ourselves first, then by how far behind the peer is
   * (scuttle-depth, which did best in the paper), ties broken at random.
   * Only live members are offered: we never spread the state of a member we
   * believe dead, so a departed node is not kept alive by stale copies.
   */
  offers(holds: PeerHolds, windowMembers: number): { state: NodeState; from: number; newToPeer: boolean }[] {
    const offers: { state: NodeState; from: number; newToPeer: boolean; depth: number; tie: number }[] = [];
    const index = this.refs();
    const consider = (state: NodeState) => {
      // A life whose reference we share with another is named by id only: sent whole.
      const theirs = index.get(state.ref, state.refCheck) === null ? undefined : holds(state);
      if (theirs && theirs.version >= state.version) return;
      // The peer takes a heartbeat-only step from our digest by itself.
      if (theirs && theirs.version >= state.version - (keysGapOf(state) ?? KEYS_GAP_CAP)) return;
      const from = theirs ? theirs.version : 0;
      offers.push({ state, from, newToPeer: !theirs, depth: state.version - from, tie: this.random.float() });
    };
    for (const member of this.members.values()) if (member.status === 'alive') consider(member.state);
    offers.sort((a, b) => b.depth - a.depth || a.tie - b.tie);
    const local = offers.length;
    consider(this.local);
    if (offers.length > local) offers.unshift(offers.pop()!);
    let newOnes = 0;
    return offers.filter((offer) => !offer.newToPeer || ++newOnes <= windowMembers);
  }

  /**
   * Applies a run of one member's changes from a peer. Everything is checked
   * before anything changes. Returns whether the member is new to us.
   */
  applyDeltas(message: DeltasMessage, origin: unknown): { introduced: boolean } {
    const now = this.now();
    this.checkId(message.id);
    this.guardCounter(message.generation);
    this.guardVersion(message.version);
    if (message.from > message.version) throw errors.decode('deltas run ends before it starts');
    if (message.entries.length > this.limits.maxKeysPerNode) throw errors.limit('keys in one run', message.entries.length, this.limits.maxKeysPerNode);
    let previous = message.from;
    for (const entry of message.entries) {
      if (entry.version <= previous || entry.version > message.version) throw errors.decode('deltas out of version order');
      previous = entry.version;
      if (Buffer.byteLength(entry.key) > this.limits.maxKeyBytes) throw errors.limit('key length', Buffer.byteLength(entry.key), this.limits.maxKeyBytes);
      const size = json.encodingLength(entry.value);
      if (size > this.limits.maxValueBytes) throw errors.limit('value size', size, this.limits.maxValueBytes);
    }
    if (message.address !== undefined) {
      try {
        if (normalizeAddress(message.address) !== message.address) throw new Error('not canonical');
      } catch {
        throw errors.decode(`malformed address ${JSON.stringify(message.address)}`);
      }
    }
    if (message.id === this.id) {
      // News about ourselves is never applied; a newer life of our id is refuted.
      this.refuteIfNewer(message.generation, message.version);
      return { introduced: false };
    }
    const member = this.members.get(message.id);
    if (member === undefined || message.generation > member.state.generation) {
      return this.admit(message, member, now, origin);
    }
    const state = member.state;
    if (message.generation < state.generation || message.version <= state.version || message.from > state.version) return { introduced: false };
    if (message.address !== undefined) state.address = message.address;
    const keysAfter = new Set(state.entries.keys());
    for (const entry of message.entries) keysAfter.add(entry.key);
    if (keysAfter.size > this.limits.maxKeysPerNode) throw errors.limit('keys per node', keysAfter.size, this.limits.maxKeysPerNode);
    const before = state.version;
    const changed = state.apply(message.version, message.entries, now);
    member.detector.heartbeat(now, state.version - before);
    for (const entry of changed) this.emit('update', message.id, entry.key, entry.value);
    this.revive(message.id, member);
    this.changed(message.id, origin);
    return { introduced: false };
  }

  /** A member we had convicted is heard from again. */
  private revive(id: string, member: Member): void {
    if (member.status === 'dead') {
      member.status = 'alive';
      this.emit('peer_alive', id);
    }
  }

  /** Member by digest reference, ourselves (`local`) included; null where two lives share one. */
  private refs(): RefTable<{ state: NodeState }> {
    if (this.refIndex) return this.refIndex;
    const index = new RefTable<{ state: NodeState }>(heldRef, heldCheck);
    index.add({ state: this.local });
    for (const member of this.members.values()) index.add(member);
    return (this.refIndex = index);
  }

  /** Undoes members a misbehaving peer introduced in its exchange. */
  forget(ids: readonly string[]): void {
    for (const id of ids) {
      if (!this.members.delete(id)) continue;
      this.refIndex = undefined;
      this.emit('peer_removed', id);
    }
  }

  /** A member we did not know, or a new life of one we did. */
  private admit(message: DeltasMessage, previous: Member | undefined, now: number, origin: unknown): { introduced: boolean } {
    // A new life must come whole, from its first version.
    if (message.from !== 0) return { introduced: false };
    if (previous === undefined) {
      const tombstone = this.tombstones.get(message.id);
      // Stale gossip about a removed member brings nothing back; only news
      // newer than what we saw before removing it does.
      if (tombstone && (message.generation < tombstone.generation || (message.generation === tombstone.generation && message.version <= tombstone.version))) {
        return { introduced: false };
      }
      if (this.members.size >= this.limits.maxMembers) throw errors.limit('members', this.members.size + 1, this.limits.maxMembers);
    }
    this.tombstones.delete(message.id);
    // No address: a member reachable only through streams someone else wires.
    const state = new NodeState(message.id, message.address ?? previous?.state.address ?? '', message.generation);
    const changed = state.apply(message.version, message.entries, now);
    const detector = previous?.detector ?? new PhiAccrualDetector(this.phiOptions);
    detector.heartbeat(now);
    this.members.set(message.id, { state, detector, status: 'alive', deadSince: 0 });
    this.refIndex = undefined;
    if (previous === undefined) this.emit('new_peer', message.id);
    else for (const key of previous.state.entries.keys()) if (!state.entries.has(key)) this.emit('expire', message.id, key);
    for (const entry of changed) this.emit('update', message.id, entry.key, entry.value);
    // A new life of a known member: it is back, whatever we thought of it.
    if (previous !== undefined) this.emit('peer_alive', message.id);
    this.changed(message.id, origin);
    return { introduced: previous === undefined };
  }

  private refuteIfNewer(generation: number, version: number): void {
    const local = this.local;
    if (generation > local.generation || (generation === local.generation && version > local.version)) {
      const next = Math.max(generation + 1, Math.floor(this.now()));
      this.guardCounter(next);
      local.rebirth(next);
      this.refIndex = undefined;
      this.emit('refute', next);
      this.changed(this.id, undefined);
    }
  }

  /** Tells every session but `origin` that a member's state moved on. */
  private changed(id: string, origin: unknown): void {
    this.peers.relay(id, origin);
  }

  /** The state to send for a member (ourselves included), if we spread it. */
  stateOf(id: string): NodeState | undefined {
    if (id === this.id) return this.local;
    const member = this.members.get(id);
    return member && member.status === 'alive' ? member.state : undefined;
  }

  private checkId(id: string): void {
    const length = Buffer.byteLength(id);
    if (length === 0 || length > this.limits.maxIdBytes) throw errors.limit('node id length', length, this.limits.maxIdBytes);
  }

  private guardCounter(n: number): void {
    if (n >= MAX_COUNTER) throw errors.limit('generation', n, MAX_COUNTER - 1);
  }

  private guardVersion(n: number): void {
    if (n >= MAX_VERSION) throw errors.limit('version', n, MAX_VERSION - 1);
  }
}

function entryRef(entry: DigestEntry): number {
  return entry.ref;
}

function entryCheck(entry: DigestEntry): number {
  return entry.refCheck;
}

function heldRef(held: { state: NodeState }): number {
  return held.state.ref;
}

function heldCheck(held: { state: NodeState }): number {
  return held.state.refCheck;
}

/** One member life as our digest names it. */
function digestEntry(state: NodeState, dead: boolean): DigestEntry {
  return { ref: state.ref, refCheck: state.refCheck, version: state.version, keysGap: keysGapOf(state), dead };
}

/** How many versions ago the member's keys last changed, if fewer than KEYS_GAP_CAP (see `DigestEntry.keysGap`). */
function keysGapOf(state: NodeState): number | undefined {
  const gap = state.version - state.keysVersion;
  return state.keysVersion > 0 && gap < KEYS_GAP_CAP ? gap : undefined;
}

export type { Entry };
