import { errors } from '../../errors.js';
import { array, constant, string, struct, uint, union } from '../../codec/index.js';
import { Replica } from '../../session/replica.js';
import type { Descriptor, PeerInfo, Session, SessionOptions } from '../../session/contract.js';

/**
 * A minimal grow-only set of strings, replicated scuttlebutt-style: every
 * element is tagged (origin replica, sequence number); a session sends its
 * per-origin digest, then whatever the peer lacks, origin by origin, in
 * order, a bounded batch per message. It exists so the simulator has a real
 * structure on the shared Replica/Session API to drive (the broadcast
 * scenario, the sweep) whatever else has landed; it is not a public CRDT.
 */
export class GrowSet extends Replica {
  readonly descriptor: Descriptor;
  /** Per origin, its elements in sequence order (index = seq - 1). */
  private readonly log = new Map<string, string[]>();
  private readonly members = new Set<string>();
  private readonly sessions = new Set<GrowSetSession>();

  constructor(id: string, name = 'grow-set') {
    super();
    this.descriptor = { kind: 'sim-grow-set', name, id };
  }

  get size(): number {
    return this.members.size;
  }

  has(value: string): boolean {
    return this.members.has(value);
  }

  /** The elements, sorted. */
  values(): string[] {
    return [...this.members].sort();
  }

  /** Adds a value (as a new entry of this replica, even if present: a set absorbs it). */
  add(value: string): void {
    this.apply(this.descriptor.id, this.seq(this.descriptor.id) + 1, value);
  }

  /** Highest sequence number held from `origin`. */
  seq(origin: string): number {
    return this.log.get(origin)?.length ?? 0;
  }

  origins(): string[] {
    return [...this.log.keys()];
  }

  entries(origin: string, from: number, count: number): string[] {
    return (this.log.get(origin) ?? []).slice(from - 1, from - 1 + count);
  }

  /** Applies entry `seq` of `origin` if it is the next one; returns whether it was new. */
  apply(origin: string, seq: number, value: string): boolean {
    const entries = this.log.get(origin) ?? [];
    if (seq <= entries.length) return false;
    if (seq !== entries.length + 1) throw errors.integrity(`entry ${seq} of ${origin} after ${entries.length}: a gap`);
    entries.push(value);
    this.log.set(origin, entries);
    const added = !this.members.has(value);
    this.members.add(value);
    for (const session of this.sessions) session.wake(origin);
    if (added) this.emit('add', value, origin);
    return true;
  }

  openSession(options: SessionOptions): Session<GrowSetMessage> {
    const session = new GrowSetSession(this, options);
    this.sessions.add(session);
    return session;
  }

  /** @internal */
  detach(session: GrowSetSession): void {
    this.sessions.delete(session);
  }
}

const clockEntry = struct({ origin: string, seq: uint });

/** Message tags are the wire format: ONLY APPEND. */
const codec = union<GrowSetMessage>({
  digest: [0, struct({ type: constant('digest' as const), clock: array(clockEntry) })],
  entries: [1, struct({ type: constant('entries' as const), origin: string, from: uint, values: array(string) })],
});

export type GrowSetMessage =
  | { type: 'digest'; clock: { origin: string; seq: number }[] }
  | { type: 'entries'; origin: string; from: number; values: string[] };

class GrowSetSession implements Session<GrowSetMessage> {
  readonly codec = codec;
  onWake?: () => void;
  private peer: PeerInfo | undefined;
  private digestSent = false;
  private peerDigest = false;
  /** Highest seq per origin the peer is known to hold. */
  private readonly peerHas = new Map<string, number>();
  /** Origins with entries the peer may lack. */
  private readonly dirty = new Set<string>();
  private sentAll = false;
  private closed = false;

  constructor(
    private readonly set: GrowSet,
    private readonly options: SessionOptions,
  ) {}

  get initialSent(): boolean {
    if (!this.sentAll && this.digestSent && (this.peerDigest || !this.sends) && (!this.sends || this.dirty.size === 0)) this.sentAll = true;
    return this.sentAll;
  }

  /** We send entries only if we are readable and the peer accepts them. */
  private get sends(): boolean {
    return this.options.readable && this.peer !== undefined && this.peer.writable;
  }

  start(peer: PeerInfo): void {
    this.peer = peer;
    this.onWake?.();
  }

  receive(message: GrowSetMessage): void {
    if (message.type === 'digest') {
      if (this.peerDigest) throw errors.decode('second digest');
      this.peerDigest = true;
      for (const { origin, seq } of message.clock) this.peerHas.set(origin, Math.max(seq, this.peerHas.get(origin) ?? 0));
      for (const origin of this.set.origins()) this.wake(origin);
      this.onWake?.();
      return;
    }
    if (!this.options.writable) throw errors.decode('entries from a peer we do not accept writes from');
    let seq = message.from;
    // The peer holds everything it sent: never echo it back.
    this.peerHas.set(message.origin, Math.max(this.peerHas.get(message.origin) ?? 0, message.from + message.values.length - 1));
    for (const value of message.values) this.set.apply(message.origin, seq++, value);
  }

  pull(): GrowSetMessage | undefined {
    if (this.closed || !this.peer) return undefined;
    if (!this.digestSent) {
      this.digestSent = true;
      const clock = this.options.writable ? this.set.origins().map((origin) => ({ origin, seq: this.set.seq(origin) })) : [];
      return { type: 'digest', clock };
    }
    if (!this.peerDigest || !this.sends) return undefined;
    for (const origin of this.dirty) {
      const from = (this.peerHas.get(origin) ?? 0) + 1;
      const values = this.entriesUnder(origin, from);
      if (values.length === 0) {
        this.dirty.delete(origin);
        continue;
      }
      this.peerHas.set(origin, from + values.length - 1);
      return { type: 'entries', origin, from, values };
    }
    return undefined;
  }

  /** As many entries from `from` as fit in one message. */
  private entriesUnder(origin: string, from: number): string[] {
    const budget = this.options.maxMessageBytes - 16 - Buffer.byteLength(origin);
    const values: string[] = [];
    let size = 0;
    for (const value of this.set.entries(origin, from, 256)) {
      const length = Buffer.byteLength(value) + 5;
      if (values.length > 0 && size + length > budget) break;
      values.push(value);
      size += length;
    }
    return values;
  }

  /** @internal The set has new entries from `origin`. */
  wake(origin: string): void {
    if (this.closed) return;
    if (this.set.seq(origin) > (this.peerHas.get(origin) ?? 0)) {
      this.dirty.add(origin);
      if (this.peerDigest && this.sends) this.onWake?.();
    }
  }

  close(): void {
    this.closed = true;
    this.onWake = undefined;
    this.set.detach(this);
  }
}
