import { ReplicationError, errors } from '../errors.js';
import { type Limits, decodeState, encode, fixed, guardDecode, readCount, uint } from '../codec/index.js';
import { CHALLENGE_BYTES, NetworkKey, PROOF_BYTES, type ProofContext } from './network-key.js';
import { allocFrame } from './frame-buffer.js';
import { FrameType, type Handshake, MAX_HELLO_BYTES, PROTOCOL, PROTOCOL_VERSION, errorCodec, handshakeCodec } from './frames.js';
import type { Descriptor, PeerInfo, Session, SessionOptions } from '../session/contract.js';

/**
 * Batches of messages are cut at about 64 KiB even when the frame limit is
 * larger: the receiver decodes and applies a frame in one go, and smaller
 * frames keep that under a few milliseconds, so a large sync never stalls
 * the event loop for long.
 */
const TARGET_FRAME_BYTES = 64 * 1024;

/** What one side still owed its peer (see `WireProtocol.owed`). */
export interface Owed {
  items: number;
  initialSent: boolean;
}

export interface WireProtocolOptions {
  live: boolean;
  readable: boolean;
  writable: boolean;
  /** Cluster or network name; peers with another one are refused. */
  cluster: string | undefined;
  maxFrameBytes: number;
  limits: Limits;
  /** Shared secret both peers must prove before any state flows. Default none. */
  key?: NetworkKey;
  /** Random bytes for the key's challenge. Default the system's CSPRNG. */
  randomBytes?: (n: number) => Uint8Array;
  /** Live items queued per peer before a fresh catch-up; default: the structure's. */
  maxQueued?: number;
}

/**
 * One side of a replication connection, with no I/O: the handshake, the
 * end-of-initial-exchange markers and the batching of session messages into
 * frames. The duplex stream and the simulator both drive it by handing it
 * received frames and asking it for frames to send.
 */
export class WireProtocol {
  remote: Handshake | undefined;
  /**
   * Set once both sides hold each other's initial state: we sent ours and
   * the peer said it has it, and the peer sent its own and we have it.
   */
  synced = false;
  /** The error that ended this connection, if any. */
  failure: ReplicationError | undefined;
  /** The error the peer reported in an error frame, if any. */
  peerFailure: ReplicationError | undefined;
  /** Called when `nextFrame()` may return something new. */
  onWake: (() => void) | undefined;

  private readonly local: Handshake;
  /** @internal The session this protocol drives (tests read its queue). */
  readonly session: Session<any>;
  private handshakeSent = false;
  private syncSent = false;
  private remoteSynced = false;
  private receivedDue = false; // we hold the peer's initial state: tell it
  private receivedSent = false;
  private peerHasOurs = false; // the peer said it holds our initial state
  private pending: unknown = undefined; // a pulled message that did not fit the last frame, or that waits for its announcement
  private announced: number | undefined; // catch-up updates the session announced while a frame was being filled
  private closed = false;
  // Progress of the peer's catch-up: the updates it announced, and our session's count of received updates when it did.
  private catchUpTotal: number | undefined;
  private receivedBefore = 0;
  // What was still owed to the peer when the connection closed (closing drops it).
  private owedAtClose: Owed | undefined;
  // Network key: our challenge, the peer's, whether our proof went out, and whether the peer's checked out.
  private ownChallenge: Uint8Array | undefined;
  private peerChallenge: Uint8Array | undefined;
  private challengeSent = false;
  private proofSent = false;
  private authenticated: boolean;

  constructor(descriptor: Descriptor, open: (options: SessionOptions) => Session<any>, readonly options: WireProtocolOptions) {
    this.local = {
      protocol: PROTOCOL,
      version: PROTOCOL_VERSION,
      kind: descriptor.kind,
      name: descriptor.name,
      id: descriptor.id,
      cluster: options.cluster,
      params: descriptor.params ?? '',
      readable: options.readable,
      writable: options.writable,
      live: options.live,
    };
    this.session = open({
      live: options.live,
      readable: options.readable,
      writable: options.writable,
      maxMessageBytes: Math.max(256, Math.min(TARGET_FRAME_BYTES / 2, Math.floor(options.maxFrameBytes / 2))),
      limits: options.limits,
      maxQueued: options.maxQueued,
    });
    this.session.onWake = () => this.onWake?.();
    // Asked now, before any frame can arrive: the session must know whether its hello went out when it starts.
    // No state leaves before the peer has proven a network key: under one, no hello.
    const hello = options.key ? undefined : this.session.handshakeHello?.();
    if (hello !== undefined) {
      if (hello.length > MAX_HELLO_BYTES) throw errors.limit('handshake hello bytes', hello.length, MAX_HELLO_BYTES);
      this.local.hello = hello;
    }
    this.authenticated = options.key === undefined;
    // Made now, so that a proof arriving early is checked against it (and fails) rather than waved through.
    if (options.key) this.ownChallenge = NetworkKey.challenge(options.randomBytes);
  }

  /**
   * How far the peer's catch-up has come: `total` updates it announced, and
   * `done` of them received (counted by our session as it applies them;
   * live updates that follow within the initial exchange are not counted
   * past the total). Undefined until the peer announces a catch-up.
   */
  updateProgress(): { done: number; total: number } | undefined {
    if (this.catchUpTotal === undefined) return undefined;
    const done = (this.session.updatesReceived ?? 0) - this.receivedBefore;
    return { done: Math.min(done, this.catchUpTotal), total: this.catchUpTotal };
  }

  /** True in non-live mode once synced: the stream may end. */
  get finished(): boolean {
    return !this.options.live && this.synced && this.receivedSent;
  }

  /** Handles one frame from the peer. Throws a ReplicationError on anything invalid. */
  receive(frame: Uint8Array): void {
    if (this.closed) return;
    const state = decodeState(frame, { ...this.options.limits, maxBytes: this.options.maxFrameBytes });
    const type = guardDecode(() => uint.decode(state));
    if (this.remote === undefined && type !== FrameType.handshake && type !== FrameType.error) {
      throw errors.handshake(`expected a handshake, got frame type ${type}`);
    }
    // With a network key, nothing but the key exchange counts until the peer has proven it.
    if (!this.authenticated && (type === FrameType.data || type === FrameType.synced || type === FrameType.received || type === FrameType.catchUp)) {
      throw errors.auth('the peer sent data before proving the network key');
    }
    switch (type) {
      case FrameType.handshake:
        if (this.remote !== undefined) throw errors.decode('second handshake');
        this.accept(guardDecode(() => handshakeCodec.decode(state)));
        return;
      case FrameType.data:
        this.receiveData(state);
        return;
      case FrameType.synced:
        this.expectEnd(state);
        if (this.remoteSynced) throw errors.decode('second synced marker');
        // Frames are applied in order: everything of the peer's initial exchange is applied by now.
        this.remoteSynced = true;
        this.receivedDue = true;
        this.onWake?.();
        this.updateSynced();
        return;
      case FrameType.received:
        this.expectEnd(state);
        if (!this.syncSent || this.peerHasOurs) throw errors.decode('received marker out of turn');
        this.peerHasOurs = true;
        this.updateSynced();
        return;
      case FrameType.catchUp: {
        const total = guardDecode(() => uint.decode(state));
        this.expectEnd(state);
        // A catch-up run again before the peer's synced marker (after an overflow) adds to the total; later ones are live repair, not progress.
        if (this.remoteSynced) return;
        if (this.catchUpTotal === undefined) this.receivedBefore = this.session.updatesReceived ?? 0;
        this.catchUpTotal = (this.catchUpTotal ?? 0) + total;
        this.session.expectUpdates?.(total);
        return;
      }
      case FrameType.challenge: {
        if (!this.options.key) throw errors.auth('the peer requires a network key, and we have none');
        if (this.peerChallenge) throw errors.decode('second challenge');
        const challenge = guardDecode(() => fixed(CHALLENGE_BYTES).decode(state));
        this.expectEnd(state);
        this.peerChallenge = Uint8Array.from(challenge);
        return;
      }
      case FrameType.proof: {
        if (!this.options.key) throw errors.auth('the peer requires a network key, and we have none');
        if (this.authenticated) throw errors.decode('second proof');
        if (!this.peerChallenge) throw errors.auth('proof before the challenge it answers');
        const proof = guardDecode(() => fixed(PROOF_BYTES).decode(state));
        this.expectEnd(state);
        this.options.key.verify(this.proofContext(), proof);
        this.authenticated = true;
        this.startSession();
        return;
      }
      case FrameType.error: {
        const { code, message } = guardDecode(() => errorCodec.decode(state));
        this.peerFailure = errors.remote(code, message);
        this.close();
        return;
      }
      default:
        throw errors.decode(`unknown frame type ${type}`);
    }
  }

  /** The next frame to send, or `undefined` if there is nothing to send now. */
  nextFrame(): Buffer | undefined {
    if (this.closed) return undefined;
    if (!this.handshakeSent) {
      this.handshakeSent = true;
      // Sent after the peer's arrived: say so (see Handshake.answered), with a hello only: only
      // hellos make it matter, and so no key's handshake carries it (THREAT_MODEL.md).
      if (this.remote !== undefined && this.local.hello !== undefined) this.local.answered = true;
      return frame(FrameType.handshake, handshakeCodec, this.local);
    }
    if (this.options.key) {
      if (!this.challengeSent) {
        this.challengeSent = true;
        return Buffer.concat([Buffer.from([FrameType.challenge]), this.ownChallenge!]);
      }
      if (!this.proofSent && this.remote !== undefined && this.peerChallenge !== undefined) {
        this.proofSent = true;
        return Buffer.concat([Buffer.from([FrameType.proof]), this.options.key.prove(this.proofContext())]);
      }
      if (!this.authenticated) return undefined;
    }
    if (this.remote === undefined) return undefined;
    if (this.receivedDue && !this.receivedSent) {
      this.receivedSent = true;
      this.updateSynced();
      return Buffer.from([FrameType.received]);
    }
    if (this.syncSent && this.finished) return undefined;
    // A catch-up that has just begun is announced before its first message,
    // and what it announces as it goes, before the messages it counted.
    let total = this.takeAnnounced();
    if (total !== undefined) return frame(FrameType.catchUp, uint, total);
    const data = this.nextDataFrame();
    if (data) return data;
    total = this.takeAnnounced();
    if (total !== undefined) return frame(FrameType.catchUp, uint, total);
    if (!this.syncSent && this.session.initialSent) {
      this.syncSent = true;
      this.updateSynced();
      return Buffer.from([FrameType.synced]);
    }
    return undefined;
  }

  /**
   * Ends the connection with `err`: returns the error frame to send the peer
   * (once), and closes the session. Later frames are ignored.
   */
  fail(err: ReplicationError): Buffer | undefined {
    if (this.failure) return undefined;
    this.failure = err;
    this.close();
    if (!this.handshakeSent) return undefined;
    return frame(FrameType.error, errorCodec, { code: err.code, message: err.message });
  }

  /**
   * What this side still owed the peer: live items not yet made into frames,
   * and whether its whole initial exchange went out; undefined while no
   * session runs (no handshake yet, or the key not proven). Frozen when the
   * connection closes, since closing drops the queue.
   */
  get owed(): Owed | undefined {
    if (this.closed) return this.owedAtClose;
    if (this.remote === undefined || !this.authenticated) return undefined;
    return { items: (this.pending !== undefined ? 1 : 0) + (this.session.queued ?? 0), initialSent: this.session.initialSent };
  }

  close(): void {
    if (this.closed) return;
    this.owedAtClose = this.owed;
    this.closed = true;
    this.pending = undefined;
    this.session.onWake = undefined;
    this.session.close();
  }

  private accept(remote: Handshake): void {
    const local = this.local;
    for (const field of ['kind', 'name', 'cluster', 'params'] as const) {
      if (remote[field] !== local[field]) {
        throw errors.handshake(`${field} mismatch: ours ${JSON.stringify(local[field])}, peer ${JSON.stringify(remote[field])}`);
      }
    }
    if (remote.id === local.id) throw errors.handshake(`peer has our own replica id ${JSON.stringify(local.id)}`);
    this.remote = remote;
    if (this.authenticated) this.startSession();
    else this.onWake?.(); // our proof may go out now
  }

  private startSession(): void {
    const remote = this.remote!;
    const peer: PeerInfo = { id: remote.id, readable: remote.readable, writable: remote.writable, live: remote.live };
    // A copy: the frame's buffer is not ours to keep. Ignored under a network key (a peer sends none there).
    if (remote.hello !== undefined && !this.options.key) peer.hello = Uint8Array.from(remote.hello);
    // Ours answers the peer's if it is still to go (the peer's is here) or went after it arrived.
    // Said only where both handshakes carry a hello, so both sides say the flag and agree.
    const weAnswer = !this.handshakeSent || this.local.answered === true;
    if (this.local.hello !== undefined && peer.hello !== undefined && weAnswer !== (remote.answered === true)) peer.handshakeFirst = weAnswer ? 'peer' : 'us';
    this.session.start(peer);
  }

  private proofContext(): ProofContext {
    return {
      ownChallenge: this.ownChallenge!,
      peerChallenge: this.peerChallenge!,
      ownId: this.local.id,
      peerId: this.remote!.id,
      kind: this.local.kind,
      name: this.local.name,
    };
  }

  private receiveData(state: ReturnType<typeof decodeState>): void {
    const codec = this.session.codec;
    const messages = guardDecode(() => {
      const count = readCount(state);
      const decoded = new Array(count);
      for (let i = 0; i < count; i++) decoded[i] = codec.decode(state);
      return decoded;
    });
    this.expectEnd(state);
    // Decode the whole frame first: a frame with garbage in it applies nothing.
    for (const message of messages) this.session.receive(message);
  }

  private expectEnd(state: ReturnType<typeof decodeState>): void {
    if (state.offset !== state.end) throw errors.decode(`${state.end - state.offset} trailing bytes in frame`);
  }

  private takeAnnounced(): number | undefined {
    const late = this.announced;
    this.announced = undefined;
    const total = this.session.takeCatchUpTotal?.();
    return late === undefined ? total : late + (total ?? 0);
  }

  /** Pulls session messages into one frame, up to the frame size limit. */
  private nextDataFrame(): Buffer | undefined {
    const codec = this.session.codec;
    const budget = this.options.maxFrameBytes - 1 - 5; // frame type and count
    const target = Math.min(budget, TARGET_FRAME_BYTES);
    const messages: unknown[] = [];
    let size = 0;
    while (true) {
      let message = this.pending;
      this.pending = undefined;
      if (message === undefined) {
        message = this.session.pull();
        if (message === undefined) break;
        // Pulling it made the session announce more of its catch-up: the announcement goes first.
        const total = this.session.takeCatchUpTotal?.();
        if (total !== undefined) {
          this.announced = (this.announced ?? 0) + total;
          this.pending = message;
          break;
        }
      }
      const length = codec.encodingLength(message);
      if (length > budget) throw errors.frameTooLarge(this.options.maxFrameBytes, length);
      if (size + length > budget) {
        this.pending = message;
        break;
      }
      messages.push(message);
      size += length;
      if (size >= target) break;
    }
    if (messages.length === 0) return undefined;
    const state = { buffer: allocFrame(1 + uint.encodingLength(messages.length) + size), offset: 0 };
    uint.encode(FrameType.data, state);
    uint.encode(messages.length, state);
    for (const message of messages) codec.encode(message, state);
    return state.buffer;
  }

  private updateSynced(): void {
    if (!this.synced && this.syncSent && this.remoteSynced && this.peerHasOurs) this.synced = true;
  }
}

function frame<T>(type: number, codec: { encodingLength(v: T): number; encode(v: T, s: any): void }, value: T): Buffer {
  const body = encode(codec as any, value);
  return Buffer.concat([Buffer.from([type]), body]);
}
