import { errors } from '../errors.js';
import { type DecodeState, bool, optional, string, struct, uint } from '../codec/index.js';

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
}

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

export const handshakeCodec = {
  encodingLength: (h: Handshake) => handshakePrefix.encodingLength(h) + handshakeBody.encodingLength(h),
  encode(h: Handshake, state: { buffer: Buffer; offset: number }) {
    handshakePrefix.encode(h, state);
    handshakeBody.encode(h, state);
  },
  /** Reads the prefix, then the body only if the version is ours; a newer peer may have added fields. */
  decode(state: DecodeState): Handshake {
    const prefix = handshakePrefix.decode(state);
    if (prefix.protocol !== PROTOCOL) throw errors.handshake(`peer speaks ${JSON.stringify(prefix.protocol)}, not ${PROTOCOL}`);
    if (prefix.version !== PROTOCOL_VERSION) throw errors.protocolVersion(PROTOCOL_VERSION, prefix.version);
    return { ...prefix, ...handshakeBody.decode(state) };
  },
};

export const errorCodec = struct({ code: string, message: string });
