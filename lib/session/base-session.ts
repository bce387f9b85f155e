import type { Codec } from '../codec/index.js';
import type { PeerInfo, Session, SessionOptions } from './contract.js';
import { gate } from './gate.js';
import { LiveQueue } from './live-queue.js';
import { ProgressCount } from './progress-count.js';
import type { SessionSet } from './session-set.js';

/**
 * The skeleton every session stands on. It owns what all of them do alike:
 * the readable/writable gating, the opening message sent once, the
 * catch-up (produced lazily, a message at a time, only once the peer's
 * opening has said what it lacks), one bounded live queue, membership in
 * the replica's `SessionSet` (from the handshake on, never before, and only
 * while there is something to send), and close.
 *
 * A structure writes only its own protocol: its `opening`, its
 * `catchUpMessages`, how it `receive`s a peer's message (calling
 * `beginCatchUp` when the peer's opening arrives) and how queued live items
 * merge into messages (`nextLive`). When the live queue passes its bound it
 * is dropped and the catch-up runs again from what the peer is known to
 * have (`overflowed`, overridable), so memory stays bounded however slow
 * the peer.
 *
 * Output order: the opening, then the catch-up, then live items. Live items
 * that arrive during the catch-up wait in the queue, and each structure
 * filters out what the catch-up already carried.
 */
export abstract class BaseSession<M, L> implements Session<M> {
  abstract readonly codec: Codec<M>;
  onWake?: () => void;

  protected peer: PeerInfo | undefined;
  /** We send our updates: we are readable and the peer is writable. */
  protected sending = false;
  /** We apply the peer's updates: we are writable and the peer is readable. */
  protected accepting = false;
  protected closed = false;
  protected readonly live: LiveQueue<L>;

  private openingDue = false;
  private running: Iterator<M> | undefined;
  private catchUpStarted = false;
  private catchUpDone = false;
  private leave: (() => void) | undefined;
  /** Updates received from the peer (`receive` adds to `progress.received`) and announced to it. */
  protected readonly progress = new ProgressCount();

  constructor(
    protected readonly options: SessionOptions,
    private readonly peers: SessionSet<L>,
    defaultMaxQueued: number,
  ) {
    this.live = new LiveQueue(options.maxQueued ?? defaultMaxQueued);
  }

  /** The opening message, sent once after the handshake if `sendsOpening()`. */
  protected abstract opening(): M;
  /** The catch-up for the peer, from what its opening (and anything since) says it has. */
  protected abstract catchUpMessages(): Iterator<M>;
  /** The next message made of queued live items (`this.live`), or undefined if none is due. */
  protected abstract nextLive(): M | undefined;
  /** Applies one message from the peer. Throws a ReplicationError on bad input. */
  abstract receive(message: M): void;

  /**
   * How many updates the catch-up about to run will carry, in the unit
   * `receive` counts in `progress.received`, read from the state as it is now (a
   * write during the catch-up may add to it, a replaced update take from
   * it). Undefined if the structure cannot tell; then no total is announced.
   */
  protected countCatchUp(): number | undefined {
    return undefined;
  }

  takeCatchUpTotal(): number | undefined {
    return this.progress.take();
  }

  get updatesReceived(): number {
    return this.progress.received;
  }

  /** Whether this side sends an opening. Default: when it accepts updates, for its opening says what it has. */
  protected sendsOpening(): boolean {
    return this.accepting;
  }

  get initialSent(): boolean {
    return this.peer !== undefined && !this.openingDue && this.catchUpDone;
  }

  /** Live items waiting for this peer. */
  get queued(): number {
    return this.live.length;
  }

  start(peer: PeerInfo): void {
    this.peer = peer;
    ({ sending: this.sending, accepting: this.accepting } = gate(this.options, peer));
    this.openingDue = this.sendsOpening();
    this.catchUpDone = !this.sending;
    if (this.sending && this.options.live) this.leave = this.peers.add(this);
    this.wake();
  }

  /** Starts the catch-up, or starts it again from the beginning. Called when the peer's opening arrives. */
  protected beginCatchUp(): void {
    if (!this.sending || this.closed) return;
    this.catchUpStarted = true;
    this.catchUpDone = false;
    const total = this.countCatchUp();
    // A catch-up run again (after an overflow) adds to what was announced and not yet taken.
    if (total !== undefined) this.progress.announce(total);
    this.running = this.catchUpMessages();
    this.wake();
  }

  /** A live item for this peer, from the replica's `SessionSet`. */
  offer(item: L): void {
    if (this.closed) return;
    if (!this.live.push(item)) this.overflowed();
    this.wake();
  }

  /** The live queue passed its bound and was dropped. Default: a fresh catch-up, once the first has begun. */
  protected overflowed(): void {
    if (this.catchUpStarted) this.beginCatchUp();
  }

  pull(): M | undefined {
    if (this.closed || this.peer === undefined) return undefined;
    if (this.openingDue) {
      this.openingDue = false;
      return this.opening();
    }
    if (this.running !== undefined) {
      const next = this.running.next();
      if (!next.done) return next.value;
      this.running = undefined;
      this.catchUpDone = true;
    }
    if (!this.catchUpDone || this.live.length === 0 && !this.hasPendingLive()) return undefined;
    return this.nextLive();
  }

  /** Whether `nextLive` holds output of its own beyond the queue (a message split in parts). Default false. */
  protected hasPendingLive(): boolean {
    return false;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.leave?.();
    this.leave = undefined;
    this.live.clear();
    this.running = undefined;
    this.onClose();
  }

  /** Drops whatever else the session holds. Default nothing. */
  protected onClose(): void {}

  protected wake(): void {
    if (!this.closed) this.onWake?.();
  }
}
