import Duplexify from 'duplexify';
import * as lps from 'length-prefixed-stream';
import type { Duplex, Transform } from 'node:stream';
import type { Limits } from '../codec/index.js';
import { ReplicationError, errors } from '../errors.js';
import { type FrameProtocol, type ProtocolSource, createFrameProtocol } from './frame-protocol.js';
import { FrameType, type Handshake } from './frames.js';
import { frameEncoder } from './framing.js';
import { DEFAULT_MAX_FRAME_BYTES, type Replicable } from '../session/contract.js';

export { DEFAULT_MAX_FRAME_BYTES };

/** Default time a failing stream waits for the peer to read its error frame: 1 s. */
export const DEFAULT_FAIL_GRACE_MS = 1000;
/** Default time a peer has to send its handshake: 10 s. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Default time a peer may send no complete frame before it is dropped: 60 s. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** Default time after which a stream with nothing to send sends an empty frame, so an honest quiet peer is never idle: 20 s. */
export const DEFAULT_KEEPALIVE_MS = 20_000;

// A data frame of no messages: every version of the protocol reads it, and it changes nothing.
const KEEPALIVE_FRAME = Buffer.from([FrameType.data, 0]);

export interface StreamOptions {
  /** Keep replicating after the initial exchange. Default true; false ends the stream once synced. */
  live?: boolean;
  /** Send our updates to the peer. Default true. */
  readable?: boolean;
  /** Accept the peer's updates. Default true. */
  writable?: boolean;
  /** Cluster or network name; a peer with another one is refused. Default none. */
  cluster?: string;
  /** Largest frame sent or accepted, in bytes. Default 1 MiB. */
  maxFrameBytes?: number;
  /** Decoder limits for the peer's messages. */
  limits?: Partial<Limits>;
  /** Live updates queued for a slow peer before they are dropped for a fresh catch-up. Default: the structure's own bound. */
  maxQueued?: number;
  /** How long a failing stream waits for the peer to read its error frame, in ms. Default 1,000. */
  failGraceMs?: number;
  /**
   * A network key (at least 16 bytes, or a passphrase): both peers prove
   * they hold it, by challenge and HMAC, before any state flows; a peer
   * without it is refused with ERR_AUTH having learnt nothing of the data.
   * It authenticates; it does not encrypt (see `encrypt` for that). Default none.
   */
  key?: Uint8Array | string;
  /** How long the peer has to send its handshake, in ms; then ERR_TIMEOUT. Default 10,000; 0 waits for ever. */
  handshakeTimeoutMs?: number;
  /**
   * How long the peer may send no complete frame, in ms; then ERR_TIMEOUT. A
   * half-sent frame does not count, so a peer that trickles bytes is dropped
   * too. Default 60,000; 0 waits for ever. Keep it above the peer's `keepaliveMs`.
   */
  idleTimeoutMs?: number;
  /** After this long with nothing sent, in ms, send an empty frame so the peer knows we are alive. Default 20,000; 0 never. */
  keepaliveMs?: number;
}

/**
 * What a stream cut before a graceful end still owed its peer: `items` live
 * writes not yet made into frames, `bytes` of frames not yet taken by the
 * transport, and whether its initial exchange had all gone out. The writes
 * are not lost: the replica holds them, and the next connection to that
 * peer sends them (every sync starts from what the peer says it has).
 */
export interface Undelivered {
  /** The peer's replica id. */
  peer: string;
  items: number;
  bytes: number;
  initialSent: boolean;
}

/**
 * A replication stream: pipe it to the peer's stream, in either direction.
 * Emits `'progress'` ({ done, total }: updates of the peer's catch-up)
 * while the initial exchange runs, `'synced'` once it is complete both ways, and
 * fails only through `destroy(err)` with a coded ReplicationError.
 */
// duplexify does the work; the public type is node's Duplex, so a user's
// types need no duplexify type package (docs/architecture.md, Packaging).
const DuplexOf = Duplexify as unknown as new (writable: Transform, readable: Transform) => Duplex;

export class ReplicationStream extends DuplexOf {
  readonly protocol: FrameProtocol;
  private readonly decoder: Transform;
  private readonly encoder: Transform;
  private readonly failGraceMs: number;
  private scheduled = false;
  /**
   * The encoder is over its high-water mark: nothing more is pulled from the
   * session until it drains, so a peer that does not read leaves the backlog
   * in the session's bounded queue, not in the stream's buffer.
   */
  private blocked = false;
  private outputEnded = false;
  private emittedSynced = false;
  private lastProgress: { done: number; total: number } | undefined;
  private failing: ReplicationError | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly handshakeDeadline: number;
  private readonly idleTimeoutMs: number;
  private readonly keepaliveMs: number;
  private lastReceived = Date.now();
  private lastSent = Date.now();
  private watchdog: NodeJS.Timeout | undefined;
  private inputEnded = false;
  /** Set if the stream was cut while it still owed the peer something; also emitted as `'undelivered'`. */
  undelivered: Undelivered | undefined;
  private reckoned = false;

  constructor(replica: Replicable | ProtocolSource, options: StreamOptions = {}) {
    const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    const decoder = lps.decode({ limit: maxFrameBytes });
    const encoder = frameEncoder();
    super(decoder, encoder);
    this.decoder = decoder;
    this.encoder = encoder;
    this.failGraceMs = options.failGraceMs ?? DEFAULT_FAIL_GRACE_MS;
    const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.handshakeDeadline = handshakeTimeoutMs > 0 ? Date.now() + handshakeTimeoutMs : Infinity;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.keepaliveMs = options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
    this.protocol = createFrameProtocol(replica, { ...options, maxFrameBytes });
    // Woken once per write on a busy replica: a flush already due is the whole answer, asked here
    // (schedule() itself, reading the stream's state, allocated about 40 bytes a call).
    this.protocol.onWake = () => {
      if (!this.scheduled) this.schedule();
    };
    decoder.on('data', (frame: Buffer) => this.onFrame(frame));
    decoder.on('end', () => this.onInputEnd());
    // A backlog continues on the next turn of the event loop, not the next
    // tick: timers and I/O get their turn between chunks of a large sync.
    encoder.on('drain', () => {
      this.blocked = false;
      this.schedule(true);
    });
    this.once('close', () => this.teardown());
    // Our side has ended: the session goes once the peer's side has ended too (it may still be sending).
    this.once('end', () => {
      if (this.inputEnded) this.protocol.close();
    });
    this.schedule();
    this.armWatchdog();
  }

  /** The peer's handshake, once received. */
  get remote(): Handshake | undefined {
    return this.protocol.remote;
  }

  get synced(): boolean {
    return this.protocol.synced;
  }

  /**
   * Input after the stream is destroyed is dropped, not an error: a pipe
   * from the peer's stream may still hold frames in flight when either side
   * is torn down, and they can no longer matter.
   */
  override write(chunk: any, encoding?: any, cb?: any): boolean {
    if (this.destroyed) {
      if (typeof encoding === 'function') encoding();
      else if (typeof cb === 'function') cb();
      return false;
    }
    return super.write(chunk, encoding, cb);
  }

  override destroy(err?: Error | null, cb?: (err: Error | null) => void): this {
    // The framing decoder reports an oversized frame with a plain Error; give
    // the peer a coded one and fail through the usual path.
    if (err && !(err instanceof ReplicationError) && /larger than max length/.test(err.message) && !this.failing) {
      this.fail(errors.frameTooLarge(this.protocol.options.maxFrameBytes));
      return this;
    }
    // Whoever destroys a failing stream (pump, the user), it fails with its own error.
    err ??= this.failing;
    if (this.destroyed) return this;
    this.teardown();
    // Emit the error ourselves, ahead of the 'close' that destroy schedules:
    // duplexify may hand it to a pending write callback instead.
    if (err) process.nextTick(() => this.emit('error', err));
    (super.destroy as (err?: Error, cb?: unknown) => void)(undefined, cb);
    return this;
  }

  private schedule(nextTurn = false): void {
    if (this.scheduled || this.destroyed || this.outputEnded) return;
    this.scheduled = true;
    // One flush per tick batches every message queued during that tick.
    if (nextTurn) setImmediate(() => this.flush());
    else process.nextTick(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.destroyed || this.outputEnded || this.blocked) return;
    try {
      let frame: Buffer | undefined;
      while ((frame = this.protocol.nextFrame()) !== undefined) {
        this.lastSent = Date.now();
        if (!this.encoder.write(frame)) {
          this.blocked = true; // 'drain' schedules the next flush
          break;
        }
      }
    } catch (err) {
      this.fail(coded(err));
      return;
    }
    this.checkSynced();
    if (this.protocol.finished) this.endOutput();
  }

  private onFrame(frame: Buffer): void {
    if (this.destroyed) return;
    this.lastReceived = Date.now();
    if (this.failing) {
      // Waiting for the peer to read our error frame; its own error frame ends the wait.
      if (frame[0] === FrameType.error) this.destroy(this.failing);
      return;
    }
    const opening = this.protocol.remote === undefined;
    try {
      this.protocol.receive(frame);
    } catch (err) {
      this.fail(coded(err));
      return;
    }
    // The handshake is in: keepalives are due from now on, which the timer armed before it did not count on.
    if (opening && this.protocol.remote !== undefined) this.rearmWatchdog();
    if (this.protocol.peerFailure) {
      this.finish(this.protocol.peerFailure);
      return;
    }
    this.checkSynced();
    this.schedule();
  }

  private onInputEnd(): void {
    if (this.failing) {
      this.finish(this.failing);
      return;
    }
    // The peer is done sending: so are we, once what we accepted before now is out.
    this.inputEnded = true;
    this.close();
    this.protocol.close();
  }

  /**
   * Ends the replication gracefully: whatever is queued for the peer now
   * (writes made in this very tick included) goes out, then our side ends;
   * the peer does the same when it sees the end, so both sides get
   * everything written before the close. `replicate().close()` uses it.
   */
  close(): void {
    if (this.destroyed || this.outputEnded) return;
    if (this.failing) return;
    // Only once the handshake is done can anything of the data go out; a stream still opening just ends.
    if (this.protocol.remote !== undefined) {
      try {
        let frame: Buffer | undefined;
        // Past the encoder's high-water mark: the frames wait in its buffer, in order, until the end.
        while ((frame = this.protocol.nextFrame()) !== undefined) this.encoder.write(frame);
      } catch (err) {
        this.fail(coded(err));
        return;
      }
    }
    // The session stays open: the peer's last writes are still on their way to us.
    this.endOutput();
  }

  private checkSynced(): void {
    if (!this.emittedSynced) this.checkProgress();
    if (!this.emittedSynced && this.protocol.synced) {
      this.emittedSynced = true;
      this.emit('synced');
    }
  }

  /** Emits `'progress'` ({ done, total } updates of the peer's catch-up) when it has moved. */
  private checkProgress(): void {
    const progress = this.protocol.updateProgress?.();
    if (progress === undefined) return;
    if (this.lastProgress && this.lastProgress.done === progress.done && this.lastProgress.total === progress.total) return;
    this.lastProgress = progress;
    this.emit('progress', progress);
  }

  /**
   * Fails the stream: tells the peer why in an error frame, ends our output,
   * and destroys the stream with `err` once the peer has answered or hung
   * up, or after the grace period. Both replicas are left as they were.
   */
  private fail(err: ReplicationError): void {
    if (this.failing || this.destroyed) return;
    this.failing = err;
    const frame = this.protocol.fail(err);
    if (!this.outputEnded) {
      if (frame) this.encoder.write(frame);
      this.endOutput();
    }
    this.graceTimer = setTimeout(() => this.destroy(err), this.failGraceMs);
  }

  /**
   * Ends with `err`: our readable side ends first, so that whatever it is
   * piped to (a socket) is ended too, and then the stream is destroyed
   * with the error; after the grace period at the latest.
   */
  private finish(err: ReplicationError): void {
    this.failing ??= err;
    this.endOutput();
    if ((this as unknown as { _readableState: { endEmitted: boolean } })._readableState.endEmitted) {
      this.destroy(err);
      return;
    }
    this.once('end', () => process.nextTick(() => this.destroy(err)));
    this.graceTimer ??= setTimeout(() => this.destroy(err), this.failGraceMs);
  }

  /**
   * One timer per stream, armed for the nearest of: the handshake deadline,
   * the idle deadline, the next keepalive. It reads timestamps that frames
   * update, so a busy stream costs no timer work per frame.
   */
  private armWatchdog(): void {
    if (this.destroyed || this.failing) return;
    const deadlines: number[] = [];
    if (this.protocol.remote === undefined) deadlines.push(this.handshakeDeadline);
    if (this.idleTimeoutMs > 0) deadlines.push(this.lastReceived + this.idleTimeoutMs);
    if (this.keepaliveMs > 0 && !this.outputEnded && this.protocol.remote !== undefined) deadlines.push(this.lastSent + this.keepaliveMs);
    const next = Math.min(...deadlines);
    if (next === Infinity) return;
    this.watchdog = setTimeout(() => this.onWatchdog(), Math.max(1, next - Date.now()));
    this.watchdog.unref?.();
  }

  private rearmWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = undefined;
    this.armWatchdog();
  }

  private onWatchdog(): void {
    this.watchdog = undefined;
    if (this.destroyed || this.failing) return;
    const now = Date.now();
    if (this.protocol.remote === undefined && now >= this.handshakeDeadline) {
      this.fail(errors.timeout('the peer sent no handshake in time'));
      return;
    }
    if (this.idleTimeoutMs > 0 && now - this.lastReceived >= this.idleTimeoutMs) {
      this.fail(errors.timeout(`the peer sent no complete frame for ${this.idleTimeoutMs} ms`));
      return;
    }
    if (this.keepaliveMs > 0 && !this.outputEnded && !this.blocked && now - this.lastSent >= this.keepaliveMs && this.protocol.remote !== undefined) {
      this.lastSent = now;
      this.encoder.write(KEEPALIVE_FRAME);
    }
    this.armWatchdog();
  }

  private endOutput(): void {
    if (this.outputEnded) return;
    this.outputEnded = true;
    this.encoder.end();
  }

  /**
   * Once, as the stream goes: what it still owed the peer. A stream that
   * ended gracefully owes nothing (every frame went out before its end, and
   * the transport took them all); one that was cut (an error, `destroy()`,
   * a reset socket, a peer that never ended its side) reports what it had
   * accepted for the peer and not handed over, rather than losing it
   * silently.
   */
  private reckon(): void {
    if (this.reckoned) return;
    this.reckoned = true;
    const remote = this.protocol.remote;
    const owed = this.protocol.owed;
    // No session ran (no handshake, or the key unproven): nothing was ever meant for this peer.
    if (remote === undefined || owed === undefined) return;
    const { items, initialSent } = owed;
    const bytes = this.readableLength + this.encoder.readableLength + this.encoder.writableLength;
    if (items === 0 && bytes === 0 && initialSent) return;
    this.undelivered = { peer: remote.id, items, bytes, initialSent };
    const report = this.undelivered;
    process.nextTick(() => this.emit('undelivered', report));
  }

  private teardown(): void {
    this.reckon();
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = undefined;
    this.protocol.close();
  }
}

function coded(err: unknown): ReplicationError {
  if (err instanceof ReplicationError) return err;
  return errors.decode(`unexpected failure: ${(err as Error)?.message ?? err}`, err);
}
