import { encode } from '../../lib/codec/index.js';
import { uint } from '../../lib/codec/primitives.js';
import { FrameType, type Handshake, PROTOCOL, PROTOCOL_VERSION, handshakeCodec } from '../../lib/stream/frames.js';
import type { Descriptor } from '../../lib/session/contract.js';

/** A length-prefixed frame, as it goes on the wire. */
export function wireFrame(frame: Uint8Array): Buffer {
  return Buffer.concat([encode(uint, frame.length), frame]);
}

/** The handshake frame a well-behaved peer of `descriptor` would send, with any field overridden. */
export function handshakeFrame(descriptor: Descriptor, overrides: Partial<Handshake> = {}): Buffer {
  const handshake: Handshake = {
    protocol: PROTOCOL,
    version: PROTOCOL_VERSION,
    kind: descriptor.kind,
    name: descriptor.name,
    id: `${descriptor.id}-raw-peer`,
    cluster: undefined,
    params: descriptor.params ?? '',
    readable: true,
    writable: true,
    live: true,
    ...overrides,
  };
  return wireFrame(Buffer.concat([Buffer.from([FrameType.handshake]), encode(handshakeCodec, handshake)]));
}
