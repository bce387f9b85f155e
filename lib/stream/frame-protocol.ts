import { DEFAULT_LIMITS, type Limits } from '../codec/index.js';
import { DEFAULT_MAX_FRAME_BYTES, type Replicable } from '../session/contract.js';
import { WireProtocol, type WireProtocolOptions } from './wire-protocol.js';
import { NetworkKey } from './network-key.js';

/** The part of StreamOptions a frame protocol takes (the duplex's options, and the WebSocket link's). */
export type ProtocolOptions = Partial<Omit<WireProtocolOptions, 'limits' | 'key'>> & { limits?: Partial<Limits>; key?: Uint8Array | string | NetworkKey };

/**
 * What a transport drives: a WireProtocol, or another I/O-free protocol with
 * the same surface (the multiplexer's, which carries many structures). The
 * duplex stream drives it over bytes, the WebSocket link over messages.
 */
export type FrameProtocol = Pick<
  WireProtocol,
  'remote' | 'synced' | 'failure' | 'peerFailure' | 'onWake' | 'options' | 'finished' | 'receive' | 'nextFrame' | 'fail' | 'close'
> &
  // One structure's protocol drives one session; a multiplexer has none of its own.
  Partial<Pick<WireProtocol, 'session' | 'updateProgress' | 'owed'>>;

/** Something that makes its own frame protocol instead of one structure's WireProtocol (see lib/mux). */
export interface ProtocolSource {
  createProtocol(options: WireProtocolOptions): FrameProtocol;
}

/** Stream options with their defaults filled in. */
export function protocolOptions(options: ProtocolOptions = {}): WireProtocolOptions {
  return {
    live: options.live ?? true,
    readable: options.readable ?? true,
    writable: options.writable ?? true,
    cluster: options.cluster,
    key: options.key === undefined || options.key instanceof NetworkKey ? options.key : new NetworkKey(options.key),
    maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    maxQueued: options.maxQueued,
  };
}

/** The frame protocol of one connection of `replica`. */
export function createFrameProtocol(replica: Replicable | ProtocolSource, options: ProtocolOptions = {}): FrameProtocol {
  const resolved = protocolOptions(options);
  if ('createProtocol' in replica) return replica.createProtocol(resolved);
  return new WireProtocol(replica.descriptor, (o) => replica.openSession(o), resolved);
}
