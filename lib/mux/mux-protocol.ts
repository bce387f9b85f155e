import { ReplicationError, errors } from '../errors.js';
import { decodeState, encode, guardDecode, uint } from '../codec/index.js';
import { uintLength, writeUint } from '../codec/primitives.js';
import type { Descriptor, Replicable } from '../session/contract.js';
import { FrameType, type Handshake, errorCodec, handshakeCodec } from '../stream/frames.js';
import { WireProtocol, type WireProtocolOptions } from '../stream/wire-protocol.js';
import { Channel } from './channel.js';
import { CONTROL_CHANNEL, type ControlMessage, ControlSession } from './control.js';

/**
 * Why a multiplexer of our own and not protomux: tendril's WireProtocol is
 * already an I/O-free, pull-based state machine per structure (handshake,
 * session, markers, error frames), so multiplexing is only a channel number
 * in front of each of its frames plus an open/close message per channel,
 * about 300 lines. Fairness falls out of pulling one frame per channel in
 * turn. protomux would bring compact-encoding and streamx-framed streams
 * beside our codecs and duplexify shell, two ways of framing the same bytes,
 * and its channels push messages where ours pull frames, so backpressure
 * would have to be bridged by hand per channel.
 */

/** Most channels the peer may hold open at once. */
export const DEFAULT_MAX_CHANNELS = 1024;
/** Longest structure name on a channel, in UTF-8 bytes. */
export const MAX_CHANNEL_NAME_BYTES = 256;
/** A channel frame held while we have no structure of its name must be a handshake this small. */
const MAX_PENDING_FRAME_BYTES = 4096;
/** Room in front of a channel's frame: the frame type and a channel number of up to 8 bytes. */
const CHANNEL_PREFIX_BYTES = 9;

/** What the multiplexer reports about its channels. */
export type ChannelEvent =
  | { type: 'open'; name: string }
  | { type: 'synced'; name: string }
  | { type: 'close'; name: string; error: ReplicationError | undefined };

/** The structures a connection carries: the Doc. */
export interface ChannelHost {
  readonly descriptor: Descriptor;
  /** Every structure, by name, at the time of the call. */
  structures(): Iterable<[string, Replicable]>;
  structure(name: string): Replicable | undefined;
  /**
   * The peer has a structure of `kind` we lack: the host may add one of that
   * name (which opens our channel for it), or leave the peer's channel unanswered.
   */
  adopt?(name: string, kind: string): void;
}

/** The peer's side of a channel: its name, and our channel once paired. */
interface RemoteChannel {
  name: string;
  channel: Channel | undefined;
  /** The peer's handshake, held until we have a structure of that name. */
  pending: Buffer | undefined;
}

/**
 * Many structures over one connection, with no I/O. The connection itself
 * is a WireProtocol of kind `'doc'` (the control channel, number 0), whose
 * session carries open and close messages, and its frames go on the wire
 * as they are: so the connection's handshake checks protocol, version,
 * document name and cluster like any stream, and a single-structure peer is
 * refused with ERR_HANDSHAKE on both sides. Every other frame is of type
 * `FrameType.channel`: a varint channel number, then one frame of that
 * channel's own WireProtocol. Each structure does its own handshake on its
 * channel: a kind or name mismatch, bad bytes or any error on one channel
 * closes that channel only.
 *
 * `nextFrame()` takes one frame from each channel in turn (round-robin), so
 * a large sync on one channel delays another by at most one frame per round.
 */
export class MuxProtocol {
  synced = false;
  failure: ReplicationError | undefined;
  peerFailure: ReplicationError | undefined;
  onWake: (() => void) | undefined;
  /** Called for every channel that opens, syncs or closes. */
  onChannel: ((event: ChannelEvent) => void) | undefined;
  /** Called once when the connection closes. */
  onClose: (() => void) | undefined;

  private readonly control: WireProtocol;
  private readonly controlSession: ControlSession;
  private readonly channelOptions: WireProtocolOptions;
  private readonly maxChannels: number;
  /** Our live channels by structure name. */
  private readonly channels = new Map<string, Channel>();
  private readonly byLocalId = new Map<number, Channel>();
  private readonly remotes = new Map<number, RemoteChannel>();
  /** Channels in round-robin order, and whose turn it is. */
  private ring: Channel[] = [];
  private turn = 0;
  private nextLocalId = 1;
  private closed = false;

  constructor(
    private readonly host: ChannelHost,
    readonly options: WireProtocolOptions,
    { maxChannels = DEFAULT_MAX_CHANNELS }: { maxChannels?: number } = {},
  ) {
    this.maxChannels = maxChannels;
    const inner = options.maxFrameBytes - CHANNEL_PREFIX_BYTES;
    if (inner < 256) throw errors.invalidArgument(`maxFrameBytes ${options.maxFrameBytes} is too small for a multiplexed stream`);
    this.channelOptions = { ...options, maxFrameBytes: inner };
    this.controlSession = new ControlSession({
      opened: (id, name) => this.remoteOpened(id, name),
      closed: (id) => this.remoteClosed(id),
      announced: (message) => this.announced(message),
    });
    // The control channel flows both ways even on a one-way stream: each
    // channel's own handshake carries the direction.
    this.control = new WireProtocol(host.descriptor, () => this.controlSession, { ...this.channelOptions, readable: true, writable: true });
    this.control.onWake = () => this.onWake?.();
    for (const [name, replica] of host.structures()) this.openChannel(name, replica);
  }

  /** The peer's connection handshake, once received. */
  get remote(): Handshake | undefined {
    return this.control.remote;
  }

  /** Non-live: every channel both sides have is synced, and the control channel is done. */
  get finished(): boolean {
    if (this.options.live || !this.synced) return false;
    for (const channel of this.channels.values()) if (channel.paired && !channel.protocol.finished) return false;
    return true;
  }

  /** Names of the channels open and paired with the peer. */
  get openChannels(): string[] {
    return [...this.channels.values()].filter((c) => c.paired).map((c) => c.name);
  }

  /** Channels synced, of the channels open on both sides: a connection's progress. */
  channelCounts(): { synced: number; total: number } {
    let synced = 0;
    let total = 0;
    for (const channel of this.channels.values()) {
      if (!channel.paired) continue;
      total++;
      if (channel.protocol.synced) synced++;
    }
    return { synced, total };
  }

  /**
   * The peer's catch-ups over all paired channels: updates received of the
   * updates announced (see WireProtocol.updateProgress). Undefined until a
   * channel's peer has announced one.
   */
  updateProgress(): { done: number; total: number } | undefined {
    let sum: { done: number; total: number } | undefined;
    for (const channel of this.channels.values()) {
      const progress = channel.paired ? channel.protocol.updateProgress() : undefined;
      if (progress === undefined) continue;
      sum ??= { done: 0, total: 0 };
      sum.done += progress.done;
      sum.total += progress.total;
    }
    return sum;
  }

  /** Whether the channel of `name` on this connection is synced. */
  channelSynced(name: string): boolean {
    return this.channels.get(name)?.protocol.synced ?? false;
  }

  receive(frame: Uint8Array): void {
    if (this.closed) return;
    if (frame[0] !== FrameType.channel) {
      this.control.receive(frame);
      if (this.control.peerFailure) {
        this.peerFailure = this.control.peerFailure;
        this.close();
        return;
      }
      this.updateSynced();
      return;
    }
    if (this.control.remote === undefined) throw errors.handshake('channel frame before the connection handshake');
    const state = decodeState(frame, { ...this.options.limits, maxBytes: this.options.maxFrameBytes });
    state.offset = 1;
    const id = guardDecode(() => uint.decode(state));
    if (id === CONTROL_CHANNEL) throw errors.decode('channel frame on the control channel');
    const body = Buffer.from(frame.buffer, frame.byteOffset + state.offset, frame.byteLength - state.offset);
    const remote = this.remotes.get(id);
    if (remote === undefined) throw errors.decode(`frame on channel ${id}, which the peer never opened`);
    if (remote.channel) {
      this.deliver(remote.channel, body);
      return;
    }
    // No structure of that name here (yet): hold the peer's handshake, its only frame until we answer.
    if (remote.pending !== undefined) throw errors.decode(`second frame on unanswered channel ${id}`);
    if (body.length > MAX_PENDING_FRAME_BYTES) throw errors.limit('unanswered channel frame bytes', body.length, MAX_PENDING_FRAME_BYTES);
    remote.pending = Buffer.from(body); // a copy: the frame's buffer is not ours to keep
    this.adopt(remote);
  }

  nextFrame(): Buffer | undefined {
    if (this.closed) return undefined;
    const control = this.control.nextFrame();
    if (control) return control;
    if (this.control.remote === undefined) return undefined;
    const count = this.ring.length;
    for (let i = 0; i < count; i++) {
      const channel = this.ring[(this.turn + i) % count]!;
      const frame = this.channelFrame(channel);
      if (frame === undefined) continue;
      this.turn = (this.turn + i + 1) % Math.max(1, this.ring.length);
      this.updateSynced();
      return prefixed(channel.localId, frame);
    }
    this.updateSynced();
    return undefined;
  }

  /** Fails the whole connection: returns the error frame to send (once). */
  fail(err: ReplicationError): Buffer | undefined {
    if (this.failure) return undefined;
    this.failure = err;
    const frame = this.control.fail(err);
    this.close();
    return frame;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.control.close();
    for (const channel of [...this.channels.values()]) this.dropChannel(channel, this.failure ?? this.peerFailure);
    this.ring = [];
    this.onClose?.();
  }

  /** The host has a new structure: open its channel on this connection. */
  add(name: string, replica: Replicable): void {
    if (this.closed || this.channels.has(name)) return;
    this.openChannel(name, replica);
    this.onWake?.();
  }

  /** The host dropped a structure: close its channel, telling the peer. */
  remove(name: string): void {
    const channel = this.channels.get(name);
    if (channel === undefined || this.closed) return;
    this.closeChannel(channel, undefined);
  }

  private openChannel(name: string, replica: Replicable): void {
    const channel = new Channel(name, this.nextLocalId++, replica, this.channelOptions);
    channel.protocol.onWake = () => this.onWake?.();
    this.channels.set(name, channel);
    this.byLocalId.set(channel.localId, channel);
    this.ring.push(channel);
    this.controlSession.send({ type: 'open', channel: channel.localId, name });
    // The peer may have opened this name first.
    for (const [id, remote] of this.remotes) {
      if (remote.name === name && remote.channel === undefined) {
        this.pair(channel, id, remote);
        break;
      }
    }
  }

  private announced(message: ControlMessage): void {
    if (message.type !== 'open') return;
    const channel = this.byLocalId.get(message.channel);
    if (channel) channel.announced = true;
  }

  private remoteOpened(id: number, name: string): void {
    if (id === CONTROL_CHANNEL || this.remotes.has(id)) throw errors.decode(`peer opened channel ${id} twice`);
    if (this.remotes.size >= this.maxChannels) throw errors.limit('open channels', this.remotes.size + 1, this.maxChannels);
    if (name.length === 0 || Buffer.byteLength(name) > MAX_CHANNEL_NAME_BYTES) throw errors.decode(`invalid channel name of ${Buffer.byteLength(name)} bytes`);
    for (const other of this.remotes.values()) {
      if (other.name === name && !(other.channel?.closed ?? false)) throw errors.decode(`peer opened ${JSON.stringify(name)} twice`);
    }
    const remote: RemoteChannel = { name, channel: undefined, pending: undefined };
    this.remotes.set(id, remote);
    const local = this.channels.get(name);
    if (local && !local.paired) {
      this.pair(local, id, remote);
      return;
    }
    // Our channel of that name closed while the peer's stayed open: the peer now reopens it.
    const replica = local ? undefined : this.host.structure(name);
    if (replica) this.openChannel(name, replica);
  }

  private remoteClosed(id: number): void {
    const remote = this.remotes.get(id);
    if (remote === undefined) throw errors.decode(`peer closed channel ${id}, which it never opened`);
    this.remotes.delete(id);
    const channel = remote.channel;
    if (channel && !channel.closed) this.closeChannel(channel, channel.protocol.peerFailure);
  }

  private pair(channel: Channel, id: number, remote: RemoteChannel): void {
    channel.remoteId = id;
    remote.channel = channel;
    this.onChannel?.({ type: 'open', name: channel.name });
    const pending = remote.pending;
    remote.pending = undefined;
    if (pending) this.deliver(channel, pending);
  }

  private adopt(remote: RemoteChannel): void {
    if (!this.host.adopt || this.host.structure(remote.name) || remote.pending?.[0] !== FrameType.handshake) return;
    let kind: string;
    try {
      const state = decodeState(remote.pending, this.options.limits);
      state.offset = 1;
      kind = handshakeCodec.decode(state).kind;
    } catch {
      return; // the channel's own handshake will say what is wrong, if a structure is ever added
    }
    // The host adds the structure, which opens and pairs our channel (see Doc.add).
    this.host.adopt(remote.name, kind);
  }

  private deliver(channel: Channel, frame: Buffer): void {
    if (channel.closed) return; // the peer has not seen our close yet
    try {
      channel.protocol.receive(frame);
    } catch (err) {
      this.failChannel(channel, coded(err));
      return;
    }
    if (channel.protocol.peerFailure) {
      this.closeChannel(channel, channel.protocol.peerFailure);
      return;
    }
    this.updateSynced();
    this.onWake?.();
  }

  /** One frame of `channel`'s, or undefined if it has nothing now. */
  private channelFrame(channel: Channel): Buffer | undefined {
    if (!channel.announced) return undefined;
    if (channel.lastFrame) {
      const last = channel.lastFrame;
      channel.lastFrame = undefined;
      this.finishClose(channel);
      return last;
    }
    if (channel.closed) return undefined;
    try {
      return channel.protocol.nextFrame();
    } catch (err) {
      this.failChannel(channel, coded(err));
      return this.channelFrame(channel);
    }
  }

  /** Fails one channel: its error frame goes to the peer, then its close. The connection carries on. */
  private failChannel(channel: Channel, err: ReplicationError): void {
    if (channel.closed) return;
    // Before our handshake went out the protocol has no error frame to give; the peer reads one anyway.
    channel.lastFrame = channel.protocol.fail(err) ?? errorFrame(err);
    this.closeChannel(channel, err);
  }

  private closeChannel(channel: Channel, error: ReplicationError | undefined): void {
    if (channel.closed) return;
    this.dropChannel(channel, error);
    // The close follows the channel's error frame, if it has one to send.
    if (channel.lastFrame === undefined) this.finishClose(channel);
    this.onWake?.();
  }

  private dropChannel(channel: Channel, error: ReplicationError | undefined): void {
    channel.closed = true;
    channel.error = error;
    channel.protocol.close();
    if (this.channels.get(channel.name) === channel) this.channels.delete(channel.name);
    if (channel.paired || error) this.onChannel?.({ type: 'close', name: channel.name, error });
  }

  private finishClose(channel: Channel): void {
    this.byLocalId.delete(channel.localId);
    const at = this.ring.indexOf(channel);
    if (at !== -1) {
      this.ring.splice(at, 1);
      if (this.turn > at) this.turn--;
      if (this.turn >= this.ring.length) this.turn = 0;
    }
    if (!this.closed) this.controlSession.send({ type: 'close', channel: channel.localId });
  }

  private updateSynced(): void {
    for (const channel of this.channels.values()) {
      if (!channel.reportedSynced && channel.protocol.synced) {
        channel.reportedSynced = true;
        this.onChannel?.({ type: 'synced', name: channel.name });
      }
    }
    if (this.synced || !this.control.synced) return;
    for (const channel of this.channels.values()) if (channel.paired && !channel.protocol.synced) return;
    this.synced = true;
  }
}

/** `frame` as a channel frame of `channel`. */
function prefixed(channel: number, frame: Buffer): Buffer {
  const out = Buffer.allocUnsafe(1 + uintLength(channel) + frame.length);
  out[0] = FrameType.channel;
  const offset = writeUint(out, 1, channel);
  out.set(frame, offset);
  return out;
}

function errorFrame(err: ReplicationError): Buffer {
  return Buffer.concat([Buffer.from([FrameType.error]), encode(errorCodec, { code: err.code, message: err.message })]);
}

function coded(err: unknown): ReplicationError {
  if (err instanceof ReplicationError) return err;
  return errors.decode(`unexpected failure: ${(err as Error)?.message ?? err}`, err);
}
