import type { Codec, Limits } from '../codec/index.js';

/** Default maximum frame size: 1 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 1 << 20;

/**
 * What a replica says about itself in the handshake. Two streams replicate
 * only if protocol, version, kind, name, cluster and params all agree, and
 * their ids differ.
 */
export interface Descriptor {
  /** Structure kind, e.g. `'model'`, `'log'`, `'orset'`. */
  kind: string;
  /** Document name: two different documents never merge by accident. */
  name: string;
  /** Replica id, unique per replica and stable across restarts. */
  id: string;
  /** Anything else both sides must agree on (value encoding, tree shape). Default `''`. */
  params?: string;
}

/** What a session learns about the peer once the handshake is accepted. */
export interface PeerInfo {
  id: string;
  /** The peer sends its updates. */
  readable: boolean;
  /** The peer accepts our updates. */
  writable: boolean;
  live: boolean;
  /**
   * The peer session's `handshakeHello()`, as it came in the peer's handshake:
   * undefined if it sent none (an older peer, a structure or mode without
   * one, or a stream under a network key, where hellos are never sent).
   */
  hello?: Uint8Array;
  /**
   * Whose handshake went first, when one answered the other: `'us'` if the
   * peer's handshake left only after ours had arrived (we are typically the
   * dialing end), `'peer'` if ours answered the peer's. Said only where
   * both handshakes carry a hello (only then do they carry the flag), so
   * both sides agree. Undefined when they crossed, or either had no hello.
   * Who went second holds the first handshake before it sends anything, so
   * whatever it sends can already depend on the peer's `hello`.
   */
  handshakeFirst?: 'us' | 'peer';
}

export interface SessionOptions {
  live: boolean;
  /** We send our updates to the peer. */
  readable: boolean;
  /** We accept the peer's updates. */
  writable: boolean;
  /** Sessions keep each message under this many encoded bytes, so it fits in a frame. */
  maxMessageBytes: number;
  limits: Limits;
  /**
   * Most live items queued for the peer before the session drops them and
   * catches the peer up afresh. Default: the structure's own (each knows
   * what a queued item costs).
   */
  maxQueued?: number;
}

/**
 * The I/O-free protocol of one structure towards one peer: the stream shell
 * (and the simulator) feed it the peer's messages and pull the messages to
 * send. A session never touches a socket, a timer or `Math.random`.
 *
 * Output is pulled, not pushed, so a large backlog is produced lazily, one
 * message at a time, only as fast as the transport takes it.
 */
export interface Session<M> {
  /** Encodes and decodes this session's messages (a `union` of structs). */
  readonly codec: Codec<M>;
  /**
   * Optional opening words, sent in our handshake (at most 1,024 bytes,
   * `MAX_HELLO_BYTES`): what the peer's first messages may depend on, so they
   * need not wait for a reply to ours. Called once, right after the session
   * is opened (the handshake goes out with it whatever happens next), so
   * before `start`; not called on a stream with a network key. A session
   * that returns bytes must cope with a peer that sent none.
   */
  handshakeHello?(): Uint8Array | undefined;
  /** The handshake is accepted; the session may now queue its opening messages. */
  start(peer: PeerInfo): void;
  /** Applies one message from the peer. Throws a ReplicationError on bad input. */
  receive(message: M): void;
  /** The next message to send, or `undefined` when there is nothing to send right now. */
  pull(): M | undefined;
  /**
   * True once this side has handed out everything of its initial exchange.
   * The shell then sends its end-of-initial-exchange marker; `'synced'`
   * fires when both sides have sent theirs.
   */
  readonly initialSent: boolean;
  /**
   * Progress, optional: how many updates the catch-up that has just begun
   * will carry, or how many more it found since the last call (a session
   * that counts as it goes), taken once: the shell announces it to the
   * peer before the message whose pull produced it. Counted in the
   * structure's own unit: updates for a Model or a Log, dots for a CRDT,
   * elements for a Seq, records for a MerkleStore. Undefined when nothing
   * was announced since the last call.
   */
  takeCatchUpTotal?(): number | undefined;
  /**
   * Optional: the peer announced a catch-up of `updates` more updates (its
   * `takeCatchUpTotal`, as it came in). A hint only, from a peer that may
   * lie: a session may make room ahead for what it announces, within a
   * bound set by what it holds already, never by the announcement alone.
   */
  expectUpdates?(updates: number): void;
  /** Progress, optional: updates received from the peer so far, in the unit of `takeCatchUpTotal`. */
  readonly updatesReceived?: number;
  /** Set by the shell; the session calls it when `pull()` may have something new. */
  onWake?: () => void;
  /** Live items waiting for the peer, for sessions that queue them (reported if the connection is cut; may walk the backlog, so not for hot paths). */
  readonly queued?: number;
  /** The connection is over: detach from the replica, drop queues. */
  close(): void;
}

/** Anything with streams and sessions: every tendril structure. */
export interface Replicable {
  readonly descriptor: Descriptor;
  openSession(options: SessionOptions): Session<any>;
}
