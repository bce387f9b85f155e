import { DEFAULT_LINK, type LinkProfile, sampleDelay } from './link.js';
import type { SimRandom } from './random.js';
import type { Scheduler, Task } from './scheduler.js';

/** Receives the datagrams addressed to one node. */
export type DatagramHandler = (from: string, message: unknown) => void;

/** A stream link as seen from one end. */
export interface StreamEnd {
  readonly local: string;
  readonly remote: string;
  /** True until the link breaks or either end closes it. */
  readonly open: boolean;
  /** Sends one frame; false (and the link breaks) if it cannot be delivered. */
  send(frame: Uint8Array): boolean;
  close(): void;
  /** Called with each frame from the other end, in order. */
  onData: ((frame: Uint8Array) => void) | undefined;
  /** Called once when the link is over (broken or closed by the other end). */
  onClose: (() => void) | undefined;
}

/** Accepts incoming stream links for one node; return false to refuse. */
export type StreamAcceptor = (end: StreamEnd) => boolean;

/** A stretch of time the network was not whole, for reports and pictures. */
export interface FaultWindow {
  kind: string;
  start: number;
  /** Undefined while it lasts. */
  end: number | undefined;
  detail: string;
}

export interface NetworkStats {
  /** Datagrams and stream frames handed to the network. */
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  bytes: number;
  streamsOpened: number;
  streamsBroken: number;
}

interface DirectedLink {
  profile: LinkProfile;
  /** The profile was set for this link (`setLink`), not inherited from the defaults. */
  custom: boolean;
  /** When the link's bandwidth is free again. */
  busyUntil: number;
  /** Latest delivery time so far, to keep stream frames in order. */
  lastArrival: number;
}

/** Link records created between two sweeps for idle ones. */
const SWEEP_EVERY = 4096;

/**
 * The simulated network: nodes that are up or down, directed links with
 * latency, jitter, bandwidth, loss, duplication and reordering, and cuts
 * (partitions). It carries datagrams (`send`) and reliable ordered stream
 * links (`connect`), the latter breaking on loss, cut or crash.
 */
export class Network {
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, bytes: 0, streamsOpened: 0, streamsBroken: 0 };
  readonly faults: FaultWindow[] = [];
  readonly nodes: string[] = [];

  private readonly up = new Map<string, boolean>();
  /** Bumped on every crash, so messages sent to an earlier life are dropped. */
  private readonly incarnation = new Map<string, number>();
  /** Bumped on a crash that loses what the node had in flight, so messages sent by an earlier life are dropped. */
  private readonly sendLife = new Map<string, number>();
  private readonly handlers = new Map<string, DatagramHandler>();
  private readonly acceptors = new Map<string, StreamAcceptor>();
  /**
   * Only links that differ from the defaults (a profile of their own) or
   * hold state that still matters (bandwidth busy, a frame in flight) have a
   * record: an idle link costs nothing, so 100,000 nodes that each talked to
   * dozens of peers do not keep millions of records.
   */
  private readonly links = new Map<string, DirectedLink>();
  private createdSinceSweep = 0;
  private readonly cuts = new Set<string>();
  /** The current partition: the groups each node is in; undefined when whole. */
  private sides: Map<string, number[]> | undefined;
  private readonly streams = new Set<StreamLink>();
  private defaults: LinkProfile;

  constructor(
    readonly scheduler: Scheduler,
    readonly random: SimRandom,
    defaults: Partial<LinkProfile> = {},
  ) {
    this.defaults = { ...DEFAULT_LINK, ...defaults };
  }

  addNode(id: string): void {
    if (this.up.has(id)) throw new RangeError(`node ${id} exists`);
    this.nodes.push(id);
    this.up.set(id, true);
    this.incarnation.set(id, 0);
  }

  isUp(id: string): boolean {
    return this.up.get(id) === true;
  }

  /** Sets the profile of both directions between a and b (merged over the current one). */
  setLink(a: string, b: string, profile: Partial<LinkProfile>): void {
    // One direction at a time: making the second record may sweep idle ones, which a marked record is not.
    for (const [from, to] of [[a, b], [b, a]] as const) {
      const link = this.link(from, to);
      link.profile = { ...link.profile, ...profile };
      link.custom = true;
    }
  }

  /** Changes the default profile, and every link's, by merging `profile` in. */
  setAllLinks(profile: Partial<LinkProfile>): void {
    const before = this.defaults;
    this.defaults = { ...this.defaults, ...profile };
    for (const link of this.links.values()) link.profile = link.profile === before ? this.defaults : { ...link.profile, ...profile };
  }

  profile(from: string, to: string): LinkProfile {
    return this.links.get(key(from, to))?.profile ?? this.defaults;
  }

  /** Link records held now (links with a profile of their own or state in flight); for tests and memory reports. */
  get linkRecords(): number {
    return this.links.size;
  }

  listen(id: string, handler: DatagramHandler): void {
    this.handlers.set(id, handler);
  }

  accept(id: string, acceptor: StreamAcceptor): void {
    this.acceptors.set(id, acceptor);
  }

  // ---- faults ----

  /** True if messages from `from` cannot reach `to`: a cut link, or no side of the partition in common. */
  isCut(from: string, to: string): boolean {
    if (this.sides !== undefined && !shareSide(this.sides.get(from), this.sides.get(to))) return true;
    return this.cuts.size > 0 && this.cuts.has(key(from, to));
  }

  /** Both can exchange messages now (both up, no cut either way). */
  reachable(a: string, b: string): boolean {
    return this.isUp(a) && this.isUp(b) && !this.isCut(a, b) && !this.isCut(b, a);
  }

  /** Cuts both directions between a and b; stream links between them break. */
  cut(a: string, b: string): void {
    this.cuts.add(key(a, b));
    this.cuts.add(key(b, a));
    for (const stream of [...this.streams]) {
      if ((stream.a === a && stream.b === b) || (stream.a === b && stream.b === a)) stream.break();
    }
  }

  uncut(a: string, b: string): void {
    this.cuts.delete(key(a, b));
    this.cuts.delete(key(b, a));
  }

  /**
   * Splits the nodes into groups: two nodes can talk only if some group
   * holds both (a node in two groups is a bridge; a node in none is
   * isolated). Replaces the previous partition; cut links stay cut. Costs
   * O(nodes), not O(nodes^2), so 10,000 nodes partition cheaply.
   */
  partition(groups: readonly (readonly string[])[]): void {
    const sides = new Map<string, number[]>();
    groups.forEach((members, i) => members.forEach((id) => sides.set(id, [...(sides.get(id) ?? []), i])));
    this.sides = sides;
    for (const stream of [...this.streams]) if (!shareSide(sides.get(stream.a), sides.get(stream.b))) stream.break();
  }

  /** Ends the partition (cut links stay cut). */
  unpartition(): void {
    this.sides = undefined;
  }

  /** Ends the partition and removes every cut. */
  heal(): void {
    this.sides = undefined;
    this.cuts.clear();
  }

  /** True while a partition or a cut link is in force. */
  get split(): boolean {
    return this.sides !== undefined || this.cuts.size > 0;
  }

  /** Links cut one by one (partitions not counted). */
  get cutCount(): number {
    return this.cuts.size / 2;
  }

  /** Opens a fault window (for reports); returns it so the caller can close it with `endFault`. */
  beginFault(kind: string, detail = ''): FaultWindow {
    const window: FaultWindow = { kind, start: this.scheduler.now, end: undefined, detail };
    this.faults.push(window);
    return window;
  }

  endFault(window: FaultWindow): void {
    if (window.end === undefined) window.end = this.scheduler.now;
  }

  /**
   * The node stops: its stream links break and messages to it are dropped,
   * until `restart`. With `loseInFlight`, the datagrams it sent that have
   * not arrived yet are lost too, as when a machine dies with its send
   * buffers and the packets on its own link; without it (the default) they
   * still arrive, as if already on the wire.
   */
  crash(id: string, options: { loseInFlight?: boolean } = {}): void {
    if (!this.isUp(id)) return;
    this.up.set(id, false);
    this.incarnation.set(id, this.incarnation.get(id)! + 1);
    if (options.loseInFlight) this.sendLife.set(id, (this.sendLife.get(id) ?? 0) + 1);
    for (const stream of [...this.streams]) if (stream.a === id || stream.b === id) stream.break();
  }

  restart(id: string): void {
    this.up.set(id, true);
  }

  // ---- datagrams ----

  /**
   * Sends a datagram. Returns false at once if the destination is known to be
   * down (like a refused connection), so a sender can detect the failure on
   * the spot; a cut or a loss is silent.
   */
  send(from: string, to: string, message: unknown, size = 64): boolean {
    if (!this.isUp(from)) return false;
    this.stats.sent++;
    this.stats.bytes += size;
    if (!this.isUp(to)) {
      this.stats.dropped++;
      return false;
    }
    const profile = this.profile(from, to);
    if (this.isCut(from, to) || this.random.chance(profile.loss)) {
      this.stats.dropped++;
      return true;
    }
    const copies = this.random.chance(profile.duplicate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    const life = this.incarnation.get(to)!;
    const senderLife = this.sendLife.get(from);
    for (let c = 0; c < copies; c++) {
      let delay = (Number.isFinite(profile.bandwidth) ? this.transmit(this.link(from, to), size) : 0) + sampleDelay(profile, this.random);
      if (this.random.chance(profile.reorder)) delay += profile.latency;
      this.scheduler.schedule(delay, new Datagram(this, from, to, message, life, senderLife));
    }
    return true;
  }

  /** A datagram arrives: lost if the receiver crashed meanwhile, the sender crashed losing what it had in flight, or a cut appeared. */
  deliver(d: Datagram): void {
    const { from, to } = d;
    if (!this.isUp(to) || this.incarnation.get(to) !== d.life || this.sendLife.get(from) !== d.senderLife || this.isCut(from, to)) {
      this.stats.dropped++;
      return;
    }
    this.stats.delivered++;
    this.handlers.get(to)?.(from, d.message);
  }

  // ---- stream links ----

  /**
   * Opens a reliable ordered link from `from` to `to`. Returns the local end
   * (its `onClose` fires if the link cannot be set up), or undefined if
   * `from` is down.
   */
  connect(from: string, to: string): StreamEnd | undefined {
    if (!this.isUp(from)) return undefined;
    const stream = new StreamLink(this, from, to);
    this.streams.add(stream);
    this.stats.streamsOpened++;
    // The accept comes before any frame of the link: it sets the link's arrival floor.
    const link = this.link(from, to);
    const arrival = Math.max(this.scheduler.now + sampleDelay(link.profile, this.random), link.lastArrival);
    link.lastArrival = arrival;
    this.scheduler.at(arrival, () => {
      if (!stream.open) return;
      const acceptor = this.acceptors.get(to);
      if (!this.reachable(from, to) || !acceptor || !acceptor(stream.endB)) stream.break();
    }, 'accept');
    return stream.endA;
  }

  /** @internal Carries one frame of a stream link. */
  carry(stream: StreamLink, fromA: boolean, frame: Uint8Array): boolean {
    const from = fromA ? stream.a : stream.b;
    const to = fromA ? stream.b : stream.a;
    this.stats.sent++;
    this.stats.bytes += frame.length;
    const link = this.link(from, to);
    if (!this.reachable(from, to) || this.random.chance(link.profile.loss)) {
      this.stats.dropped++;
      stream.break();
      return false;
    }
    const arrival = Math.max(this.scheduler.now + this.transmit(link, frame.length) + sampleDelay(link.profile, this.random), link.lastArrival);
    link.lastArrival = arrival;
    this.scheduler.at(arrival, () => {
      if (!stream.open) {
        this.stats.dropped++;
        return;
      }
      this.stats.delivered++;
      const end = fromA ? stream.endB : stream.endA;
      end.onData?.(frame);
    }, `frame ${from}>${to}`);
    return true;
  }

  /** @internal */
  closed(stream: StreamLink, broken: boolean): void {
    this.streams.delete(stream);
    if (broken) this.stats.streamsBroken++;
  }

  /** Time the message waits for, and occupies, the link's bandwidth. */
  private transmit(link: DirectedLink, size: number): number {
    if (!Number.isFinite(link.profile.bandwidth)) return 0;
    const start = Math.max(this.scheduler.now, link.busyUntil);
    link.busyUntil = start + size / link.profile.bandwidth;
    return link.busyUntil - this.scheduler.now;
  }

  /** The link's record, made on first need (a custom profile, bandwidth or stream state to keep). */
  private link(from: string, to: string): DirectedLink {
    const k = key(from, to);
    let link = this.links.get(k);
    if (!link) {
      if (++this.createdSinceSweep >= SWEEP_EVERY) this.sweepIdle();
      link = { profile: this.defaults, custom: false, busyUntil: 0, lastArrival: 0 };
      this.links.set(k, link);
    }
    return link;
  }

  /**
   * Drops the records of links that are idle: the default profile, the
   * bandwidth free and no frame still to arrive. Dropping one is invisible,
   * since a fresh record starts from exactly that state. Runs once per
   * SWEEP_EVERY records made, so it costs O(1) per record, amortized.
   */
  private sweepIdle(): void {
    this.createdSinceSweep = 0;
    const now = this.scheduler.now;
    for (const [k, link] of this.links) {
      if (!link.custom && link.busyUntil <= now && link.lastArrival <= now) this.links.delete(k);
    }
  }
}

function shareSide(a: number[] | undefined, b: number[] | undefined): boolean {
  if (!a || !b) return false;
  for (const x of a) if (b.includes(x)) return true;
  return false;
}

function key(from: string, to: string): string {
  return `${from}\u0000${to}`;
}

/** Both ends of one reliable ordered link. */
class StreamLink {
  open = true;
  readonly endA: StreamEnd;
  readonly endB: StreamEnd;

  constructor(
    private readonly network: Network,
    readonly a: string,
    readonly b: string,
  ) {
    this.endA = this.end(true);
    this.endB = this.end(false);
  }

  /** Both ends learn of the break: the local side at once, in a fresh event. */
  break(): void {
    this.shut(true);
  }

  private shut(broken: boolean, by?: StreamEnd): void {
    if (!this.open) return;
    this.open = false;
    this.network.closed(this, broken);
    for (const end of [this.endA, this.endB]) {
      if (end === by) continue;
      this.network.scheduler.schedule(0, () => end.onClose?.(), 'close');
    }
  }

  private end(isA: boolean): StreamEnd {
    const link = this;
    const end: StreamEnd = {
      local: isA ? this.a : this.b,
      remote: isA ? this.b : this.a,
      get open() {
        return link.open;
      },
      send: (frame) => link.open && link.network.carry(link, isA, frame),
      close: () => link.shut(false, end),
      onData: undefined,
      onClose: undefined,
    };
    return end;
  }
}

/** One datagram in flight: a scheduler task of its own, so it costs one object. */
class Datagram implements Task {
  constructor(
    private readonly network: Network,
    readonly from: string,
    readonly to: string,
    readonly message: unknown,
    /** The receiver's and the sender's lives when it was sent. */
    readonly life: number,
    readonly senderLife: number | undefined,
  ) {}

  run(): void {
    this.network.deliver(this);
  }

  get label(): string {
    return `dgram ${this.from}>${this.to}`;
  }
}
