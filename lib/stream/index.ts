export type { Descriptor, PeerInfo, Session, SessionOptions, Replicable } from '../session/contract.js';
export { WireProtocol, type WireProtocolOptions } from './wire-protocol.js';
export { ReplicationStream, type StreamOptions, type Undelivered, DEFAULT_MAX_FRAME_BYTES, DEFAULT_FAIL_GRACE_MS } from './duplex.js';
export { type FrameProtocol, type ProtocolSource, createFrameProtocol } from './frame-protocol.js';
export { Replica } from '../session/replica.js';
export { replicate, type Replication, type Streamable } from './replicate.js';
export { PROTOCOL, PROTOCOL_VERSION, FrameType, type Handshake } from './frames.js';
