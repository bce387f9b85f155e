import { errors } from '../errors.js';
import type { Codec } from '../codec/index.js';
import type { PeerInfo, Session, SessionOptions } from '../session/contract.js';
import type { Clock, ScuttlebuttMessage, UpdatesMessage } from './messages.js';
import type { Scuttlebutt } from './scuttlebutt.js';
import type { Update } from './update.js';

/** Most live updates queued for one peer (references: 2 MiB at most) before falling back to a history scan. */
const MAX_QUEUE = 1 << 18;

/**
 * The scuttlebutt protocol towards one peer. Both sides send a digest (the
 * high-water timestamp of every source they have seen); each then sends the
 * other what its digest lacks, in the order it applied them (so each
 * source's in timestamp order), and after that relays live updates.
 *
 * `sent` is what the peer has, as far as we know: its digest, advanced by
 * every update we send and every update it sends us. Live updates are queued
 * and filtered against it, so nothing goes twice and nothing goes back to
 * the stream it came from. If the peer falls far behind, the queue is dropped
 * and a fresh history scan from `sent` replaces it, so memory stays bounded
 * however slow the peer is.
 */
export class ScuttlebuttSession<U extends Update> implements Session<ScuttlebuttMessage<U>> {
  readonly codec: Codec<ScuttlebuttMessage<U>>;
  onWake?: () => void;
  private sending = false;
  private accepting = false;
  private digestSent = false;
  private sent: Clock | undefined; // undefined until the peer's digest arrives
  private scan: Iterator<U> | undefined; // the replica's retained updates, live
  private scanned: UpdatesMessage<U>[] = []; // one chunk of the scan, grouped by source
  private rescan = false;
  private pending = new Map<string, { items: U[]; head: number }>(); // live updates to send, per source, in order
  private pendingCount = 0;
  private historyDone = false;
  private closed = false;

  constructor(
    private readonly replica: Scuttlebutt<U>,
    private readonly options: SessionOptions,
  ) {
    this.codec = replica.messageCodec;
  }

  get initialSent(): boolean {
    return this.digestSent && this.historyDone;
  }

  start(peer: PeerInfo): void {
    this.sending = this.options.readable && peer.writable;
    this.accepting = this.options.writable && peer.readable;
    this.replica.attach(this);
    this.onWake?.();
  }

  receive(message: ScuttlebuttMessage<U>): void {
    if (message.type === 'digest') {
      if (this.sent) throw errors.decode('second digest');
      this.sent = new Map();
      for (const { source, ts } of message.clock) this.sent.set(source, ts);
      if (this.sending) this.rescan = true;
      else this.historyDone = true;
      this.onWake?.();
      return;
    }
    if (!this.sent) throw errors.decode('updates before the digest');
    if (!this.accepting) return;
    this.replica.ingestBatch(message.updates, this);
    // The peer has these now; never send them back.
    const last = message.updates[message.updates.length - 1];
    if (last && last.ts > (this.sent.get(message.source) ?? 0)) this.sent.set(message.source, last.ts);
  }

  /** Called by the replica for every update applied from elsewhere. */
  relay(update: U): void {
    if (!this.sending || this.closed) return;
    if (this.pendingCount >= MAX_QUEUE) {
      this.pending.clear();
      this.pendingCount = 0;
      this.rescan = true;
    } else {
      const queued = this.pending.get(update.source);
      if (queued) queued.items.push(update);
      else this.pending.set(update.source, { items: [update], head: 0 });
      this.pendingCount++;
    }
    this.onWake?.();
  }

  pull(): ScuttlebuttMessage<U> | undefined {
    if (this.closed) return undefined;
    if (!this.digestSent) {
      this.digestSent = true;
      return { type: 'digest', clock: [...this.replica.clockDigest()].map(([source, ts]) => ({ source, ts })) };
    }
    if (!this.sent || !this.sending) return undefined;
    while (this.scan || this.rescan) {
      if (!this.scan) {
        this.rescan = false;
        this.scan = this.replica.history();
      }
      const message = this.nextFromScan();
      if (message) return message;
      this.scan = undefined;
      this.historyDone = true;
    }
    return this.nextFromQueue();
  }

  close(): void {
    this.closed = true;
    this.pending.clear();
    this.scan = undefined;
    this.scanned = [];
    this.replica.detach(this);
  }

  /**
   * The next message of a history scan. The scan walks the replica's
   * updates in the order they were applied, takes a chunk of about one
   * message's worth that the peer lacks, and groups it by source (keeping
   * each source's order), so sources that interleave still travel in few
   * messages.
   */
  private nextFromScan(): UpdatesMessage<U> | undefined {
    if (this.scanned.length === 0) this.scanChunk();
    return this.scanned.shift();
  }

  private scanChunk(): void {
    const scan = this.scan!;
    const sent = this.sent!;
    const codec = this.replica.updateCodec;
    const budget = this.options.maxMessageBytes;
    const groups = new Map<string, U[]>();
    // Runs of one source are the rule: keep its group and clock at hand.
    let source: string | undefined;
    let group: U[] = [];
    let have = 0;
    let size = 0;
    while (size < budget) {
      const next = scan.next();
      if (next.done) break;
      const u = next.value;
      if (u.source !== source) {
        if (source !== undefined) sent.set(source, have);
        source = u.source;
        have = sent.get(source) ?? 0;
        group = groups.get(source) ?? [];
        if (group.length === 0) groups.set(source, group);
      }
      if (u.ts <= have) continue;
      have = u.ts;
      group.push(u);
      size += codec.encodingLength(u) + 9;
    }
    if (source !== undefined) sent.set(source, have);
    for (const [from, updates] of groups) if (updates.length > 0) this.scanned.push({ type: 'updates', source: from, updates });
  }

  /** Sends queued live updates the peer lacks, one source per message. */
  private nextFromQueue(): UpdatesMessage<U> | undefined {
    const sent = this.sent!;
    const budget = this.options.maxMessageBytes;
    for (const [source, queued] of this.pending) {
      const have = sent.get(source) ?? 0;
      const { items } = queued;
      const updates: U[] = [];
      let size = 0;
      let i = queued.head;
      for (; i < items.length; i++) {
        const u = items[i];
        // Skip what the peer has, and what was replaced meanwhile (its successor is queued too).
        if (u.ts <= have || !this.replica.isRetained(u)) continue;
        size += this.replica.updateCodec.encodingLength(u) + 9;
        if (size > budget && updates.length > 0) break;
        updates.push(u);
      }
      this.pendingCount -= i - queued.head;
      queued.head = i;
      if (i === items.length) this.pending.delete(source);
      if (updates.length === 0) continue;
      sent.set(source, updates[updates.length - 1].ts);
      return { type: 'updates', source, updates };
    }
    return undefined;
  }
}
