import { errors } from '../errors.js';
import { type DecodeState, bool, bytes, optional, string, struct, uint } from '../codec/index.js';

export const PROTOCOL = 'tendril';
/**
 * Bumped on any change to the frames or to a structure's messages that old peers cannot read.
 * 4: a Seq's catch-up comes in the column form of its updates.
 */
export const PROTOCOL_VERSION = 4;

/**
 * Frame types, the first varint of every frame.
 * ONLY APPEND TO THIS LIST: the numbers are the wire format.
 */
export const FrameType = {
  handshake: 0,
  data: 1,
  synced: 2,
  error: 3,
  /** A multiplexed stream's frame for one structure's channel: channel number, then that channel's frame (lib/mux). */
  channel: 4,
  /** Network key: 32 random bytes the peer must prove the key over. */
  challenge: 5,
  /** Network key: the HMAC over both challenges (see network-key.ts). */
  proof: 6,
  /** "I hold your initial state": sent on receiving the peer's synced marker, so `'synced'` means both sides hold both. */
  received: 7,
  /** The size of the catch-up that follows, in the structure's unit of updates (a varint): the peer's progress has a total (since version 3). */
  catchUp: 8,
} as const;

export interface Handshake {
  protocol: string;
  version: number;
  kind: string;
  name: string;
  id: string;
  cluster: string | undefined;
  params: string;
  readable: boolean;
  writable: boolean;
  live: boolean;
  /**
   * The session's opening words (`Session.handshakeHello`), if it has any: state it
   * can share before the peer has answered, so that the peer's first
   * messages can depend on it without a round trip. At most `MAX_HELLO_BYTES`.
   * Never sent under a network key (nothing of a replica's state leaves
   * before the peer has proven the key). Absent, it takes no byte.
   */
  hello?: Uint8Array;
  /**
   * This handshake left after the peer's had arrived: it answers it. True
   * at the accepting end of a connection (its stream begins when the
   * dialer's first bytes arrive); false when the two crossed, as they do
   * when both streams exist before either sends. Tells both sides the same
   * thing about who can act first (see `PeerInfo.handshakeFirst`). Sent
   * only with a hello, the one thing it matters for.
   */
  answered?: boolean;
}

/**
 * Most bytes of a handshake's hello. The one user today, a rateless
 * MerkleStore, sends a difference sketch of about 70 bytes (lib/merkle/rateless-session.ts).
 */
export const MAX_HELLO_BYTES = 1024;

// Protocol and version come first, so a peer of any version can be told
// apart from garbage and answered with ERR_PROTOCOL_VERSION.
const handshakePrefix = struct({ protocol: string, version: uint });
const handshakeBody = struct({
  kind: string,
  name: string,
  id: string,
  cluster: optional(string),
  params: string,
  readable: bool,
  writable: bool,
  live: bool,
});

/** The hello and the flags after the body, if either says anything (an absent hello is sent as an empty one). */
function trailer(h: Handshake): { hello: Uint8Array; flags: number } | undefined {
  const flags = h.answered ? 1 : 0;
  if (h.hello === undefined && flags === 0) return undefined;
  return { hello: h.hello ?? new Uint8Array(0), flags };
}

/**
 * The hello (a byte string, empty for none) and then the flags (a varint:
 * bit 0 `answered`) trail the body, each present only if bytes follow;
 * nothing at all when there is no hello and no flag. Peers of this version
 * that predate them read the body and never look past it (a handshake's
 * trailing bytes were always ignored), so they needed no new version: an
 * older peer neither sends them nor reads them, and the session then does
 * without (see `PeerInfo`). Anything after the flags is likewise left for
 * later additions within this version.
 */
export const handshakeCodec = {
  encodingLength(h: Handshake): number {
    const extra = trailer(h);
    const length = handshakePrefix.encodingLength(h) + handshakeBody.encodingLength(h);
    if (!extra) return length;
    return length + bytes.encodingLength(extra.hello) + (extra.flags === 0 ? 0 : uint.encodingLength(extra.flags));
  },
  encode(h: Handshake, state: { buffer: Buffer; offset: number }) {
    handshakePrefix.encode(h, state);
    handshakeBody.encode(h, state);
    const extra = trailer(h);
    if (!extra) return;
    bytes.encode(extra.hello, state);
    if (extra.flags !== 0) uint.encode(extra.flags, state);
  },
  /** Reads the prefix, then the body only if the version is ours; a newer peer may have added fields. */
  decode(state: DecodeState): Handshake {
    const prefix = handshakePrefix.decode(state);
    if (prefix.protocol !== PROTOCOL) throw errors.handshake(`peer speaks ${JSON.stringify(prefix.protocol)}, not ${PROTOCOL}`);
    if (prefix.version !== PROTOCOL_VERSION) throw errors.protocolVersion(PROTOCOL_VERSION, prefix.version);
    const handshake: Handshake = { ...prefix, ...handshakeBody.decode(state) };
    if (state.offset < state.end) {
      const start = state.offset;
      const length = uint.decode(state);
      if (length > MAX_HELLO_BYTES) throw errors.limit('handshake hello bytes', length, MAX_HELLO_BYTES);
      state.offset = start;
      const hello = bytes.decode(state);
      if (hello.length > 0) handshake.hello = hello;
    }
    if (state.offset < state.end && (uint.decode(state) & 1) === 1) handshake.answered = true;
    return handshake;
  },
};

export const errorCodec = struct({ code: string, message: string });
